"""Webhook receiver: per-delivery time beside a floor of HMAC + one S3 put + one SQS send on the same moto,
and the receiver module's import time beside ``import boto3``, both measured in the same run."""

from __future__ import annotations

import hashlib
import hmac
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from bench.audit_bench import REGION, _environment, _timed

ROOT = Path(__file__).resolve().parents[1]
BODY = (ROOT.parent / "shared" / "fixtures" / "webhooks" / "fb_feed_comment_add_1.json").read_bytes()


def _import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "false", "AWS_DEFAULT_REGION": REGION}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def import_times(rounds: int) -> dict[str, Any]:
    floor, subject = [], []
    for _ in range(rounds):
        floor.append(_import_seconds("boto3"))
        subject.append(_import_seconds("functions.webhooks.handler"))
    f, s = statistics.median(floor), statistics.median(subject)
    return {
        "name": "receiver import (cold start)",
        "entries": rounds,
        "rate": round(1 / s, 2),
        "floor": "import boto3",
        "floor_rate": round(1 / f, 2),
        "ratio": round(s / f, 3),
        "target": "<= 1.3 (time ÷ floor time)",
        "seconds": round(s, 4),
        "floor_seconds": round(f, 4),
        "unit": "s",
    }


def deliveries(count: int, rounds: int) -> dict[str, Any]:
    _environment()
    from infrastructure.local.gateway import to_event
    from infrastructure.local.lambdas import Lambdas
    from infrastructure.local.provision import local_secret_values, provision
    from shared import catalogue
    from shared.domain import webhooks
    from shared.store import aws

    with mock_aws():
        provisioned = provision(boto3.session.Session(region_name=REGION))
        os.environ.update(provisioned.env)
        aws.reset()
        secret = local_secret_values("meta-app")["app_secret"]
        signature = webhooks.expected_signature("meta", secret, BODY)
        route, params = catalogue.match_path("POST", "/webhooks/meta") or (None, {})
        assert route is not None
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        event = to_event(route, params, "POST", "/webhooks/meta", headers, BODY, None)
        invoke = Lambdas(REGION).invoke
        s3, sqs = boto3.client("s3", region_name=REGION), boto3.client("sqs", region_name=REGION)
        bucket, queue = provisioned.env["STEWARD_BUCKET_INTAKE"], provisioned.queue_urls["intake"]

        def floor() -> None:
            for _ in range(count):
                digest = hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()
                s3.put_object(
                    Bucket=bucket, Key=f"floor/{uuid.uuid4()}", Body=BODY, ChecksumAlgorithm="SHA256"
                )
                sqs.send_message(QueueUrl=queue, MessageBody=digest)

        def subject() -> None:
            for _ in range(count):
                assert invoke("webhooks", event)["statusCode"] == 200

        invoke("webhooks", event)  # warm: clients made, secret cached
        floors, subjects = [], []
        for _ in range(rounds):
            floors.append(_timed(floor))
            subjects.append(_timed(subject))
    f, s = statistics.median(floors), statistics.median(subjects)
    return {
        "name": "receiver per delivery",
        "entries": count,
        "rate": round(count / s, 1),
        "floor": "HMAC + S3 put + SQS send, same moto",
        "floor_rate": round(count / f, 1),
        "ratio": round(s / f, 3),
        "target": "<= 1.5 (time ÷ floor time)",
    }


def run(count: int, rounds: int) -> list[dict[str, Any]]:
    started = time.perf_counter()
    rows = [deliveries(count, rounds), import_times(max(rounds, 5))]
    rows[-1]["bench_seconds"] = round(time.perf_counter() - started, 1)
    return rows
