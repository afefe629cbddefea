"""Feeds SQS queues to their consumer functions the way Lambda's event source mapping does.

Batches carry the real SQS event shape; a function that reports ``batchItemFailures`` gets only those
messages back on the queue (a function that raises gets the whole batch back); messages that keep failing
reach the dead-letter queue through the queue's own redrive policy once ``maxReceiveCount`` is passed.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from shared import catalogue
from shared.observability import logger

Invoke = Callable[[str, dict[str, Any]], Any]


def to_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    body = message["Body"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            k: {
                "stringValue": v.get("StringValue"),
                "binaryValue": v.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": v["DataType"],
            }
            for k, v in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody")
        or hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_ids(result: Any, records: list[dict[str, Any]]) -> set[str]:
    """Which messages go back to the queue, per Lambda's ReportBatchItemFailures contract."""
    if not isinstance(result, dict) or "batchItemFailures" not in result:
        return set()
    failures = result["batchItemFailures"] or []
    known = {r["messageId"] for r in records}
    ids = {str(f.get("itemIdentifier", "")) for f in failures if isinstance(f, dict)}
    # An identifier that is empty or unknown fails the whole batch, as Lambda does.
    return known if not ids <= known else ids


class QueuePoller:
    def __init__(
        self,
        sqs: Any,
        function: catalogue.Function,
        queue_url: str,
        invoke: Invoke,
        region: str,
        retry_after_seconds: int = 2,
    ) -> None:
        self.sqs = sqs
        self.function = function
        self.queue_url = queue_url
        self.invoke = invoke
        self.region = region
        self.retry_after = retry_after_seconds
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive one batch and deliver it; returns how many messages were received."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.function.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        records = [to_record(m, self.queue_arn, self.region) for m in messages]
        try:
            failed = failed_ids(self.invoke(self.function.key, {"Records": records}), records)
        except Exception:  # noqa: BLE001 - a crashed invocation returns the whole batch, as Lambda does
            failed = {r["messageId"] for r in records}
        done = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]}
                    for i, r in enumerate(done[start : start + 10])
                ],
            )
        for r in records:
            if r["messageId"] in failed:
                # Locally a failed message comes back after a short delay rather than the full visibility timeout.
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=r["receiptHandle"],
                    VisibilityTimeout=self.retry_after,
                )
        if failed:
            logger.warning("batch items failed", extra={"function": self.function.key, "failed": len(failed)})
        return len(messages)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:  # noqa: BLE001 - the poller must outlive one bad poll, like the event source mapping
                logger.exception("queue poll failed", extra={"function": self.function.key})
                stop.wait(1)
