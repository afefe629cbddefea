"""The local SQS poller keeps Lambda's contract: real batch shape, partial failures, redrive to the DLQ."""

from __future__ import annotations

import json
from typing import Any

import boto3

from infrastructure.local.poller import QueuePoller
from infrastructure.local.provision import Provisioned
from infrastructure.local.scheduler import run_now
from shared import catalogue
from tests.conftest import REGION


class Consumer:
    """A consumer function that fails the messages whose body asks for it."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []

    def __call__(self, key: str, event: dict[str, Any]) -> dict[str, Any]:
        records = event["Records"]
        self.batches.append(records)
        failures = [{"itemIdentifier": r["messageId"]} for r in records if json.loads(r["body"]).get("fail")]
        return {"batchItemFailures": failures}


def _poller(aws_env: Provisioned, consumer: Consumer) -> tuple[Any, QueuePoller]:
    sqs = boto3.client("sqs", region_name=REGION)
    spec = catalogue.Function(
        key="test-consumer", module="tests", description="", consumes="intake", batch_size=10
    )
    return sqs, QueuePoller(sqs, spec, aws_env.queue_urls["intake"], consumer, REGION, retry_after_seconds=0)


def _count(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_partial_failures_return_to_the_queue_and_then_reach_the_dlq(aws_env: Provisioned) -> None:
    consumer = Consumer()
    sqs, poller = _poller(aws_env, consumer)
    url = aws_env.queue_urls["intake"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": 1}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": 2, "fail": True}))

    assert poller.poll_once() == 2
    first = consumer.batches[0][0]
    assert first["eventSource"] == "aws:sqs"
    assert first["eventSourceARN"].endswith(":steward-local-intake")
    assert {"messageId", "receiptHandle", "body", "attributes", "md5OfBody", "awsRegion"} <= set(first)
    assert _count(sqs, url) == 1  # the good one was deleted, the failed one is back

    max_receives = catalogue.queue("intake").max_receive_count
    for _ in range(max_receives + 2):
        poller.poll_once()
    delivered = [json.loads(r["body"])["n"] for batch in consumer.batches for r in batch]
    assert delivered.count(2) == max_receives
    assert _count(sqs, url) == 0
    dead = sqs.receive_message(QueueUrl=aws_env.dlq_urls["intake"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in dead] == [{"n": 2, "fail": True}]


def test_a_crashing_function_gets_the_whole_batch_back(aws_env: Provisioned) -> None:
    def crash(key: str, event: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    sqs = boto3.client("sqs", region_name=REGION)
    spec = catalogue.Function(key="test-consumer", module="tests", description="", consumes="intake")
    poller = QueuePoller(sqs, spec, aws_env.queue_urls["intake"], crash, REGION, retry_after_seconds=0)
    for n in range(3):
        sqs.send_message(QueueUrl=aws_env.queue_urls["intake"], MessageBody=json.dumps({"n": n}))
    assert poller.poll_once() == 3
    assert _count(sqs, aws_env.queue_urls["intake"]) == 3


def test_an_unknown_failure_identifier_fails_the_whole_batch(aws_env: Provisioned) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    spec = catalogue.Function(key="test-consumer", module="tests", description="", consumes="intake")
    poller = QueuePoller(
        sqs,
        spec,
        aws_env.queue_urls["intake"],
        lambda key, event: {"batchItemFailures": [{"itemIdentifier": "not-a-message"}]},
        REGION,
        retry_after_seconds=0,
    )
    sqs.send_message(QueueUrl=aws_env.queue_urls["intake"], MessageBody="{}")
    poller.poll_once()
    assert _count(sqs, aws_env.queue_urls["intake"]) == 1


def test_run_now_invokes_the_scheduled_function_with_an_eventbridge_event(aws_env: Provisioned) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def invoke(key: str, event: dict[str, Any]) -> dict[str, Any]:
        seen.append((key, event))
        return {"ok": True}

    assert run_now("audit-anchor", invoke, REGION) == {"ok": True}
    key, event = seen[0]
    assert key == "audit-anchor"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
