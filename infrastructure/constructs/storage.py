"""DynamoDB tables and S3 buckets, one per entry of ``catalogue.TABLES`` and ``catalogue.BUCKETS``."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infrastructure.constructs.naming import construct_id
from shared import catalogue

_ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}
# Server access logs are kept for a year, then expire; older versions of a log object go after 30 days.
ACCESS_LOG_DAYS = 365


def _attribute(table: catalogue.Table, name: str) -> dynamodb.Attribute:
    try:
        kind = table.attribute_types[name]
    except KeyError:
        raise ValueError(
            f"catalogue table {table.key!r}: key attribute {name!r} has no attribute type"
        ) from None
    return dynamodb.Attribute(name=name, type=_ATTRIBUTE_TYPES[kind])


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id_: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id_)
        self.tables: dict[str, dynamodb.Table] = {t.key: self._table(t, key) for t in catalogue.TABLES}

        # cdk-nag's S1 accepts this bucket without logging of its own because it is the other buckets' log target.
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging can only deliver to a bucket with SSE-S3 default encryption.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(ACCESS_LOG_DAYS),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.buckets: dict[str, s3.Bucket] = {b.key: self._bucket(b, key) for b in catalogue.BUCKETS}

    def _table(self, t: catalogue.Table, key: kms.IKey) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            construct_id("Table", t.key),
            partition_key=_attribute(t, t.partition_key),
            sort_key=_attribute(t, t.sort_key) if t.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            deletion_protection=True,
            time_to_live_attribute=t.ttl_attribute,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in t.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_attribute(t, index.partition_key),
                sort_key=_attribute(t, index.sort_key) if index.sort_key else None,
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    def _bucket(self, b: catalogue.Bucket, key: kms.IKey) -> s3.Bucket:
        if b.default_retention_days is not None and not b.object_lock:
            raise ValueError(f"catalogue bucket {b.key!r}: default_retention_days needs object_lock")
        retention = (
            s3.ObjectLockRetention.compliance(Duration.days(b.default_retention_days))
            if b.default_retention_days is not None
            else None
        )
        return s3.Bucket(
            self,
            construct_id("Bucket", b.key),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            object_lock_enabled=b.object_lock or None,
            object_lock_default_retention=retention,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{b.key}/",
            lifecycle_rules=[
                s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(7)),
                *(
                    # The bucket is versioned: the expiry leaves a delete marker, and the version it hides goes
                    # a day later.
                    s3.LifecycleRule(
                        prefix=prefix,
                        expiration=Duration.days(days),
                        noncurrent_version_expiration=Duration.days(1),
                    )
                    for prefix, days in b.expire
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
