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
from shared.domain import adapters, item_retention
from shared.domain.audit import AuditEntry
from shared.domain.content import (
    Change,
    ContentEvent,
    ItemHistory,
    SkipReason,
    apply_event,
    format_time,
    steward_action_event,
)
from shared.errors import Conflict, Unavailable
from shared.observability import logger, metrics
from shared.store import archive, intake, records_store
from shared.store.content_store import ContentStore

ACTOR = "system:processor"
MAX_ATTEMPTS = 10
# New events listed in one audit entry (about 170 bytes each, well inside the entry's 32 KiB of details).
AUDIT_CHUNK = 100


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
    Unavailable (retry later); a change that cannot be read is counted and its siblings are still recorded.

    Three passes, so the costs per comment are one archive put and one index put, plus a share of one audit
    entry per delivery: archive every event (the write-once archive says which are new), write one audit entry
    for each chunk of the delivery's new events, then index each event (with the locator of the entry that
    recorded it, the item's chain of custody) and moderate it.
    """
    raw = intake.read(pointer)
    received_at = datetime.fromisoformat(pointer.received_at)
    result = adapters.parse(pointer.platform, raw, received_at)
    report = IngestReport()
    to_record: list[ContentEvent] = []
    for event in result.events:
        if moderate.own_echo(event) is not None:
            report.skipped[str(SkipReason.OWN_ECHO)] += 1  # Steward's own action, recorded when it was taken
            metrics.add_metric(name=f"Skipped_{SkipReason.OWN_ECHO}", unit=MetricUnit.Count, value=1)
        elif _needs_recording(event, received_at):
            to_record.append(event)
        else:
            report.duplicates += 1
    locators = _audit_delivery(pointer, to_record)
    for event in to_record:
        _record_and_moderate(event, received_at, locators[event.event_id])
        report.recorded += 1
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


def _needs_recording(event: ContentEvent, now: datetime) -> bool:
    """Archive the event; True unless it is archived *and* indexed already (a duplicate delivery).

    A duplicate still goes through moderation: its cases are idempotent, so this only finishes what an
    interrupted attempt left undone (a hide never attempted, a notice never sent).
    """
    if _archive(event, now):
        return True
    stored = store().get(*event.key)
    if stored is None or event.event_id not in stored.history.event_ids:
        return True  # archived by an attempt that stopped before indexing it
    _moderate(stored.history, event, now)
    return False


def _audit_delivery(pointer: intake.Pointer, events: list[ContentEvent]) -> dict[str, str]:
    """One audit entry per chunk of a delivery's new events; returns each event's entry locator.

    The entry comes before the index write, so the index never holds an event the trail does not; a failure
    between the two can, on retry, record an event in a second entry, which its ``event_id`` identifies.
    """
    locators: dict[str, str] = {}
    for start in range(0, len(events), AUDIT_CHUNK):
        chunk = events[start : start + AUDIT_CHUNK]
        entry = audit.append(
            ACTOR,
            "content.recorded",
            f"delivery:{pointer.sha256}",
            {
                "delivery": pointer.key,
                "events": [
                    {"event_id": e.event_id, "item": _item(e), "change": str(e.change)} for e in chunk
                ],
            },
        )
        for event in chunk:
            locators[event.event_id] = audit.locator(entry)
    return locators


def _archive(event: ContentEvent, now: datetime) -> bool:
    """Archive the event under the Object Lock its series gives it now, with a legal hold if one covers it."""
    schedule, holds = records_store.governing()
    until, held = item_retention.on_archive(event, schedule, holds, now=now)
    return archive.put_event(event, now, lock_until=until, legal_hold=held)


def _record_and_moderate(event: ContentEvent, now: datetime, locator: str) -> None:
    history = _index(event, locator, now)
    _moderate(history, event, now)


def _moderate(history: ItemHistory, event: ContentEvent, now: datetime) -> None:
    """Moderate the event's version; a hide Steward performs is recorded as Steward's own event (the platform's
    echo of it is then skipped by :func:`ingest`)."""
    for action in moderate.moderate_version(history, event).hidden:
        record(steward_action_event(action), now)


def record(event: ContentEvent, now: datetime) -> bool:
    """Record one event on its own (archived, audited on its item, indexed; not moderated), e.g. one Steward
    itself caused. False if it was recorded already."""
    if not _archive(event, now) and _indexed(event):
        return False
    entry = audit.append(
        ACTOR,
        f"content.{event.change}",
        f"item:{_item(event)}",
        {"event_id": event.event_id, "archive_key": archive.event_key(event), "origin": str(event.origin)},
    )
    _index(event, audit.locator(entry), now)
    return True


def _indexed(event: ContentEvent) -> bool:
    stored = store().get(*event.key)
    return stored is not None and event.event_id in stored.history.event_ids


def _index(event: ContentEvent, locator: str, now: datetime) -> ItemHistory:
    """Index the event (:func:`_index_item`); a post the account itself made is also noted as its latest activity
    (which the abandoned-account sweep reads)."""
    history = _index_item(event, locator, now)
    if event.change is Change.ADDED and history.is_own_post:
        store().note_activity(str(event.platform), event.account_id, format_time(event.occurred_at))
    return history


def _index_item(event: ContentEvent, locator: str, now: datetime) -> ItemHistory:
    """Add the event to its item's history, with its retention, with optimistic concurrency; returns the history
    it is now in.

    Most events are the first of a new item (a new comment), so the first attempt writes a new record without
    reading; if the item exists, it is read and the event added to its history. When the change moves the item's
    retention end later (a removal starts the clock), every archived version's Object Lock is extended to it.
    """
    schedule, holds = records_store.governing()
    try:
        history = apply_event(None, event).history
        kept = item_retention.govern(history, schedule, holds, now=now, before=None)
        store().save(history, None, (locator,), kept)
        return history
    except Conflict:
        pass
    for _ in range(MAX_ATTEMPTS):
        stored = store().get(*event.key)
        update = apply_event(stored.history if stored else None, event)
        if not update.changed:
            return update.history
        custody = (*(stored.custody if stored else ()), locator)
        before = stored.retention if stored else None
        kept = item_retention.govern(update.history, schedule, holds, now=now, before=before)
        try:
            store().save(update.history, stored.revision if stored else None, custody, kept)
        except Conflict:
            continue  # another processor recorded an event of this item first: read it again
        if before is None or kept.state.lock_until > before.state.lock_until:
            archive.extend_retention(archive.versions(*event.key), kept.state.lock_until)
        return update.history
    raise Unavailable(f"item {event.item_id} is too busy to record; the delivery will be retried")


def _item(event: ContentEvent) -> str:
    return f"{event.platform}:{event.account_id}:{event.item_id}"


def custody(platform: str, account_id: str, item_id: str) -> list[AuditEntry]:
    """The audit entries that recorded an item's events, oldest first (its chain of custody)."""
    stored = store().get(platform, account_id, item_id)
    return audit.entries_at(stored.custody) if stored else []


def reset() -> None:
    store.cache_clear()
