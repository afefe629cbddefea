"""Moving a message to its queue's dead-letter queue with the reason it could not be processed."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError

from shared import catalogue
from shared.errors import Unavailable
from shared.observability import logger
from shared.settings import get_settings
from shared.store import aws


def send(queue: str, record: SQSRecord, reason: str) -> None:
    """Put ``record`` on ``queue``'s DLQ with ``reason``; raises Unavailable (so SQS keeps it) if that fails."""
    try:
        aws.sqs().send_message(
            QueueUrl=get_settings().dead_letter_queue_url(queue),
            MessageBody=record.body,
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason[:1000]},
                "source_message_id": {"DataType": "String", "StringValue": record.message_id},
            },
        )
    except (ClientError, BotoCoreError) as exc:
        raise Unavailable("the dead-letter queue could not be written") from exc
    logger.error(
        "message dead-lettered", extra={"queue": queue, "message_id": record.message_id, "reason": reason}
    )


def on_last_attempt(queue: str, record: SQSRecord, exc: Exception) -> bool:
    """If this was the message's last receive before SQS's own redrive, dead-letter it with the error as its
    reason and return True (the batch reports it processed); otherwise False (the caller re-raises: SQS retries)."""
    if int(record.attributes.approximate_receive_count) < catalogue.queue(queue).max_receive_count:
        return False
    send(queue, record, f"failed on its last attempt: {exc.__class__.__name__}: {exc}")
    return True
