"""Public records requests (pure domain): deadlines, the lifecycle and the request log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from shared.catalogue import Role
from shared.domain.requests import (
    Calendar,
    Closure,
    Jurisdiction,
    RecordsRequest,
    RequestStatus,
    Withheld,
    acknowledge,
    add_business_days,
    add_installment,
    clarified,
    close,
    create_request,
    default_calendar,
    due_date,
    extend,
    overdue,
    parse_calendar,
    record_withheld,
    request_clarification,
    rescope,
    start_work,
    with_hold,
)
from shared.errors import BadRequest, Conflict, Forbidden

CAL = default_calendar()
AT = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
REC = [Role.RECORDS]
WHO = "officer@district.example"


def new(
    jurisdiction: str = "WA",
    received_on: date = date(2026, 3, 10),
    **overrides: Any,
) -> RecordsRequest:
    args: dict[str, Any] = {
        "request_id": "PRR-2026-001",
        "requester": "Jane Citizen",
        "received_on": received_on,
        "text": "All comments hidden on the district Facebook page in February 2026.",
        "jurisdiction": jurisdiction,
        "actor": WHO,
        "roles": REC,
        "at": AT,
        "calendar": CAL,
        "today": date(2026, 3, 10),
        **overrides,
    }
    return create_request(**args)


def ext(req: RecordsRequest, days: int, reason: str = "Records span several accounts") -> RecordsRequest:
    return extend(req, actor=WHO, roles=REC, at=AT, days=days, reason=reason, calendar=CAL)


# ------------------------------------------------------------------------------------------------ calendar
def test_default_calendar_has_wa_and_federal_holidays() -> None:
    wa, foia = CAL.for_("WA"), CAL.for_(Jurisdiction.FOIA)
    assert len(wa) == 44
    assert len(foia) == 44
    assert date(2026, 11, 26) in wa  # Thanksgiving
    assert date(2026, 11, 27) in wa  # Native American Heritage Day
    assert date(2026, 11, 27) not in foia
    assert date(2026, 10, 12) in foia
    assert date(2026, 10, 12) not in wa
    assert date(2026, 7, 3) in wa  # July 4 2026 is a Saturday: observed Friday
    assert date(2027, 12, 31) in foia  # New Year's Day 2028 is a Saturday
    assert CAL.for_("CA") == ()
    assert all(d.weekday() < 5 for d in (*wa, *foia))


def test_parse_calendar() -> None:
    cal = parse_calendar('[holidays]\nWA = [2026-01-02, "2026-01-01", 2026-01-01]\n')
    assert cal.holidays == {"WA": (date(2026, 1, 1), date(2026, 1, 2))}
    for bad in ("[holidays\n", '[holidays]\nWA = ["not a date"]\n', "[holidays]\nXX = []\n", "other = 1\n"):
        with pytest.raises(BadRequest):
            parse_calendar(bad)


def test_add_business_days() -> None:
    assert add_business_days(date(2026, 3, 13), 1, ()) == date(2026, 3, 16)  # Fri -> Mon
    assert add_business_days(date(2026, 3, 13), 0, ()) == date(2026, 3, 13)
    assert add_business_days(date(2026, 3, 13), 1, [date(2026, 3, 16)]) == date(2026, 3, 17)
    with pytest.raises(BadRequest):
        add_business_days(date(2026, 3, 13), -1, ())


# ------------------------------------------------------------------------------------------------ due dates
def test_wa_five_business_days_receipt_day_not_counted() -> None:
    assert due_date(Jurisdiction.WA, date(2026, 3, 9), CAL) == date(2026, 3, 16)  # Mon -> next Mon
    assert due_date(Jurisdiction.WA, date(2026, 3, 11), CAL) == date(2026, 3, 18)  # Wed, across a weekend
    assert due_date(Jurisdiction.WA, date(2026, 3, 14), CAL) == date(2026, 3, 20)  # a Saturday receipt


def test_wa_across_thanksgiving() -> None:
    # Wed 25 Nov: Thu 26 and Fri 27 are holidays, then Mon 30, Tue 1, Wed 2, Thu 3, Fri 4.
    assert due_date(Jurisdiction.WA, date(2026, 11, 25), CAL) == date(2026, 12, 4)
    assert due_date(Jurisdiction.WA, date(2026, 11, 25), Calendar()) == date(2026, 12, 2)


def test_ca_ten_calendar_days_and_weekend_roll() -> None:
    assert due_date(Jurisdiction.CA, date(2026, 3, 10), CAL) == date(2026, 3, 20)  # Fri
    assert due_date(Jurisdiction.CA, date(2026, 3, 11), CAL) == date(2026, 3, 23)  # Sat -> Mon
    assert due_date(Jurisdiction.CA, date(2026, 3, 12), CAL) == date(2026, 3, 23)  # Sun -> Mon
    # holidays do not count unless the calendar lists CA holidays
    assert due_date(Jurisdiction.CA, date(2026, 11, 16), CAL) == date(2026, 11, 26)
    ca = Calendar(holidays={"CA": (date(2026, 11, 26), date(2026, 11, 27))})
    assert due_date(Jurisdiction.CA, date(2026, 11, 16), ca) == date(2026, 11, 30)


def test_foia_twenty_working_days() -> None:
    assert due_date(Jurisdiction.FOIA, date(2026, 3, 2), CAL) == date(2026, 3, 30)
    # Across Columbus Day (Mon 12 Oct, a federal holiday): one day later than without holidays
    assert due_date(Jurisdiction.FOIA, date(2026, 10, 5), CAL) == date(2026, 11, 3)
    assert due_date(Jurisdiction.FOIA, date(2026, 10, 5), Calendar()) == date(2026, 11, 2)


# ------------------------------------------------------------------------------------------------ create
def test_create_request() -> None:
    req = new()
    assert req.status is RequestStatus.RECEIVED
    assert req.open
    assert req.jurisdiction is Jurisdiction.WA
    assert req.due_on == date(2026, 3, 17)
    assert req.created_by == WHO
    assert req.created_at == AT
    assert [e.action for e in req.history] == ["created"]
    assert req.history[0].details == {"jurisdiction": "WA", "due_on": "2026-03-17"}
    assert new(jurisdiction="ca").jurisdiction is Jurisdiction.CA


def test_anonymous_requester_allowed() -> None:
    assert new(requester=None).requester is None
    assert new(requester="  ").requester is None


def test_create_refusals() -> None:
    with pytest.raises(BadRequest, match="future"):
        new(received_on=date(2026, 3, 11))
    with pytest.raises(BadRequest, match="WA, CA, FOIA"):
        new(jurisdiction="TX")
    with pytest.raises(BadRequest, match="text"):
        new(text="   ")
    with pytest.raises(BadRequest):
        new(text="x" * 10_001)
    with pytest.raises(BadRequest):
        new(request_id="has space")
    with pytest.raises(BadRequest, match="timezone"):
        new(at=datetime(2026, 3, 10, 9, 0))  # noqa: DTZ001 - a naive time, on purpose
    with pytest.raises(Forbidden, match="records"):
        new(roles=[Role.COMMUNICATIONS, Role.IT])


# ------------------------------------------------------------------------------------------------ lifecycle
def test_happy_path_transitions() -> None:
    req = acknowledge(new(), actor=WHO, roles=REC, at=AT)
    assert req.status is RequestStatus.ACKNOWLEDGED
    req = request_clarification(req, actor=WHO, roles=REC, at=AT, question="Which page?")
    assert req.status is RequestStatus.CLARIFICATION_REQUESTED
    req = clarified(req, actor=WHO, roles=REC, at=AT, answer="The main district page.")
    assert req.status is RequestStatus.IN_PROGRESS
    req = add_installment(
        req, actor=WHO, roles=REC, at=AT, provided_on=date(2026, 3, 10), description="Export", items=12
    )
    req = record_withheld(
        req,
        actor=WHO,
        roles=REC,
        at=AT,
        entries=[
            Withheld(
                item="comment 17", action="redacted", exemption="RCW 42.56.230(1)", explanation="student name"
            )
        ],
    )
    req = close(req, actor=WHO, roles=REC, at=AT, closure="fulfilled", closed_on=date(2026, 3, 10))
    assert req.status is RequestStatus.CLOSED
    assert not req.open
    assert req.closure is Closure.FULFILLED
    assert req.closed_on == date(2026, 3, 10)
    assert [e.action for e in req.history] == [
        "created",
        "acknowledged",
        "clarification_requested",
        "clarified",
        "installment",
        "withheld",
        "closed",
    ]
    assert req.history[2].details == {"question": "Which page?"}


def test_start_work() -> None:
    req = start_work(new(), actor=WHO, roles=REC, at=AT)
    assert req.status is RequestStatus.IN_PROGRESS
    assert req.history[-1].action == "started"
    acked = acknowledge(new(), actor=WHO, roles=REC, at=AT)
    assert start_work(acked, actor=WHO, roles=REC, at=AT).status is RequestStatus.IN_PROGRESS
    with pytest.raises(Conflict):
        start_work(req, actor=WHO, roles=REC, at=AT)


def test_transition_refusals() -> None:
    req = start_work(new(), actor=WHO, roles=REC, at=AT)
    with pytest.raises(Conflict):
        acknowledge(req, actor=WHO, roles=REC, at=AT)
    with pytest.raises(Conflict):
        clarified(req, actor=WHO, roles=REC, at=AT, answer="x")
    with pytest.raises(BadRequest):
        request_clarification(req, actor=WHO, roles=REC, at=AT, question=" ")


def test_closed_request_refuses_everything() -> None:
    req = close(new(), actor=WHO, roles=REC, at=AT, closure="withdrawn", closed_on=date(2026, 3, 10))
    entry = Withheld(item="a", action="withheld", exemption="RCW 42.56.290", explanation="work product")
    calls = [
        lambda: acknowledge(req, actor=WHO, roles=REC, at=AT),
        lambda: start_work(req, actor=WHO, roles=REC, at=AT),
        lambda: request_clarification(req, actor=WHO, roles=REC, at=AT, question="?"),
        lambda: clarified(req, actor=WHO, roles=REC, at=AT, answer="a"),
        lambda: ext(req, 5),
        lambda: add_installment(
            req, actor=WHO, roles=REC, at=AT, provided_on=date(2026, 3, 10), description="d", items=1
        ),
        lambda: record_withheld(req, actor=WHO, roles=REC, at=AT, entries=[entry]),
        lambda: close(req, actor=WHO, roles=REC, at=AT, closure="fulfilled", closed_on=date(2026, 3, 10)),
    ]
    for call in calls:
        with pytest.raises(Conflict):
            call()


def test_close_rules() -> None:
    req = new(received_on=date(2026, 3, 2))
    for closure in ("denied", "abandoned"):
        with pytest.raises(BadRequest, match="reason"):
            close(req, actor=WHO, roles=REC, at=AT, closure=closure, closed_on=date(2026, 3, 5))
    denied = close(
        req, actor=WHO, roles=REC, at=AT, closure="DENIED", closed_on=date(2026, 3, 5), reason="RCW 42.56.290"
    )
    assert denied.closure is Closure.DENIED
    assert denied.closure_reason == "RCW 42.56.290"
    with pytest.raises(BadRequest, match="before"):
        close(req, actor=WHO, roles=REC, at=AT, closure="fulfilled", closed_on=date(2026, 3, 1))
    with pytest.raises(BadRequest, match="future"):
        close(req, actor=WHO, roles=REC, at=AT, closure="fulfilled", closed_on=date(2026, 3, 11))
    with pytest.raises(BadRequest, match="fulfilled"):
        close(req, actor=WHO, roles=REC, at=AT, closure="lost", closed_on=date(2026, 3, 5))


def test_installments_numbered() -> None:
    req = new(received_on=date(2026, 3, 2))
    for n in (1, 2):
        req = add_installment(
            req,
            actor=WHO,
            roles=REC,
            at=AT,
            provided_on=date(2026, 3, 3 + n),
            description=f"part {n}",
            items=n,
        )
    assert [i.number for i in req.installments] == [1, 2]
    assert req.installments[1].by == WHO
    assert req.status is RequestStatus.RECEIVED
    with pytest.raises(BadRequest):
        add_installment(
            req, actor=WHO, roles=REC, at=AT, provided_on=date(2026, 3, 1), description="d", items=1
        )
    with pytest.raises(BadRequest):
        add_installment(
            req, actor=WHO, roles=REC, at=AT, provided_on=date(2026, 3, 11), description="d", items=1
        )
    with pytest.raises(BadRequest):
        add_installment(
            req, actor=WHO, roles=REC, at=AT, provided_on=date(2026, 3, 5), description=" ", items=1
        )


def test_withheld_needs_exemption_and_explanation() -> None:
    with pytest.raises(ValidationError):
        Withheld(item="x", action="withheld", exemption=" ", explanation="why")
    req = new()
    with pytest.raises(BadRequest, match="explanation"):
        record_withheld(
            req,
            actor=WHO,
            roles=REC,
            at=AT,
            entries=[{"item": "x", "action": "withheld", "exemption": "RCW 42.56.230", "explanation": ""}],
        )
    with pytest.raises(BadRequest):
        record_withheld(req, actor=WHO, roles=REC, at=AT, entries=[])
    done = record_withheld(
        req,
        actor=WHO,
        roles=REC,
        at=AT,
        entries=[{"item": "x", "action": "withheld", "exemption": "RCW 42.56.230", "explanation": "student"}],
    )
    assert done.withheld[0].exemption == "RCW 42.56.230"


# ------------------------------------------------------------------------------------------------ extensions
def test_ca_extension_rules() -> None:
    req = new("CA")
    assert req.due_on == date(2026, 3, 20)
    with pytest.raises(BadRequest, match="14"):
        ext(req, 15)
    with pytest.raises(BadRequest, match="reason"):
        ext(req, 14, reason="  ")
    once = ext(req, 14)
    assert once.due_on == date(2026, 4, 3)
    assert once.extensions[0].new_due == date(2026, 4, 3)
    assert once.history[-1].action == "extended"
    assert once.history[-1].details["previous_due"] == "2026-03-20"
    with pytest.raises(Conflict, match="once"):
        ext(once, 1)


def test_foia_extension_rules() -> None:
    req = new("FOIA", received_on=date(2026, 3, 2))
    assert req.due_on == date(2026, 3, 30)
    with pytest.raises(BadRequest, match="10"):
        ext(req, 11)
    once = ext(req, 10)
    assert once.due_on == date(2026, 4, 13)
    with pytest.raises(Conflict):
        ext(once, 1)


def test_wa_multiple_extensions() -> None:
    req = new("WA", received_on=date(2026, 11, 18), today=date(2026, 11, 18))
    assert req.due_on == date(2026, 11, 25)
    req = ext(req, 1)  # Thanksgiving and the day after are not business days
    assert req.due_on == date(2026, 11, 30)
    req = ext(req, 10, reason="Second estimate: legal review")
    assert req.due_on == date(2026, 12, 14)
    assert len(req.extensions) == 2
    with pytest.raises(BadRequest):
        ext(req, 0)
    with pytest.raises(BadRequest):
        ext(req, 366)
    with pytest.raises(BadRequest):
        ext(req, 5, reason="")


# ------------------------------------------------------------------------------------------------ overdue, log
def test_overdue() -> None:
    wa = new("WA", received_on=date(2026, 3, 2), request_id="a")  # due 2026-03-09
    ca = new("CA", received_on=date(2026, 2, 20), request_id="b")  # due 2026-03-02
    assert not wa.overdue(date(2026, 3, 9))
    assert wa.overdue(date(2026, 3, 10))
    waiting = request_clarification(wa, actor=WHO, roles=REC, at=AT, question="Which dates?")
    assert not waiting.overdue(date(2026, 3, 10))
    done = close(wa, actor=WHO, roles=REC, at=AT, closure="fulfilled", closed_on=date(2026, 3, 10))
    assert not done.overdue(date(2026, 3, 10))
    assert [r.id for r in overdue([wa, ca, waiting, done], date(2026, 3, 10))] == ["b", "a"]


def test_log_entry() -> None:
    req = new(received_on=date(2026, 3, 2))
    req = record_withheld(
        req,
        actor=WHO,
        roles=REC,
        at=AT,
        entries=[
            Withheld(
                item="comment 9", action="withheld", exemption="RCW 42.56.230(1)", explanation="a student"
            )
        ],
    )
    open_entry = req.log_entry()
    assert open_entry["date_of_final_disposition"] is None
    assert open_entry["closure"] is None
    req = close(req, actor=WHO, roles=REC, at=AT, closure="fulfilled", closed_on=date(2026, 3, 6))
    assert req.log_entry() == {
        "id": "PRR-2026-001",
        "jurisdiction": "WA",
        "status": "closed",
        "requester": "Jane Citizen",
        "date_received": "2026-03-02",
        "request_text": "All comments hidden on the district Facebook page in February 2026.",
        "redacted_or_withheld": [
            {
                "item": "comment 9",
                "action": "withheld",
                "exemption": "RCW 42.56.230(1)",
                "explanation": "a student",
            }
        ],
        "date_of_final_disposition": "2026-03-06",
        "due_on": "2026-03-09",
        "closure": "fulfilled",
        "closure_reason": "",
    }


def test_with_hold() -> None:
    req = with_hold(new(), "hold-1")
    assert req.hold_id == "hold-1"
    assert with_hold(req, "hold-1") is req
    with pytest.raises(Conflict):
        with_hold(req, "hold-2")
    with pytest.raises(BadRequest):
        with_hold(new(), " ")


def test_rescope() -> None:
    first = rescope(new(), "hold-1", actor=WHO, roles=REC, at=AT)
    assert first.hold_id == "hold-1"
    assert first.history[-1].action == "scoped"
    assert first.history[-1].details == {"hold_id": "hold-1"}
    second = rescope(first, " hold-2 ", actor=WHO, roles=REC, at=AT)
    assert second.hold_id == "hold-2"
    assert second.history[-1].details == {"hold_id": "hold-2", "previous_hold_id": "hold-1"}
    assert len(second.history) == len(first.history) + 1
    with pytest.raises(Conflict):
        rescope(second, "hold-2", actor=WHO, roles=REC, at=AT)
    with pytest.raises(BadRequest):
        rescope(first, " ", actor=WHO, roles=REC, at=AT)
    with pytest.raises(BadRequest, match="actor"):
        rescope(first, "hold-3", actor=" ", roles=REC, at=AT)
    with pytest.raises(BadRequest, match="timezone"):
        rescope(first, "hold-3", actor=WHO, roles=REC, at=AT.replace(tzinfo=None))
    with pytest.raises(Forbidden, match="records"):
        rescope(first, "hold-3", actor=WHO, roles=[Role.COMMUNICATIONS], at=AT)
    closed = close(first, actor=WHO, roles=REC, at=AT, closure="withdrawn", closed_on=date(2026, 3, 10))
    with pytest.raises(Conflict, match="closed"):
        rescope(closed, "hold-3", actor=WHO, roles=REC, at=AT)


# ------------------------------------------------------------------------------------------------ roles
@pytest.mark.parametrize("role", [r for r in Role if r is not Role.RECORDS])
def test_only_records_role(role: Role) -> None:
    req = new(received_on=date(2026, 3, 2))
    roles = [role]
    entry = Withheld(item="a", action="withheld", exemption="RCW 42.56.290", explanation="work product")
    calls = [
        lambda: new(roles=roles),
        lambda: acknowledge(req, actor=WHO, roles=roles, at=AT),
        lambda: start_work(req, actor=WHO, roles=roles, at=AT),
        lambda: request_clarification(req, actor=WHO, roles=roles, at=AT, question="?"),
        lambda: clarified(req, actor=WHO, roles=roles, at=AT, answer="a"),
        lambda: extend(req, actor=WHO, roles=roles, at=AT, days=1, reason="r", calendar=CAL),
        lambda: add_installment(
            req, actor=WHO, roles=roles, at=AT, provided_on=date(2026, 3, 3), description="d", items=1
        ),
        lambda: record_withheld(req, actor=WHO, roles=roles, at=AT, entries=[entry]),
        lambda: close(req, actor=WHO, roles=roles, at=AT, closure="fulfilled", closed_on=date(2026, 3, 5)),
    ]
    for call in calls:
        with pytest.raises(Forbidden, match="records"):
            call()
    assert acknowledge(req, actor=WHO, roles=["records"], at=AT).status is RequestStatus.ACKNOWLEDGED


def test_models_are_frozen() -> None:
    req = new()
    with pytest.raises(ValidationError):
        req.status = RequestStatus.CLOSED  # type: ignore[misc]
    assert req.status is RequestStatus.RECEIVED
