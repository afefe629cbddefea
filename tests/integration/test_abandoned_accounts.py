"""The abandoned-account sweep on moto with frozen time: an official account that stops posting is warned (dormant,
stewards and communications told), marked abandoned after the grace period with its retirement proposed, and
retired when communications confirms (stewards removed, credential queued for rotation); an account that posts
again is reactivated; every run is recorded; bad thresholds are refused whole; one account's failure does not stop
the sweep."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from freezegun import freeze_time

import functions.account_sweep.handler  # noqa: F401 (imported before time is frozen)
from infrastructure.local.provision import Provisioned
from shared import abandonment_service, accounts_service, audit, catalogue, ingest, runs
from shared.errors import Unavailable
from tests.integration.accounts_support import own_post
from tests.integration.test_offboarding import (
    CREDENTIAL,
    KIM,
    NG,
    ORTIZ,
    World,
    account,
    call,
    ok,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


@pytest.fixture
def world(moto_env: Provisioned, monkeypatch: pytest.MonkeyPatch) -> World:
    audit.reset()
    monkeypatch.setenv(catalogue.VAULT_PREFIX_ENV_VAR, f"steward/t{uuid.uuid4().hex[:8]}/accounts/")
    return World(moto_env)


T0 = datetime(2026, 1, 5, 15, tzinfo=UTC)
THRESHOLDS = {"default": {"no_post_days": 60, "credential_days": 365, "grace_days": 14}}


def post(page: str, item: str, at: datetime) -> None:
    ingest.record(own_post("facebook", page, item, at), at)


def linked_account(handle: str, page: str) -> str:
    acc = account(handle, {KIM: "admin", ORTIZ: "admin", NG: "editor"})
    ok("PUT", f"/accounts/{acc}/platform-id", "tech.ortiz", {"platform_id": page})
    ok("PUT", f"/accounts/{acc}/credential", "tech.ortiz", CREDENTIAL)
    return acc


def sweep_at(at: datetime) -> dict[str, Any]:
    with freeze_time(at):
        return abandonment_service.sweep()


def status(acc: str) -> str:
    return str(ok("GET", f"/accounts/{acc}")["status"])


def test_an_account_goes_from_active_through_warning_and_abandoned_to_retired(world: World) -> None:
    with freeze_time(T0):
        ok("PUT", "/sweeps/abandoned-accounts/thresholds", "director.kim", THRESHOLDS)
        quiet = linked_account("band", "5550001")
        lively = linked_account("choir", "5550002")
        post("5550001", "p-1", T0)
        post("5550002", "p-2", T0)
        world.notices()  # the setup's (read while they are fresh: SQS drops messages past their retention)

    first = sweep_at(T0 + timedelta(days=30))
    assert first["steps"] == {"nothing": 2}
    assert (status(quiet), status(lively)) == ("active", "active")

    # 61 days without a post: warned (dormant), told to stewards and communications.
    post("5550002", "p-3", T0 + timedelta(days=50))
    warned = sweep_at(T0 + timedelta(days=61))
    assert warned["steps"] == {"warn": 1, "nothing": 1}
    assert warned["signals"] == {"no_post": 1}
    assert status(quiet) == "dormant"
    with freeze_time(T0 + timedelta(days=61)):
        seen = world.notices()
    found = [n for n in seen if n.get("kind") == "account.warned_dormant"]
    assert len(found) == 1, seen
    notice = found[0]
    assert notice["account_id"] == quiet
    assert "no_post: last post 61 days ago" in notice["reason"]

    # Within the grace period nothing more happens; after it, abandoned and retirement proposed.
    assert sweep_at(T0 + timedelta(days=70))["steps"] == {"nothing": 2}
    assert status(quiet) == "dormant"
    abandoned = sweep_at(T0 + timedelta(days=76))
    assert abandoned["steps"]["abandon"] == 1
    assert status(quiet) == "abandoned"
    history = ok("GET", f"/accounts/{quiet}")["history"]
    assert "retirement proposed" in history[-1]["reason"]
    assert sweep_at(T0 + timedelta(days=77))["steps"]["awaiting_retirement"] == 1

    # Only communications confirms; the account is retired, its stewards removed, its logins rotated.
    with freeze_time(T0 + timedelta(days=80)):
        code, answer = call(
            "POST", f"/accounts/{quiet}/retirement", "tech.ortiz", body={"reason": "abandoned"}
        )
        assert code == 403, answer
        world.rotations()
        retired = ok(
            "POST", f"/accounts/{quiet}/retirement", "director.kim", {"reason": "abandoned (4007 004)"}
        )
        rotation = world.rotations()[quiet]
    assert retired["status"] == "retired"
    assert retired["stewards"] == []
    # its content's final capture waits for the reconciler (tests/integration/test_reconciliation.py takes it)
    assert retired["final_capture"]["state"] == "pending"
    assert rotation["reason"] == "retirement"
    assert set(rotation["kinds"]) == {"token", "password"}
    after = sweep_at(T0 + timedelta(days=81))
    assert after["steps"] == {"nothing": 1}  # the retired account is no longer swept

    # Every step is audited under the sweep's own actor, and every run is recorded.
    actions = [(e.actor, e.action) for e in audit.log().for_resource(f"account:{quiet}", 100)]
    assert ("system:abandoned-accounts", "account.warned_dormant") in actions
    assert ("system:abandoned-accounts", "account.marked_abandoned") in actions
    assert ("user:director.kim", "account.retired_abandoned") in actions
    recorded = runs.runs_of("abandoned-accounts", 10).runs
    assert len(recorded) == 6
    assert all(r.state == "succeeded" for r in recorded)
    assert recorded[0].seen == 1
    assert sum(r.actions for r in recorded) == 2
    assert audit.verify().ok


def test_a_warned_account_that_posts_again_is_reactivated_by_the_sweep(world: World) -> None:
    with freeze_time(T0):
        ok("PUT", "/sweeps/abandoned-accounts/thresholds", "director.kim", THRESHOLDS)
        acc = linked_account("drama", "5550003")
        post("5550003", "p-1", T0)
    sweep_at(T0 + timedelta(days=61))
    assert status(acc) == "dormant"
    post("5550003", "p-2", T0 + timedelta(days=65))
    assert sweep_at(T0 + timedelta(days=66))["steps"] == {"reactivate": 1}
    assert status(acc) == "active"


def test_a_person_made_dormant_account_is_left_to_them(world: World) -> None:
    with freeze_time(T0):
        ok("PUT", "/sweeps/abandoned-accounts/thresholds", "director.kim", THRESHOLDS)
        acc = linked_account("debate", "5550004")
        ok("POST", f"/accounts/{acc}/dormant", "tech.ortiz")
    assert sweep_at(T0 + timedelta(days=200))["steps"] == {"nothing": 1}
    assert status(acc) == "dormant"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"default": {"no_post_days": 0, "credential_days": 365, "grace_days": 14}}, "no_post_days"),
        ({"default": {"no_post_days": -5, "credential_days": 365, "grace_days": 14}}, "no_post_days"),
        ({"default": {"no_post_days": 30, "credential_days": 365, "grace_days": 30}}, "must be shorter"),
        (
            {**THRESHOLDS, "platforms": {"x": {"no_post_days": 10, "credential_days": 20, "grace_days": 60}}},
            "must be shorter",
        ),
        ({**THRESHOLDS, "platforms": {"myspace": {}}}, "platforms"),
        ({"platforms": {}}, "default thresholds are required"),
        ({"default": {"no_post_days": 30}, "extra": 1}, "extra"),
    ],
)
def test_bad_thresholds_are_refused_whole(world: World, body: dict[str, Any], words: str) -> None:
    ok("PUT", "/sweeps/abandoned-accounts/thresholds", "director.kim", THRESHOLDS)
    code, answer = call("PUT", "/sweeps/abandoned-accounts/thresholds", "director.kim", body=body)
    assert code == 400, answer
    assert words in answer["message"]
    assert (
        ok("GET", "/sweeps/abandoned-accounts/thresholds", "director.kim")["default"] == THRESHOLDS["default"]
    )
    code, _ = call("PUT", "/sweeps/abandoned-accounts/thresholds", "tech.ortiz", body=THRESHOLDS)
    assert code == 403


def test_one_accounts_failure_is_a_problem_of_the_run_not_its_end(world: World) -> None:
    with freeze_time(T0):
        ok("PUT", "/sweeps/abandoned-accounts/thresholds", "director.kim", THRESHOLDS)
        broken = linked_account("robotics", "5550005")
        fine = linked_account("chess", "5550006")
    real = accounts_service.load

    def load(account_id: str) -> Any:
        if account_id == broken:
            raise Unavailable("the account registry could not be read")
        return real(account_id)

    with mock.patch.object(accounts_service, "load", side_effect=load):
        summary = sweep_at(T0 + timedelta(days=61))
    assert summary["steps"] == {"warn": 1}
    assert (status(broken), status(fine)) == ("active", "dormant")
    (run,) = runs.runs_of("abandoned-accounts", 1).runs
    assert run.state == "partial"
    assert run.errors == 1
    assert run.problems[0].subject == f"account:{broken}"
