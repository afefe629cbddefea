"""The retention worker: jobs from the ``retention`` queue (apply or release a legal hold, carry out an approved
disposition batch) and, on schedule, the disposition sweep (run record ``disposition-sweep``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import handlers, records_service, runs
from shared.observability import logger
from shared.store import dead_letters

QUEUE = "retention"
SWEEP = "disposition-sweep"
processor = BatchProcessor(event_type=EventType.SQS)


def process(record: SQSRecord) -> None:
    done = dead_letters.consume(QUEUE, record, records_service.parse_job, records_service.run_job)
    if done is not None:
        logger.info("retention job done", extra={"outcome": done})


def work(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return dict(
            process_partial_response(
                event=event, record_handler=process, processor=processor, context=context
            )
        )
    return runs.execute(SWEEP, _sweep)


def _sweep(run: runs.Recorder) -> None:
    run.summary = records_service.sweep(reapply=True)
    run.saw(run.summary["items_read"])
    run.did(len(run.summary["batches"]))


handler = handlers.entry(work, "id")
