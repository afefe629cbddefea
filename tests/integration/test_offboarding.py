"""Offboarding a staff member on moto, through the accounts-api handler: removed from every account's stewards,
every credential they could reach queued for rotation (also one they checked out of an account they did not
steward), the accounts left below two admins reported and notified, each account's history pointing at its audit
entry; a repeat changes nothing; refusals change nothing; a queue failure is a 503 whose repeat finishes the job;
an account changed during the offboarding is re-planned with a follow-up audit entry."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from functions.accounts_api.handler import handler as accounts_api
from infrastructure.local.provision import Provisioned
from shared import accounts_service, audit, catalogue
from shared.domain.accounts import DisclosureItem
from shared.domain.credentials import parse_requests
from shared.errors import Unavailable
from shared.store import aws
from shared.store.account_store import AccountStore
from tests.conftest import REGION, FakeContext
from tests.events import rest_event
from tests.integration.conftest import inject_error
from tests.integration.test_accounts_api import World as AccountsWorld

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

DOMAIN = "district.example.org"
COACH = (
    f"coach.diaz@{DOMAIN}"  # the person who leaves (an IT technician, so they could check credentials out)
)
KIM, ORTIZ, NG = f"director.kim@{DOMAIN}", f"tech.ortiz@{DOMAIN}", f"mr.ng@{DOMAIN}"
PEOPLE = {  # username: roles
    "ms.rivera": ("staff",),
    "director.kim": ("communications",),
    "tech.ortiz": ("it",),
    "coach.diaz": ("it",),
    "principal.lee": ("principals",),
    "records.officer": ("records",),
    "mod.ng": ("moderators",),
}
REASON = "Left the district (HR ticket 4411)"


def call(method: str, path: str, who: str = "director.kim", *, body: Any = None, query: Any = None) -> Any:
    event = rest_event(method, path, roles=PEOPLE[who], body=body, query=query)
    claims = event["requestContext"]["authorizer"]["claims"]
    claims.update({"cognito:username": who, "sub": f"sub-{who}", "email": f"{who}@{DOMAIN}"})
    response = accounts_api(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


def ok(method: str, path: str, who: str = "director.kim", body: Any = None) -> dict[str, Any]:
    status, answer = call(method, path, who, body=body if body is not None else {})
    assert status in (200, 201), (method, path, answer)
    return dict(answer)


class World(AccountsWorld):
    """The accounts world, plus the rotations queue and the account notices (through a subscribed queue)."""

    def __init__(self, env: Provisioned) -> None:
        super().__init__(env)
        self.sqs = boto3.client("sqs", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        self.rotations_url = env.queue_urls["rotations"]
        self.notices_url = self.sqs.create_queue(QueueName=f"notices-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.notices_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(
            TopicArn=env.env[catalogue.topic("account-notices").env_var], Protocol="sqs", Endpoint=arn
        )

    def _drain(self, url: str) -> list[str]:
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            if not got.get("Messages"):
                return out
            for m in got["Messages"]:
                out.append(m["Body"])
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def rotations(self) -> dict[str, dict[str, Any]]:
        """The queued rotation requests by account (each account at most once per drain)."""
        bodies = [
            r.model_dump(mode="json") for b in self._drain(self.rotations_url) for r in parse_requests(b)
        ]
        by_account = {b["account_id"]: b for b in bodies}
        assert len(by_account) == len(bodies), "an account was queued twice in one offboarding"
        return by_account

    def notices(self) -> list[dict[str, Any]]:
        return [json.loads(json.loads(b)["Message"]) for b in self._drain(self.notices_url)]

    def entries(self, action: str) -> list[dict[str, Any]]:
        found = [i for i in self._scan(self.audit) if i.get("action", {}).get("S") == action]
        return [json.loads(i["details"]["S"]) for i in found]


@pytest.fixture
def world(moto_env: Provisioned, monkeypatch: pytest.MonkeyPatch) -> World:
    audit.reset()
    monkeypatch.setenv(catalogue.VAULT_PREFIX_ENV_VAR, f"steward/t{uuid.uuid4().hex[:8]}/accounts/")
    return World(moto_env)


def account(handle: str, stewards: dict[str, str], end: str = "active") -> str:
    """A school account, approved, with these stewards, then taken to ``end`` (active, dormant or rejected)."""
    request = {
        "platform": "facebook",
        "handle": handle,
        "school": f"{handle} school",
        "purpose": "School news",
        "audience": "Families",
        "kind": "school",
    }
    acc = str(ok("POST", "/accounts", "ms.rivera", request)["id"])
    if end == "rejected":
        for email, role in stewards.items():
            ok("POST", f"/accounts/{acc}/stewards", "tech.ortiz", {"email": email, "role": role})
        ok("POST", f"/accounts/{acc}/reject", "director.kim", {"reason": "duplicate of the district page"})
        return acc
    ok("POST", f"/accounts/{acc}/approve", "director.kim")
    for email, role in stewards.items():
        ok("POST", f"/accounts/{acc}/stewards", "tech.ortiz", {"email": email, "role": role})
    for item in DisclosureItem:
        ok("POST", f"/accounts/{acc}/disclosures/{item.value}/confirm", "director.kim")
    ok("POST", f"/accounts/{acc}/activate", "tech.ortiz")
    if end == "dormant":
        ok("POST", f"/accounts/{acc}/dormant", "tech.ortiz")
    return acc


CREDENTIAL = {
    "login_email": f"social.band@{DOMAIN}",
    "password": "Correct-Horse-Battery-77",
    "tokens": {"page_access_token": "EAAGtoken", "expires_at": "2027-01-15T00:00:00Z"},
}


def offboard(who: str = "tech.ortiz", email: str = COACH, reason: str = REASON) -> tuple[int, Any]:
    return call("POST", "/offboardings", who, body={"email": email, "reason": reason})  # type: ignore[no-any-return]


def test_offboarding_removes_everywhere_rotates_what_they_reached_and_repeats_as_a_no_op(
    world: World,
) -> None:
    # Given: two active accounts left with one admin, one where the coach only edits, a dormant one, a rejected
    # request naming them, and an account they do not steward whose credential they checked out.
    short_a = account("yhs.news", {COACH: "admin", KIM: "admin"})
    short_b = account("yhs.sports", {COACH: "admin", ORTIZ: "admin", NG: "editor"})
    editor = account("yhs.band", {KIM: "admin", ORTIZ: "admin", COACH: "editor"})
    dormant = account("yhs.chess", {COACH: "admin", KIM: "admin", ORTIZ: "admin"}, end="dormant")
    rejected = account("yhs.dupe", {COACH: "admin"}, end="rejected")
    other = account("yhs.drama", {KIM: "admin", ORTIZ: "admin"})
    ok("PUT", f"/accounts/{other}/credential", "tech.ortiz", CREDENTIAL)
    ok("POST", f"/accounts/{other}/credential/checkout", "coach.diaz", {"reason": "posting the play dates"})
    unrelated = account("yhs.art", {KIM: "admin", ORTIZ: "admin"})
    # A checkout is not stewardship: a search by steward does not list the account checked out.
    listed = accounts_service.search(steward=COACH, limit=100).accounts
    assert {a.id for a in listed} == {short_a, short_b, editor, dormant, rejected}
    world.notices()
    entries_before = len(world.entries("staff.offboarded"))

    # When
    status, report = offboard()

    # Then: removed from the five accounts they stewarded, and nowhere else.
    assert status == 200, report
    assert report["changed"] is True
    assert report["email"] == COACH
    removed = {r["account_id"]: r["role"] for r in report["removed_from"]}
    assert removed == {
        short_a: "admin",
        short_b: "admin",
        editor: "editor",
        dormant: "admin",
        rejected: "admin",
    }
    status, page = call("GET", "/accounts", "records.officer", query={"steward": COACH})
    assert (status, page["accounts"]) == (200, [])
    for acc in (short_a, short_b, editor, dormant, rejected, other, unrelated):
        stewards = [s["email"] for s in ok("GET", f"/accounts/{acc}", "records.officer")["stewards"]]
        assert COACH not in stewards

    # Below two admins: the two active accounts where they were one of two admins.
    below = {b["account_id"]: b for b in report["below_minimum"]}
    assert set(below) == {short_a, short_b}
    assert below[short_a]["admins_left"] == [KIM]
    assert below[short_a]["needed"] == 1
    assert below[short_b]["admins_left"] == [ORTIZ]

    # Rotations: what each role reached where credentials may exist, plus the checkout; none for the rejected.
    want = {
        short_a: ["token", "password"],
        short_b: ["token", "password"],
        editor: ["token"],
        dormant: ["token", "password"],
        other: ["token", "password"],
    }
    assert {r["account_id"]: r["kinds"] for r in report["rotations"]} == want
    queued = world.rotations()
    assert {a: q["kinds"] for a, q in queued.items()} == want
    first_requested = {a: q["requested_at"] for a, q in queued.items()}
    for q in queued.values():
        assert (q["reason"], q["detail"], q["requested_by"]) == (
            "offboarding",
            f"offboarding of {COACH}",
            "user:tech.ortiz",
        )

    # Audit: each changed account's history points at the entry that lists it; the trail verifies.
    locators = report["audit"]
    assert len(world.entries("staff.offboarded")) == entries_before + len(locators) == entries_before + 1
    (entry,) = audit.entries_at(locators)
    assert (entry.action, entry.resource, entry.actor) == (
        "staff.offboarded",
        f"staff:{COACH}",
        "user:tech.ortiz",
    )
    listed = {a["account_id"]: a for a in entry.details["accounts"]}
    assert set(listed) == set(removed)
    assert listed[short_a]["admin_shortfall"] == 1
    assert {r["account_id"] for r in entry.details["rotations"]} == set(want)
    for acc in removed:
        last = ok("GET", f"/accounts/{acc}", "records.officer")["history"][-1]
        assert (last["action"], last["details"]["audit"], last["reason"]) == (
            "steward_offboarded",
            locators[0],
            REASON,
        )
        assert AccountStore().get(acc).revision == listed[acc]["revision"]  # type: ignore[union-attr]
    assert audit.verify().ok

    # Notices: the summary, and one listing the accounts left below two admins.
    notices = world.notices()
    kinds = sorted(n["kind"] for n in notices)
    assert kinds == ["account.below_two_admins", "staff.offboarded"]
    summary = next(n for n in notices if n["kind"] == "staff.offboarded")
    assert {a["account_id"] for a in summary["accounts"]} == set(removed)
    assert summary["rotations_queued"] is True
    short = next(n for n in notices if n["kind"] == "account.below_two_admins")
    assert {a["account_id"] for a in short["accounts"]} == {short_a, short_b}

    # A repeat: nothing changes, the same report, the same requests re-sent (same requested_at), no notice.
    before = world.snapshot()
    status, again = offboard("director.kim")
    assert status == 200, again
    assert world.snapshot() == before
    assert again["changed"] is False
    assert again["offboarding_id"] == report["offboarding_id"]
    assert again["below_minimum"] == report["below_minimum"]
    assert again["removed_from"] == report["removed_from"]
    assert again["audit"] == locators
    requeued = world.rotations()
    assert {a: q["requested_at"] for a, q in requeued.items()} == first_requested
    assert world.notices() == []

    # Once an admin is added, the repeat no longer reports that account short.
    ok("POST", f"/accounts/{short_a}/stewards", "tech.ortiz", {"email": ORTIZ, "role": "admin"})
    status, again = offboard()
    assert status == 200
    assert [b["account_id"] for b in again["below_minimum"]] == [short_b]


def test_refusals_change_nothing(world: World) -> None:
    account("yhs.news", {COACH: "admin", KIM: "admin"})
    world.rotations()
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("tech.ortiz", {"email": "coach.diaz@gmail.com", "reason": REASON}, 400, "not district staff"),
        ("tech.ortiz", {"email": "not an email", "reason": REASON}, 400, "not an email"),
        ("tech.ortiz", {"email": COACH, "reason": "     "}, 422, "reason"),
        ("tech.ortiz", {"email": COACH, "reason": "x"}, 422, "reason"),
        ("tech.ortiz", {"email": COACH}, 422, "reason"),
        ("tech.ortiz", {"email": COACH, "reason": REASON, "role": "admin"}, 422, "role"),
        ("principal.lee", {"email": COACH, "reason": REASON}, 403, ""),
        ("records.officer", {"email": COACH, "reason": REASON}, 403, ""),
        ("mod.ng", {"email": COACH, "reason": REASON}, 403, ""),
        ("ms.rivera", {"email": COACH, "reason": REASON}, 403, ""),
    ]
    for who, body, status, word in cases:
        before = world.snapshot()
        got, answer = call("POST", "/offboardings", who, body=body)
        assert got == status, (who, body, answer)
        assert word in answer["message"], answer
        assert world.snapshot() == before, (who, body)
    assert world.rotations() == {}

    # Someone who stewards nothing and checked nothing out: 200, nothing to do, nothing written.
    before = world.snapshot()
    status, report = offboard(email=f"Nobody.Here@{DOMAIN.upper()}")
    assert status == 200, report
    assert (report["email"], report["changed"], report["removed_from"], report["rotations"]) == (
        f"nobody.here@{DOMAIN}",
        False,
        [],
        [],
    )
    assert world.snapshot() == before
    assert world.rotations() == {}


def test_a_queue_failure_is_a_503_and_the_repeat_sends_the_rotations(world: World) -> None:
    acc = account("yhs.news", {COACH: "admin", KIM: "admin"})
    world.notices()
    failing = inject_error(aws.sqs(), "SendMessageBatch", "InternalError")

    status, answer = offboard()

    assert status == 503, answer
    assert failing.calls == 2  # the first try and one retry
    stewards = [s["email"] for s in ok("GET", f"/accounts/{acc}", "records.officer")["stewards"]]
    assert stewards == [KIM]  # the removal stands
    assert world.rotations() == {}
    (notice,) = [n for n in world.notices() if n["kind"] == "staff.offboarded"]
    assert notice["rotations_queued"] is False

    aws.reset()  # a new SQS client, without the injected failure
    before = world.snapshot()
    status, report = offboard()
    assert status == 200, report
    assert report["changed"] is False
    assert world.snapshot() == before
    assert {a: q["kinds"] for a, q in world.rotations().items()} == {acc: ["token", "password"]}


def test_a_failure_part_way_leaves_the_repeat_the_rotations_of_the_accounts_already_written(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = account("yhs.news", {COACH: "admin", KIM: "admin"})
    second = account("yhs.band", {COACH: "editor", KIM: "admin", ORTIZ: "admin"})
    put = AccountStore.put
    writes: list[str] = []

    def failing_second_put(self: AccountStore, account: Any, before: Any) -> bool:
        writes.append(account.id)
        if len(writes) == 2:
            raise Unavailable("the account registry could not be written")
        return put(self, account, before)

    monkeypatch.setattr(AccountStore, "put", failing_second_put)
    status, answer = offboard()
    assert status == 503, answer
    written = writes[0]
    stewards = [s["email"] for s in ok("GET", f"/accounts/{written}", "records.officer")["stewards"]]
    assert COACH not in stewards  # the first write stands: the person no longer shows on that account
    assert world.rotations() == {}

    monkeypatch.setattr(AccountStore, "put", put)
    status, report = offboard()
    assert status == 200, report
    assert sorted(r["account_id"] for r in report["removed_from"]) == sorted([first, second])
    # the account written before the failure is rotated too: its rotation was saved with the plan
    assert {a: q["kinds"] for a, q in world.rotations().items()} == {
        first: ["token", "password"],
        second: ["token"],
    }
    for acc in (first, second):
        assert COACH not in [s["email"] for s in ok("GET", f"/accounts/{acc}", "records.officer")["stewards"]]
    assert audit.verify().ok


def test_an_account_changed_during_the_offboarding_is_replanned_with_a_follow_up_entry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    acc = account("yhs.news", {COACH: "admin", KIM: "admin"})
    put = AccountStore.put
    raced: list[str] = []

    def racing_put(self: AccountStore, account: Any, before: Any) -> bool:
        if not raced:  # someone adds an admin between the offboarding's read and its write
            raced.append(account.id)
            ok("POST", f"/accounts/{acc}/stewards", "director.kim", {"email": ORTIZ, "role": "admin"})
        return put(self, account, before)

    monkeypatch.setattr(AccountStore, "put", racing_put)
    status, report = offboard()

    assert status == 200, report
    assert raced == [acc]
    view = ok("GET", f"/accounts/{acc}", "records.officer")
    assert sorted(s["email"] for s in view["stewards"]) == [KIM, ORTIZ]  # both changes hold
    assert report["below_minimum"] == []  # as it is now: two admins left
    first, follow_up = audit.entries_at(report["audit"])
    assert follow_up.details["supersedes"] == audit.locator(first)
    assert follow_up.details["outcome"] == "rewritten"
    assert view["history"][-1]["details"]["audit"] == audit.locator(follow_up)
    assert AccountStore().get(acc).revision == follow_up.details["accounts"][0]["revision"]  # type: ignore[union-attr]
    assert audit.verify().ok
