"""The retention of one content item: what the schedule says about it, its Object Lock date, the holds on it and
whether it was disposed of (pure; kept on the item's index record).

The facts retention needs come from the item's version history: when it was posted, when Steward first received
it, whether it is still provided (publicly visible) and, if not, since when. Hiding counts as no longer provided:
the public no longer sees it; if it is unhidden, it is provided again and the clock stops (the Object Lock
already set stays: a lock is never shortened).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from shared.domain.content import Change, ContentEvent, ItemHistory, ItemState, format_time
from shared.domain.retention import (
    Hold,
    ItemFacts,
    ItemRef,
    RetentionState,
    Schedule,
    holds_on,
    lock_until,
    retention_state,
)


class Disposed(StrEnum):
    """How a disposed item that stays indexed went (a destroyed item leaves the index with its versions)."""

    TRANSFERRED = "transferred"


class ItemRetention(BaseModel):
    """Kept with the item: its retention state, the holds on it and its disposition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: RetentionState
    received_at: datetime  # when Steward first recorded the item (the "received" of the schedule's trigger)
    holds: tuple[str, ...] = ()
    disposed: Disposed | None = None
    batch_id: str | None = None

    @property
    def eligible_key(self) -> tuple[str, str] | None:
        """(partition, sort prefix) of the by-retention index while the item may be proposed for disposition:
        its retention end is known, no hold is on it and it was not disposed of. None keeps it out."""
        if self.holds or self.disposed is not None or self.state.retain_until is None:
            return None
        return f"RET#{self.state.dan}", format_time(self.state.retain_until)


def facts(history: ItemHistory, received_at: datetime) -> ItemFacts:
    """What retention needs to know, from the history: posted, first received, still provided, since when not."""
    item = history.current
    first = history.versions[0]
    created = item.created_at or first.effective_at
    received = max(received_at, created)
    provided = item.state is ItemState.VISIBLE
    removed_at = None
    if not provided:
        removed_at = item.state_changed_at or history.versions[-1].effective_at
    return ItemFacts(created_at=created, received_at=received, provided=provided, removed_at=removed_at)


def ref(history: ItemHistory) -> ItemRef:
    item = history.current
    return ItemRef(
        platform=str(item.platform),
        account_id=item.account_id,
        item_id=item.item_id,
        author_id=item.author.id if item.author else None,
        created_at=item.created_at or history.versions[0].effective_at,
    )


def govern(
    history: ItemHistory,
    schedule: Schedule,
    holds: Iterable[Hold],
    *,
    now: datetime,
    before: ItemRetention | None,
) -> ItemRetention:
    """The item's retention after a change to its history: the schedule's state (its lock never earlier than
    before), the holds covering it (those it had, plus any active one whose scope now takes it in)."""
    item = history.current
    current_lock = before.state.lock_until if before is not None else None
    received_at = before.received_at if before is not None else now
    state = retention_state(
        schedule,
        str(item.platform),
        item.account_id,
        facts(history, received_at),
        now=now,
        current_lock=current_lock,
    )
    if before is not None and before.state.retain_until is None and state.retain_until is None:
        state = state.model_copy(update={"lock_until": before.state.lock_until})  # the provisional lock stays
    held = {h.id for h in holds_on(holds, ref(history))}
    kept = set(before.holds) if before is not None else set()
    return ItemRetention(
        state=state,
        received_at=received_at,
        holds=tuple(sorted(kept | held)),
        disposed=before.disposed if before is not None else None,
        batch_id=before.batch_id if before is not None else None,
    )


def on_archive(
    event: ContentEvent, schedule: Schedule, holds: Iterable[Hold], *, now: datetime
) -> tuple[datetime, bool]:
    """(the Object Lock date, whether a legal hold applies) for a new event as it is archived, from the event
    alone: the history it joins is read later; if that moves the item's lock, its versions are extended then."""
    series = schedule.series_for(str(event.platform), event.account_id)
    created = event.created_at or event.occurred_at
    provided = event.change not in (Change.HIDDEN, Change.REMOVED)
    item_facts = ItemFacts(
        created_at=created,
        received_at=max(now, created),
        provided=provided,
        removed_at=None if provided else event.occurred_at,
    )
    item = ItemRef(
        platform=str(event.platform),
        account_id=event.account_id,
        item_id=event.item_id,
        author_id=event.author.id if event.author else None,
        created_at=created,
    )
    return lock_until(series, item_facts, now=now, current=None), bool(holds_on(holds, item))
