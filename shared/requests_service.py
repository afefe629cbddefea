"""Public-records requests as a service: the statutory clock, the request log and the automatic hold.

- **The clock** is the domain's (:mod:`shared.domain.requests`): WA 5 business days, CA 10 days with one
  extension of at most 14 with a written reason, FOIA 20 working days; holidays from ``requests.toml``.
- **The automatic hold** (RCW 42.56.100: records requested must not be destroyed while the request is open): a
  request with a scope places a ``records_request`` hold on it, in the same transaction as the request and its
  audit entry; the hold's job puts S3 legal hold on every version in scope (``shared.records_service``). Closing the
  request releases the hold, and a changed scope replaces it.
- **Everything is audited** on ``request:<id>``; only ``records`` may act (the domain checks the role too).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel
from pynamodb.transactions import TransactWrite

from shared import audit
from shared import records_service as records
from shared.domain import requests as domain
from shared.domain import retention
from shared.domain.requests import RecordsRequest, RequestStatus
from shared.domain.retention import Hold, HoldKind
from shared.errors import NotFound
from shared.identity import Identity
from shared.store.records_store import RecordsStore, Revised

_Part = Callable[[TransactWrite], None]


def _now() -> datetime:
    return datetime.now(UTC)


def store() -> RecordsStore:
    return RecordsStore()


def resource(request_id: str) -> str:
    return f"request:{request_id}"


class RequestView(BaseModel):
    request: RecordsRequest
    overdue: bool
    hold: Hold | None
    log: dict[str, Any]


class RequestList(BaseModel):
    requests: list[RequestView]


def _view(
    request: RecordsRequest, today: date | None = None, holds: Mapping[str, Hold] | None = None
) -> RequestView:
    """The request as the API shows it; its hold from ``holds`` (by id) when given, else read."""
    if not request.hold_id:
        hold = None
    elif holds is not None:
        hold = holds.get(request.hold_id)
    else:
        found = store().hold(request.hold_id)
        hold = found.value if found else None
    return RequestView(
        request=request,
        overdue=request.overdue(today or _now().date()),
        hold=hold,
        log=request.log_entry(),
    )


def _load(request_id: str) -> Revised[RecordsRequest]:
    found = store().request(request_id)
    if found is None:
        raise NotFound(f"no records request {request_id}")
    return found


def load(request_id: str) -> RecordsRequest:
    """The request (NotFound if there is none), without its hold: for callers that need only the request."""
    return _load(request_id).value


def _commit(
    who: Identity, after: RecordsRequest, before: Revised[RecordsRequest] | None, also: Iterable[_Part] = ()
) -> None:
    event = after.history[-1]
    audit.append(
        who.actor,
        f"request.{event.action}",
        resource(after.id),
        {"status": str(after.status), "due_on": after.due_on.isoformat(), **event.details},
        also=[store().request_part(after, before.revision if before else None), *also],
    )


def _hold_for(
    who: Identity, request: RecordsRequest, scope: dict[str, Any], at: datetime, hold_id: str | None = None
) -> Hold:
    return retention.place_hold(
        hold_id=hold_id or uuid.uuid4().hex,
        matter=f"Public records request {request.id}",
        reason=f"RCW 42.56.100: open public records request received {request.received_on.isoformat()}",
        scope=retention.parse_scope(scope),
        kind=HoldKind.RECORDS_REQUEST,
        actor=who.actor,
        roles=who.roles,
        at=at,
    )


def create(
    who: Identity,
    *,
    requester: str | None,
    received_on: date,
    text: str,
    jurisdiction: str,
    scope: dict[str, Any] | None,
) -> RequestView:
    at = _now()
    request = domain.create_request(
        # isoformat pads the year to four digits (strftime's %Y does not below 1000), as the id pattern needs.
        request_id=f"{received_on.isoformat().replace('-', '')}-{uuid.uuid4().hex[:8]}",
        requester=requester,
        received_on=received_on,
        text=text,
        jurisdiction=jurisdiction,
        actor=who.actor,
        roles=who.roles,
        at=at,
        calendar=domain.default_calendar(),
        today=at.date(),
    )
    hold = _hold_for(who, request, scope, at) if scope else None
    if hold is not None:
        request = domain.with_hold(request, hold.id)
    _commit(who, request, None, [store().hold_part(hold, None)] if hold else [])
    if hold is not None:
        records.enqueue(records.RetentionJob(job="apply_hold", id=hold.id))
    return _view(request, at.date())


def get(request_id: str) -> RequestView:
    return _view(load(request_id))


def listing(status: RequestStatus | None = None, *, overdue_only: bool = False) -> RequestList:
    today = _now().date()
    found = [r for r in store().requests() if status is None or r.status is status]
    if overdue_only:
        found = domain.overdue(found, today)
    holds = {h.value.id: h.value for h in store().holds()} if any(r.hold_id for r in found) else {}
    return RequestList(requests=[_view(r, today, holds) for r in found])


def _change(
    request_id: str, who: Identity, change: Callable[..., RecordsRequest], **kwargs: Any
) -> RequestView:
    before = _load(request_id)
    after = change(before.value, actor=who.actor, roles=who.roles, at=_now(), **kwargs)
    _commit(who, after, before)
    return _view(after)


def acknowledge(request_id: str, who: Identity) -> RequestView:
    return _change(request_id, who, domain.acknowledge)


def start(request_id: str, who: Identity) -> RequestView:
    return _change(request_id, who, domain.start_work)


def ask_clarification(request_id: str, who: Identity, question: str) -> RequestView:
    return _change(request_id, who, domain.request_clarification, question=question)


def clarified(request_id: str, who: Identity, answer: str) -> RequestView:
    return _change(request_id, who, domain.clarified, answer=answer)


def extend(request_id: str, who: Identity, days: int, reason: str) -> RequestView:
    return _change(
        request_id, who, domain.extend, days=days, reason=reason, calendar=domain.default_calendar()
    )


def installment(
    request_id: str, who: Identity, provided_on: date, description: str, items: int
) -> RequestView:
    return _change(
        request_id, who, domain.add_installment, provided_on=provided_on, description=description, items=items
    )


def withheld(request_id: str, who: Identity, entries: list[dict[str, str]]) -> RequestView:
    return _change(request_id, who, domain.record_withheld, entries=entries)


def _release(
    request: RecordsRequest, who: Identity, at: datetime, why: str
) -> tuple[Hold | None, list[_Part]]:
    """The request's automatic hold released (if it is still active), and the write of that for the transaction."""
    held = store().hold(request.hold_id) if request.hold_id else None
    if held is None or not held.value.active:
        return None, []
    released = retention.release_hold(held.value, actor=who.actor, roles=who.roles, at=at, reason=why)
    return released, [store().hold_part(released, held.revision)]


def close(request_id: str, who: Identity, closure: str, closed_on: date, reason: str = "") -> RequestView:
    """Close the request and release its automatic hold (items no other hold keeps lose their legal hold)."""
    before = _load(request_id)
    at = _now()
    after = domain.close(
        before.value,
        actor=who.actor,
        roles=who.roles,
        at=at,
        closure=closure,
        closed_on=closed_on,
        reason=reason,
    )
    released, parts = _release(after, who, at, f"request {after.id} closed ({closure})")
    _commit(who, after, before, parts)
    if released is not None:
        records.enqueue(records.RetentionJob(job="release_hold", id=released.id))
    return _view(after)


def set_scope(request_id: str, who: Identity, scope: dict[str, Any]) -> RequestView:
    """Give an open request its scope (after a clarification, say): a new automatic hold replaces the old one."""
    before = _load(request_id)
    at = _now()
    hold_id = uuid.uuid4().hex
    after = domain.rescope(before.value, hold_id, actor=who.actor, roles=who.roles, at=at)
    hold = _hold_for(who, before.value, scope, at, hold_id)
    old, parts = _release(before.value, who, at, f"request {after.id} scope replaced")
    _commit(who, after, before, [store().hold_part(hold, None), *parts])
    records.enqueue(records.RetentionJob(job="apply_hold", id=hold.id))
    if old is not None:
        records.enqueue(records.RetentionJob(job="release_hold", id=old.id))
    return _view(after)
