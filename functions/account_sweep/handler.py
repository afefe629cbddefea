"""The abandoned-account sweep, on its daily schedule."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import abandonment_service, handlers


def work(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return abandonment_service.sweep()


handler = handlers.entry(work, "id")
