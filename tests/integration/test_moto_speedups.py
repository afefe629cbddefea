"""The local runtime's moto speed-ups (``infrastructure.local.moto_speedups``) answer exactly as moto does.

The same calls are made on plain moto and with the speed-ups installed; every answer must be the same. A moto
upgrade that renames a patched function fails here (the patch would otherwise do nothing, or break the server).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any, Literal

import boto3
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.sqs.models import sqs_backends

from infrastructure.local import moto_speedups
from tests.conftest import REGION

Calls = Callable[[], list[Any]]


def both(calls: Calls) -> tuple[list[Any], list[Any]]:
    """``calls`` run on a fresh plain moto, then on a fresh moto with the speed-ups."""
    with mock_aws():
        plain = calls()
    with mock_aws(), moto_speedups.installed():
        fast = calls()
    return plain, fast


def _tables() -> Iterator[tuple[Any, str]]:
    ddb = boto3.client("dynamodb", region_name=REGION)
    kinds: tuple[tuple[str, Literal["S", "N", "B"]], ...] = (
        ("strings", "S"),
        ("numbers", "N"),
        ("bytes", "B"),
    )
    for name, range_type in kinds:
        ddb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": range_type},
                {"AttributeName": "gpk", "AttributeType": "S"},
                {"AttributeName": "gsk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-g",
                    "KeySchema": [
                        {"AttributeName": "gpk", "KeyType": "HASH"},
                        {"AttributeName": "gsk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        for n in range(60):
            sort: dict[str, Any] = (
                {"S": f"SEQ#{n * 7 % 60:04d}"}
                if range_type == "S"
                else {"N": str(n * 7 % 60 - 20)}
                if range_type == "N"
                else {"B": bytes([n * 7 % 60, 1])}
            )
            item = {"pk": {"S": f"P#{n % 4}"}, "sk": sort, "n": {"N": str(n)}, "tags": {"SS": [f"t{n % 3}"]}}
            if n % 5:
                item |= {"gpk": {"S": f"G#{n % 3}"}, "gsk": {"S": f"2026-{n * 11 % 60:03d}"}}
            ddb.put_item(TableName=name, Item=item)
        yield ddb, name


def _pages(call: Callable[..., dict[str, Any]], **kwargs: Any) -> list[Any]:
    pages = []
    while True:
        page = call(**kwargs)
        pages.append((page["Items"], page.get("LastEvaluatedKey")))
        if "LastEvaluatedKey" not in page:
            return pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dynamodb_calls() -> list[Any]:
    out: list[Any] = []
    for ddb, name in _tables():
        for partition, forward, limit in itertools.product(("P#1", "P#3"), (True, False), (1, 7, 100)):
            out.append(
                _pages(
                    ddb.query,
                    TableName=name,
                    KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": partition}},
                    ScanIndexForward=forward,
                    Limit=limit,
                )
            )
        for key, forward in itertools.product(("G#0", "G#2", "G#9"), (True, False)):
            out.append(
                _pages(
                    ddb.query,
                    TableName=name,
                    IndexName="by-g",
                    KeyConditionExpression="gpk = :g AND gsk >= :since",
                    ExpressionAttributeValues={":g": {"S": key}, ":since": {"S": "2026-020"}},
                    ScanIndexForward=forward,
                    Limit=4,
                )
            )
        out.append(_pages(ddb.scan, TableName=name, Limit=9))
        out.append(
            _pages(
                ddb.scan,
                TableName=name,
                FilterExpression="n > :n AND contains(tags, :t)",
                ExpressionAttributeValues={":n": {"N": "10"}, ":t": {"S": "t1"}},
                Limit=11,
            )
        )
    return out


def test_dynamodb_queries_and_scans_answer_the_same() -> None:
    plain, fast = both(dynamodb_calls)
    assert len(plain) == 3 * (12 + 6 + 2)
    assert any(len(pages) > 1 for pages in plain)  # paging is exercised
    assert fast == plain


VALUES: list[dict[str, Any]] = [
    {"S": "a"},
    {"S": "b"},
    {"N": "2"},
    {"N": "10"},
    {"N": "2.0"},
    {"B": b"\x01"},
    {"B": b"\x02"},
    {"SS": ["a", "b"]},
    {"NS": ["1", "2"]},
    {"L": [{"S": "a"}, {"N": "1"}]},
    {"M": {"k": {"S": "a"}}},
    {"NULL": True},
    {"BOOL": True},
]


def comparisons() -> list[Any]:
    out: list[Any] = []
    for a, b in itertools.product(VALUES, repeat=2):
        x, y = DynamoType(a), DynamoType(b)
        out.append((x.cast_value, x == y, x != y))
        if x.type == y.type and x.type in ("S", "N", "B"):
            out.append((x < y, x <= y, x > y, x >= y))
    return out


def test_value_conversions_and_comparisons_are_the_same() -> None:
    plain, fast = both(comparisons)
    assert fast == plain


def test_sqs_receives_the_same_and_still_drops_messages_past_their_retention() -> None:
    def calls() -> list[Any]:
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        for n in range(25):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
        backend = sqs_backends["123456789012"][REGION]
        queue = backend.get_queue("q")
        stale: Any = queue._messages[-1]
        fresh = queue._messages[0]
        stale.sent_timestamp -= 61_000  # sent 61 seconds ago, past the queue's 60-second retention
        checks = [
            backend.is_message_valid_based_on_retention_period("q", stale),
            backend.is_message_valid_based_on_retention_period("q", fresh),
        ]
        for n in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=f"later{n}", DelaySeconds=600)

        def depth() -> list[str]:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            return [
                attributes["ApproximateNumberOfMessages"],
                attributes["ApproximateNumberOfMessagesNotVisible"],
                attributes["ApproximateNumberOfMessagesDelayed"],
            ]

        depths = [depth()]
        bodies = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            bodies += [m["Body"] for m in batch]
            depths.append(depth())
        return [checks, sorted(bodies), depths]

    plain, fast = both(calls)
    assert plain[0] == [False, True]
    assert len(plain[1]) == 24  # the stale message is never handed out
    assert plain[2][0] == ["25", "0", "3"]  # visible, in flight, delayed
    assert plain[2][-1] == ["0", "25", "3"]
    assert fast == plain


def _patched() -> list[Any]:
    from moto.dynamodb.models.table import Table
    from moto.sqs.models import Queue, SQSBackend

    names = ["messages", "approximate_number_of_messages", "approximate_number_of_messages_not_visible"]
    names.append("approximate_number_of_messages_delayed")
    return [
        DynamoType.__dict__["cast_value"],
        Table.__dict__["all_items"],
        SQSBackend.__dict__["is_message_valid_based_on_retention_period"],
        *(Queue.__dict__[name] for name in names),
    ]


def test_the_block_replaces_each_patched_function_and_then_puts_moto_s_back() -> None:
    before = _patched()
    with moto_speedups.installed():
        during = _patched()
    assert all(d is not b for d, b in zip(during, before, strict=True))
    assert _patched() == before
