"""The normalized content model: what every platform adapter produces and what the processor stores.

Pure logic, no AWS. Three layers:

* :class:`ContentEvent` is one normalized change the platform told us about (an item was added, edited,
  hidden, unhidden or removed). Its ``event_id`` is SHA-256 over the canonical JSON of everything else in the
  event, so a redelivery of the same change -- in the same or another batch, in Meta's escaped-unicode form or as
  raw UTF-8, in the current or the legacy payload shape -- gets the same id. Nothing delivery-specific (receive
  time, position in the batch) is in an event; the adapters report positions beside it (:class:`ParsedEvent`).
* :class:`SkippedEvent` is a change we recognised and deliberately do not record (a reaction, a mention on
  someone else's post, ...), always with a :class:`SkipReason`; :class:`ChangeError` is a change we could not
  read. Adapters return one of the three per change, so a bad change never spoils its siblings.
* :class:`ItemHistory` is an item's version history, a pure function of the *set* of distinct events applied
  to it (see :func:`apply_event` for the rules): any order and any duplication of the same events gives the same
  history. :class:`ContentItem` is the item as it stands after the last version.

Echoes of Steward's own moderation actions: a platform reports our hide/delete back as an ordinary event, and an
adapter cannot tell it from a page admin's. Events carry ``changed_by`` (``account`` when the payload shows the
account itself acted) and :func:`find_own_echo` matches an event against the actions Steward has recorded as
pending; the processor skips a match with :meth:`SkippedEvent.own_echo` and records the action itself with
:func:`steward_action_event`, so the history says Steward acted. The account's *own* comments (``from.id ==
entry.id``) are not echoes: they are public records on an official account and are kept, marked
``author_is_account`` (moderation can pass over them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_HEX64 = r"^[0-9a-f]{64}$"


class Platform(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    YOUTUBE = "youtube"


class ItemKind(StrEnum):
    POST = "post"  # a top-level post on the account: a visitor post, the account's own tweet, a photo post
    COMMENT = "comment"  # a comment on a post, or a tweet addressed to the account ("@district ...")
    REPLY = "reply"  # a reply to a comment, or any reply tweet
    VIDEO = "video"  # a YouTube upload or a Facebook video post


# What an account publishes itself (its comments and replies answer others).
ACCOUNT_PUBLICATIONS = frozenset({ItemKind.POST, ItemKind.VIDEO})


class ItemState(StrEnum):
    VISIBLE = "visible"
    HIDDEN = "hidden"
    REMOVED = "removed"


class Actor(StrEnum):
    """Who made a state change, as far as the platform's payload shows."""

    ACCOUNT = "account"  # the page / IG business account / X user / channel itself (Steward acts as this)
    AUTHOR = "author"  # the item's author
    PLATFORM = "platform"  # the platform on its own authority
    UNKNOWN = "unknown"


class Change(StrEnum):
    ADDED = "added"
    EDITED = "edited"
    HIDDEN = "hidden"
    UNHIDDEN = "unhidden"
    REMOVED = "removed"


class SkipReason(StrEnum):
    REACTION = "reaction"  # likes and reactions: not content
    MENTION_ELSEWHERE = "mention_elsewhere"  # the account is mentioned (or quoted) on someone else's content
    STATUS_UPDATE = "status_update"  # Facebook `item: status` (listed as skipped in issue 3)
    RETWEET = "retweet"  # a retweet repeats content that is recorded where it was written
    OWN_ECHO = "own_echo"  # the platform's echo of a moderation action Steward itself performed
    UNSUPPORTED_OBJECT = "unsupported_object"  # a Meta `object` other than page / instagram
    UNSUPPORTED_FIELD = "unsupported_field"  # a subscription field that carries no comments (parking, ...)
    UNSUPPORTED_ITEM = "unsupported_item"  # a feed item type that is not content (event, rating, ...)
    UNSUPPORTED_VERB = "unsupported_verb"  # a verb that does not change content (block, mute, ...)
    UNSUPPORTED_EVENT = "unsupported_event"  # an X event array other than tweet create/delete


STATE_CHANGES = frozenset({Change.HIDDEN, Change.UNHIDDEN, Change.REMOVED})
CONTENT_CHANGES = frozenset({Change.ADDED, Change.EDITED})


# --------------------------------------------------------------------------------------------- hashing
def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, compact separators, UTF-8, no NaN (as in ``shared.domain.audit``)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def format_time(at: datetime) -> str:
    """UTC with microseconds: the one text form of a time inside hashed content."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("content times must be timezone-aware")
    return value.astimezone(UTC)


def _unicode(value: str | None) -> str | None:
    if value is not None:
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            raise ValueError("text is not valid Unicode (it holds a lone surrogate)") from exc
    return value


def _jsonable(model: BaseModel, *, exclude: set[str]) -> dict[str, Any]:
    """A model's hashed form: defaults left out (so adding an optional field later keeps old hashes), times in
    :func:`format_time` form."""
    content = model.model_dump(mode="json", exclude=exclude, exclude_defaults=True)
    for name, value in model:
        if isinstance(value, datetime) and name in content:
            content[name] = format_time(value)
    return content


# --------------------------------------------------------------------------------------------- values
class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Author(_Frozen):
    id: str | None = None
    name: str | None = None  # display name (Facebook name, X name, YouTube channel title)
    handle: str | None = None  # username / screen name where the platform has one (Instagram, X)

    _check_unicode = field_validator("id", "name", "handle")(_unicode)


class MediaRef(_Frozen):
    """Media attached to an item: the platform's URL and/or id, never the bytes."""

    kind: str = Field(min_length=1, max_length=64)  # photo, video, animated_gif, link, ...
    url: str | None = None
    id: str | None = None

    _check_unicode = field_validator("url", "id")(_unicode)


class EventFields(_Frozen):
    """Everything in a :class:`ContentEvent` but its id."""

    origin: Literal["platform", "steward"] = "platform"
    platform: Platform
    account_id: str = Field(
        min_length=1
    )  # the page / IG business account / X user / channel the event is for
    item_id: str = Field(min_length=1)
    change: Change
    occurred_at: datetime  # the platform's time for the change (see the adapters for which field)
    # True when the payload had no time and the receive time stands in. The time is then left out of the event id,
    # so a redelivery (received later) is still recognised; the history keeps the earliest such time.
    time_estimated: bool = False
    kind: ItemKind | None = None
    parent_id: str | None = None
    post_id: str | None = None  # the thread root, when the payload names it
    author: Author | None = None
    author_is_account: bool | None = None
    # added/edited: the item's content after the change (text None = no text, e.g. a sticker).
    # hidden/unhidden/removed: the content the platform showed with the change, if any (used only while the item's
    # own content is unknown).
    text: str | None = None
    media: tuple[MediaRef, ...] = ()
    created_at: datetime | None = None  # the item's creation time, when the payload gives it
    changed_by: Actor | None = None  # only for hidden/unhidden/removed
    actor_id: str | None = (
        None  # the account a state-change payload names (Meta `from`); its role is not certain
    )
    surface: str | None = None  # Instagram media_product_type (FEED, REELS, LIVE, ...)
    url: str | None = None

    _check_times = field_validator("occurred_at", "created_at")(_utc)
    _check_unicode = field_validator(
        "account_id", "item_id", "parent_id", "post_id", "text", "actor_id", "surface", "url"
    )(_unicode)

    @model_validator(mode="after")
    def _changed_by_only_on_state_changes(self) -> EventFields:
        if self.changed_by is not None and self.change not in STATE_CHANGES:
            raise ValueError(f"changed_by is only for hidden/unhidden/removed, not {self.change}")
        return self

    def hashed_content(self) -> dict[str, Any]:
        content = _jsonable(self, exclude={"event_id"})
        if self.time_estimated:
            content.pop("occurred_at", None)
        return content

    @property
    def key(self) -> tuple[Platform, str, str]:
        return (self.platform, self.account_id, self.item_id)


class ContentEvent(EventFields):
    """One normalized change to one item. Build with :meth:`create`; the id is checked whenever one is loaded."""

    event_id: str = Field(pattern=_HEX64)

    @model_validator(mode="after")
    def _id_matches_content(self) -> ContentEvent:
        if self.event_id != sha256_hex(self.hashed_content()):
            raise ValueError("event_id does not match the event's content")
        return self

    @classmethod
    def create(cls, **fields: Any) -> ContentEvent:
        """Validate ``fields`` and seal them with their event id (raises ``pydantic.ValidationError``)."""
        draft = EventFields.model_validate(fields)
        return cls.model_validate({**dict(draft), "event_id": sha256_hex(draft.hashed_content())})


class SkippedEvent(_Frozen):
    """A change that is deliberately not recorded, with the reason (counted by the processor)."""

    location: str  # where in the delivery: "entry[0].changes[3]", "tweet_create_events[1]", "entry[0]"
    platform: Platform | None = None
    account_id: str | None = None
    kind: str  # what it was: "feed:reaction", "mention", "favorite_events", ...
    reason: SkipReason
    detail: str = ""
    item_id: str | None = None

    @classmethod
    def own_echo(cls, event: ContentEvent, action: PendingAction, location: str = "") -> SkippedEvent:
        return cls(
            location=location,
            platform=event.platform,
            account_id=event.account_id,
            kind=f"{event.kind or 'item'}:{event.change}",
            reason=SkipReason.OWN_ECHO,
            detail=f"echo of Steward action {action.action_id} requested at {format_time(action.requested_at)}",
            item_id=event.item_id,
        )


class ParsedEvent(_Frozen):
    location: str
    event: ContentEvent


class ChangeError(_Frozen):
    """A change that could not be read; its siblings are unaffected. The raw delivery stays in intake."""

    location: str
    message: str
    platform: Platform | None = None


Outcome = ParsedEvent | SkippedEvent | ChangeError


# --------------------------------------------------------------------------------------------- echoes
class PendingAction(_Frozen):
    """A moderation action Steward performed (or is performing) on the platform, awaiting its echo."""

    action_id: str = Field(min_length=1)
    platform: Platform
    account_id: str = Field(min_length=1)
    item_id: str = Field(min_length=1)
    change: Literal[Change.HIDDEN, Change.UNHIDDEN, Change.REMOVED]
    requested_at: datetime

    _check_times = field_validator("requested_at")(_utc)


ECHO_CLOCK_SKEW = timedelta(minutes=5)


def find_own_echo(
    event: ContentEvent, pending: Iterable[PendingAction], *, skew: timedelta = ECHO_CLOCK_SKEW
) -> PendingAction | None:
    """The pending Steward action ``event`` echoes, if any: same item, same change, not after-the-fact by
    someone the payload names as the author or the platform, and not older than the action (allowing ``skew``
    for the platform's second-resolution clocks). The earliest matching action wins."""
    if event.origin != "platform" or event.change not in STATE_CHANGES:
        return None
    if event.changed_by in (Actor.AUTHOR, Actor.PLATFORM):
        return None
    matches = [
        action
        for action in pending
        if (action.platform, action.account_id, action.item_id) == event.key
        and action.change == event.change
        and event.occurred_at >= action.requested_at - skew
    ]
    return min(matches, key=lambda a: (a.requested_at, a.action_id)) if matches else None


def steward_action_event(action: PendingAction, *, at: datetime | None = None) -> ContentEvent:
    """The event Steward records for its own action (the platform's echo of it is then skipped)."""
    return ContentEvent.create(
        origin="steward",
        platform=action.platform,
        account_id=action.account_id,
        item_id=action.item_id,
        change=action.change,
        occurred_at=at or action.requested_at,
        changed_by=Actor.ACCOUNT,
        actor_id=action.account_id,
    )


# --------------------------------------------------------------------------------------------- history
class ItemIdentity(_Frozen):
    """What does not change over an item's life (filled in as events reveal it)."""

    platform: Platform
    account_id: str
    item_id: str
    kind: ItemKind | None = None
    parent_id: str | None = None
    post_id: str | None = None
    author: Author | None = None
    author_is_account: bool | None = None
    created_at: datetime | None = None
    surface: str | None = None
    url: str | None = None

    def content_hash(self) -> str:
        return sha256_hex(_jsonable(self, exclude=set()))


class ItemVersion(_Frozen):
    """One version of an item's changing part. ``content_hash`` covers everything but ``version`` (the position,
    which a late event with an earlier time can shift), so the archive can name a version by its hash."""

    version: int = Field(ge=1)
    content_hash: str = Field(pattern=_HEX64)
    platform: Platform
    account_id: str
    item_id: str
    change: Change
    effective_at: datetime
    event_id: str = Field(pattern=_HEX64)  # the event that made this version
    origin: Literal["platform", "steward"] = "platform"
    text: str | None = None
    media: tuple[MediaRef, ...] = ()
    state: ItemState
    edited_at: datetime | None = None
    changed_by: Actor | None = None
    state_changed_at: datetime | None = None

    @model_validator(mode="after")
    def _hash_matches_content(self) -> ItemVersion:
        if self.content_hash != version_hash(self):
            raise ValueError("content_hash does not match the version's content")
        return self


def version_hash(version: ItemVersion) -> str:
    return sha256_hex(_jsonable(version, exclude={"version", "content_hash"}))


class ContentItem(_Frozen):
    """The normalized item as it stands (identity plus its latest version)."""

    platform: Platform
    account_id: str
    item_id: str
    kind: ItemKind | None
    parent_id: str | None
    post_id: str | None
    author: Author | None
    author_is_account: bool | None
    text: str | None
    media: tuple[MediaRef, ...]
    created_at: datetime | None
    edited_at: datetime | None
    state: ItemState
    changed_by: Actor | None
    state_changed_at: datetime | None
    surface: str | None
    url: str | None
    version: int
    content_hash: str
    updated_at: datetime


class ItemHistory(_Frozen):
    """An item's distinct events (in canonical order) and the identity and versions they make."""

    platform: Platform
    account_id: str
    item_id: str
    events: tuple[ContentEvent, ...]
    identity: ItemIdentity
    versions: tuple[ItemVersion, ...]

    @property
    def key(self) -> tuple[Platform, str, str]:
        return (self.platform, self.account_id, self.item_id)

    @property
    def event_ids(self) -> frozenset[str]:
        return frozenset(e.event_id for e in self.events)

    @property
    def by_the_account(self) -> bool:
        """Whether the account itself published the item: as the adapter says (it compares the author with the
        account whenever the payload names one); else, whether it is a post or a video (the account's own)."""
        ident = self.identity
        if ident.author_is_account is not None:
            return ident.author_is_account
        return ident.kind in ACCOUNT_PUBLICATIONS

    @property
    def is_own_post(self) -> bool:
        """A post or video the account itself published (what "no post for N days" looks for)."""
        return self.identity.kind in ACCOUNT_PUBLICATIONS and self.by_the_account

    @property
    def current(self) -> ContentItem:
        latest = self.versions[-1]
        ident = self.identity
        return ContentItem(
            platform=self.platform,
            account_id=self.account_id,
            item_id=self.item_id,
            kind=ident.kind,
            parent_id=ident.parent_id,
            post_id=ident.post_id,
            author=ident.author,
            author_is_account=ident.author_is_account,
            text=latest.text,
            media=latest.media,
            created_at=ident.created_at,
            edited_at=latest.edited_at,
            state=latest.state,
            changed_by=latest.changed_by,
            state_changed_at=latest.state_changed_at,
            surface=ident.surface,
            url=ident.url,
            version=latest.version,
            content_hash=latest.content_hash,
            updated_at=latest.effective_at,
        )


class HistoryUpdate(_Frozen):
    """What applying one event did. ``new_versions`` are to be archived; ``superseded`` versions were in the
    previous history but are not in this one (a late event with an earlier time changed them): they stay in the
    write-once archive as what was known then, and the index should point at the new ones."""

    history: ItemHistory
    changed: bool
    new_versions: tuple[ItemVersion, ...] = ()
    superseded: tuple[ItemVersion, ...] = ()
    renumbered: tuple[ItemVersion, ...] = ()  # same content, new position
    identity_changed: bool = False


# Tie-break for events at the same time: content before state, hide before unhide (an item starts visible, so
# "hidden then unhidden" is the order that can happen), removal last (it is final).
_RANK = {Change.ADDED: 0, Change.EDITED: 1, Change.HIDDEN: 2, Change.UNHIDDEN: 3, Change.REMOVED: 4}


def _order(event: ContentEvent) -> tuple[int, datetime, int, str]:
    """Canonical order: creations first whatever their time, then by time, change rank and event id."""
    return (0 if event.change is Change.ADDED else 1, event.occurred_at, _RANK[event.change], event.event_id)


def _transition(state: ItemState, change: Change) -> ItemState:
    if state is ItemState.REMOVED:
        return state  # removal is final: nothing undoes it
    if change is Change.HIDDEN:
        return ItemState.HIDDEN
    if change is Change.UNHIDDEN:
        return ItemState.VISIBLE
    if change is Change.REMOVED:
        return ItemState.REMOVED
    return state


def _identity(key: tuple[Platform, str, str], ordered: list[ContentEvent]) -> ItemIdentity:
    """Each identity field from the first event (in canonical order, so creations first) that has it."""

    def first(name: str) -> Any:
        return next((getattr(e, name) for e in ordered if getattr(e, name) is not None), None)

    creations = [e for e in ordered if e.change is Change.ADDED]
    created_at = next((e.created_at for e in creations if e.created_at is not None), None)
    if created_at is None:
        created_at = first("created_at")
    if created_at is None and creations:
        created_at = creations[0].occurred_at
    author = next((e.author for e in ordered if e.author is not None and e.author.id is not None), None)
    return ItemIdentity(
        platform=key[0],
        account_id=key[1],
        item_id=key[2],
        kind=first("kind"),
        parent_id=first("parent_id"),
        post_id=first("post_id"),
        author=author or first("author"),
        author_is_account=first("author_is_account"),
        created_at=created_at,
        surface=first("surface"),
        url=first("url"),
    )


def _versions(key: tuple[Platform, str, str], ordered: list[ContentEvent]) -> tuple[ItemVersion, ...]:
    """Fold the events in canonical order; a version is made by the first event and by every event that
    changes the text, the media or the state (a repeated hide, an edit to the same text, ... make none)."""
    versions: list[ItemVersion] = []
    text: str | None = None
    media: tuple[MediaRef, ...] = ()
    content_known = False
    state = ItemState.VISIBLE
    edited_at: datetime | None = None
    changed_by: Actor | None = None
    state_changed_at: datetime | None = None
    for event in ordered:
        changed = not versions
        if event.change in CONTENT_CHANGES:
            if (event.text, event.media) != (text, media):
                changed = True
                if event.change is Change.EDITED or versions:  # a later creation with other content edits
                    edited_at = event.occurred_at
                text, media = event.text, event.media
            content_known = True
        else:
            if not content_known and (event.text is not None or event.media):
                text, media = event.text, event.media  # what the platform showed, until the content is known
            new_state = _transition(state, event.change)
            if new_state is not state or not versions:
                changed = True
                state = new_state
                changed_by = event.changed_by or Actor.UNKNOWN
                state_changed_at = event.occurred_at
        if not changed:
            continue
        fields: dict[str, Any] = {
            "platform": key[0],
            "account_id": key[1],
            "item_id": key[2],
            "change": event.change,
            "effective_at": event.occurred_at,
            "event_id": event.event_id,
            "origin": event.origin,
            "text": text,
            "media": media,
            "state": state,
            "edited_at": edited_at,
            "changed_by": changed_by,
            "state_changed_at": state_changed_at,
        }
        draft = ItemVersion.model_construct(version=1, content_hash="0" * 64, **fields)
        versions.append(ItemVersion(version=len(versions) + 1, content_hash=version_hash(draft), **fields))
    return tuple(versions)


def build_history(events: Iterable[ContentEvent]) -> ItemHistory:
    """The history the given events make, whatever their order and however often each appears.

    Duplicates (same event id) collapse to one; for an event whose time was estimated from its receive time
    the earliest copy is kept. Raises ValueError for no events or events of different items."""
    distinct: dict[str, ContentEvent] = {}
    for event in events:
        held = distinct.get(event.event_id)
        if held is None or event.occurred_at < held.occurred_at:
            distinct[event.event_id] = event
    if not distinct:
        raise ValueError("a history needs at least one event")
    keys = {e.key for e in distinct.values()}
    if len(keys) != 1:
        raise ValueError(f"events of different items cannot share a history: {sorted(keys)}")
    (key,) = keys
    ordered = sorted(distinct.values(), key=_order)
    return ItemHistory(
        platform=key[0],
        account_id=key[1],
        item_id=key[2],
        events=tuple(ordered),
        identity=_identity(key, ordered),
        versions=_versions(key, ordered),
    )


def apply_event(history: ItemHistory | None, event: ContentEvent) -> HistoryUpdate:
    """Add ``event`` to ``history`` (None for an item not seen before).

    Convergence rules (the history is a function of the set of distinct events, so order and duplicates cannot
    matter):

    * Events are ordered: creations (``added``) first whatever their time, then by the event's own time, then by
      change (added < edited < hidden < unhidden < removed), then by event id (so two different edits in the
      same second end the same way whatever their arrival, though which one is "last" is arbitrary).
    * An event already in the history is "no change". A redelivery whose time was estimated keeps the earliest.
    * An ``edited`` (or a hide, or a removal) before any ``added`` creates the item from what it carries; the
      ``added`` fills creation fields (author, created time, parent, post) when it arrives.
    * Text history: every event that changes text or media makes a version with its time; repeating the same
      content makes none.
    * State: visible -> hidden -> visible ... by event time; ``removed`` is final (later hides, unhides do
      nothing; later edits are still recorded, with state removed).
    """
    if history is not None and event.key != history.key:
        raise ValueError(f"event for {event.key} applied to history of {history.key}")
    if history is not None:
        held = next((e for e in history.events if e.event_id == event.event_id), None)
        if held is not None and held.occurred_at <= event.occurred_at:
            return HistoryUpdate(history=history, changed=False)
    before = history.events if history is not None else ()
    new = build_history((*before, event))
    old_versions = {v.content_hash: v for v in history.versions} if history is not None else {}
    new_versions = {v.content_hash: v for v in new.versions}
    return HistoryUpdate(
        history=new,
        changed=True,
        new_versions=tuple(v for v in new.versions if v.content_hash not in old_versions),
        superseded=tuple(v for h, v in old_versions.items() if h not in new_versions),
        renumbered=tuple(
            v
            for v in new.versions
            if v.content_hash in old_versions and old_versions[v.content_hash].version != v.version
        ),
        identity_changed=history is None or history.identity != new.identity,
    )
