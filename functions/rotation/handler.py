"""The credential rotation function. Three callers, told apart by the event's shape:

- **Secrets Manager** invokes it as the secret's rotation function: ``{"Step", "SecretId", "ClientRequestToken"}``
  (createSecret, setSecret, testSecret, finishSecret);
- **the ``rotations`` queue** (SQS batch, partial failures): rotation requests from offboarding, compromise
  reports, the API's token rotations and the schedule. A request that cannot succeed is refused on its own (its
  outcome says why; the other requests of the message go on); only a service that could not be reached fails the
  message, for the queue to retry it;
- **the rotation schedule** (EventBridge): finds what is due and queues it (run record ``credential-rotation``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import handlers, rotation_service, runs
from shared.domain.credentials import RotationRequest, parse_requests
from shared.store import dead_letters

QUEUE = "rotations"
SWEEP = "credential-rotation"
processor = BatchProcessor(event_type=EventType.SQS)


def process(record: SQSRecord, lambda_context: LambdaContext) -> None:
    def handle(requests: list[RotationRequest]) -> list[str]:
        return rotation_service.handle_requests(
            requests, lambda: lambda_context.get_remaining_time_in_millis() / 1000
        )

    dead_letters.consume(QUEUE, record, parse_requests, handle)


def work(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Step" in event:
        return {"result": rotation_service.secretsmanager_step(event)}
    if "Records" in event:
        return dict(
            process_partial_response(
                event=event, record_handler=process, processor=processor, context=context
            )
        )
    return runs.execute(SWEEP, _sweep)


def _sweep(run: runs.Recorder) -> None:
    run.summary = dict(rotation_service.sweep())
    run.saw(run.summary["due"])
    run.did(run.summary["queued"])


handler = handlers.entry(work, "id")
