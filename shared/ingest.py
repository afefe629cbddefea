"""Turning a stored delivery into recorded content: parse, archive each new event write-once, audit it, index
it, then moderate it. Nothing acts on an event before it is archived.

Deliveries arrive late, twice and out of order; the item histories converge (``shared.domain.content``), the
archive holds each event once (named by its id), and a second delivery of the same event changes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from aws_lambda_powertools.metrics import MetricUnit

from shared import audit, moderate
from shared.domain import adapters
from shared.domain.content import ContentEvent, ItemHistory, SkipReason, apply_event, steward_action_event
from shared.errors import Conflict, Unavailable
from shared.observability import logger, metrics
from shared.store import archive, intake
from shared.store.content_store import ContentStore

ACTOR = "system:processor"
MAX_ATTEMPTS = 10


@lru_cache(maxsize=1)
def store() -> ContentStore:
    return ContentStore()


@dataclass
class IngestReport:
    recorded: int = 0
    duplicates: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errors: int = 0


def ingest(pointer: intake.Pointer) -> IngestReport:
    """Record every event of one stored delivery. Raises BadRequest/IntegrityError (never retryable) or
    Unavailable (retry later); a change that cannot be read is counted and its siblings are still recorded."""
    raw = intake.read(pointer)
    received_at = datetime.fromisoformat(pointer.received_at)
    result = adapters.parse(pointer.platform, raw, received_at)
    report = IngestReport()
    for event in result.events:
        if moderate.own_echo(event) is not None:
            report.skipped[str(SkipReason.OWN_ECHO)] += 1  # Steward's own action, recorded when it was taken
            metrics.add_metric(name=f"Skipped_{SkipReason.OWN_ECHO}", unit=MetricUnit.Count, value=1)
            continue
        if record(event, received_at):
            report.recorded += 1
        else:
            report.duplicates += 1
    for reason, count in result.skip_counts().items():
        report.skipped[str(reason)] += count
        metrics.add_metric(name=f"Skipped_{reason}", unit=MetricUnit.Count, value=count)
    for error in result.errors:
        logger.warning(
            "unreadable change", extra={"key": pointer.key, "location": error.location, "why": error.message}
        )
    report.errors = len(result.errors)
    metrics.add_metric(name="EventsRecorded", unit=MetricUnit.Count, value=report.recorded)
    metrics.add_metric(name="EventsDuplicate", unit=MetricUnit.Count, value=report.duplicates)
    return report


def record(event: ContentEvent, now: datetime) -> bool:
    """Archive one event, audit it, index it, then moderate it. False if it was already recorded.

    Moderation runs on a redelivery too: its cases are idempotent, so it only finishes what an interrupted
    attempt left undone (a hide never attempted, a notice never sent). A hide Steward performs is recorded in the
    item's history as Steward's own event (the platform's echo of it is then skipped by :func:`ingest`).
    """
    recorded, history = _store(event, now)
    if history is not None:
        for action in moderate.moderate_version(history, event).hidden:
            _store(steward_action_event(action), now)
    return recorded


def _store(event: ContentEvent, now: datetime) -> tuple[bool, ItemHistory | None]:
    """Archive one event, audit it, then index it: (False if it was already recorded, the item's history).

    No DynamoDB transaction: the write-once archive decides what is new. An event S3 has not seen is new
    everywhere, so the common case (a new comment) costs one archive put, one audit entry and one index put.
    An event already archived is looked up: recorded already (a duplicate delivery: nothing happens), or an
    earlier attempt stopped before indexing it (it is audited and indexed now). The audit entry always comes
    before the index write, so the index never holds an event the trail does not; a failure between the two
    can, on retry, give the event a second entry, which its ``event_id`` identifies.
    """
    resource = f"item:{event.platform}:{event.account_id}:{event.item_id}"
    if archive.put_event(event, now):
        _audit(event, resource)
        try:
            history = apply_event(None, event).history
            store().save(history, None)
            return True, history
        except Conflict:
            pass  # the item exists: add the event to its history below
    else:
        stored = store().get(*event.key)
        if stored is not None and event.event_id in stored.history.event_ids:
            return False, stored.history
        _audit(event, resource)
    for _ in range(MAX_ATTEMPTS):
        stored = store().get(*event.key)
        update = apply_event(stored.history if stored else None, event)
        if not update.changed:
            return True, update.history
        try:
            store().save(update.history, stored.revision if stored else None)
        except Conflict:
            continue  # another processor recorded an event of this item first: read it again
        return True, update.history
    raise Unavailable(f"item {event.item_id} is too busy to record; the delivery will be retried")


def _audit(event: ContentEvent, resource: str) -> None:
    audit.append(
        ACTOR,
        f"content.{event.change}",
        resource,
        {
            "event_id": event.event_id,
            "archive_key": archive.event_key(event),
            "occurred_at": event.occurred_at.isoformat(),
        },
    )


def reset() -> None:
    store.cache_clear()
