"""SQS queues from ``catalogue.QUEUES``, each with its dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infrastructure.constructs.naming import construct_id
from shared import catalogue

# A dead-letter queue keeps a message for SQS's maximum, so an operator has two weeks to look at it.
DLQ_RETENTION = Duration.days(14)


def encrypted_queue(
    scope: Construct,
    id_: str,
    key: kms.IKey,
    *,
    retention_period: Duration,
    visibility_timeout: Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
) -> sqs.Queue:
    """An SQS queue encrypted with the data key that refuses non-TLS requests."""
    return sqs.Queue(
        scope,
        id_,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        # SQS reuses a data key for this long: fewer KMS calls, same key.
        data_key_reuse=Duration.minutes(15),
        enforce_ssl=True,
        removal_policy=RemovalPolicy.RETAIN,
        retention_period=retention_period,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
    )


class Queues(Construct):
    def __init__(self, scope: Construct, construct_id_: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id_)
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for q in catalogue.QUEUES:
            dlq = encrypted_queue(self, construct_id("Queue", q.dlq_key), key, retention_period=DLQ_RETENTION)
            self.dead_letter_queues[q.key] = dlq
            self.queues[q.key] = encrypted_queue(
                self,
                construct_id("Queue", q.key),
                key,
                visibility_timeout=Duration.seconds(q.visibility_timeout_seconds),
                retention_period=Duration.days(q.retention_days),
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=q.max_receive_count),
            )
