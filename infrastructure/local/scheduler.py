"""Runs the catalogue's scheduled functions on their local cadence, with EventBridge's scheduled event shape."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shared import catalogue
from shared.observability import logger

Invoke = Callable[[str, dict[str, Any]], Any]


def scheduled_event(schedule: catalogue.Schedule, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:123456789012:rule/steward-local-{schedule.key}"],
        "detail": {},
    }


def find(key: str) -> catalogue.Schedule:
    for s in catalogue.SCHEDULES:
        if s.key == key:
            return s
    known = ", ".join(s.key for s in catalogue.SCHEDULES)
    raise KeyError(f"no schedule {key!r}; the schedules are: {known}")


def run_now(key: str, invoke: Invoke, region: str) -> Any:
    schedule = find(key)
    return invoke(schedule.function, scheduled_event(schedule, region))


def run(schedule: catalogue.Schedule, invoke: Invoke, region: str, stop: threading.Event) -> None:
    while not stop.wait(schedule.local_every_seconds):
        try:
            run_now(schedule.key, invoke, region)
        except Exception:  # noqa: BLE001 - a failed run is logged and the next one still happens
            logger.exception("scheduled run failed", extra={"schedule": schedule.key})
