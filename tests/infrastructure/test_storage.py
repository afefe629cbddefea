"""Data at rest: the KMS key, catalogue buckets (and the access-log bucket), tables and queues."""

from __future__ import annotations

from typing import Any

import pytest

from shared import catalogue
from tests.infrastructure.support import Synth, refs

BUCKET_KEYS = [b.key for b in catalogue.BUCKETS]
TABLE_KEYS = [t.key for t in catalogue.TABLES]
QUEUE_KEYS = [q.key for q in catalogue.QUEUES]


def _key_id(synth: Synth) -> str:
    return synth.logical_id(synth.stack.keys.key)


def _tls_only(synth: Synth, bucket_id: str) -> bool:
    for policy in synth.of_type("AWS::S3::BucketPolicy").values():
        if refs(policy["Properties"]["Bucket"]) != {bucket_id}:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if (
                statement["Effect"] == "Deny"
                and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            ):
                return True
    return False


def test_one_kms_key_with_rotation(synth: Synth) -> None:
    (key,) = synth.of_type("AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


def test_every_bucket_blocks_public_access_enforces_tls_and_is_versioned(synth: Synth) -> None:
    buckets = synth.of_type("AWS::S3::Bucket")
    assert len(buckets) == len(catalogue.BUCKETS) + 1  # + the access-log bucket
    for bucket_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert _tls_only(synth, bucket_id), bucket_id
        assert bucket["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("key", BUCKET_KEYS)
def test_catalogue_bucket_kms_logging_and_object_lock(synth: Synth, key: str) -> None:
    spec = catalogue.bucket(key)
    bucket = synth.resource(synth.stack.storage.buckets[key])
    props = bucket["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert refs(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == {_key_id(synth)}
    logs_id = synth.logical_id(synth.stack.storage.access_logs)
    assert refs(props["LoggingConfiguration"]["DestinationBucketName"]) == {logs_id}
    assert props.get("ObjectLockEnabled", False) is spec.object_lock
    if spec.default_retention_days is not None:
        assert props["ObjectLockConfiguration"] == {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": spec.default_retention_days}},
        }
    else:
        assert "Rule" not in props.get("ObjectLockConfiguration", {})


@pytest.mark.parametrize("key", BUCKET_KEYS)
def test_catalogue_bucket_lifecycle_expires_only_its_listed_prefixes(synth: Synth, key: str) -> None:
    spec = catalogue.bucket(key)
    rules = synth.resource(synth.stack.storage.buckets[key])["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = {
        r["Prefix"]: (r["ExpirationInDays"], r["NoncurrentVersionExpiration"]["NoncurrentDays"])
        for r in rules
        if "ExpirationInDays" in r
    }
    assert expiring == {prefix: (days, 1) for prefix, days in spec.expire}
    assert any(r.get("AbortIncompleteMultipartUpload") == {"DaysAfterInitiation": 7} for r in rules)
    if key == "exports":  # export packages go a day after they stop being downloadable; transfers stay
        assert expiring == {"exports/": (catalogue.EXPORT_PACKAGE_DAYS + 1, 1)}


def test_access_log_bucket_uses_s3_managed_encryption(synth: Synth) -> None:
    props = synth.resource(synth.stack.storage.access_logs)["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # S3 server access logging cannot deliver to an SSE-KMS bucket.
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


@pytest.mark.parametrize("key", TABLE_KEYS)
def test_table_pitr_kms_and_retention(synth: Synth, key: str) -> None:
    spec = catalogue.table(key)
    table = synth.resource(synth.stack.storage.tables[key])
    props: dict[str, Any] = table["Properties"]
    assert table["DeletionPolicy"] == "Retain"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert refs(props["SSESpecification"]["KMSMasterKeyId"]) == {_key_id(synth)}
    assert {i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])} == {i.name for i in spec.indexes}
    key_schema = {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]}
    assert key_schema[spec.partition_key] == "HASH"
    if spec.sort_key:
        assert key_schema[spec.sort_key] == "RANGE"
    if spec.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}


@pytest.mark.parametrize("key", QUEUE_KEYS)
def test_queue_redrive_and_settings(synth: Synth, key: str) -> None:
    spec = catalogue.queue(key)
    props = synth.resource(synth.stack.queues.queues[key])["Properties"]
    dlq_id = synth.logical_id(synth.stack.queues.dead_letter_queues[key])
    assert refs(props["RedrivePolicy"]["deadLetterTargetArn"]) == {dlq_id}
    assert props["RedrivePolicy"]["maxReceiveCount"] == spec.max_receive_count
    assert props["VisibilityTimeout"] == spec.visibility_timeout_seconds
    assert props["MessageRetentionPeriod"] == spec.retention_days * 24 * 3600


def test_every_queue_is_kms_encrypted_and_tls_only(synth: Synth) -> None:
    queues = synth.of_type("AWS::SQS::Queue")
    # catalogue queues, their dead-letter queues, and the schedules' dead-letter queue
    assert len(queues) == 2 * len(catalogue.QUEUES) + 1
    policies = list(synth.of_type("AWS::SQS::QueuePolicy").values())
    for queue_id, queue in queues.items():
        assert refs(queue["Properties"]["KmsMasterKeyId"]) == {_key_id(synth)}
        denies = [
            s
            for p in policies
            if queue_id in refs(p["Properties"]["Queues"])
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny"
            and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert denies, queue_id


def test_secrets_are_kms_encrypted_and_generate_only_what_steward_chooses(synth: Synth) -> None:
    import json

    from shared import catalogue

    secrets = {s.key: s for s in catalogue.SECRETS}
    found = synth.of_type("AWS::SecretsManager::Secret")
    assert len(found) == len(secrets)
    key_id = synth.logical_id(synth.stack.keys.key)
    for logical_id, resource in found.items():
        props = resource["Properties"]
        assert props["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        spec = next(
            s for k, s in secrets.items() if synth.logical_id(synth.stack.secrets.secrets[k]) == logical_id
        )
        generator = props["GenerateSecretString"]
        template = json.loads(generator["SecretStringTemplate"])
        assert set(template) | ({spec.generated} if spec.generated else set()) >= set(spec.fields)
        assert spec.generated not in template
