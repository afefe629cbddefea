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
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from shared.domain.anchor import AnchorReport, anchor_key, check_anchors, new_anchor
from shared.domain.audit import AuditEntry, ChainHead, ChainReport, format_time, now, verify_chain
from shared.errors import NotFound
from shared.settings import get_settings
from shared.store.anchor_store import AnchorStore
from shared.store.audit_log import AuditLog, TransactionPart

ANCHOR_ACTION = "audit.anchored"


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
    return log().append(actor, action, resource, details, also=also)


class AnchorResult(BaseModel):
    key: str
    sha256: str
    anchored_at: str
    previous: str | None
    chains: list[dict[str, Any]]
    audit_entry: str


def anchor(actor: str, reason: str) -> AnchorResult:
    """Write every chain head to the write-once bucket, then record that in the trail itself."""
    at = now()
    heads: list[ChainHead] = log().heads()
    previous = anchors().latest()
    document = new_anchor(
        at=at, organization=get_settings().organization, reason=reason, previous=previous, heads=heads
    )
    key = anchor_key(at, uuid.uuid4().hex[:12])
    link = anchors().put(key, document, at)
    entry = append(actor, ANCHOR_ACTION, f"audit-anchor:{key}", {"sha256": link.sha256, "reason": reason})
    return AnchorResult(
        key=key,
        sha256=link.sha256,
        anchored_at=document.anchored_at,
        previous=previous.key if previous else None,
        chains=[h.model_dump() for h in document.chains],
        audit_entry=entry.id,
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
    return VerifyReport(
        ok=all(r.ok for r in reports) and not anchor_report.problems,
        verified_at=format_time(now()),
        chains=reports,
        anchors=anchor_report,
    )


def reset() -> None:
    log.cache_clear()
    anchors.cache_clear()
