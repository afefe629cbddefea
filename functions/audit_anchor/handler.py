"""Scheduled: copy every audit chain head to the write-once anchor bucket."""

from typing import Any

from shared import audit, handlers

ACTOR = "system:audit-anchor"


def anchor(event: dict[str, Any]) -> dict[str, Any]:
    result = audit.anchor(ACTOR, "scheduled")
    return {"anchor": result.key, "chains": len(result.chains)}


handler = handlers.scheduled(anchor)
