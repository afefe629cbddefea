"""The one customer-managed KMS key that encrypts every Steward data store, queue and log group."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class Keys(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.key = kms.Key(
            self,
            "DataKey",
            description="Steward: encrypts tables, buckets, queues and log groups",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            pending_window=Duration.days(30),
            # Everything encrypted with it is retained: deleting the key would make those records unreadable.
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch Logs encrypts this stack's log groups (functions, API access logs) with the key; the
        # encryption context limits every use to log groups of this account and region.
        log_groups = stack.format_arn(
            service="logs", resource="log-group", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            )
        )

    def allow_service_queue_delivery(self, service: str, source_arn: str) -> None:
        """Let ``service`` (e.g. events.amazonaws.com) send to a queue encrypted with the key, only on behalf of
        sources matching ``source_arn`` in this account (SQS needs GenerateDataKey and Decrypt from the sender).

        ``source_arn`` is a pattern, not a reference: the key must not depend on the resources that depend on it.
        """
        stack = Stack.of(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(service)],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": source_arn},
                },
            )
        )
