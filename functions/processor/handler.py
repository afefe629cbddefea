"""SQS → the processor: each queued pointer names a stored delivery; record its events (partial batch failures).

A message that can never succeed (not a pointer, not a delivery of its platform, bytes changed since they were
verified) goes straight to the dead-letter queue with its reason; one that keeps failing for any other cause goes
there with its reason on its last attempt. Either way the rest of its batch is processed.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import handlers, ingest
from shared.errors import BadRequest
from shared.observability import logger
from shared.store import dead_letters, intake

QUEUE = "intake"
processor = BatchProcessor(event_type=EventType.SQS)


def process(record: SQSRecord) -> None:
    permanent = (BadRequest, intake.IntegrityError)
    done = dead_letters.consume(QUEUE, record, intake.parse_pointer, ingest.ingest, permanent=permanent)
    if done is not None:
        logger.info(
            "delivery recorded",
            extra={"recorded": done.recorded, "duplicates": done.duplicates, "skipped": dict(done.skipped)},
        )


def work(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=process, processor=processor, context=context)
    )


handler = handlers.queue(work)
