"""Compliance reports and the runs API on moto, through the reports-api handler: two official accounts on the
register (one linked to its Facebook page, with a credential in the vault; one not linked, its disclosures not all
confirmed), real comments delivered through receiver → processor, real moderation cases hidden on the fake platform
and decided by moderators, and a records request naming the page. The month's report must match the cases created
(per category and action), the comments captured, the disclosures and the credential's age; then the CSV download,
the district summary, the refusals, and a sweep's run read back."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.reports_api.handler import handler as reports_api
from infrastructure.local.fake_platforms import FakePlatforms
from infrastructure.local.provision import Provisioned
from shared import accounts_service, audit, ingest, requests_service, runs, vault_service
from shared.catalogue import Role
from shared.domain.accounts import DisclosureItem, StewardRole
from shared.domain.cases import Case, CaseState
from shared.domain.reports import csv_columns
from shared.identity import Identity
from shared.store.case_store import CaseStore
from tests.conftest import FakeContext
from tests.events import rest_event
from tests.integration.accounts_support import own_post
from tests.integration.test_moderation_api import decide
from tests.integration.test_moderation_cases import CLEAN, CRITICISM, PAGE, PHONE, POST, THREAT, delivery
from tests.integration.test_processor import Pipeline

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

DOMAIN = "district.example.org"
STAFF = Identity(
    subject="s1", username="ms.rivera", email=f"ms.rivera@{DOMAIN}", roles=frozenset({Role.STAFF})
)
COMMS = Identity(
    subject="s2",
    username="director.kim",
    email=f"director.kim@{DOMAIN}",
    roles=frozenset({Role.COMMUNICATIONS}),
)
IT = Identity(subject="s3", username="tech.ortiz", email=f"tech.ortiz@{DOMAIN}", roles=frozenset({Role.IT}))
RECORDS = Identity(
    subject="s4", username="records.officer", email=f"records@{DOMAIN}", roles=frozenset({Role.RECORDS})
)
COMMENTS = {  # comment id suffix: text
    "_9001": PHONE,
    "_9002": PHONE,
    "_9003": PHONE,
    "_9004": THREAT,
    "_9005": CLEAN,
    "_9006": CRITICISM,
}


def call(
    path: str, roles: tuple[str, ...] | None = ("communications",), **query: str
) -> tuple[int, Any, Any]:
    response = reports_api(rest_event("GET", path, roles=roles, query=query or None), FakeContext())
    body = response["body"]
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers |= response.get("headers") or {}
    parsed = json.loads(body) if headers.get("Content-Type", "").startswith("application/json") else body
    return response["statusCode"], parsed, headers


def ok(path: str, roles: tuple[str, ...] = ("communications",), **query: str) -> Any:
    status, body, _ = call(path, roles, **query)
    assert status == 200, (path, status, body)
    return body


def official(platform: str, handle: str, *, confirm: tuple[DisclosureItem, ...], activate: bool) -> str:
    view = accounts_service.request_account(
        STAFF,
        platform=platform,
        handle=handle,
        school="Yelm High School",
        purpose="School news and events",
        audience="Families and the community",
        kind="school",
    )
    accounts_service.approve(view.id, COMMS, note="approved")
    for name in ("admin.one", "admin.two"):
        accounts_service.add_steward(view.id, COMMS, f"{name}@{DOMAIN}", StewardRole.ADMIN)
    for item in confirm:
        accounts_service.confirm_disclosure(view.id, item, COMMS)
    if activate:
        accounts_service.move(view.id, "activate", COMMS)
    return view.id


@pytest.fixture
def pipeline(moto_env: Provisioned, fake: FakePlatforms) -> Pipeline:
    audit.reset()
    return Pipeline(moto_env)


class World:
    def __init__(self, linked: str, unlinked: str, cases: dict[str, Case], month: str) -> None:
        self.linked, self.unlinked, self.cases, self.month = linked, unlinked, cases, month


@pytest.fixture
def world(pipeline: Pipeline, fake: FakePlatforms) -> World:
    # Given two official accounts: the Facebook page, active and linked to its page id, with its credential stored;
    # an Instagram account approved but not linked, two disclosures short.
    linked = official("facebook", "yelmhighschool", confirm=tuple(DisclosureItem), activate=True)
    accounts_service.link_platform(linked, COMMS, PAGE)
    unlinked = official("instagram", "@yelm_hs", confirm=tuple(DisclosureItem)[:-2], activate=False)
    vault_service.store(
        linked,
        IT,
        {"login_email": f"social.yelm@{DOMAIN}", "password": "Correct-Horse-Battery-Staple-42"},
    )
    # The page's own post, and six comments on it by six parents, delivered, moderated and acted on.
    now = datetime.now(UTC)
    ingest.record(own_post("facebook", PAGE, POST, now, "Bus schedule for next week"), now)
    for n, (suffix, text) in enumerate(COMMENTS.items()):
        comment = f"{POST.split('_')[1]}{suffix}"
        fake.seed_comment("facebook", account_id=PAGE, post_id=POST, comment_id=comment, text=text)
        assert pipeline.deliver(f"c{n}.json", delivery(comment, text, author=f"77665544{n:02d}")) == 200
    pipeline.drain()
    opened = {c.item_id[-5:]: c for c in CaseStore().by_account("facebook", PAGE)}
    assert sorted(opened) == ["_9001", "_9002", "_9003", "_9004"]  # the clean comment and the opinion: none
    fake.wait_for_echoes(len(opened))
    # Moderators decide: one phone-number case overturned, one confirmed, one escalated; the threat stays hidden.
    reason = {"reason": "Checked against the published rule."}
    for suffix, decision in (("_9001", "overturn"), ("_9002", "confirm"), ("_9003", "escalate")):
        status, body = decide(opened[suffix], decision, reason)
        assert status == 200, body
    # A records request naming the page, received three weeks ago: overdue by now.
    requests_service.create(
        RECORDS,
        requester="Jane Citizen",
        received_on=(now - timedelta(days=21)).date(),
        text="Every comment hidden on the Yelm High School page.",
        jurisdiction="WA",
        scope={"accounts": [f"facebook:{PAGE}"]},
    )
    cases = {c.item_id[-5:]: c for c in CaseStore().by_account("facebook", PAGE)}
    return World(linked, unlinked, cases, f"{now:%Y-%m}")


def test_the_accounts_report_matches_the_cases_comments_disclosures_and_credential(world: World) -> None:
    report = ok(f"/reports/{world.month}/accounts/{world.linked}")
    header, row = report["header"], report["account"]
    assert (header["month"], header["complete"]) == (world.month, False)  # the current month: partial
    assert header["viewpoint_neutrality"]
    assert (row["account_id"], row["platform_id"], row["linked"]) == (world.linked, PAGE, True)

    # Activity: the page's own post; six comments captured; the two decided-and-kept phone numbers and the
    # threat are hidden now, the overturned one visible again.
    assert row["activity"] == {
        "posts_by_account": 1,
        "comments_captured": 6,
        "comments_hidden": 3,
        "comments_removed": 0,
        "posts_removed": 0,
    }

    # Moderation: exactly the cases created, per category and action, with their outcomes.
    moderation = row["moderation"]
    expected: dict[tuple[str, str], int] = {}
    for case in world.cases.values():
        key = (str(case.category), str(case.action))
        expected[key] = expected.get(key, 0) + 1
    assert {(r["category"], r["policy_action"]): r["opened"] for r in moderation["rows"]} == expected
    assert expected == {("private_information", "hide"): 3, ("threats_incitement", "critical"): 1}
    states = {suffix: case.state for suffix, case in world.cases.items()}
    assert states == {
        "_9001": CaseState.OVERTURNED,
        "_9002": CaseState.CONFIRMED,
        "_9003": CaseState.ESCALATED,
        "_9004": CaseState.ACTIONED,
    }
    assert (
        moderation["cases_opened"],
        moderation["hidden"],
        moderation["overturned"],
        moderation["confirmed"],
        moderation["escalated"],
        moderation["awaiting_decision"],
    ) == (4, 4, 1, 1, 1, 2)
    private = next(r for r in moderation["rows"] if r["category"] == "private_information")
    assert (private["overturned"], private["confirmed"], private["escalated"]) == (1, 1, 1)
    assert {u["rule_id"]: u["cases"] for u in moderation["rules_used"]} == {
        "phone-number": 3,
        "threat-violence": 1,
    }
    # The viewpoint-neutrality audit: every category is a published one; none is an opinion.
    assert moderation["categories_are_published"] is True
    by_category = {c["category"]: c for c in moderation["by_category"]}
    assert set(by_category) == set(header["published_categories"])
    assert by_category["private_information"] == {
        "category": "private_information",
        "opened": 3,
        "overturned": 1,
    }
    assert sum(c["opened"] for c in by_category.values()) == 4

    # Disclosures complete; the credential stored today.
    assert row["disclosures"] == {
        "applicable": True,
        "complete": True,
        "confirmed": 9,
        "required": 9,
        "missing": [],
    }
    credential = row["credential"]
    assert (credential["in_vault"], credential["has_password"], credential["password_age_days"]) == (
        True,
        True,
        0,
    )
    assert credential["rotation_due"] is False
    # The records request names the page through its hold.
    assert (row["records_requests"]["open"], row["records_requests"]["overdue"]) == (1, 1)


def test_the_csv_download_and_the_district_summary(world: World) -> None:
    status, body, headers = call(f"/reports/{world.month}/accounts/{world.linked}", format="csv")
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    assert headers["Content-Disposition"] == (
        f'attachment; filename="steward-report-{world.month}-{world.linked}.csv"'
    )
    (head, line) = list(csv.reader(io.StringIO(body)))
    assert head == csv_columns(ok(f"/reports/{world.month}")["header"]["published_categories"])
    mine = dict(zip(head, line, strict=True))
    assert (mine["comments_captured"], mine["cases_opened"], mine["cases_private_information"]) == (
        "6",
        "4",
        "3",
    )
    assert (mine["overturned_private_information"], mine["rules_used"]) == (
        "1",
        "phone-number=3;threat-violence=1",
    )

    district = ok(f"/reports/{world.month}", roles=("records",))
    rows = {r["account_id"]: r for r in district["accounts"]}
    assert set(rows) == {world.linked, world.unlinked}
    other = rows[world.unlinked]
    assert (other["linked"], other["activity"]["comments_captured"], other["moderation"]["cases_opened"]) == (
        False,
        0,
        0,
    )
    assert other["disclosures"]["missing"] == [str(i) for i in tuple(DisclosureItem)[-2:]]
    assert other["credential"]["in_vault"] is False
    totals = district["totals"]
    assert (totals["accounts"], totals["linked"], totals["not_linked"]) == (2, 1, 1)
    assert (totals["disclosures_incomplete"], totals["credentials_missing"], totals["comments_captured"]) == (
        1,
        1,
        6,
    )
    assert (district["moderation"]["cases_opened"], district["moderation"]["overturned"]) == (4, 1)
    assert (district["records_requests"]["open"], district["records_requests"]["overdue"]) == (1, 1)

    status, body, headers = call(f"/reports/{world.month}", roles=("it",), format="csv")
    assert status == 200
    assert (
        headers["Content-Disposition"] == f'attachment; filename="steward-report-{world.month}-district.csv"'
    )
    table = list(csv.reader(io.StringIO(body)))
    assert len(table) == 4  # the header, two accounts, the total
    total = dict(zip(table[0], table[-1], strict=True))
    assert (total["account_id"], total["cases_opened"], total["records_overdue"]) == ("TOTAL", "4", "1")

    # An earlier month: nothing happened then (the accounts did not exist yet).
    earlier = ok("/reports/2020-01")
    assert (earlier["header"]["complete"], earlier["accounts"]) == (True, [])


def test_refusals_are_4xx_with_a_message(moto_env: Provisioned) -> None:
    account = "0" * 32
    future = datetime.now(UTC) + timedelta(days=62)
    for path, status, words in (
        ("/reports/2026-13", 422, "01 to 12"),
        ("/reports/March", 422, "YYYY-MM"),
        ("/reports/1999-12", 422, "2000-01"),
        (f"/reports/{future:%Y-%m}", 422, "future"),
        (f"/reports/{future:%Y-%m}/accounts/{account}", 422, "future"),
        (f"/reports/2026-01/accounts/{account}", 404, "no account"),
        ("/reports/2026-01/accounts/not-an-id", 422, "account_id"),
    ):
        got, body, _ = call(path)
        assert got == status, (path, body)
        assert words in body["message"], (path, body)
    got, body, _ = call("/reports/2026-01", format="xml")
    assert got == 422
    assert "format" in body["message"]
    for roles, status in ((("moderators",), 403), (("staff",), 403), (None, 401)):
        got, body, _ = call("/reports/2026-01", roles=roles)
        assert got == status, (roles, body)
        got, body, _ = call("/runs/abandoned-accounts", roles=roles)
        assert got == status, (roles, body)


def test_a_sweeps_runs_are_read_back(moto_env: Provisioned) -> None:
    with runs.recorded("abandoned-accounts") as run:
        run.saw(3)
        run.did(1)
        run.problem("account-1", "the platform refused the token")
    with runs.recorded("abandoned-accounts") as run:
        run.saw(2)

    listing = ok("/runs/abandoned-accounts", roles=("it",))
    assert [r["state"] for r in listing["runs"]] == ["succeeded", "partial"]  # newest first
    newest, first = listing["runs"]
    assert (first["seen"], first["actions"], first["errors"]) == (3, 1, 1)
    assert first["problems"] == [{"subject": "account-1", "error": "the platform refused the token"}]
    assert [r["id"] for r in ok("/runs/abandoned-accounts", limit="1")["runs"]] == [newest["id"]]

    one = ok(f"/runs/abandoned-accounts/{first['id']}", roles=("records",))
    assert one == first
    got, body, _ = call("/runs/another-sweep")
    assert got == 404, body
    assert "abandoned-accounts, audit-anchor, credential-rotation, disposition-sweep" in body["message"]
    for path, query, status in (
        ("/runs/abandoned-accounts/20260101T000000000000-00000000", {}, 404),
        ("/runs/abandoned-accounts/not-a-run", {}, 422),
        ("/runs/Test_Sweep", {}, 422),
        ("/runs/abandoned-accounts", {"limit": "0"}, 422),
        ("/runs/abandoned-accounts", {"limit": "101"}, 422),
    ):
        got, body, _ = call(path, **query)
        assert got == status, (path, query, body)
        assert body["message"]
