"""Records retention (pure domain): the schedule, retention and Object Lock dates, legal holds and disposition.

No AWS and no I/O beyond reading the packaged ``retention.toml`` (the shipped schedule). Every operation returns a
new model; a refused operation raises a :mod:`shared.errors` domain error and changes nothing.

Where the rules come from (the state records retention schedules and statutes, cited by name):

* The schedule. Every series has a Disposition Authority Number (DAN), a period, the event that starts it (the
  trigger), what happens at its end (destroy, or transfer to the state archives for an archival series) and an
  essential flag. The shipped defaults are Washington CORE GS50-01-12 (the default: executive communications,
  archival), GS2010-001 (non-executive communications) and California Class 3. Accounts are assigned a series;
  an account without an assignment follows the default. Only ``records`` changes the schedule, and every change
  is a new version (the versions are kept, so any retention date can be explained by the version it was
  computed under).
* Triggers. WA CORE: "2 years after received or provided, whichever is later", and published content "continues
  to be provided until it is removed": while an item is publicly visible its clock has not started
  (:func:`retain_until` is ``None``, the retention is *open*). California Class 3: "not destroyed until after the
  third July 1" following the school year (July 1 to June 30) in which the record was created.
* Object Lock. Every archived version sits under an S3 Object Lock in COMPLIANCE mode; :func:`lock_until` is the
  retain-until date to hold. While retention is open the lock is provisional, a full period from now (re-applied
  whenever the item is looked at again); a lock is only ever extended, never shortened.
* Legal holds (RCW 42.56.100): records under a litigation hold or requested under RCW 42.56 must not be
  destroyed until the matter is resolved, whatever the schedule says. A hold covers items by account, author or
  item id, optionally narrowed to a creation-date range.
* Disposition (RCW 40.14): items whose retention is met and no hold covers are proposed in batches per series; a
  records officer approves (each item is checked again at approval: a hold placed since, or a retention extended
  since, drops it) or rejects; an approved batch is carried out and logged with the fields of the Washington
  destruction log (:func:`destruction_log_entry`).

Times are timezone-aware and kept in UTC.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from importlib import resources
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.catalogue import Role
from shared.domain.checks import aware as _utc
from shared.domain.checks import need_actor as _need_actor
from shared.domain.checks import need_role as _need_role
from shared.domain.checks import need_time as _need_time
from shared.domain.checks import validation_message as _validation_message
from shared.domain.content import format_time
from shared.errors import BadRequest, Conflict

SCHEDULE_FILE = "retention.toml"
DEFAULTS_ACTOR = "system:defaults"
SYSTEM_PREFIX = "system:"
RECORDS_ROLES = frozenset({Role.RECORDS})
MAX_SCOPE_ENTRIES = 500
NOTE_MAX = 1000
ATTESTATION = (
    "No legal hold and no open public records request covered these records when they were disposed of "
    "(RCW 42.56.100, RCW 40.14)"
)

_DAN = re.compile(r"^[A-Z0-9.-]{2,40}$")
_JURISDICTION = re.compile(r"^[A-Z]{2}(?:-[A-Z0-9]{1,10})?$")
_PLATFORM = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_ID = re.compile(r"^[^\s:]{1,256}$")  # an account or author id: no whitespace, no colon
_ITEM_ID = re.compile(
    r"^\S{1,512}$"
)  # an item id: no whitespace (the last part of a key, so a colon is fine)


# ------------------------------------------------------------------------------------------------ helpers
class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _need_reason(reason: str, what: str, minimum: int = 3, maximum: int = 1000) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest(f"a reason is required to {what}")
    if not minimum <= len(reason) <= maximum:
        raise BadRequest(f"the reason to {what} must be {minimum} to {maximum} characters")
    return reason


def _need_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise BadRequest(f"a note has at most {NOTE_MAX} characters")
    return note


def add_calendar(start: datetime, *, years: int = 0, months: int = 0, days: int = 0) -> datetime:
    """``start`` plus a calendar period, like ``dateutil.relativedelta``: years and months first, the day clamped
    to the end of the month (Feb 29 + 1 year = Feb 28; Jan 31 + 1 month = Feb 28/29), then days; the time of day
    and the time zone are kept."""
    total_months = start.month - 1 + months + 12 * years
    year, month = start.year + total_months // 12, total_months % 12 + 1
    if not 1 <= year <= 9999:
        raise BadRequest("a retention date is out of range")
    day = min(start.day, calendar.monthrange(year, month)[1])
    try:
        return start.replace(year=year, month=month, day=day) + timedelta(days=days)
    except OverflowError:
        raise BadRequest("a retention date is out of range") from None


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


# ------------------------------------------------------------------------------------------------ the schedule
class Trigger(StrEnum):
    CREATED = "created"  # the record's creation
    # WA CORE: the later of received or provided; published content "continues to be provided until it is removed".
    RECEIVED_OR_PROVIDED = "received_or_provided"
    REMOVED = "removed"  # when it was removed or withdrawn
    END_OF_SCHOOL_YEAR = (
        "end_of_school_year"  # June 30 closing the school year (July 1 - June 30) of its creation
    )


TRIGGER_TEXT: Mapping[Trigger, str] = {
    Trigger.CREATED: "after creation",
    Trigger.RECEIVED_OR_PROVIDED: "after received or provided",
    Trigger.REMOVED: "after removal",
    Trigger.END_OF_SCHOOL_YEAR: "after the end of the school year in which created",
}


class Disposition(StrEnum):
    DESTROY = "destroy"
    TRANSFER = "transfer"  # to the state archives (an archival series)


DISPOSITION_TEXT: Mapping[Disposition, str] = {
    Disposition.DESTROY: "destroyed",
    Disposition.TRANSFER: "transferred to the state archives",
}


class Series(_Frozen):
    """One records series of the schedule."""

    dan: str
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)
    retention_years: int = Field(default=0, ge=0, le=1000)
    retention_months: int = Field(default=0, ge=0, le=12000)
    retention_days: int = Field(default=0, ge=0, le=366000)
    trigger: Trigger
    disposition: Disposition
    archival: bool
    essential: bool = False
    jurisdiction: str
    citation: str = Field(default="", max_length=500)

    @field_validator("dan")
    @classmethod
    def _dan(cls, value: str) -> str:
        value = value.strip()
        if not _DAN.match(value):
            raise ValueError("a DAN is 2 to 40 characters: upper-case letters, digits, '-' and '.'")
        return value

    @field_validator("title", "description", "citation")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        value = value.strip().upper()
        if not _JURISDICTION.match(value):
            raise ValueError("a jurisdiction is a two-letter code such as 'WA' or 'CA'")
        return value

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.retention_years + self.retention_months + self.retention_days <= 0:
            raise ValueError("a retention period must be longer than zero")
        if self.archival and self.disposition is not Disposition.TRANSFER:
            raise ValueError("an archival series must be transferred to the state archives, not destroyed")
        return self

    def period_text(self) -> str:
        parts = [
            _plural(n, unit)
            for n, unit in (
                (self.retention_years, "year"),
                (self.retention_months, "month"),
                (self.retention_days, "day"),
            )
            if n
        ]
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

    def minimum_retention(self) -> str:
        """In words, e.g. ``2 years after received or provided``."""
        return f"{self.period_text()} {TRIGGER_TEXT[self.trigger]}"

    def add_period(self, start: datetime) -> datetime:
        """``start`` plus this series' period (calendar arithmetic, see :func:`add_calendar`)."""
        return add_calendar(
            _need_time(start),
            years=self.retention_years,
            months=self.retention_months,
            days=self.retention_days,
        )


def parse_series(data: Mapping[str, Any]) -> Series:
    """A series from a request body, or BadRequest naming each problem."""
    try:
        return Series.model_validate(dict(data))
    except ValidationError as error:
        raise BadRequest(f"invalid retention series: {_validation_message(error)}") from None


def account_key(platform: str, account_id: str) -> str:
    """``platform:account_id`` (the key of an assignment and of a hold's account entry)."""
    return f"{platform}:{account_id}"


def _check_account_key(value: str) -> str:
    platform, sep, account_id = value.strip().partition(":")
    platform = platform.lower()
    if not sep or not _PLATFORM.match(platform) or not _ID.match(account_id):
        raise BadRequest(f"'{value}' is not an account ('platform:account_id')")
    return f"{platform}:{account_id}"


class Schedule(_Frozen):
    """One version of the retention schedule."""

    version: int = Field(ge=1)
    series: tuple[Series, ...] = Field(min_length=1)
    default_series: str
    assignments: dict[str, str] = Field(default_factory=dict)
    changed_by: str = Field(min_length=1, max_length=254)
    changed_at: datetime
    note: str = Field(default="", max_length=NOTE_MAX)

    _check_times = field_validator("changed_at")(_utc)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        dans = [s.dan for s in self.series]
        duplicates = sorted({d for d in dans if dans.count(d) > 1})
        if duplicates:
            raise ValueError(f"each series appears once; repeated: {', '.join(duplicates)}")
        if self.default_series not in dans:
            raise ValueError(f"the default series '{self.default_series}' is not in the schedule")
        for key, dan in self.assignments.items():
            try:
                normal = _check_account_key(key)
            except BadRequest as error:
                raise ValueError(error.message) from None
            if normal != key:
                raise ValueError(f"'{key}' is not an account ('platform:account_id', platform in lower case)")
            if dan not in dans:
                raise ValueError(f"'{key}' is assigned to '{dan}', which is not in the schedule")
        return self

    def get(self, dan: str) -> Series:
        for series in self.series:
            if series.dan == dan:
                return series
        raise BadRequest(
            f"unknown retention series '{dan}'; the schedule has " + ", ".join(s.dan for s in self.series),
            dan=dan,
        )

    def series_for(self, platform: str, account_id: str) -> Series:
        """The series an account's content follows: its assignment, else the default."""
        dan = self.assignments.get(account_key(platform.lower(), account_id), self.default_series)
        return self.get(dan)

    def dans(self) -> tuple[str, ...]:
        return tuple(s.dan for s in self.series)


class ScheduleConfigError(ValueError):
    """The packaged schedule file is not valid TOML or not a valid schedule."""


def parse_schedule_config(text: str, *, at: datetime, source: str = SCHEDULE_FILE) -> Schedule:
    """Version 1 of the schedule from the text of a ``retention.toml``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleConfigError(f"{source}: {exc}") from None
    try:
        return Schedule(
            version=1,
            series=data.get("series", []),
            default_series=data.get("default_series", ""),
            assignments=data.get("assignments", {}),
            changed_by=DEFAULTS_ACTOR,
            changed_at=at,
            note=f"the shipped defaults ({source})",
        )
    except ValidationError as exc:
        raise ScheduleConfigError(f"{source}: {_validation_message(exc)}") from None


SHIPPED_AT = datetime(2026, 1, 1, tzinfo=UTC)  # a fixed time, so that version 1 is the same everywhere


@functools.cache
def default_schedule() -> Schedule:
    """The packaged ``retention.toml`` as version 1 (loaded once per process)."""
    text = resources.files(__package__).joinpath(SCHEDULE_FILE).read_text(encoding="utf-8")
    return parse_schedule_config(text, at=SHIPPED_AT)


def _change(
    schedule: Schedule,
    changes: Callable[[], Mapping[str, Any] | None],
    *,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
    note: str,
    what: str,
) -> Schedule:
    """The next version of ``schedule`` with ``changes()``, called once the role (``what`` names the change in the
    refusal), the actor, the time and the note are checked; ``changes()`` None: nothing changes (the same schedule
    is returned)."""
    _need_role(roles, RECORDS_ROLES, what)
    actor, at, note = _need_actor(actor), _need_time(at), _need_note(note)
    changed = changes()
    if changed is None:
        return schedule
    return _next_version(schedule, changed, actor=actor, at=at, note=note)


def _next_version(
    schedule: Schedule, changes: Mapping[str, Any], *, actor: str, at: datetime, note: str
) -> Schedule:
    data = {
        **schedule.model_dump(),
        **changes,
        "version": schedule.version + 1,
        "changed_by": actor,
        "changed_at": at,
        "note": note,
    }
    try:
        return Schedule.model_validate(data)
    except ValidationError as error:
        raise BadRequest(f"invalid retention schedule: {_validation_message(error)}") from None


def put_series(
    schedule: Schedule,
    series: Series,
    *,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
    note: str = "",
) -> Schedule:
    """Add ``series``, or replace the one with its DAN: a new version. The same content again changes nothing (the
    same schedule is returned)."""

    def changes() -> dict[str, Any] | None:
        if series in schedule.series:
            return None
        if series.dan in schedule.dans():
            return {"series": tuple(series if s.dan == series.dan else s for s in schedule.series)}
        return {"series": (*schedule.series, series)}

    return _change(
        schedule, changes, actor=actor, roles=roles, at=at, note=note, what="changing the retention schedule"
    )


def assign(
    schedule: Schedule,
    platform: str,
    account_id: str,
    dan: str,
    *,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
    note: str = "",
) -> Schedule:
    """Assign an account to a series: a new version (even when it already was)."""

    def changes() -> dict[str, Any]:
        key = _check_account_key(account_key(platform, account_id))
        schedule.get(dan)
        return {"assignments": {**schedule.assignments, key: dan}}

    return _change(
        schedule,
        changes,
        actor=actor,
        roles=roles,
        at=at,
        note=note,
        what="assigning a retention series",
    )


def set_default(
    schedule: Schedule,
    dan: str,
    *,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
    note: str = "",
) -> Schedule:
    """The series for accounts without an assignment: a new version."""

    def changes() -> dict[str, Any]:
        schedule.get(dan)
        return {"default_series": dan}

    return _change(
        schedule,
        changes,
        actor=actor,
        roles=roles,
        at=at,
        note=note,
        what="changing the default retention series",
    )


# ------------------------------------------------------------------------------------------------ retention dates
class ItemFacts(_Frozen):
    """What retention needs to know about one content item (from its version history)."""

    created_at: datetime  # when it was posted
    received_at: datetime  # when Steward first received (archived) it
    provided: bool  # still publicly visible: not removed, not hidden
    removed_at: datetime | None = None  # when it last stopped being provided (removed or hidden)

    _check_times = field_validator("created_at", "received_at", "removed_at")(_utc)


def end_of_school_year(at: datetime) -> datetime:
    """June 30, 23:59:59 UTC, closing the school year (July 1 to June 30) that contains ``at``."""
    at = _need_time(at)
    year = at.year if at.month <= 6 else at.year + 1
    return datetime(year, 6, 30, 23, 59, 59, tzinfo=UTC)


def retain_until(series: Series, facts: ItemFacts) -> datetime | None:
    """The end of the item's retention under ``series``; None while its trigger has not happened (open)."""
    match series.trigger:
        case Trigger.CREATED:
            return series.add_period(facts.created_at)
        case Trigger.RECEIVED_OR_PROVIDED:
            if facts.provided:
                return None  # still provided: the clock has not started
            last = max(facts.received_at, facts.removed_at or facts.received_at)
            return series.add_period(last)
        case Trigger.REMOVED:
            # Removed and not restored since: a restored item is provided again, so it is not removed.
            if facts.removed_at is None or facts.provided:
                return None
            return series.add_period(facts.removed_at)
        case Trigger.END_OF_SCHOOL_YEAR:
            return series.add_period(end_of_school_year(facts.created_at))


def lock_until(series: Series, facts: ItemFacts, *, now: datetime, current: datetime | None) -> datetime:
    """The S3 Object Lock (COMPLIANCE) retain-until date to hold now: the retention end when known, else a full
    period from now (provisional: the trigger has not come); never earlier than ``current`` (a lock is extended,
    never shortened). A date not after ``now`` means there is no lock to put."""
    end = retain_until(series, facts)
    target = end if end is not None else series.add_period(now)
    if current is not None:
        target = max(target, _need_time(current))
    return target


class RetentionState(_Frozen):
    """An item's retention under one schedule version."""

    dan: str
    schedule_version: int = Field(ge=1)
    trigger: Trigger
    retain_until: datetime | None  # None: open (the trigger has not happened)
    lock_until: datetime

    _check_times = field_validator("retain_until", "lock_until")(_utc)

    def met(self, now: datetime) -> bool:
        return self.retain_until is not None and self.retain_until <= _need_time(now)


def retention_state(
    schedule: Schedule,
    platform: str,
    account_id: str,
    facts: ItemFacts,
    *,
    now: datetime,
    current_lock: datetime | None,
) -> RetentionState:
    series = schedule.series_for(platform, account_id)
    return RetentionState(
        dan=series.dan,
        schedule_version=schedule.version,
        trigger=series.trigger,
        retain_until=retain_until(series, facts),
        lock_until=lock_until(series, facts, now=now, current=current_lock),
    )


# ------------------------------------------------------------------------------------------------ legal holds
class HoldKind(StrEnum):
    LITIGATION = "litigation"
    RECORDS_REQUEST = "records_request"  # a public records request (RCW 42.56, CPRA) still open


class HoldScope(_Frozen):
    """What a hold covers: items of these accounts, by these authors or with these keys, optionally only those
    created within ``date_from`` .. ``date_to`` (both inclusive). Entries are normalised (platform in lower case,
    surrounding spaces dropped, repeats dropped)."""

    accounts: tuple[str, ...] = ()  # "platform:account_id"
    authors: tuple[str, ...] = ()  # "platform:author_id"
    item_ids: tuple[str, ...] = ()  # "platform:account_id:item_id"
    date_from: datetime | None = None  # on the item's created_at, inclusive
    date_to: datetime | None = None  # inclusive

    _check_times = field_validator("date_from", "date_to")(_utc)

    @field_validator("accounts", "authors", "item_ids")
    @classmethod
    def _entries(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        name = str(info.field_name)
        if len(value) > MAX_SCOPE_ENTRIES:
            raise BadRequest(f"a hold's {name} list has at most {MAX_SCOPE_ENTRIES} entries")
        check = _check_item_key if name == "item_ids" else _check_account_key
        what = "an author ('platform:author_id')" if name == "authors" else None
        found: list[str] = []
        for entry in value:
            try:
                normal = check(entry)
            except BadRequest:
                if what is None:
                    raise
                raise BadRequest(f"'{entry}' is not {what}") from None
            if normal not in found:
                found.append(normal)
        return tuple(found)

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if not (self.accounts or self.authors or self.item_ids):
            raise BadRequest(
                "a hold needs a scope: accounts, authors or item ids; a date range only narrows them"
            )
        if self.date_from is not None and self.date_to is not None and self.date_from > self.date_to:
            raise BadRequest("dates out of order: date_from is after date_to")
        return self


def _check_item_key(value: str) -> str:
    parts = value.strip().split(":", 2)
    if len(parts) != 3 or not _ITEM_ID.match(parts[2]):
        raise BadRequest(f"'{value}' is not an item ('platform:account_id:item_id')")
    try:
        account = _check_account_key(f"{parts[0]}:{parts[1]}")
    except BadRequest:
        raise BadRequest(f"'{value}' is not an item ('platform:account_id:item_id')") from None
    return f"{account}:{parts[2]}"


def parse_scope(data: Mapping[str, Any]) -> HoldScope:
    """A hold scope from a request body, or BadRequest naming the problem."""
    try:
        return HoldScope.model_validate(dict(data))
    except ValidationError as error:
        raise BadRequest(f"invalid hold scope: {_validation_message(error)}") from None


class ItemRef(_Frozen):
    """One content item as holds and disposition see it."""

    platform: str = Field(min_length=1, max_length=32)
    account_id: str = Field(min_length=1, max_length=256)
    item_id: str = Field(min_length=1, max_length=512)
    author_id: str | None = None
    created_at: datetime

    _check_times = field_validator("created_at")(_utc)

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        return value.strip().lower()

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.account_id}:{self.item_id}"

    @property
    def account(self) -> str:
        return account_key(self.platform, self.account_id)

    @property
    def author(self) -> str | None:
        return None if self.author_id is None else f"{self.platform}:{self.author_id}"


class Hold(_Frozen):
    """A legal hold: while active, nothing it covers is disposed of."""

    id: str = Field(min_length=1, max_length=128)
    matter: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=3, max_length=1000)
    kind: HoldKind
    scope: HoldScope
    placed_by: str = Field(min_length=1, max_length=254)
    placed_at: datetime
    released_by: str | None = None
    released_at: datetime | None = None
    release_reason: str | None = None

    _check_times = field_validator("placed_at", "released_at")(_utc)

    @model_validator(mode="after")
    def _release_complete(self) -> Self:
        released = (self.released_by, self.released_at, self.release_reason)
        if any(v is not None for v in released) and any(v is None for v in released):
            raise ValueError("a released hold names who released it, when and why")
        return self

    @property
    def active(self) -> bool:
        return self.released_at is None


def _may_manage_hold(kind: HoldKind, actor: str, roles: Iterable[Role | str], what: str) -> None:
    # The records-request feature places and releases its own holds (as a system actor) when a request is opened
    # and closed; a person needs the records role for either kind.
    if kind is HoldKind.RECORDS_REQUEST and actor.startswith(SYSTEM_PREFIX):
        return
    _need_role(roles, RECORDS_ROLES, what)


def place_hold(
    *,
    hold_id: str,
    matter: str,
    reason: str,
    scope: HoldScope,
    kind: HoldKind,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
) -> Hold:
    actor = _need_actor(actor)
    _may_manage_hold(HoldKind(kind), actor, roles, f"placing a {HoldKind(kind).value.replace('_', ' ')} hold")
    matter = matter.strip()
    if not 1 <= len(matter) <= 200:
        raise BadRequest("a hold names its matter in 1 to 200 characters")
    reason = _need_reason(reason, "place a hold")
    if not hold_id.strip():
        raise BadRequest("a hold needs an id")
    return Hold(
        id=hold_id.strip(),
        matter=matter,
        reason=reason,
        kind=kind,
        scope=scope,
        placed_by=actor,
        placed_at=_need_time(at),
    )


def release_hold(hold: Hold, *, actor: str, roles: Iterable[Role | str], at: datetime, reason: str) -> Hold:
    actor = _need_actor(actor)
    _may_manage_hold(hold.kind, actor, roles, "releasing a hold")
    if not hold.active:
        raise Conflict(
            f"hold '{hold.matter}' was already released by {hold.released_by} at "
            f"{format_time(hold.released_at or hold.placed_at)}",
            hold_id=hold.id,
        )
    reason = _need_reason(reason, "release a hold")
    return hold.model_copy(
        update={"released_by": actor, "released_at": _need_time(at), "release_reason": reason}
    )


def in_scope(scope: HoldScope, item: ItemRef) -> bool:
    """Whether ``scope`` names ``item`` (its account, author or key, within the dates), whatever the state of the
    hold it belongs to (a released hold's release job needs the scope as it was placed)."""
    named = (
        item.account in scope.accounts
        or (item.author is not None and item.author in scope.authors)
        or item.key in scope.item_ids
    )
    if not named:
        return False
    if scope.date_from is not None and item.created_at < scope.date_from:
        return False
    return not (scope.date_to is not None and item.created_at > scope.date_to)


def covers(hold: Hold, item: ItemRef) -> bool:
    """Whether ``hold`` is active and ``item`` is in its scope."""
    return hold.active and in_scope(hold.scope, item)


def holds_on(holds: Iterable[Hold], item: ItemRef) -> list[Hold]:
    """The active holds covering ``item``."""
    return [hold for hold in holds if covers(hold, item)]


# ------------------------------------------------------------------------------------------------ disposition
class Candidate(_Frozen):
    """An item whose retention end is known (from the by-retention index)."""

    item: ItemRef
    dan: str
    schedule_version: int = Field(ge=1)
    retain_until: datetime

    _check_times = field_validator("retain_until")(_utc)


class Dropped(_Frozen):
    item: str  # the item's key
    reason: str


class BatchState(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTED = "executed"


class Batch(_Frozen):
    """Items of one series proposed for disposition together."""

    id: str = Field(min_length=1, max_length=128)
    dan: str
    series: Series  # the series as it was when the batch was proposed
    schedule_version: int = Field(ge=1)
    proposed_at: datetime
    items: tuple[Candidate, ...]
    state: BatchState = BatchState.PROPOSED
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str = ""
    dropped: tuple[Dropped, ...] = ()
    executed_at: datetime | None = None

    _check_times = field_validator("proposed_at", "decided_at", "executed_at")(_utc)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.series.dan != self.dan:
            raise ValueError("a batch's series is the series of its DAN")
        keys = [c.item.key for c in self.items]
        if len(set(keys)) != len(keys):
            raise ValueError("an item appears once in a batch")
        return self


def propose(
    series: Series,
    schedule_version: int,
    candidates: Iterable[Candidate],
    holds: Iterable[Hold],
    *,
    now: datetime,
    batch_id: str,
    limit: int = 1000,
) -> Batch | None:
    """A batch of the candidates of ``series`` whose retention is met by ``now`` and no active hold covers, oldest
    retention end first, at most ``limit``; None when there are none. Other candidates (not met, held, of another
    series) are not eligible and are left out."""
    if limit < 1:
        raise BadRequest("a batch holds at least one item")
    now = _need_time(now)
    active = [hold for hold in holds if hold.active]
    eligible: dict[str, Candidate] = {}
    for candidate in candidates:
        if candidate.dan != series.dan or candidate.retain_until > now:
            continue
        if any(covers(hold, candidate.item) for hold in active):
            continue
        known = eligible.get(candidate.item.key)
        if known is None or candidate.retain_until > known.retain_until:
            eligible[candidate.item.key] = candidate  # seen twice: the later end is the safe one
    if not eligible:
        return None
    chosen = sorted(eligible.values(), key=lambda c: (c.retain_until, c.item.key))[:limit]
    return Batch(
        id=batch_id,
        dan=series.dan,
        series=series,
        schedule_version=schedule_version,
        proposed_at=now,
        items=tuple(chosen),
    )


def _need_state(batch: Batch, state: BatchState, what: str) -> None:
    if batch.state is not state:
        raise Conflict(
            f"batch {batch.id} is {batch.state.value}; only {'an' if state.value[0] in 'aeiou' else 'a'} "
            f"{state.value} batch can be {what}",
            batch_id=batch.id,
            state=batch.state.value,
        )


def approve(
    batch: Batch,
    *,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
    holds: Iterable[Hold],
    retention_now: Mapping[str, datetime | None],
    held_now: Mapping[str, Iterable[str]] | None = None,
) -> Batch:
    """Approve ``batch``: each item is checked again first. An item a hold now covers, one whose archive record
    carries a hold (``held_now``, by item key: the hold ids), one whose retention end (``retention_now``, by item
    key: None when open again) is now later than ``at``, and one no longer in the archive (no key) are dropped,
    with the reason; the rest stay to be disposed of."""
    _need_role(roles, RECORDS_ROLES, "approving a disposition batch")
    actor, at = _need_actor(actor), _need_time(at)
    _need_state(batch, BatchState.PROPOSED, "approved")
    active = [hold for hold in holds if hold.active]
    kept: list[Candidate] = []
    dropped = list(batch.dropped)
    for candidate in batch.items:
        key = candidate.item.key
        held = [hold for hold in active if covers(hold, candidate.item)]
        marked = sorted((held_now or {}).get(key, ()))
        if held:
            dropped.append(
                Dropped(item=key, reason=f"placed under hold '{held[0].matter}' after the proposal")
            )
        elif marked:
            dropped.append(Dropped(item=key, reason=f"under legal hold {', '.join(marked)}"))
        elif key not in retention_now:
            dropped.append(Dropped(item=key, reason="no longer in the archive"))
        elif (end := retention_now[key]) is None:
            dropped.append(
                Dropped(
                    item=key, reason="retention was extended to an open date: its trigger has not happened"
                )
            )
        elif _need_time(end) > at:
            dropped.append(Dropped(item=key, reason=f"retention was extended to {format_time(end)}"))
        else:
            kept.append(candidate)
    return batch.model_copy(
        update={
            "items": tuple(kept),
            "dropped": tuple(dropped),
            "state": BatchState.APPROVED,
            "decided_by": actor,
            "decided_at": at,
        }
    )


def reject(batch: Batch, *, actor: str, roles: Iterable[Role | str], at: datetime, reason: str) -> Batch:
    """Reject ``batch``: nothing in it is disposed of (its items are proposed again by a later sweep)."""
    _need_role(roles, RECORDS_ROLES, "rejecting a disposition batch")
    actor, at = _need_actor(actor), _need_time(at)
    reason = _need_reason(reason, "reject a disposition batch")
    _need_state(batch, BatchState.PROPOSED, "rejected")
    return batch.model_copy(
        update={
            "state": BatchState.REJECTED,
            "decided_by": actor,
            "decided_at": at,
            "decision_reason": reason,
        }
    )


def executed(batch: Batch, *, at: datetime) -> Batch:
    """``batch`` carried out (every item disposed of)."""
    _need_state(batch, BatchState.APPROVED, "carried out")
    return batch.model_copy(update={"state": BatchState.EXECUTED, "executed_at": _need_time(at)})


def items_sha256(keys: Iterable[str]) -> str:
    """SHA-256 (hex) of the sorted item keys joined by newlines: the same set of items, the same digest."""
    return hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()


def destruction_log_entry(batch: Batch, *, executed_at: datetime, method: str) -> dict[str, Any]:
    """The Washington destruction log entry for an approved (or carried out) batch, JSON-serializable."""
    if batch.state not in (BatchState.APPROVED, BatchState.EXECUTED):
        raise Conflict(
            f"batch {batch.id} is {batch.state.value}; only an approved batch is disposed of and logged",
            batch_id=batch.id,
            state=batch.state.value,
        )
    method = method.strip()
    if not method:
        raise BadRequest("the destruction log names the method of disposition")
    series = batch.series
    keys = sorted(c.item.key for c in batch.items)
    created = [c.item.created_at for c in batch.items]
    ends = [c.retain_until for c in batch.items]
    return {
        "batch_id": batch.id,
        "series_title": series.title,
        "dan": series.dan,
        "minimum_retention": series.minimum_retention(),
        "dates_covered": {
            "from": format_time(min(created)) if created else None,
            "to": format_time(max(created)) if created else None,
        },
        "retention_met_on": format_time(max(ends)) if ends else None,
        "disposition": DISPOSITION_TEXT[series.disposition],
        "method": method,
        "attestation": ATTESTATION,
        "approved_by": batch.decided_by,
        "approved_at": None if batch.decided_at is None else format_time(batch.decided_at),
        "executed_at": format_time(_need_time(executed_at)),
        "item_count": len(keys),
        "items": keys,
        "items_sha256": items_sha256(keys),
        "dropped": [d.model_dump() for d in batch.dropped],
        "schedule_version": batch.schedule_version,
        "jurisdiction": series.jurisdiction,
        "citation": series.citation,
    }
