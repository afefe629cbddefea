"""Processor: comments/s through parse, archive, audit and index, beside a floor of one archive put and one index
put per comment on the same moto, measured in the same run (ratio = rate ÷ floor rate; the target is >= 0.6)."""

from __future__ import annotations

import json
import os
import statistics
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from bench.audit_bench import REGION, _environment, _timed

TEMPLATE = json.loads(
    (
        Path(__file__).resolve().parents[2]
        / "shared"
        / "fixtures"
        / "webhooks"
        / "fb_feed_comment_add_1.json"
    ).read_bytes()
)


def _delivery(round_no: int, size: int) -> bytes:
    entry = TEMPLATE["entry"][0]
    change = entry["changes"][0]
    changes = [
        {
            **change,
            "value": {
                **change["value"],
                "comment_id": f"r{round_no}_{n}",
                "message": f"Comment {n}: thanks!",
            },
        }
        for n in range(size)
    ]
    return json.dumps({**TEMPLATE, "entry": [{**entry, "changes": changes}]}).encode()


def run(comments: int, rounds: int, per_delivery: int = 20) -> list[dict[str, Any]]:
    _environment()
    from infrastructure.local.provision import provision
    from shared import ingest
    from shared.store import aws, intake

    with mock_aws():
        provisioned = provision(boto3.session.Session(region_name=REGION))
        os.environ.update(provisioned.env)
        aws.reset()
        s3, ddb = boto3.client("s3", region_name=REGION), boto3.client("dynamodb", region_name=REGION)
        archive_bucket = provisioned.env["STEWARD_BUCKET_ARCHIVE"]
        table = provisioned.env["STEWARD_TABLE_CONTENT"]
        deliveries = comments // per_delivery

        def floor(round_no: int) -> None:
            for n in range(comments):
                body = json.dumps({"event": f"{round_no}-{n}", "text": "Comment: thanks!"}).encode()
                s3.put_object(
                    Bucket=archive_bucket, Key=f"floor/{uuid.uuid4()}", Body=body, ChecksumAlgorithm="SHA256"
                )
                ddb.put_item(
                    TableName=table,
                    Item={
                        "pk": {"S": f"FLOOR#{round_no}#{n}"},
                        "sk": {"S": "META"},
                        "h": {"S": body.decode()},
                    },
                )

        def subject(pointers: list[intake.Pointer]) -> None:
            for pointer in pointers:
                assert ingest.ingest(pointer).recorded == per_delivery

        floors, subjects = [], []
        for r in range(rounds):
            pointers = [
                intake.store(
                    "meta",
                    _delivery(r * 1000 + d, per_delivery),
                    datetime.now(UTC),
                    "bench",
                    "application/json",
                )
                for d in range(deliveries)
            ]
            floors.append(_timed(lambda r=r: floor(r)))  # type: ignore[misc]
            subjects.append(_timed(lambda p=pointers: subject(p)))  # type: ignore[misc]
    rate = deliveries * per_delivery / statistics.median(subjects)
    floor_rate = comments / statistics.median(floors)
    return [
        {
            "name": "processor comments",
            "entries": comments,
            "rate": round(rate, 1),
            "floor": "archive put + index put per comment",
            "floor_rate": round(floor_rate, 1),
            "ratio": round(rate / floor_rate, 3),
            "target": ">= 0.6 (rate ÷ floor rate)",
        }
    ]
