"""The sample events in events/ run through their functions and get the documented answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infrastructure.local.lambdas import Lambdas
from infrastructure.local.provision import Provisioned
from shared import catalogue
from tests.conftest import REGION

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("api/health.json", 200),
        ("api/audit_verify_records.json", 200),
        ("api/audit_verify_staff.json", 403),
        ("api/audit_anchor_it.json", 201),
    ],
)
def test_api_samples(aws_env: Provisioned, name: str, status: int) -> None:
    event = _load(name)
    route = catalogue.find_route(event["httpMethod"], event["resource"])
    assert route is not None
    result = Lambdas(REGION).invoke(route.function, event)
    assert result["statusCode"] == status, result["body"]
    assert json.loads(result["body"])


def test_scheduled_sample_writes_an_anchor(aws_env: Provisioned) -> None:
    result = Lambdas(REGION).invoke("audit-anchor", _load("eventbridge/audit_anchor_scheduled.json"))
    assert result["anchor"].startswith("anchors/")
    assert result["chains"] == 4


def test_sqs_sample_has_the_lambda_batch_shape() -> None:
    record = _load("sqs/intake_batch.json")["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert json.loads(record["body"])["key"].startswith("meta/")
