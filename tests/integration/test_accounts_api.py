"""The official-account registry on moto, through the accounts-api handler: a classroom account walked from the
request to active (principal, then communications; two district admins; every disclosure), each refusal on the way
changing nothing, the searches (each through an index) and the audit trail of every step."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from functions.accounts_api.handler import handler as accounts_api
from infrastructure.local.provision import Provisioned
from shared import audit, catalogue
from shared.domain.accounts import DisclosureItem
from tests.conftest import REGION, FakeContext
from tests.events import rest_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

DOMAIN = "district.example.org"
TEACHER = f"ms.rivera@{DOMAIN}"
PEOPLE = {  # username: roles
    "ms.rivera": ("staff",),
    "principal.lee": ("principals",),
    "director.kim": ("communications",),
    "tech.ortiz": ("it",),
    "records.officer": ("records",),
}
REQUEST = {
    "platform": "instagram",
    "handle": "@yhs_robotics",
    "school": "Yelm High School",
    "purpose": "Robotics team news and competition results",
    "audience": "Students, families and the community",
    "kind": "team",
}


def call(
    method: str,
    path: str,
    who: str = "director.kim",
    *,
    body: Any = None,
    query: dict[str, str] | None = None,
) -> tuple[int, Any]:
    event = rest_event(method, path, roles=PEOPLE[who], body=body, query=query)
    claims = event["requestContext"]["authorizer"]["claims"]
    claims.update({"cognito:username": who, "sub": f"sub-{who}", "email": f"{who}@{DOMAIN}"})
    response = accounts_api(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


class World:
    """The accounts and audit tables as plain boto3 sees them: what a refused request must not change."""

    def __init__(self, env: Provisioned) -> None:
        self.ddb = boto3.client("dynamodb", region_name=REGION)
        self.accounts = env.env[catalogue.table("accounts").env_var]
        self.audit = env.env[catalogue.table("audit").env_var]

    def _scan(self, table: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self.ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items.extend(page["Items"])
        return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))

    def snapshot(self) -> tuple[list[dict[str, Any]], int]:
        return self._scan(self.accounts), len(self._scan(self.audit))


@pytest.fixture
def world(moto_env: Provisioned) -> World:
    audit.reset()
    return World(moto_env)


def refused(
    world: World, status: int, words: tuple[str, ...], method: str, path: str, who: str, body: Any = None
) -> dict[str, Any]:
    before = world.snapshot()
    got, answer = call(method, path, who, body=body)
    assert got == status, (method, path, who, answer)
    for word in words:
        assert word in answer["message"], answer
    assert world.snapshot() == before, f"{method} {path} as {who} changed something"
    return answer


def requested(who: str = "ms.rivera", **changes: str) -> str:
    status, account = call("POST", "/accounts", who, body={**REQUEST, **changes})
    assert status == 201, account
    return str(account["id"])


# --------------------------------------------------------------------------------------------- the scenario
def test_a_team_account_from_request_to_active_with_every_refusal_on_the_way(world: World) -> None:
    # Requested by a teacher (staff): the principal's approval is awaited first.
    status, account = call("POST", "/accounts", "ms.rivera", body=REQUEST)
    assert status == 201, account
    acc = account["id"]
    base = f"/accounts/{acc}"
    assert (account["status"], account["requested_by"]) == ("requested", TEACHER)
    assert account["approvals_required"] == ["principals", "communications"]
    assert account["pending_approval"] == "principals"

    # Refusals before approval: a second request for the same handle, a body with an unknown field, a staff
    # member approving (route table), communications approving before the principal (domain), activating early.
    refused(world, 409, ("already on the register",), "POST", "/accounts", "ms.rivera", REQUEST)
    refused(
        world, 422, ("colour: unknown field",), "POST", "/accounts", "ms.rivera", {**REQUEST, "colour": "red"}
    )
    refused(world, 403, ("principals",), "POST", f"{base}/approve", "ms.rivera", {})
    refused(world, 403, ("principal",), "POST", f"{base}/approve", "director.kim", {})
    refused(world, 409, ("cannot go from requested to active",), "POST", f"{base}/activate", "tech.ortiz", {})
    refused(world, 422, ("reason",), "POST", f"{base}/reject", "director.kim", {})
    refused(world, 404, ("no account",), "POST", f"/accounts/{'0' * 32}/approve", "principal.lee", {})

    status, account = call("POST", f"{base}/approve", "principal.lee", body={"note": "Coach Diaz supervises"})
    assert (status, account["status"], account["pending_approval"]) == (200, "requested", "communications")
    refused(
        world, 403, ("communications",), "POST", f"{base}/approve", "principal.lee", {}
    )  # the final one is not theirs
    status, account = call("POST", f"{base}/approve", "director.kim", body={})
    assert (status, account["status"], account["pending_approval"]) == (200, "approved", None)
    assert [a["role"] for a in account["approvals"]] == ["principals", "communications"]

    # Stewards: district staff only; not by the requester's role.
    steward = {"email": TEACHER, "role": "admin"}
    refused(world, 403, ("communications",), "POST", f"{base}/stewards", "ms.rivera", steward)
    refused(
        world,
        400,
        ("not district staff",),
        "POST",
        f"{base}/stewards",
        "director.kim",
        {"email": "coach@gmail.com", "role": "admin"},
    )
    refused(
        world, 422, ("role",), "POST", f"{base}/stewards", "director.kim", {"email": TEACHER, "role": "owner"}
    )
    status, account = call("POST", f"{base}/stewards", "director.kim", body=steward)
    assert status == 200, account
    refused(world, 409, ("already a steward",), "POST", f"{base}/stewards", "tech.ortiz", steward)

    # One admin and no disclosures: activation names every problem.
    answer = refused(
        world, 409, ("1 admin", "official_notice", "purpose"), "POST", f"{base}/activate", "tech.ortiz"
    )
    assert set(answer["details"]["missing_disclosures"]) == {i.value for i in DisclosureItem}

    status, account = call(
        "POST", f"{base}/stewards", "tech.ortiz", body={"email": f"coach.diaz@{DOMAIN}", "role": "editor"}
    )
    assert status == 200, account
    status, account = call(
        "PATCH",
        f"{base}/stewards/coach.diaz@{DOMAIN}",
        "tech.ortiz",
        body={"role": "admin", "reason": "co-admin"},
    )
    assert status == 200, account
    assert account["admin_shortfall"] == 0
    assert sorted(s["email"] for s in account["stewards"] if s["role"] == "admin") == [
        f"coach.diaz@{DOMAIN}",
        TEACHER,
    ]

    # Disclosures: the checklist renders the district's text for this account; confirming needs comms or it.
    status, checklist = call("GET", f"{base}/disclosures", "records.officer")
    assert (status, checklist["complete"], len(checklist["items"])) == (200, False, 9)
    texts = {i["item"]: i["text"] for i in checklist["items"]}
    assert "Yelm High School" in texts["purpose"]
    assert "Instagram" in texts["security_settings"]
    assert "official publication of Steward School District" in texts["official_notice"]
    refused(
        world, 403, ("communications",), "POST", f"{base}/disclosures/purpose/confirm", "principal.lee", {}
    )
    refused(world, 422, ("item",), "POST", f"{base}/disclosures/footer/confirm", "director.kim", {})
    for n, item in enumerate(DisclosureItem):
        who = "director.kim" if n % 2 else "tech.ortiz"
        status, checklist = call("POST", f"{base}/disclosures/{item.value}/confirm", who, body={})
        assert status == 200, checklist
        if item is DisclosureItem.USER_PROTOCOLS:
            answer = refused(
                world, 409, ("user_responsibility",), "POST", f"{base}/activate", "tech.ortiz", {}
            )
            assert "admin" not in answer["message"]
            assert "purpose" not in answer["details"]["missing_disclosures"]
    assert checklist["complete"] is True
    assert checklist["missing"] == []
    assert {i["confirmed_by"] for i in checklist["items"]} == {"user:director.kim", "user:tech.ortiz"}

    # Activate; then the two-admin rule holds for the active account.
    refused(world, 403, ("communications",), "POST", f"{base}/activate", "records.officer", {})
    status, account = call("POST", f"{base}/activate", "tech.ortiz", body={})
    assert (status, account["status"]) == (200, "active"), account
    refused(world, 409, ("at least 2",), "DELETE", f"{base}/stewards/{TEACHER}", "director.kim")
    refused(
        world, 409, ("at least 2",), "PATCH", f"{base}/stewards/{TEACHER}", "director.kim", {"role": "editor"}
    )
    refused(world, 404, ("not a steward",), "DELETE", f"{base}/stewards/nobody@{DOMAIN}", "director.kim")
    refused(world, 409, ("cannot go from active to abandoned",), "POST", f"{base}/abandon", "director.kim",
            {"reason": "nobody posts"})  # fmt: skip
    refused(world, 422, ("reason",), "POST", f"{base}/retire", "director.kim", {"reason": ""})
    refused(world, 422, ("reason",), "POST", f"{base}/retire", "director.kim", {"reason": "   \t   "})

    # Everyone who may read sees it; the audit trail has every step, in order, and verifies.
    for reader in ("records.officer", "principal.lee", "tech.ortiz", "director.kim"):
        status, seen = call("GET", base, reader)
        assert (status, seen["status"]) == (200, "active")
    refused(world, 403, ("records",), "GET", base, "ms.rivera")
    trail = audit.log().for_resource(f"account:{acc}")
    assert [e.action for e in trail] == [
        "account.requested",
        "account.approved_by_principals",
        "account.approved",
        "account.steward_added",
        "account.steward_added",
        "account.steward_role_changed",
        *["account.disclosure_confirmed"] * 9,
        "account.activated",
    ]
    assert trail[0].actor == "user:ms.rivera"
    assert trail[1].actor == "user:principal.lee"
    assert trail[2].details["to_status"] == "approved"
    assert trail[-1].details["to_status"] == "active"
    assert trail[3].details["steward"] == TEACHER
    report = audit.verify()
    assert report.ok, report
    assert len(seen["history"]) == len(trail)

    # The rest of the lifecycle: dormant, reactivated, dormant, abandoned (reason required), retired.
    refused(world, 403, ("communications",), "POST", f"{base}/dormant", "principal.lee", {})
    assert call("POST", f"{base}/dormant", "tech.ortiz")[1]["status"] == "dormant"
    assert (
        call("POST", f"{base}/activate", "director.kim", body={"reason": "season"})[1]["status"] == "active"
    )
    assert (
        call("POST", f"{base}/dormant", "director.kim", body={"reason": "off season"})[1]["status"]
        == "dormant"
    )
    refused(
        world, 403, ("communications",), "POST", f"{base}/abandon", "tech.ortiz", {"reason": "no one posts"}
    )
    refused(world, 422, ("reason",), "POST", f"{base}/abandon", "director.kim", {})
    assert call("POST", f"{base}/abandon", "director.kim", body={"reason": "no one posts"})[1]["status"] == (
        "abandoned"
    )
    refused(world, 409, ("abandoned to active",), "POST", f"{base}/activate", "director.kim", {})
    status, account = call("POST", f"{base}/retire", "director.kim", body={"reason": "taken down (4007)"})
    assert (status, account["status"]) == (200, "retired")
    actions = [e.action for e in audit.log().for_resource(f"account:{acc}")][len(trail) :]
    assert actions == [
        "account.marked_dormant",
        "account.reactivated",
        "account.marked_dormant",
        "account.abandoned",
        "account.retired",
    ]
    assert audit.verify().ok


def test_lifecycle_moves_with_reasons_and_rejection(world: World) -> None:
    acc = requested(kind="school", handle="@yhs")
    base = f"/accounts/{acc}"
    # A school account needs only the communications approval; the principal may not reject it.
    status, account = call("GET", base, "principal.lee")
    assert account["approvals_required"] == ["communications"]
    refused(
        world, 403, ("communications",), "POST", f"{base}/reject", "principal.lee", {"reason": "not needed"}
    )
    status, account = call("POST", f"{base}/reject", "director.kim", body={"reason": "a school page exists"})
    assert (status, account["status"]) == (200, "rejected")
    refused(world, 409, ("final",), "POST", f"{base}/retire", "director.kim", {"reason": "tidy up"})
    refused(
        world,
        409,
        ("rejected",),
        "POST",
        f"{base}/stewards",
        "director.kim",
        {"email": TEACHER, "role": "admin"},
    )

    # A team request the principal refuses at their step.
    team = requested(handle="@yhs_chess")
    status, account = call("POST", f"/accounts/{team}/reject", "principal.lee", body={"reason": "no coach"})
    assert (status, account["status"]) == (200, "rejected")

    # approved → retired with a reason (communications only; `it` may not retire an official account).
    other = requested(kind="department", handle="@ssd_transport")
    assert call("POST", f"/accounts/{other}/approve", "director.kim", body={})[0] == 200
    refused(
        world,
        403,
        ("communications",),
        "POST",
        f"/accounts/{other}/retire",
        "tech.ortiz",
        {"reason": "x" * 5},
    )
    status, account = call("POST", f"/accounts/{other}/retire", "director.kim", body={"reason": "merged"})
    assert (status, account["status"]) == (200, "retired")
    trail = audit.log().for_resource(f"account:{other}")
    assert trail[-1].details["reason"] == "merged"


def test_unofficial_pages_are_recorded_and_only_retired(world: World) -> None:
    page = {
        "platform": "facebook",
        "handle": "https://facebook.com/yhs-parents",
        "school": "Yelm High School",
        "purpose": "A parents' group",
        "audience": "Parents",
    }
    refused(world, 403, ("communications",), "POST", "/accounts/unofficial", "ms.rivera", page)
    status, account = call("POST", "/accounts/unofficial", "tech.ortiz", body=page)
    assert status == 201, account
    assert (account["status"], account["kind"], account["official"]) == ("recorded", "unofficial", False)
    assert "is not an official Steward School District site" in account["not_official_statement"]
    base = f"/accounts/{account['id']}"
    refused(world, 409, ("never approved",), "POST", f"{base}/approve", "director.kim", {})
    refused(world, 409, ("unofficial",), "GET", f"{base}/disclosures", "director.kim")
    refused(
        world,
        409,
        ("unofficial",),
        "POST",
        f"{base}/stewards",
        "director.kim",
        {"email": TEACHER, "role": "admin"},
    )
    status, account = call("POST", f"{base}/retire", "tech.ortiz", body={"reason": "the group closed"})
    assert (status, account["status"]) == (200, "retired")


def test_search_by_each_index_with_pages(world: World) -> None:
    ids = {
        "robotics": requested(handle="@yhs_robotics"),
        "chess": requested(handle="@yhs_chess", platform="facebook"),
        "mill": requested(handle="@mill_pond_el", school="Mill Pond Elementary", kind="school"),
    }
    assert call("POST", f"/accounts/{ids['mill']}/approve", "director.kim", body={})[0] == 200
    for account_id in (ids["robotics"], ids["mill"]):
        status, _ = call(
            "POST",
            f"/accounts/{account_id}/stewards",
            "tech.ortiz",
            body={"email": f"coach@{DOMAIN}", "role": "admin"},
        )
        assert status == 200

    def found(query: dict[str, str], who: str = "records.officer") -> set[str]:
        status, page = call("GET", "/accounts", who, query=query)
        assert status == 200, page
        return {a["id"] for a in page["accounts"]}

    assert found({"school": "yelm high  school"}) == {ids["robotics"], ids["chess"]}
    assert found({"platform": "facebook"}) == {ids["chess"]}
    assert found({"status": "approved"}) == {ids["mill"]}
    assert found({"status": "requested"}) == {ids["robotics"], ids["chess"]}
    assert found({"steward": f"Coach@{DOMAIN}"}) == {ids["robotics"], ids["mill"]}
    assert found({"steward": f"coach@{DOMAIN}", "status": "approved"}) == {ids["mill"]}
    assert found({"school": "Yelm High School", "platform": "instagram"}) == {ids["robotics"]}
    assert found({"steward": f"nobody@{DOMAIN}"}) == set()
    assert found({}, "principal.lee") == set(ids.values())

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        status, page = call("GET", "/accounts", "director.kim", query=query)
        assert status == 200, page
        seen += [a["id"] for a in page["accounts"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids.values())

    _, page = call("GET", "/accounts", query={"limit": "1"})
    for query, named in (
        ({"limit": "1", "cursor": page["next_cursor"], "status": "active"}, "cursor"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"status": "sleeping"}, "status"),
        ({"platform": "myspace"}, "platform"),
        ({"limit": "0"}, "limit"),
        ({"steward": "coach"}, "steward"),
    ):
        status, body = call("GET", "/accounts", query=query)
        assert status == 422, (query, body)
        assert named in body["message"]
    status, body = call("GET", "/accounts", "ms.rivera")
    assert status == 403


def test_removing_a_steward_before_activation_and_requests_that_name_no_staff(world: World) -> None:
    acc = requested(handle="@yhs_band", kind="school")
    base = f"/accounts/{acc}"
    assert (
        call("POST", f"{base}/stewards", "director.kim", body={"email": TEACHER, "role": "editor"})[0] == 200
    )
    encoded = TEACHER.upper().replace("@", "%40")  # a client may percent-encode the @
    status, account = call("DELETE", f"{base}/stewards/{encoded}", "director.kim", query={"reason": "left"})
    assert status == 200, account
    assert account["stewards"] == []
    status, page = call("GET", "/accounts", query={"steward": TEACHER})
    assert page["accounts"] == []
    actions = [e.action for e in audit.log().for_resource(f"account:{acc}")]
    assert actions == ["account.requested", "account.steward_added", "account.steward_removed"]
    refused(
        world, 422, ("kind",), "POST", "/accounts", "ms.rivera", {**REQUEST, "handle": "@x", "kind": "club"}
    )
    refused(
        world,
        422,
        ("school",),
        "POST",
        "/accounts",
        "ms.rivera",
        {k: v for k, v in REQUEST.items() if k != "school"},
    )
    refused(world, 400, ("JSON",), "POST", "/accounts", "ms.rivera", "{not json")
