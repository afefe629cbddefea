"""The abandoned-account sweep, on its daily schedule."""

from __future__ import annotations

from typing import Any

from shared import abandonment_service, handlers


def sweep(event: dict[str, Any]) -> dict[str, Any]:
    return abandonment_service.sweep()


handler = handlers.scheduled(sweep)
