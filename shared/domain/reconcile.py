"""Reconciliation, the pure part: what the platform shows of one thread now, against what the archive holds of it,
as the events the webhooks missed.

* An archived comment (or reply) that is not removed in Steward and that the platform no longer lists is
  ``removed``: by :attr:`Actor.UNKNOWN` (a listing cannot say whether the author, the account or the platform
  deleted it), at the reconciliation's time, ``time_estimated`` (so the event id leaves the time out and a later run
  makes the same event).
* A listed comment whose text differs is ``edited`` (at the platform's edit time when it gives one, else the
  reconciliation's, estimated).
* A listed comment the platform reports hidden while Steward has it visible is ``hidden`` (and the reverse
  ``unhidden``), ``changed_by`` the platform's word (:attr:`Seen.hidden_by`: on Facebook and Instagram only the
  account can hide a comment).
* A listed comment the archive lacks is ``added`` (a webhook that never came), then ``hidden`` if it is.

Absence proves nothing where the listing is known to be incomplete: the replies under a parent named in
:attr:`Listing.partial` (YouTube lists at most five replies of a thread) are not judged. Items that are not
comments (the post or video at the thread's root) are never judged.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from shared.domain.content import (
    Actor,
    Author,
    Change,
    ContentEvent,
    ContentItem,
    ItemKind,
    ItemState,
    Platform,
)

JUDGED_KINDS = frozenset({ItemKind.COMMENT, ItemKind.REPLY})


@dataclass(frozen=True)
class Seen:
    """One comment as the platform lists it now. ``parent_id`` is the post for a top-level comment."""

    item_id: str
    post_id: str
    parent_id: str
    text: str | None
    author: Author | None = None
    created_at: datetime | None = None
    edited_at: datetime | None = None  # when the platform says the text last changed (YouTube ``updatedAt``)
    hidden: bool = False
    hidden_by: Actor = Actor.UNKNOWN  # who hides a comment on this platform, when the platform says


@dataclass(frozen=True)
class Listing:
    """What the platform lists of one thread (post, media or video)."""

    post_id: str
    comments: tuple[Seen, ...]
    partial: frozenset[str] = field(default_factory=frozenset)  # parents whose replies are not all listed


def _same_text(a: str | None, b: str | None) -> bool:
    return unicodedata.normalize("NFC", a or "").strip() == unicodedata.normalize("NFC", b or "").strip()


def compare(
    platform: Platform, account_id: str, archived: Iterable[ContentItem], listing: Listing, now: datetime
) -> list[ContentEvent]:
    """The events that bring the archive's view of the thread in line with the platform's."""
    seen = {c.item_id: c for c in listing.comments}
    events: list[ContentEvent] = []
    known: set[str] = set()
    base = {"platform": platform, "account_id": account_id}
    for item in archived:
        known.add(item.item_id)
        if item.kind not in JUDGED_KINDS or item.state is ItemState.REMOVED:
            continue
        where = {**base, "item_id": item.item_id}
        now_seen = seen.get(item.item_id)
        if now_seen is None:
            if item.parent_id is not None and item.parent_id in listing.partial:
                continue
            events.append(
                ContentEvent.create(
                    **where,
                    change=Change.REMOVED,
                    occurred_at=now,
                    time_estimated=True,
                    changed_by=Actor.UNKNOWN,
                )
            )
            continue
        if now_seen.text is not None and not _same_text(now_seen.text, item.text):
            events.append(
                ContentEvent.create(
                    **where,
                    change=Change.EDITED,
                    occurred_at=now_seen.edited_at or now,
                    time_estimated=now_seen.edited_at is None,
                    text=now_seen.text,
                    media=item.media,
                )
            )
        if now_seen.hidden != (item.state is ItemState.HIDDEN):
            events.append(_state(where, now_seen, now))
    for c in listing.comments:
        if c.item_id in known:
            continue
        where = {**base, "item_id": c.item_id}
        events.append(
            ContentEvent.create(
                **where,
                change=Change.ADDED,
                occurred_at=c.created_at or now,
                time_estimated=c.created_at is None,
                kind=ItemKind.COMMENT if c.parent_id == c.post_id else ItemKind.REPLY,
                parent_id=c.parent_id,
                post_id=c.post_id,
                author=c.author,
                author_is_account=(c.author.id == account_id) if c.author and c.author.id else None,
                text=c.text,
                created_at=c.created_at,
            )
        )
        if c.hidden:
            events.append(_state(where, c, now))
    return events


def _state(where: dict[str, str], seen: Seen, now: datetime) -> ContentEvent:
    return ContentEvent.create(
        **where,
        change=Change.HIDDEN if seen.hidden else Change.UNHIDDEN,
        occurred_at=now,
        time_estimated=True,
        changed_by=seen.hidden_by,
    )
