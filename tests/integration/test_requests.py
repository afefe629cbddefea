"""Public-records requests on moto: the statutory due date, the lifecycle and its log, the automatic hold on an
open request's scope (S3 legal hold on every version, lifted when the request closes), and the refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

import functions.retention_worker.handler  # noqa: F401 (imported before time is frozen)
from infrastructure.local.provision import Provisioned
from shared import audit
from shared.domain.content import Change
from tests.integration.test_retention import PAGE, World, call, ok, record

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

RECEIVED = date(2026, 11, 25)  # a Wednesday: Thanksgiving and the day after do not count in Washington
NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
BOND = {
    "requester": "J. Smith",
    "received_on": RECEIVED.isoformat(),
    "text": "All comments on the high school's Facebook page mentioning the bond measure, March to May, "
    "including deleted ones",
    "jurisdiction": "WA",
}


@pytest.fixture
def world(moto_env: Provisioned) -> World:
    audit.reset()
    return World(moto_env)


def created(body: dict[str, Any]) -> dict[str, Any]:
    status, answer = call("POST", "/requests", body=body)
    assert status == 201, answer
    return dict(answer)


def test_a_request_holds_its_scope_while_open_and_releases_it_when_closed(world: World) -> None:
    record(PAGE, "c-7", Change.ADDED, datetime(2026, 4, 2, 12, tzinfo=UTC))
    with freeze_time(NOW):
        view = created(
            {**BOND, "scope": {"accounts": [f"facebook:{PAGE}"], "date_from": "2026-03-01T00:00:00Z"}}
        )
        request = view["request"]
        # WA: five business days after the receipt day, skipping the weekend and both Thanksgiving holidays.
        assert request["due_on"] == "2026-12-04"
        assert request["status"] == "received"
        assert view["hold"]["kind"] == "records_request"
        world.work()
    assert {status for _, status in world.locks(PAGE, "c-7")} == {"ON"}

    rid = request["id"]
    with freeze_time(NOW + timedelta(days=1)):
        ok("POST", f"/requests/{rid}/acknowledge")
        ok("POST", f"/requests/{rid}/start")
        ok(
            "POST",
            f"/requests/{rid}/installments",
            {"provided_on": "2026-12-01", "description": "first 40 comments", "items": 40},
        )
        ok(
            "POST",
            f"/requests/{rid}/withheld",
            {
                "entries": [
                    {
                        "item": f"facebook:{PAGE}:c-7",
                        "action": "redacted",
                        "exemption": "RCW 42.56.230(1)",
                        "explanation": "a student's name (directory information opt-out)",
                    }
                ]
            },
        )
        closed = ok("POST", f"/requests/{rid}/close", {"closure": "fulfilled", "closed_on": "2026-12-01"})
        assert closed["request"]["status"] == "closed"
        assert closed["hold"]["released_at"] is not None
        world.work()
    assert {status for _, status in world.locks(PAGE, "c-7")} == {"OFF"}

    log = ok("GET", f"/requests/{rid}")["log"]
    assert log["requester"] == "J. Smith"
    assert log["date_received"] == RECEIVED.isoformat()
    assert log["date_of_final_disposition"] == "2026-12-01"
    assert log["redacted_or_withheld"][0]["exemption"] == "RCW 42.56.230(1)"
    actions = [e.action for e in audit.log().for_resource(f"request:{rid}", 50)]
    assert actions[0] == "request.created"
    assert "request.closed" in actions
    assert audit.verify().ok


def test_overdue_requests_are_listed_and_ca_extensions_follow_the_law(world: World) -> None:
    with freeze_time(NOW):
        wa = created(BOND)["request"]
        ca = created({**BOND, "jurisdiction": "CA", "received_on": "2026-11-20"})["request"]
        assert ca["due_on"] == "2026-11-30"
    with freeze_time(NOW + timedelta(days=6)):
        overdue = [v["request"]["id"] for v in ok("GET", "/requests?overdue=true")["requests"]]
        assert set(overdue) == {wa["id"], ca["id"]}
        status, answer = call(
            "POST", f"/requests/{ca['id']}/extend", body={"days": 15, "reason": "voluminous"}
        )
        assert status == 400, answer
        extended = ok("POST", f"/requests/{ca['id']}/extend", {"days": 14, "reason": "voluminous records"})
        assert extended["request"]["due_on"] == "2026-12-14"
        status, answer = call(
            "POST", f"/requests/{ca['id']}/extend", body={"days": 1, "reason": "again, sorry"}
        )
        assert status == 409, answer


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({**BOND, "jurisdiction": "TX"}, "jurisdiction"),
        ({**BOND, "received_on": "2027-01-01"}, "future"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(world: World, body: dict[str, Any], words: str) -> None:
    with freeze_time(NOW):
        status, answer = call("POST", "/requests", body=body)
    assert status in (400, 422), answer
    assert words in answer["message"].lower()
    assert ok("GET", "/requests")["requests"] == []


def test_only_records_handles_requests(world: World) -> None:
    for roles in (("communications",), ("it",), ("moderators",), ("principals",), ("staff",)):
        status, answer = call("POST", "/requests", roles, BOND)
        assert status == 403, answer
        assert call("GET", "/requests", roles)[0] == 403


def test_a_closed_request_takes_no_new_scope(world: World) -> None:
    with freeze_time(NOW):
        rid = created(BOND)["request"]["id"]
        ok("POST", f"/requests/{rid}/close", {"closure": "withdrawn", "closed_on": "2026-11-30"})
        status, answer = call(
            "PUT", f"/requests/{rid}/scope", body={"scope": {"accounts": [f"facebook:{PAGE}"]}}
        )
    assert status == 409, answer
    assert "closed" in answer["message"]
    assert ok("GET", "/holds")["holds"] == []


def test_a_blank_withheld_entry_is_a_400_and_changes_nothing(world: World) -> None:
    with freeze_time(NOW):
        rid = created(BOND)["request"]["id"]
        entry = {"item": " ", "action": "withheld", "exemption": "RCW 42.56.230(1)", "explanation": "a name"}
        status, answer = call("POST", f"/requests/{rid}/withheld", body={"entries": [entry]})
    assert status == 400, answer
    assert "item" in answer["message"]
    assert ok("GET", f"/requests/{rid}")["request"]["withheld"] == []


def test_a_new_scope_replaces_the_automatic_hold_and_is_recorded_in_the_history(world: World) -> None:
    record(PAGE, "c-8", Change.ADDED, datetime(2026, 4, 2, 12, tzinfo=UTC))
    with freeze_time(NOW):
        view = created({**BOND, "scope": {"item_ids": [f"facebook:{PAGE}:c-8"]}})
        rid, first = view["request"]["id"], view["hold"]["id"]
        world.work()
        assert {status for _, status in world.locks(PAGE, "c-8")} == {"ON"}
        scoped = ok("PUT", f"/requests/{rid}/scope", {"scope": {"item_ids": [f"facebook:{PAGE}:c-9"]}})
        second = scoped["hold"]["id"]
        assert second != first
        assert scoped["request"]["hold_id"] == second
        assert scoped["request"]["history"][-1]["action"] == "scoped"
        assert scoped["request"]["history"][-1]["details"] == {"hold_id": second, "previous_hold_id": first}
        world.work()
    assert {status for _, status in world.locks(PAGE, "c-8")} == {"OFF"}
    holds = {h["hold"]["id"]: h["active"] for h in ok("GET", "/holds")["holds"]}
    assert holds == {first: False, second: True}
    listed = ok("GET", "/requests")["requests"]
    assert [(v["request"]["id"], v["hold"]["id"]) for v in listed] == [(rid, second)]
    assert "request.scoped" in [e.action for e in audit.log().for_resource(f"request:{rid}", 50)]
