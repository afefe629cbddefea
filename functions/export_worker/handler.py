"""The export worker: builds the public-records export packages queued on ``exports``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import export_service, handlers
from shared.observability import logger
from shared.store import dead_letters

processor = BatchProcessor(event_type=EventType.SQS)


def process(record: SQSRecord) -> None:
    done = dead_letters.consume(
        export_service.QUEUE, record, export_service.parse_job, export_service.run_job
    )
    if done is not None:
        logger.info("export built", extra={"outcome": done})


def work(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=process, processor=processor, context=context)
    )


handler = handlers.entry(work, "id")
