"""Account and credential notices on the ``account-notices`` topic (catalogue), for the communications director,
IT and the stewards: requests awaiting approval, approvals, lifecycle changes, rotation steps, passwords ready for
hand-over, offboardings. A notice never carries a secret value.

A notice is sent after its change is committed and audited, and it does not undo the change when SNS fails: the
audit trail is the record, the notice a courtesy. A failure is logged and counted (metric ``NoticesFailed``) so
an alarm can say subscribers missed something. (The credential checkout is the exception: its notice goes on
``incidents`` and a checkout nobody was told about is refused, see :mod:`shared.vault_service`.)
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from shared.errors import Unavailable
from shared.observability import logger, metrics
from shared.store import notifier

TOPIC = "account-notices"


def send(kind: str, subject: str, account_id: str | None = None, **details: Any) -> bool:
    """Publish one notice (``kind`` e.g. ``account.approved``, ``credential.handover_ready``); False if SNS failed."""
    message = {"kind": kind, "category": kind.split(".", 1)[0], **details}
    if account_id is not None:
        message["account_id"] = account_id
    try:
        notifier.publish(f"Steward: {subject}"[:99], message, topic=TOPIC)
    except Unavailable:
        logger.exception("a notice could not be sent", extra={"kind": kind, "account_id": account_id})
        metrics.add_metric(name="NoticesFailed", unit=MetricUnit.Count, value=1)
        return False
    metrics.add_metric(name="NoticesSent", unit=MetricUnit.Count, value=1)
    return True
