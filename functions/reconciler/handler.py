"""Scheduled: re-read each active account's recent threads on its platform and record the deletions, edits and
comments the webhooks missed (see ``shared.reconciliation``)."""

from typing import Any

from shared import handlers, reconciliation


def reconcile(event: dict[str, Any]) -> dict[str, Any]:
    return reconciliation.reconcile()


handler = handlers.scheduled(reconcile)
