"""The audit trail every function uses.

    from shared import audit
    audit.append(actor, "account.approved", f"account:{account_id}", {"by": ...})

``append`` writes a hash-chained entry (see ``shared.domain.audit``); pass ``also=`` to make the caller's own
DynamoDB writes and the entry one transaction, so there is never a change without its entry or an entry without
its change. ``anchor`` copies every chain head to the write-once bucket; ``verify`` checks the chains against
themselves and against every anchor.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from shared.domain.anchor import (
    AnchorLink,
    AnchorReport,
    anchor_key,
    anchored_at_of,
    check_anchors,
    new_anchor,
)
from shared.domain.audit import AuditEntry, ChainHead, ChainReport, format_time, now, verify_chain
from shared.errors import NotFound
from shared.observability import metrics
from shared.settings import get_settings
from shared.store.anchor_store import AnchorStore
from shared.store.audit_log import AuditLog, TransactionPart

ANCHOR_ACTION = "audit.anchored"
LATE_ENTRY_AFTER = timedelta(minutes=1)


@lru_cache(maxsize=1)
def log() -> AuditLog:
    return AuditLog(get_settings().audit_chains)


@lru_cache(maxsize=1)
def anchors() -> AnchorStore:
    return AnchorStore()


def append(
    actor: str,
    action: str,
    resource: str,
    details: dict[str, Any] | None = None,
    *,
    also: Sequence[TransactionPart] = (),
) -> AuditEntry:
    entry = log().append(actor, action, resource, details, also=also)
    metrics.add_metric(name="AuditEntriesAppended", unit=MetricUnit.Count, value=1)
    return entry


def locator(entry: AuditEntry) -> str:
    """Where an entry is ("chain:seq:id"), for records that must point at the entries about them."""
    return f"{entry.chain}:{entry.seq}:{entry.id}"


def entries_at(locators: Sequence[str]) -> list[AuditEntry]:
    """The entries at these locators, in order; a locator whose entry is gone or different is left out (verify
    reports the tampering)."""
    wanted = []
    for value in locators:
        chain, seq, entry_id = value.split(":", 2)
        wanted.append(((int(chain), int(seq)), entry_id))
    entries = log().at_many(position for position, _ in wanted)
    return [
        entries[position]
        for position, entry_id in wanted
        if position in entries and entries[position].id == entry_id
    ]


class AnchorResult(BaseModel):
    key: str
    sha256: str
    anchored_at: str
    previous: str | None
    chains: list[dict[str, Any]]
    audit_entry: str


def anchor(actor: str, reason: str) -> AnchorResult:
    """Write every chain head to the write-once bucket, then record that in the trail itself.

    The anchor (S3) and its entry (DynamoDB) cannot share a transaction. If the entry fails after the anchor
    was written, the request fails, and the next anchor records the missing entry (``recorded_late``), so no
    anchor stays without its entry.
    """
    at = now()
    heads: list[ChainHead] = log().heads()
    previous = anchors().latest()
    if previous is not None:
        _record_if_missing(previous, at)
    document = new_anchor(
        at=at, organization=get_settings().organization, reason=reason, previous=previous, heads=heads
    )
    key = anchor_key(at, uuid.uuid4().hex[:12])
    link = anchors().put(key, document, at)
    entry = append(actor, ANCHOR_ACTION, _anchor_resource(key), {"sha256": link.sha256, "reason": reason})
    metrics.add_metric(name="AuditAnchorsWritten", unit=MetricUnit.Count, value=1)
    return AnchorResult(
        key=key,
        sha256=link.sha256,
        anchored_at=document.anchored_at,
        previous=previous.key if previous else None,
        chains=[h.model_dump() for h in document.chains],
        audit_entry=entry.id,
    )


def _anchor_resource(key: str) -> str:
    return f"audit-anchor:{key}"


def _record_if_missing(previous: AnchorLink, at: datetime) -> None:
    """Append the entry an earlier anchor should have had, if its request failed after writing it.

    The by-resource index is eventually consistent, so only anchors older than a minute are looked at.
    """
    if at - anchored_at_of(previous.key) < LATE_ENTRY_AFTER:
        return
    if log().for_resource(_anchor_resource(previous.key), limit=1):
        return
    append(
        "system:audit-anchor",
        ANCHOR_ACTION,
        _anchor_resource(previous.key),
        {
            "sha256": previous.sha256,
            "reason": "entry missing when the next anchor was written",
            "recorded_late": True,
        },
    )


class VerifyReport(BaseModel):
    ok: bool
    verified_at: str
    chains: list[ChainReport]
    anchors: AnchorReport


def verify(chain: int | None = None) -> VerifyReport:
    """Verify one chain or all of them, each against itself and against every anchor."""
    chains = range(log().chains)
    if chain is not None:
        if chain not in chains:
            raise NotFound(f"there is no audit chain {chain}; chains are 0 to {log().chains - 1}")
        chains = range(chain, chain + 1)
    anchor_report, anchored = check_anchors(anchors().all())
    reports = [verify_chain(c, log().entries(c), anchored.get(c, [])) for c in chains]
    ok = all(r.ok for r in reports) and not anchor_report.problems
    metrics.add_metric(name="AuditVerificationFailures", unit=MetricUnit.Count, value=0 if ok else 1)
    return VerifyReport(
        ok=ok,
        verified_at=format_time(now()),
        chains=reports,
        anchors=anchor_report,
    )


def reset() -> None:
    log.cache_clear()
    anchors.cache_clear()
