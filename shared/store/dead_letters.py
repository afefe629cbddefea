"""Moving a message to its queue's dead-letter queue with the reason it could not be processed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError

from shared import catalogue
from shared.errors import BadRequest, StewardError, Unavailable
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


_T = TypeVar("_T")
_R = TypeVar("_R")


def consume(
    queue: str,
    record: SQSRecord,
    parse: Callable[[str], _T],
    work: Callable[[_T], _R],
    *,
    permanent: tuple[type[StewardError], ...] = (BadRequest,),
) -> _R | None:
    """One message of a partial-failure batch: ``work(parse(body))``. A ``permanent`` error (the message can never
    succeed) sends it to the dead-letter queue with its reason at once; any other error is logged and raised, so SQS
    retries it, until its last attempt, when it goes to the dead-letter queue with the error as its reason. None
    when the message was dead-lettered."""
    try:
        return work(parse(record.body))
    except permanent as exc:
        send(queue, record, exc.message)
        return None
    except Exception as exc:
        logger.exception("message failed", extra={"queue": queue, "message_id": record.message_id})
        if on_last_attempt(queue, record, exc):
            return None
        raise
