"""Audit append and verify throughput beside floors measured in the same run, on moto.

- append: ``audit.append`` (hash, canonical JSON, conditional PynamoDB put) against a plain boto3 ``put_item``
  of an item of the same size into the same table.
- verify: ``audit.verify`` of those entries (query, parse, rehash, link check) against a plain paginated
  boto3 ``query`` that reads the same items.

Rounds alternate floor and subject, and the medians are compared, so a noisy neighbour hurts both alike.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3
from moto import mock_aws

REGION = "us-east-1"


def _environment() -> None:
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "STEWARD_STAGE": "test",
            "STEWARD_AUDIT_CHAINS": "4",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("STEWARD_AWS_ENDPOINT_URL", None)


def _timed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def run(entries: int, rounds: int) -> list[dict[str, Any]]:
    _environment()
    from infrastructure.local.provision import provision
    from shared import audit
    from shared.store import aws

    with mock_aws():
        provisioned = provision(boto3.session.Session(region_name=REGION))
        os.environ.update(provisioned.env)
        aws.reset()
        table = provisioned.env["STEWARD_TABLE_AUDIT"]
        ddb = boto3.client("dynamodb", region_name=REGION)
        details = {"reason": "benchmark entry", "account": "acct-0001", "n": 0}
        filler = "x" * 260  # about the size of a sealed audit entry's extra fields

        def floor_put(round_no: int) -> None:
            for i in range(entries):
                ddb.put_item(
                    TableName=table,
                    Item={
                        "pk": {"S": f"FLOOR#{round_no}"},
                        "sk": {"S": f"SEQ#{i:012d}"},
                        "resource": {"S": f"thing:{i}"},
                        "at": {"S": "2026-11-21T00:00:00.000000Z"},
                        "details": {"S": filler},
                    },
                )

        def subject_append() -> None:
            for i in range(entries):
                audit.append("user:bench", "bench.appended", f"thing:{i}", {**details, "n": i})

        def floor_read(round_no: int) -> None:
            pages = ddb.get_paginator("query").paginate(
                TableName=table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"FLOOR#{round_no}"}},
                ConsistentRead=True,
            )
            assert sum(len(p["Items"]) for p in pages) == entries

        put_times, append_times, read_times, verify_times = [], [], [], []
        for r in range(rounds):
            put_times.append(_timed(lambda r=r: floor_put(r)))  # type: ignore[misc]
            append_times.append(_timed(subject_append))
        for r in range(rounds):
            read_times.append(_timed(lambda r=r: floor_read(r)))  # type: ignore[misc]
            verify_times.append(_timed(lambda: _verify_ok(audit)))
        total = entries * rounds

    def row(name: str, subject: list[float], floor: list[float], n: int, floor_name: str) -> dict[str, Any]:
        rate = n / statistics.median(subject)
        floor_rate = entries / statistics.median(floor)
        return {
            "name": name,
            "entries": n,
            "rate": round(rate, 1),
            "floor": floor_name,
            "floor_rate": round(floor_rate, 1),
            "ratio": round(floor_rate / rate, 3),
            "target": "reported (time ÷ floor time)",
        }

    return [
        row("audit append", append_times, put_times, entries, "plain put_item, same table"),
        row("audit verify (all chains)", verify_times, read_times, total, "plain query of the same items"),
    ]


def _verify_ok(audit: Any) -> None:
    report = audit.verify()
    assert report.ok, report
