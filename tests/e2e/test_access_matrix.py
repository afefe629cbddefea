"""The access-control proof: every route by every role, plus no token and bad tokens, against `steward local`.

The matrix is built from the route table (``shared.catalogue.ROUTES``) and from the OpenAPI document the running
system serves; a route missing from either fails. Each cell is one test, named like ``GET /accounts[records]``:

- an allowed role succeeds: a 2xx on a resource made for the cell through the API (or found in the sample
  data), in the state the route needs, so the answer proves the role check passed and the handler did its work;
- every other role gets 403 with a message naming the roles the route needs;
- no token, a malformed token, an expired token (signed with the pool's own key) and a token signed with a
  foreign key get 401 with a message;
- public routes (health, webhooks) answer what they are documented to answer, with no token.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from functions.docs.routes import operations
from shared import catalogue
from shared.catalogue import Role
from shared.domain import webhooks
from shared.store.records_store import CACHE_SECONDS
from tests.e2e.conftest import LocalSteward

pytestmark = pytest.mark.e2e

DELIVERIES = Path(__file__).resolve().parents[2] / "events" / "deliveries"
PROTECTED = tuple(r for r in catalogue.ROUTES if not r.public)
PUBLIC = tuple(r for r in catalogue.ROUTES if r.public)
# Well-formed ids of resources that do not exist: a refused call must be refused before anything is looked up.
EXAMPLE_PARAMS = {
    "account_id": "0" * 32,
    "email": "nobody@district.example.org",
    "item": "contact",
    "version_id": "00000000-0000-4000-8000-000000000000",
    "case_id": "0" * 64,
    "chain": "0",
    "sweep": "reconciliation",
    "run_id": "20260101T000000-abcdef",
    "month": "2026-01",
    "dan": "GS50-01-12",
    "platform": "facebook",
    "item_id": "1",
    "version": "1",
    "hold_id": "0" * 32,
    "batch_id": "20260101T000000-000000000000",
    "request_id": "20260101-00000000",
    "export_id": "20260101T000000-00000000",
}
# The sample delivery the runtime seeds (events/deliveries/facebook_comment_clean.json).
SAMPLE_PAGE = "1234567890321"
SAMPLE_COMMENT = "901097836652708_905000000000003"
SAMPLE_SERIES = "GS50-01-12"
DOMAIN = "district.example.org"
WAIT_SECONDS = 30.0


def concrete(path: str, **params: str) -> str:
    values = {**EXAMPLE_PARAMS, **params}
    for name, value in values.items():
        path = path.replace(f"{{{name}}}", urllib.parse.quote(value, safe=""))
    return path


@dataclass(frozen=True)
class Cell:
    route: catalogue.Route
    # A role, or one of the token cases: no-token, malformed, expired, foreign, public.
    who: str

    @property
    def id(self) -> str:
        return f"{self.route.method} {self.route.path}[{self.who}]"


BAD_TOKENS = ("no-token", "malformed", "expired", "foreign")
CELLS = (
    *(Cell(r, str(role)) for r in PROTECTED for role in Role),
    *(Cell(r, case) for r in PROTECTED for case in BAD_TOKENS),
    *(Cell(r, "public") for r in PUBLIC),
)


@dataclass
class Request:
    path: str
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- the world
class World:
    """Resources made through the API itself for the allowed cells; each state-changing cell gets its own."""

    def __init__(self, local: LocalSteward) -> None:
        self.local = local
        self.tokens = {str(role): local.token(str(role)) for role in Role}
        self.serial = 0
        self._cache: dict[str, Any] = {}

    def unique(self) -> str:
        self.serial += 1
        return f"{int(time.time())}-{self.serial}"

    def ok(self, method: str, path: str, role: str, body: Any = None) -> Any:
        status, reply = self.local.call(method, path, token=self.tokens[role], body=body)
        assert 200 <= status < 300, f"setup {method} {path} as {role}: {status} {reply}"
        return reply

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    # accounts ---------------------------------------------------------------------------------------
    def requested(self, kind: str = "classroom") -> str:
        reply = self.ok(
            "POST",
            "/accounts",
            "staff",
            {
                "platform": "facebook",
                "handle": f"matrix-{kind}-{self.unique()}",
                "school": "Steward High School",
                "purpose": "Access matrix test account",
                "audience": "Families",
                "kind": kind,
            },
        )
        return str(reply["id"])

    def awaiting_final(self) -> str:
        account = self.requested("classroom")
        self.ok("POST", f"/accounts/{account}/approve", "principals", {"note": "ok"})
        return account

    def approved(self) -> str:
        account = self.requested("school")
        self.ok("POST", f"/accounts/{account}/approve", "communications", {"note": "ok"})
        return account

    def ready(self) -> str:
        """Approved, with two admin stewards and an editor, every disclosure confirmed."""
        account = self.approved()
        for n, role in ((1, "admin"), (2, "admin"), (3, "editor")):
            email = f"matrix.{account[:8]}.{n}@{DOMAIN}"
            self.ok("POST", f"/accounts/{account}/stewards", "communications", {"email": email, "role": role})
        checklist = self.ok("GET", f"/accounts/{account}/disclosures", "communications")
        for item in checklist.get("missing") or []:
            self.ok("POST", f"/accounts/{account}/disclosures/{item}/confirm", "communications")
        return account

    def active(self) -> str:
        account = self.ready()
        self.ok("POST", f"/accounts/{account}/activate", "communications")
        return account

    def dormant(self) -> str:
        account = self.active()
        self.ok("POST", f"/accounts/{account}/dormant", "communications", {"reason": "quiet"})
        return account

    def abandoned(self) -> str:
        account = self.dormant()
        self.ok("POST", f"/accounts/{account}/abandon", "communications", REASON)
        return account

    def unofficial(self) -> str:
        reply = self.ok(
            "POST",
            "/accounts/unofficial",
            "communications",
            {
                "platform": "facebook",
                "handle": f"matrix-unofficial-{self.unique()}",
                "school": "Steward High School",
                "purpose": "A boosters page",
                "audience": "Fans",
            },
        )
        return str(reply["id"])

    def steward_of(self, account: str) -> str:
        return f"matrix.{account[:8]}.3@{DOMAIN}"

    def credentialed(self) -> str:
        account = self.active()
        self.ok(
            "PUT",
            f"/accounts/{account}/credential",
            "it",
            {
                "login_email": f"matrix.login.{account[:8]}@{DOMAIN}",
                "password": "Correct-Horse-Battery-9",
                "tokens": {"page_access_token": f"page-token-{account[:8]}", "refresh_token": None},
            },
        )
        return account

    def rotating(self) -> tuple[str, str]:
        """An account with a password rotation waiting for IT (its version id)."""
        account = self.credentialed()
        reply = self.ok(
            "POST",
            f"/accounts/{account}/credential/rotations",
            "it",
            {"kind": "password", "reason": "matrix"},
        )
        return account, str(reply["rotation"]["version_id"])

    def handed_over(self) -> tuple[str, str]:
        account, version = self.rotating()
        self.ok("POST", f"/accounts/{account}/credential/rotations/{version}/handover", "it")
        return account, version

    # moderation -------------------------------------------------------------------------------------
    def secret(self, key: str, name: str) -> str:
        client = self.local.client("secretsmanager")
        secret_id = self.local.state["env"][f"STEWARD_SECRET_{key.upper().replace('-', '_')}"]
        value = client.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")["SecretString"]
        return str(json.loads(value)[name])

    def signed(self, platform: webhooks.Platform, body: bytes) -> dict[str, str]:
        key, name = {
            "meta": ("meta-app", "app_secret"),
            "x": ("x-app", "consumer_secret"),
            "youtube": ("websub", "secret"),
        }[platform]
        header = webhooks.SIGNATURE_HEADERS[platform]
        return {header: webhooks.expected_signature(platform, self.secret(key, name), body)}

    def case(self) -> str:
        """A fresh open case: a phone number in a new comment on the sample page, hidden by its rule."""
        document = json.loads((DELIVERIES / "facebook_comment_phone.json").read_bytes())
        value = document["entry"][0]["changes"][0]["value"]
        comment_id = f"{value['comment_id']}{self.serial}{int(time.time())}"
        self.unique()
        value["comment_id"] = comment_id
        seeded = {
            "platform": "facebook",
            "account_id": document["entry"][0]["id"],
            "post_id": value["post_id"],
            "comment_id": comment_id,
            "parent_id": value["parent_id"],
            "author_id": value["from"]["id"],
            "author_name": value["from"]["name"],
            "text": value["message"],
            "created_time": value["created_time"],
        }
        platforms = LocalSteward(
            self.local.state_file, {**self.local.state, "api_url": self.local.state["platforms_url"]}
        )
        platforms.call("POST", "/__comments", body=seeded)
        body = json.dumps(document).encode()
        status, reply = self.local.call("POST", "/webhooks/meta", raw=body, headers=self.signed("meta", body))
        assert status == 200, reply
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            _, found = self.local.call("GET", "/moderation/cases", token=self.tokens["communications"])
            for case in found.get("cases", []):
                if case.get("item_id") == comment_id:
                    return str(case["case_id"])
            time.sleep(0.2)
        raise AssertionError(f"no case opened for comment {comment_id}")

    # records ----------------------------------------------------------------------------------------
    def records_request(self, *steps: tuple[str, Any]) -> str:
        reply = self.ok(
            "POST",
            "/requests",
            "records",
            {
                "requester": "A parent",
                "received_on": DAY,
                "text": "Comments on the high school page",
                "jurisdiction": "WA",
                "scope": {"accounts": [f"facebook:{SAMPLE_PAGE}"]},
            },
        )
        request_id = str(reply["request"]["id"])
        for step, body in steps:
            self.ok("POST", f"/requests/{request_id}/{step}", "records", body)
        return request_id

    def export(self, built: bool) -> tuple[str, str]:
        request_id = self.records_request()
        reply = self.ok(
            "POST",
            f"/requests/{request_id}/exports",
            "records",
            {"account": f"facebook:{SAMPLE_PAGE}", **RANGE},
        )
        export_id = str(reply["id"])
        deadline = time.monotonic() + WAIT_SECONDS
        while built and time.monotonic() < deadline:
            view = self.ok("GET", f"/requests/{request_id}/exports/{export_id}", "records")
            if view.get("state") == "ready":
                break
            time.sleep(0.3)
        return request_id, export_id

    def hold(self) -> str:
        reply = self.ok(
            "POST",
            "/holds",
            "records",
            {
                "matter": f"Matrix {self.unique()}",
                "reason": "Litigation expected",
                "scope": {"accounts": [f"facebook:{SAMPLE_PAGE}"]},
            },
        )
        return str(reply["hold"]["id"])

    BATCH_SERIES = "MATRIX-ONE-DAY"
    BATCH_PAGES = ("5550000001", "5550000002", "5550000003")

    def prepare(self) -> None:
        """Give the disposition cells their pages now: the processor reads the schedule at most every
        ``CACHE_SECONDS``, so assignments made here are in force by the time those cells deliver."""
        series = {
            "title": "One day",
            "description": "Kept one day after creation, then destroyed",
            "retention_days": 1,
            "trigger": "created",
            "disposition": "destroy",
            "archival": False,
            "jurisdiction": "WA",
        }
        self.ok("PUT", f"/retention/series/{self.BATCH_SERIES}", "records", series)
        for page in self.BATCH_PAGES:
            self.ok("PUT", f"/retention/assignments/facebook/{page}", "records", {"dan": self.BATCH_SERIES})
        self.prepared_at = time.monotonic()

    def batch(self, slot: int) -> str:
        """A proposed disposition batch: a comment from 2020 on a page whose series keeps it one day."""
        page = self.BATCH_PAGES[slot]
        time.sleep(max(0.0, self.prepared_at + CACHE_SECONDS + 1 - time.monotonic()))
        document = json.loads((DELIVERIES / "facebook_comment_clean.json").read_bytes())
        document["entry"][0]["id"] = page
        document["entry"][0]["changes"][0]["value"].update(
            created_time=int(datetime(2020, 1, 1, tzinfo=UTC).timestamp()),
            post_id=f"{page}_1",
            parent_id=f"{page}_1",
            comment_id=f"{page}_1_1",
        )
        body = json.dumps(document).encode()
        status, reply = self.local.call("POST", "/webhooks/meta", raw=body, headers=self.signed("meta", body))
        assert status == 200, reply
        # The processor records the item's retention; sweep until the batch holding it is proposed.
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            self.ok("POST", "/disposition/sweep", "records")
            listed = self.ok("GET", "/disposition/batches?state=proposed", "records")
            for batch in listed["batches"]:
                if any(c["item"]["account_id"] == page for c in batch["items"]):
                    return str(batch["id"])
            time.sleep(0.3)
        raise AssertionError(f"no disposition batch was proposed for page {page}")

    def run(self) -> str:
        def make() -> str:
            result = self.local.steward("schedule", "run", "reconciliation")
            assert result.returncode == 0, result.stderr
            reply = self.ok("GET", "/runs/reconciliation", "records")
            return str(reply["runs"][0]["id"])

        return str(self.once("run", make))


# The request's dates: yesterday in UTC, never in the future wherever the district is.
DAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
REASON = {"reason": "Checked by the access matrix"}
CLOSE = {"closure": "fulfilled", "closed_on": DAY}
ACK = ("acknowledge", None)
START = ("start", None)
ASK = ("clarification", {"question": "Which dates?"})
Builder = Callable[[World, str], Request]


def _account_route(state: Callable[[World], str], suffix: str, body: Any = None) -> Builder:
    def build(world: World, role: str) -> Request:
        return Request(f"/accounts/{state(world)}{suffix}", body)

    return build


def _rotation(step: str, state: Callable[[World], tuple[str, str]], body: Any = None) -> Builder:
    def build(world: World, role: str) -> Request:
        account, version = state(world)
        return Request(f"/accounts/{account}/credential/rotations/{version}/{step}", body)

    return build


def _steward(method: str) -> Builder:
    def build(world: World, role: str) -> Request:
        account = world.ready()
        email = urllib.parse.quote(world.steward_of(account), safe="")
        return Request(
            f"/accounts/{account}/stewards/{email}", {"role": "admin"} if method == "PATCH" else None
        )

    return build


def _case(decision: str) -> Builder:
    def build(world: World, role: str) -> Request:
        return Request(f"/moderation/cases/{world.case()}/{decision}", REASON)

    return build


def _request_step(step: str, body: Any, *before: tuple[str, Any]) -> Builder:
    def build(world: World, role: str) -> Request:
        return Request(f"/requests/{world.records_request(*before)}/{step}", body)

    return build


def _thresholds(world: World, role: str) -> Request:
    current = world.ok("GET", "/sweeps/abandoned-accounts/thresholds", "communications")
    return Request("/sweeps/abandoned-accounts/thresholds", {"default": current["default"]})


def _series(world: World, role: str) -> Request:
    body = {
        "title": "Matrix series",
        "description": "A series the access matrix adds",
        "retention_years": 3,
        "trigger": "created",
        "disposition": "destroy",
        "archival": False,
        "jurisdiction": "WA",
    }
    return Request(f"/retention/series/MATRIX-{world.unique()}", body)


def _plain(path: str, body: Any = None) -> Builder:
    return lambda world, role: Request(path, body)


MONTH = datetime.now(UTC).strftime("%Y-%m")
# A date range around the sample deliveries (a search or export of an account needs one, at most 400 days).
RANGE = {
    "date_from": (datetime.now(UTC) - timedelta(days=300)).isoformat(timespec="seconds"),
    "date_to": (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds"),
}
BUILDERS: dict[tuple[str, str], Builder] = {
    ("GET", "/openapi.json"): _plain("/openapi.json"),
    ("GET", "/me"): _plain("/me"),
    ("GET", "/audit/verify"): _plain("/audit/verify"),
    ("GET", "/audit/chains/{chain}"): _plain("/audit/chains/0"),
    ("GET", "/audit/anchors"): _plain("/audit/anchors"),
    ("POST", "/audit/anchors"): _plain("/audit/anchors", REASON),
    ("GET", "/runs/{sweep}"): _plain("/runs/reconciliation"),
    ("GET", "/runs/{sweep}/{run_id}"): lambda w, r: Request(f"/runs/reconciliation/{w.run()}"),
    ("GET", "/reports/{month}"): _plain(f"/reports/{MONTH}"),
    ("GET", "/reports/{month}/accounts/{account_id}"): lambda w, r: Request(
        f"/reports/{MONTH}/accounts/{w.once('active', w.active)}"
    ),
    ("GET", "/moderation/cases"): _plain("/moderation/cases"),
    ("GET", "/moderation/cases/{case_id}"): lambda w, r: Request(
        f"/moderation/cases/{w.once('case', w.case)}"
    ),
    ("POST", "/moderation/cases/{case_id}/confirm"): _case("confirm"),
    ("POST", "/moderation/cases/{case_id}/overturn"): _case("overturn"),
    ("POST", "/moderation/cases/{case_id}/escalate"): _case("escalate"),
    ("GET", "/moderation/reports/removals"): _plain(f"/moderation/reports/removals?from={MONTH}&to={MONTH}"),
    ("GET", "/moderation/ruleset"): _plain("/moderation/ruleset"),
    ("POST", "/accounts"): lambda w, r: Request(
        "/accounts",
        {
            "platform": "instagram",
            "handle": f"matrix-new-{w.unique()}",
            "school": "Steward High School",
            "purpose": "Access matrix",
            "audience": "Families",
            "kind": "team",
        },
    ),
    ("POST", "/accounts/unofficial"): lambda w, r: Request(
        "/accounts/unofficial",
        {
            "platform": "facebook",
            "handle": f"matrix-unofficial-{w.unique()}",
            "school": "Steward High School",
            "purpose": "A boosters page",
            "audience": "Fans",
        },
    ),
    ("GET", "/accounts"): _plain("/accounts"),
    ("GET", "/accounts/{account_id}"): lambda w, r: Request(f"/accounts/{w.once('active', w.active)}"),
    # The principal gives the first approval of a classroom account; communications gives the final one.
    ("POST", "/accounts/{account_id}/approve"): lambda w, r: Request(
        f"/accounts/{w.requested() if r == 'principals' else w.awaiting_final()}/approve", {"note": "ok"}
    ),
    ("POST", "/accounts/{account_id}/reject"): lambda w, r: Request(
        f"/accounts/{w.requested() if r == 'principals' else w.awaiting_final()}/reject", REASON
    ),
    ("POST", "/accounts/{account_id}/activate"): _account_route(World.ready, "/activate", {}),
    ("POST", "/accounts/{account_id}/dormant"): _account_route(World.active, "/dormant", {}),
    ("POST", "/accounts/{account_id}/abandon"): _account_route(World.dormant, "/abandon", REASON),
    # IT may retire only an unofficial page (the domain's finer rule); communications retires official ones.
    ("POST", "/accounts/{account_id}/retire"): lambda w, r: Request(
        f"/accounts/{w.unofficial() if r == 'it' else w.active()}/retire", REASON
    ),
    ("POST", "/accounts/{account_id}/retirement"): _account_route(World.abandoned, "/retirement", REASON),
    ("PUT", "/accounts/{account_id}/platform-id"): lambda w, r: Request(
        f"/accounts/{w.approved()}/platform-id", {"platform_id": f"99{int(time.time_ns())}"}
    ),
    ("GET", "/sweeps/abandoned-accounts/thresholds"): _plain("/sweeps/abandoned-accounts/thresholds"),
    ("PUT", "/sweeps/abandoned-accounts/thresholds"): _thresholds,
    ("POST", "/accounts/{account_id}/stewards"): lambda w, r: Request(
        f"/accounts/{w.approved()}/stewards", {"email": f"matrix.new.{w.unique()}@{DOMAIN}", "role": "editor"}
    ),
    ("PATCH", "/accounts/{account_id}/stewards/{email}"): _steward("PATCH"),
    ("DELETE", "/accounts/{account_id}/stewards/{email}"): _steward("DELETE"),
    ("GET", "/accounts/{account_id}/disclosures"): lambda w, r: Request(
        f"/accounts/{w.once('active', w.active)}/disclosures"
    ),
    ("POST", "/accounts/{account_id}/disclosures/{item}/confirm"): _account_route(
        World.approved, "/disclosures/contact/confirm"
    ),
    ("PUT", "/accounts/{account_id}/credential"): lambda w, r: Request(
        f"/accounts/{w.active()}/credential",
        {"login_email": f"matrix.put.{w.unique()}@{DOMAIN}", "password": "Another-Good-Passw0rd"},
    ),
    ("GET", "/accounts/{account_id}/credential"): lambda w, r: Request(
        f"/accounts/{w.once('credentialed', w.credentialed)}/credential"
    ),
    ("POST", "/accounts/{account_id}/credential/checkout"): _account_route(
        World.credentialed, "/credential/checkout", REASON
    ),
    ("POST", "/accounts/{account_id}/credential/compromise"): _account_route(
        World.credentialed, "/credential/compromise", REASON
    ),
    ("POST", "/accounts/{account_id}/credential/rotations"): _account_route(
        World.credentialed, "/credential/rotations", {"kind": "password", "reason": "matrix"}
    ),
    ("POST", "/accounts/{account_id}/credential/rotations/{version_id}/handover"): _rotation(
        "handover", World.rotating
    ),
    ("POST", "/accounts/{account_id}/credential/rotations/{version_id}/confirm"): _rotation(
        "confirm", World.handed_over, {"note": "set"}
    ),
    ("POST", "/accounts/{account_id}/credential/rotations/{version_id}/cancel"): _rotation(
        "cancel", World.rotating, REASON
    ),
    ("POST", "/accounts/{account_id}/credential/rotations/{version_id}/resume"): _rotation(
        "resume", World.rotating
    ),
    ("GET", "/retention/schedule"): _plain("/retention/schedule"),
    ("GET", "/retention/schedule/versions/{version}"): _plain("/retention/schedule/versions/1"),
    ("PUT", "/retention/series/{dan}"): _series,
    ("PUT", "/retention/default"): _plain("/retention/default", {"dan": SAMPLE_SERIES}),
    ("PUT", "/retention/assignments/{platform}/{account_id}"): _plain(
        f"/retention/assignments/facebook/{SAMPLE_PAGE}", {"dan": SAMPLE_SERIES}
    ),
    ("GET", "/content/{platform}/{account_id}/{item_id}/retention"): _plain(
        f"/content/facebook/{SAMPLE_PAGE}/{SAMPLE_COMMENT}/retention"
    ),
    ("POST", "/holds"): lambda w, r: Request(
        "/holds",
        {"matter": f"Matter {w.unique()}", "reason": "Expected", "scope": {"accounts": [f"x:{SAMPLE_PAGE}"]}},
    ),
    ("GET", "/holds"): _plain("/holds"),
    ("GET", "/holds/{hold_id}"): lambda w, r: Request(f"/holds/{w.once('hold', w.hold)}"),
    ("POST", "/holds/{hold_id}/release"): lambda w, r: Request(f"/holds/{w.hold()}/release", REASON),
    ("POST", "/disposition/sweep"): _plain("/disposition/sweep"),
    ("GET", "/disposition/batches"): _plain("/disposition/batches"),
    ("GET", "/disposition/batches/{batch_id}"): lambda w, r: Request(f"/disposition/batches/{w.batch(0)}"),
    ("POST", "/disposition/batches/{batch_id}/approve"): lambda w, r: Request(
        f"/disposition/batches/{w.batch(1)}/approve", {"note": "ok"}
    ),
    ("POST", "/disposition/batches/{batch_id}/reject"): lambda w, r: Request(
        f"/disposition/batches/{w.batch(2)}/reject", REASON
    ),
    ("GET", "/disposition/log"): _plain("/disposition/log"),
    ("GET", "/search"): _plain(
        f"/search?{urllib.parse.urlencode({'account': f'facebook:{SAMPLE_PAGE}', **RANGE})}"
    ),
    ("POST", "/requests"): lambda w, r: Request(
        "/requests", {"received_on": DAY, "text": "All comments", "jurisdiction": "WA"}
    ),
    ("GET", "/requests"): _plain("/requests"),
    ("GET", "/requests/{request_id}"): lambda w, r: Request(
        f"/requests/{w.once('request', w.records_request)}"
    ),
    ("PUT", "/requests/{request_id}/scope"): lambda w, r: Request(
        f"/requests/{w.records_request()}/scope", {"scope": {"accounts": [f"facebook:{SAMPLE_PAGE}"]}}
    ),
    ("POST", "/requests/{request_id}/exports"): lambda w, r: Request(
        f"/requests/{w.records_request()}/exports", {"account": f"facebook:{SAMPLE_PAGE}", **RANGE}
    ),
    ("GET", "/requests/{request_id}/exports"): lambda w, r: Request(
        f"/requests/{w.once('request', w.records_request)}/exports"
    ),
    ("GET", "/requests/{request_id}/exports/{export_id}"): lambda w, r: Request(
        "/requests/{}/exports/{}".format(*w.export(built=False))
    ),
    ("POST", "/requests/{request_id}/exports/{export_id}/download"): lambda w, r: Request(
        "/requests/{}/exports/{}/download".format(*w.export(built=True))
    ),
    ("POST", "/requests/{request_id}/acknowledge"): _request_step("acknowledge", None),
    ("POST", "/requests/{request_id}/start"): _request_step("start", None, ACK),
    ("POST", "/requests/{request_id}/clarification"): _request_step("clarification", ASK[1], ACK),
    ("POST", "/requests/{request_id}/clarified"): _request_step("clarified", {"answer": "March"}, ACK, ASK),
    ("POST", "/requests/{request_id}/extend"): _request_step("extend", {"days": 5, "reason": "Volume"}, ACK),
    ("POST", "/requests/{request_id}/installments"): _request_step(
        "installments",
        {"provided_on": DAY, "description": "First batch", "items": 3},
        ACK,
        START,
    ),
    ("POST", "/requests/{request_id}/withheld"): _request_step(
        "withheld",
        {
            "entries": [
                {
                    "item": f"facebook:{SAMPLE_PAGE}:{SAMPLE_COMMENT}",
                    "action": "redacted",
                    "exemption": "RCW 42.56.230(1)",
                    "explanation": "A student's personal information",
                }
            ]
        },
        ACK,
        START,
    ),
    ("POST", "/requests/{request_id}/close"): _request_step("close", CLOSE, ACK, START),
    ("POST", "/offboardings"): lambda w, r: Request(
        "/offboardings", {"email": f"matrix.leaver.{w.unique()}@{DOMAIN}", "reason": "Left the district"}
    ),
}


# --------------------------------------------------------------------------------------------- tokens
def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def _pool_key() -> RSAKey:
    """moto's Cognito signing key: the one the local pool's JWKS publishes."""
    from moto.utilities.utils import load_resource

    return RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


def _sign(claims: dict[str, Any], key: RSAKey) -> str:
    return jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, key)


@pytest.fixture(scope="module")
def world(local: LocalSteward) -> World:
    """The resources of every cell, on the one local runtime the module shares (``local`` is module-scoped)."""
    made = World(local)
    made.prepare()
    return made


@pytest.fixture(scope="module")
def bad_tokens(world: World) -> dict[str, dict[str, str]]:
    claims = _claims(world.tokens["communications"])
    now = int(time.time())
    expired = {**claims, "iat": now - 7200, "auth_time": now - 7200, "exp": now - 3600}
    return {
        "no-token": {},
        "malformed": {"Authorization": "Bearer not.a-jwt"},
        "expired": {"Authorization": f"Bearer {_sign(expired, _pool_key())}"},
        "foreign": {"Authorization": f"Bearer {_sign(claims, RSAKey.generate_key(2048))}"},
    }


@pytest.fixture(scope="module")
def document(world: World) -> dict[str, Any]:
    status, doc = world.local.call("GET", "/openapi.json", token=world.tokens["staff"])
    assert status == 200, doc
    assert isinstance(doc, dict)
    return doc


# --------------------------------------------------------------------------------------------- the tests
def test_the_matrix_covers_the_route_table_and_the_served_document(document: dict[str, Any]) -> None:
    table = {r.key: r for r in catalogue.ROUTES}
    served = operations(document)
    assert sorted(set(table) - set(served)) == [], "in ROUTES but not in /openapi.json"
    assert sorted(set(served) - set(table)) == [], "in /openapi.json but not in ROUTES"
    for key, route in table.items():
        assert served[key]["x-steward-roles"] == sorted(route.roles), key
        needs_token = served[key].get("security") not in (None, [])
        assert needs_token is not route.public, key
    assert {(c.route.key) for c in CELLS} == set(table)
    assert set(BUILDERS) == {r.key for r in PROTECTED}, "every protected route needs a request for its roles"


def test_a_re_signed_token_with_the_pool_key_is_accepted(world: World) -> None:
    # The expired-token cells mean something only if the same signing with a live expiry is accepted.
    token = _sign(_claims(world.tokens["records"]), _pool_key())
    status, reply = world.local.call("GET", "/me", token=token)
    assert status == 200, reply
    assert reply["roles"] == ["records"]


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: c.id)
def test_access(
    cell: Cell, world: World, bad_tokens: dict[str, dict[str, str]], document: dict[str, Any]
) -> None:
    route = cell.route
    if cell.who == "public":
        _check_public(world, route)
        return
    if cell.who in BAD_TOKENS:
        status, reply = world.local.call(route.method, concrete(route.path), headers=bad_tokens[cell.who])
        assert status == 401, reply
        assert reply["message"]
        return
    token = world.tokens[cell.who]
    if Role(cell.who) not in route.roles:
        body: dict[str, Any] | None = None if route.method in ("GET", "DELETE") else {}
        status, reply = world.local.call(route.method, concrete(route.path), token=token, body=body)
        assert status == 403, reply
        assert route.path in reply["message"]
        assert all(str(role) in reply["message"] for role in route.roles)
        return
    request = BUILDERS[route.key](world, cell.who)
    status, reply = world.local.call(
        route.method, request.path, token=token, body=request.body, headers=request.headers
    )
    assert 200 <= status < 300, reply


def _check_public(world: World, route: catalogue.Route) -> None:
    local = world.local
    if route.path == "/health":
        assert local.call("GET", "/health") == (200, {"status": "ok", "service": "steward"})
        return
    platform: webhooks.Platform = {
        "/webhooks/meta": "meta",
        "/webhooks/x": "x",
        "/webhooks/youtube": "youtube",
    }[route.path]  # type: ignore[assignment]
    if route.method == "GET":
        _check_handshake(world, platform)
        return
    name = {"meta": "facebook_comment_clean.json", "x": "x_reply.json", "youtube": "youtube_upload.xml"}[
        platform
    ]
    body = (DELIVERIES / name).read_bytes()
    content_type = {"Content-Type": webhooks.DELIVERY_TYPES[platform]}
    status, reply = local.call("POST", route.path, raw=body, headers=content_type)
    assert status == 401, reply  # unsigned
    assert reply["message"]
    # A user's token is no substitute for the platform's signature.
    status, reply = local.call("POST", route.path, raw=body, headers=content_type, token=world.tokens["it"])
    assert status == 401, reply
    status, reply = local.call(
        "POST", route.path, raw=body, headers={**content_type, **world.signed(platform, body)}
    )
    assert status == 200, reply


def _check_handshake(world: World, platform: webhooks.Platform) -> None:
    local = world.local
    challenge = f"challenge-{world.unique()}"
    if platform == "meta":
        good = {"hub.mode": "subscribe", "hub.verify_token": world.secret("meta-app", "verify_token")}
        wrong = {"hub.mode": "subscribe", "hub.verify_token": "not-the-token"}
        status, reply = local.call(
            "GET", "/webhooks/meta?" + urllib.parse.urlencode({**wrong, "hub.challenge": challenge})
        )
        assert status == 403, reply
        status, reply = local.call(
            "GET", "/webhooks/meta?" + urllib.parse.urlencode({**good, "hub.challenge": challenge})
        )
        assert (status, str(reply)) == (200, challenge)
    elif platform == "x":
        status, reply = local.call("GET", "/webhooks/x?" + urllib.parse.urlencode({"crc_token": challenge}))
        expected = webhooks.expected_signature(
            "x", world.secret("x-app", "consumer_secret"), challenge.encode()
        )
        assert (status, reply) == (200, {"response_token": expected})
    else:
        topic = "https://www.youtube.com/xml/feeds/videos.xml?channel_id=UCmatrixchannel0001"
        query = {"hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": challenge}
        status, reply = local.call("GET", "/webhooks/youtube?" + urllib.parse.urlencode(query))
        assert (status, str(reply)) == (200, challenge)
    status, reply = local.call("GET", f"/webhooks/{platform}")
    assert status == 400, reply  # the handshake's parameters are missing
    assert reply["message"]
