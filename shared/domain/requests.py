"""Public records requests (pure domain): deadlines, the request lifecycle and the request log.

No AWS and no I/O beyond reading the packaged ``requests.toml`` (the shipped holiday calendar). Every operation
returns a new model; a refused operation raises a :mod:`shared.errors` domain error and changes nothing.

Where the rules come from (the public records statutes, cited by section):

* Washington PRA (RCW 42.56.520): respond within 5 business days; the day of receipt, weekends and legal holidays
  (RCW 1.16.050) do not count. The response may give a reasonable estimate of the time needed, so a request may
  be extended any number of times, each time with a reason. Each withholding cites the exemption and explains how
  it applies.
* California CPRA (Gov. Code §7922.535): a determination within 10 days of receipt (calendar days; a deadline on
  a weekend moves to the next Monday); one extension of at most 14 days by written notice with the reasons.
* FOIA (a general reference): 20 working days, the day of receipt, weekends and federal holidays not counted; one
  extension of at most 10 working days, with a reason.
* The request log (RCW 40.14.026(4)): the requester if given, the date received, the text of the request, the
  records redacted or withheld and why, and the date of final disposition (:meth:`RecordsRequest.log_entry`).

Only the ``records`` role handles requests. Times are timezone-aware and kept in UTC; deadlines are dates.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from importlib import resources
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.catalogue import Role
from shared.domain.checks import aware as _utc
from shared.domain.checks import need_actor as _need_actor
from shared.domain.checks import need_role
from shared.domain.checks import need_time as _need_time
from shared.domain.checks import validation_message as _validation_message
from shared.errors import BadRequest, Conflict

CALENDAR_FILE = "requests.toml"
RECORDS_ROLES = frozenset({Role.RECORDS})
TEXT_MAX = 10_000
REASON_MAX = 2000
CA_EXTENSION_MAX_DAYS = 14  # Gov. Code §7922.535(b): "not more than 14 days"
FOIA_EXTENSION_MAX_DAYS = 10  # working days
WA_EXTENSION_MAX_DAYS = 365  # business days; any number of reasonable estimates
CA_RESPONSE_DAYS = 10
WA_RESPONSE_DAYS = 5
FOIA_RESPONSE_DAYS = 20

_ID = re.compile(r"^\S{1,256}$")


# ------------------------------------------------------------------------------------------------ helpers
class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _need_text(value: str, what: str, maximum: int = REASON_MAX) -> str:
    value = (value or "").strip()
    if not value:
        raise BadRequest(f"{what} is required")
    if len(value) > maximum:
        raise BadRequest(f"{what} has at most {maximum} characters")
    return value


def _strip_required(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


# ------------------------------------------------------------------------------------------------ enums
class Jurisdiction(StrEnum):
    WA = "WA"  # Washington Public Records Act, RCW 42.56
    CA = "CA"  # California Public Records Act, Gov. Code §7920.000 ff.
    FOIA = "FOIA"  # the federal Freedom of Information Act (a general reference)


class RequestStatus(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    CLARIFICATION_REQUESTED = "clarification_requested"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class Closure(StrEnum):
    FULFILLED = "fulfilled"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    ABANDONED = "abandoned"  # e.g. the requester did not clarify or did not collect (RCW 42.56.520(3)(b))


CLOSURES_NEEDING_REASON = frozenset({Closure.DENIED, Closure.ABANDONED})


def parse_jurisdiction(value: str) -> Jurisdiction:
    """A :class:`Jurisdiction` from its code (case-insensitive), or BadRequest naming the known ones."""
    try:
        return Jurisdiction((value or "").strip().upper())
    except ValueError:
        known = ", ".join(j.value for j in Jurisdiction)
        raise BadRequest(f"unknown jurisdiction '{value}'; known: {known}", known=known) from None


def parse_closure(value: str) -> Closure:
    """A :class:`Closure` from its name (case-insensitive), or BadRequest naming the known ones."""
    try:
        return Closure((value or "").strip().lower())
    except ValueError:
        known = ", ".join(c.value for c in Closure)
        raise BadRequest(f"unknown closure '{value}'; known: {known}", known=known) from None


# ------------------------------------------------------------------------------------------------ calendar
class Calendar(_Frozen):
    """Holidays per jurisdiction (configurable: ``requests.toml`` ships WA legal holidays (RCW 1.16.050) and US
    federal holidays (for FOIA) for 2025 to 2028; CA has none: its deadline counts calendar days). Keys are
    :class:`Jurisdiction` codes; the dates are kept sorted and without repeats."""

    holidays: dict[str, tuple[date, ...]] = Field(default_factory=dict)

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: dict[str, tuple[date, ...]]) -> dict[str, tuple[date, ...]]:
        known = {j.value for j in Jurisdiction}
        unknown = sorted(k for k in value if k not in known)
        if unknown:
            raise ValueError(
                f"unknown jurisdiction {', '.join(unknown)}; known: {', '.join(j.value for j in Jurisdiction)}"
            )
        return {k: tuple(sorted(set(v))) for k, v in value.items()}

    def for_(self, jurisdiction: Jurisdiction | str) -> tuple[date, ...]:
        """The holidays of a jurisdiction (none when the calendar has no list for it)."""
        return self.holidays.get(str(jurisdiction), ())


def parse_calendar(text: str) -> Calendar:
    """A :class:`Calendar` from the text of a ``requests.toml`` (a ``[holidays]`` table of ISO date lists), or
    BadRequest naming the problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadRequest(f"invalid holiday calendar: {exc}") from None
    extra = sorted(set(data) - {"holidays"})
    if extra:
        raise BadRequest(f"invalid holiday calendar: unexpected {', '.join(extra)} (only [holidays])")
    holidays = data.get("holidays", {})
    if not isinstance(holidays, dict):
        raise BadRequest("invalid holiday calendar: [holidays] must be a table of date lists")
    try:
        return Calendar.model_validate({"holidays": holidays})
    except ValidationError as error:
        raise BadRequest(f"invalid holiday calendar: {_validation_message(error)}") from None


@functools.cache
def default_calendar() -> Calendar:
    """The packaged ``requests.toml`` (loaded once per process)."""
    text = resources.files(__package__).joinpath(CALENDAR_FILE).read_text(encoding="utf-8")
    return parse_calendar(text)


def _is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def add_business_days(start: date, days: int, holidays: Iterable[date]) -> date:
    """The ``days``-th business day after ``start`` (``start`` itself not counted; Saturdays, Sundays and
    ``holidays`` not counted). ``days`` = 0 gives ``start``."""
    if days < 0:
        raise BadRequest("a number of business days cannot be negative")
    closed = frozenset(holidays)
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if not _is_weekend(day) and day not in closed:
            counted += 1
    return day


def _roll_forward(day: date, holidays: Iterable[date]) -> date:
    closed = frozenset(holidays)
    while _is_weekend(day) or day in closed:
        day += timedelta(days=1)
    return day


def due_date(jurisdiction: Jurisdiction, received_on: date, calendar: Calendar) -> date:
    """The first response deadline of a request received on ``received_on``.

    * WA (RCW 42.56.520): 5 business days, the receipt day, weekends and WA legal holidays not counted.
    * CA (CPRA §7922.535): 10 calendar days after receipt; a deadline on a Saturday or Sunday (or a CA holiday,
      when the calendar lists any) moves to the next day that is not.
    * FOIA: 20 working days, the receipt day, weekends and federal holidays not counted.
    """
    jurisdiction = Jurisdiction(jurisdiction)
    holidays = calendar.for_(jurisdiction)
    if jurisdiction is Jurisdiction.WA:
        return add_business_days(received_on, WA_RESPONSE_DAYS, holidays)
    if jurisdiction is Jurisdiction.CA:
        return _roll_forward(received_on + timedelta(days=CA_RESPONSE_DAYS), holidays)
    return add_business_days(received_on, FOIA_RESPONSE_DAYS, holidays)


# ------------------------------------------------------------------------------------------------ models
class Extension(_Frozen):
    """One extension of the deadline (CA: the written notice; WA: a reasonable estimate)."""

    days: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=REASON_MAX)
    by: str = Field(min_length=1, max_length=254)
    at: datetime
    new_due: date

    _check_at = field_validator("at")(_utc)


class Installment(_Frozen):
    """Records provided to the requester in one installment."""

    number: int = Field(ge=1)
    provided_on: date
    description: str = Field(min_length=1, max_length=REASON_MAX)
    items: int = Field(ge=0)
    by: str = Field(min_length=1, max_length=254)


class Withheld(_Frozen):
    """A record redacted or withheld and why (RCW 40.14.026(4); RCW 42.56.210(3): the exemption cited and a brief
    explanation of how it applies)."""

    item: str = Field(min_length=1, max_length=1000)
    action: Literal["redacted", "withheld"]
    exemption: str = Field(min_length=1, max_length=500)
    explanation: str = Field(min_length=1, max_length=REASON_MAX)

    _check_text = field_validator("item", "exemption", "explanation", mode="before")(_strip_required)


def parse_withheld(data: Mapping[str, Any]) -> Withheld:
    """A :class:`Withheld` from a request body, or BadRequest naming each problem."""
    try:
        return Withheld.model_validate(dict(data))
    except ValidationError as error:
        raise BadRequest(f"invalid withholding entry: {_validation_message(error)}") from None


class RequestEvent(_Frozen):
    """One entry of a request's history."""

    action: str = Field(min_length=1, max_length=64)
    actor: str = Field(min_length=1, max_length=254)
    at: datetime
    details: dict[str, str] = Field(default_factory=dict)

    _check_at = field_validator("at")(_utc)


class RecordsRequest(_Frozen):
    """A public records request and everything done about it."""

    id: str
    requester: str | None  # None: anonymous (allowed)
    received_on: date
    text: str = Field(min_length=1, max_length=TEXT_MAX)
    jurisdiction: Jurisdiction
    status: RequestStatus
    due_on: date
    extensions: tuple[Extension, ...] = ()
    installments: tuple[Installment, ...] = ()
    withheld: tuple[Withheld, ...] = ()
    closure: Closure | None = None
    closed_on: date | None = None
    closure_reason: str = Field(default="", max_length=REASON_MAX)
    hold_id: str | None = None  # the automatic legal hold placed for it (set by the service)
    created_by: str = Field(min_length=1, max_length=254)
    created_at: datetime
    history: tuple[RequestEvent, ...]

    _check_created = field_validator("created_at")(_utc)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("a request id is 1 to 256 characters without whitespace")
        return value

    @field_validator("requester")
    @classmethod
    def _requester(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if len(value) > 1000:
            raise ValueError("a requester has at most 1000 characters")
        return value or None

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return _strip_required(value)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        closed = self.status is RequestStatus.CLOSED
        if closed != (self.closure is not None) or closed != (self.closed_on is not None):
            raise ValueError("a closed request, and only a closed one, has a closure and a closing date")
        if self.closed_on is not None and self.closed_on < self.received_on:
            raise ValueError("a request cannot be closed before it was received")
        if [i.number for i in self.installments] != list(range(1, len(self.installments) + 1)):
            raise ValueError("installments are numbered 1, 2, ... in order")
        return self

    @property
    def open(self) -> bool:
        return self.status is not RequestStatus.CLOSED

    def overdue(self, today: date) -> bool:
        """Open, past its deadline, and not waiting on the requester's clarification."""
        return self.open and self.status is not RequestStatus.CLARIFICATION_REQUESTED and today > self.due_on

    def log_entry(self) -> dict[str, Any]:
        """The request log entry (RCW 40.14.026(4)), JSON-ready: requester, date_received, request_text,
        redacted_or_withheld, date_of_final_disposition, plus id, jurisdiction, status, due_on, closure and
        closure_reason."""
        return {
            "id": self.id,
            "jurisdiction": self.jurisdiction.value,
            "status": self.status.value,
            "requester": self.requester,
            "date_received": self.received_on.isoformat(),
            "request_text": self.text,
            "redacted_or_withheld": [w.model_dump() for w in self.withheld],
            "date_of_final_disposition": self.closed_on.isoformat() if self.closed_on else None,
            "due_on": self.due_on.isoformat(),
            "closure": self.closure.value if self.closure else None,
            "closure_reason": self.closure_reason,
        }


# ------------------------------------------------------------------------------------------------ operations
def _event(action: str, actor: str, at: datetime, **details: str) -> RequestEvent:
    return RequestEvent(action=action, actor=actor, at=at, details=details)


def _next(req: RecordsRequest, event: RequestEvent, **changes: Any) -> RecordsRequest:
    data = {**req.model_dump(), **changes, "history": (*req.history, event)}
    try:
        return RecordsRequest.model_validate(data)
    except ValidationError as error:
        raise BadRequest(f"invalid records request: {_validation_message(error)}") from None


def _begin(
    req: RecordsRequest, actor: str, roles: Iterable[Role | str], at: datetime, what: str
) -> tuple[str, datetime]:
    need_role(roles, RECORDS_ROLES, what)
    actor, at = _need_actor(actor), _need_time(at)
    if not req.open:
        raise Conflict(f"request {req.id} is closed; {what} needs an open request", status=req.status.value)
    return actor, at


def _need_status(req: RecordsRequest, allowed: Iterable[RequestStatus], what: str) -> None:
    allowed = tuple(allowed)
    if req.status not in allowed:
        raise Conflict(
            f"{what} needs a request that is {' or '.join(s.value for s in allowed)}; "
            f"request {req.id} is {req.status.value}",
            status=req.status.value,
        )


def create_request(
    *,
    request_id: str,
    requester: str | None,
    received_on: date,
    text: str,
    jurisdiction: str,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
    calendar: Calendar,
    today: date,
) -> RecordsRequest:
    """Log a new request (status ``received``) with its first deadline. ``requester`` None or blank: anonymous."""
    need_role(roles, RECORDS_ROLES, "logging a public records request")
    actor, at = _need_actor(actor), _need_time(at)
    kind = parse_jurisdiction(jurisdiction)
    if received_on > today:
        raise BadRequest(f"a request cannot be received in the future ({received_on.isoformat()})")
    text = _need_text(text, "the request text", TEXT_MAX)
    due = due_date(kind, received_on, calendar)
    event = _event("created", actor, at, jurisdiction=kind.value, due_on=due.isoformat())
    try:
        return RecordsRequest(
            id=(request_id or "").strip(),
            requester=requester,
            received_on=received_on,
            text=text,
            jurisdiction=kind,
            status=RequestStatus.RECEIVED,
            due_on=due,
            created_by=actor,
            created_at=at,
            history=(event,),
        )
    except ValidationError as error:
        raise BadRequest(f"invalid records request: {_validation_message(error)}") from None


def acknowledge(
    req: RecordsRequest, *, actor: str, roles: Iterable[Role | str], at: datetime
) -> RecordsRequest:
    """``received`` -> ``acknowledged``."""
    actor, at = _begin(req, actor, roles, at, "acknowledging a request")
    _need_status(req, (RequestStatus.RECEIVED,), "acknowledging")
    return _next(req, _event("acknowledged", actor, at), status=RequestStatus.ACKNOWLEDGED)


def request_clarification(
    req: RecordsRequest, *, actor: str, roles: Iterable[Role | str], at: datetime, question: str
) -> RecordsRequest:
    """Any open request -> ``clarification_requested`` (the clock is paused for the overdue check)."""
    actor, at = _begin(req, actor, roles, at, "asking for clarification")
    question = _need_text(question, "the clarification question")
    return _next(
        req,
        _event("clarification_requested", actor, at, question=question),
        status=RequestStatus.CLARIFICATION_REQUESTED,
    )


def clarified(
    req: RecordsRequest, *, actor: str, roles: Iterable[Role | str], at: datetime, answer: str
) -> RecordsRequest:
    """``clarification_requested`` -> ``in_progress``, with the requester's answer."""
    actor, at = _begin(req, actor, roles, at, "recording a clarification")
    _need_status(req, (RequestStatus.CLARIFICATION_REQUESTED,), "recording a clarification")
    answer = _need_text(answer, "the clarification answer", TEXT_MAX)
    return _next(req, _event("clarified", actor, at, answer=answer), status=RequestStatus.IN_PROGRESS)


def start_work(
    req: RecordsRequest, *, actor: str, roles: Iterable[Role | str], at: datetime
) -> RecordsRequest:
    """``received`` or ``acknowledged`` -> ``in_progress``."""
    actor, at = _begin(req, actor, roles, at, "starting work on a request")
    _need_status(req, (RequestStatus.RECEIVED, RequestStatus.ACKNOWLEDGED), "starting work")
    return _next(req, _event("started", actor, at), status=RequestStatus.IN_PROGRESS)


def extend(
    req: RecordsRequest,
    *,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
    days: int,
    reason: str,
    calendar: Calendar,
) -> RecordsRequest:
    """Extend the deadline, with a reason.

    * CA: one extension only (a second is a Conflict), 1 to 14 calendar days; new due = due + days.
    * FOIA: one extension only, 1 to 10 working days; new due = due + days working days (federal holidays).
    * WA: any number, each 1 to 365 business days; new due = due + days business days (WA holidays).
    """
    actor, at = _begin(req, actor, roles, at, "extending a request")
    reason = _need_text(reason, "a written reason for the extension")
    kind = req.jurisdiction
    limit = {
        Jurisdiction.CA: CA_EXTENSION_MAX_DAYS,
        Jurisdiction.FOIA: FOIA_EXTENSION_MAX_DAYS,
        Jurisdiction.WA: WA_EXTENSION_MAX_DAYS,
    }[kind]
    unit = "calendar days" if kind is Jurisdiction.CA else "business days"
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= limit:
        raise BadRequest(f"a {kind.value} extension is 1 to {limit} {unit}", maximum=limit)
    if kind in (Jurisdiction.CA, Jurisdiction.FOIA) and req.extensions:
        raise Conflict(f"a {kind.value} request can be extended only once; request {req.id} already was")
    if kind is Jurisdiction.CA:
        new_due = req.due_on + timedelta(days=days)
    else:
        new_due = add_business_days(req.due_on, days, calendar.for_(kind))
    extension = Extension(days=days, reason=reason, by=actor, at=at, new_due=new_due)
    event = _event(
        "extended",
        actor,
        at,
        days=str(days),
        reason=reason,
        previous_due=req.due_on.isoformat(),
        new_due=new_due.isoformat(),
    )
    return _next(req, event, extensions=(*req.extensions, extension), due_on=new_due)


def add_installment(
    req: RecordsRequest,
    *,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
    provided_on: date,
    description: str,
    items: int,
) -> RecordsRequest:
    """Record records provided in an installment (numbered 1, 2, ...). Open requests only; the status is kept."""
    actor, at = _begin(req, actor, roles, at, "recording an installment")
    description = _need_text(description, "the installment description")
    if isinstance(items, bool) or not isinstance(items, int) or items < 0:
        raise BadRequest("the number of items in an installment is a whole number, zero or more")
    if provided_on < req.received_on:
        raise BadRequest("an installment cannot be provided before the request was received")
    if provided_on > at.date():
        raise BadRequest("an installment cannot be provided in the future")
    number = len(req.installments) + 1
    installment = Installment(
        number=number, provided_on=provided_on, description=description, items=items, by=actor
    )
    event = _event(
        "installment",
        actor,
        at,
        number=str(number),
        provided_on=provided_on.isoformat(),
        items=str(items),
    )
    return _next(req, event, installments=(*req.installments, installment))


def record_withheld(
    req: RecordsRequest,
    *,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
    entries: Iterable[Withheld | Mapping[str, Any]],
) -> RecordsRequest:
    """Record records redacted or withheld, each citing the exemption and explaining how it applies. Open requests
    only; at least one entry."""
    actor, at = _begin(req, actor, roles, at, "recording withheld records")
    parsed = tuple(e if isinstance(e, Withheld) else parse_withheld(e) for e in entries)
    if not parsed:
        raise BadRequest("at least one redacted or withheld record is required")
    event = _event(
        "withheld",
        actor,
        at,
        count=str(len(parsed)),
        items=", ".join(e.item for e in parsed)[:REASON_MAX],
    )
    return _next(req, event, withheld=(*req.withheld, *parsed))


def close(
    req: RecordsRequest,
    *,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
    closure: str,
    closed_on: date,
    reason: str = "",
) -> RecordsRequest:
    """Close an open request (the date of final disposition). ``denied`` and ``abandoned`` need a reason;
    ``closed_on`` is not before the request was received and not after ``at``."""
    actor, at = _begin(req, actor, roles, at, "closing a request")
    kind = parse_closure(closure)
    reason = (reason or "").strip()
    if kind in CLOSURES_NEEDING_REASON and not reason:
        raise BadRequest(f"a reason is required to close a request as {kind.value}")
    if len(reason) > REASON_MAX:
        raise BadRequest(f"the closing reason has at most {REASON_MAX} characters")
    if closed_on < req.received_on:
        raise BadRequest("a request cannot be closed before it was received")
    if closed_on > at.date():
        raise BadRequest("a request cannot be closed on a future date")
    details = {"closure": kind.value, "closed_on": closed_on.isoformat()}
    if reason:
        details["reason"] = reason
    return _next(
        req,
        _event("closed", actor, at, **details),
        status=RequestStatus.CLOSED,
        closure=kind,
        closed_on=closed_on,
        closure_reason=reason,
    )


def with_hold(req: RecordsRequest, hold_id: str) -> RecordsRequest:
    """Record the id of the automatic legal hold placed for the request (service use: no role check, no history
    entry; the hold itself is audited). The same id again changes nothing; a different one is a Conflict."""
    hold_id = (hold_id or "").strip()
    if not hold_id:
        raise BadRequest("a hold id is required")
    if req.hold_id == hold_id:
        return req
    if req.hold_id is not None:
        raise Conflict(f"request {req.id} already has hold {req.hold_id}", hold_id=req.hold_id)
    return req.model_copy(update={"hold_id": hold_id})


def rescope(
    req: RecordsRequest, hold_id: str, *, actor: str, roles: Iterable[Role | str], at: datetime
) -> RecordsRequest:
    """Give an open request a (new) scope: the id of the automatic hold placed for it replaces the earlier one
    (which the service releases), with a ``scoped`` entry in the history. The request's own hold again is a
    Conflict (a new scope is a new hold)."""
    actor, at = _begin(req, actor, roles, at, "giving a request its scope")
    hold_id = (hold_id or "").strip()
    if not hold_id:
        raise BadRequest("a hold id is required")
    if req.hold_id == hold_id:
        raise Conflict(f"request {req.id} already has hold {hold_id}", hold_id=hold_id)
    details = {"hold_id": hold_id}
    if req.hold_id is not None:
        details["previous_hold_id"] = req.hold_id
    return _next(req, _event("scoped", actor, at, **details), hold_id=hold_id)


def overdue(requests: Iterable[RecordsRequest], today: date) -> list[RecordsRequest]:
    """The overdue requests (see :meth:`RecordsRequest.overdue`), the oldest deadline first."""
    return sorted((r for r in requests if r.overdue(today)), key=lambda r: (r.due_on, r.received_on, r.id))
