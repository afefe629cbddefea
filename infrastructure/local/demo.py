"""``steward demo``: walk a running local Steward through its main story, printing each step.

A parent comments on the high school's Facebook page with a staff member's phone number. Facebook (the local
fake) delivers the signed webhook; Steward keeps it, archives the comment write-once, finds it breaks the
published private-information rule, and hides it on Facebook with the rule recorded. A moderator reviews the case
and restores the comment. A sharp criticism of the board arrives too, and nothing happens to it: criticism is
never a ground.

Then an official account's life: a teacher requests a classroom account, the principal and the communications
director approve it, the director names its stewards, confirms every disclosure and activates it. IT stores its
credential in the vault, checks it out with a reason and rotates the password by hand (the values and the new
password are returned by the API but never printed). When one admin steward is offboarded, the account is reported
below two admins and the rotation function (polling its queue in the local runtime) refreshes the page token
through the (fake) platform and opens a password rotation that waits for IT.

Then a public-records request for that day's comments on the page: the records officer logs it (its due date, and
a hold on the page while it is open), searches, and exports the comments with phone numbers redacted; the export
worker builds the BagIt package, and the officer downloads it through its short-lived link and checks its SHA-256.
Last, the audit trail verifies.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import boto3

from shared.domain import webhooks
from shared.domain.accounts import default_config
from shared.domain.cases import CaseState
from shared.domain.webhooks import Platform

DELIVERIES = Path(__file__).resolve().parents[2] / "events" / "deliveries"
ALL_STATES = ",".join(s.value for s in CaseState)
SECRET_OF: dict[Platform, tuple[str, str]] = {
    "meta": ("meta-app", "app_secret"),
    "x": ("x-app", "consumer_secret"),
    "youtube": ("websub", "secret"),
}
NOT_SHOWN = "(returned once, not shown)"


class DemoFailed(Exception):
    """A step did not give the expected answer: the demo stops with this message and exits non-zero."""


def call(
    url: str,
    method: str = "GET",
    *,
    token: str | None = None,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback only
    request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback only
            payload, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        payload, status = exc.read(), exc.code
    try:
        return status, json.loads(payload or b"null")
    except json.JSONDecodeError:
        return status, payload.decode(errors="replace")


class Demo:
    def __init__(self, state: dict[str, Any], token: Callable[[str], str]) -> None:
        self.state = state
        self.api = state["api_url"]
        self.platforms = state["platforms_url"]
        self.token = token

    def say(self, text: str) -> None:
        print(f"\n== {text}")

    def show(self, label: str, status: int, reply: Any) -> None:
        print(f"   {label} -> {status}: {json.dumps(reply)[:300]}")

    def aws(self, service: Literal["secretsmanager"]) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.state["endpoint"],
            region_name=self.state["region"],
            aws_access_key_id="steward-local",
            aws_secret_access_key="steward-local",  # noqa: S106 - moto accepts any credentials
        )

    def secret(self, platform: Platform) -> str:
        key, field = SECRET_OF[platform]
        client = self.aws("secretsmanager")
        name = self.state["env"][f"STEWARD_SECRET_{key.upper().replace('-', '_')}"]
        value = json.loads(client.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"])
        return str(value[field])

    def comment_on_facebook(self, name: str) -> dict[str, Any]:
        """The comment appears on the (fake) platform, then the platform delivers its signed webhook."""
        body = (DELIVERIES / name).read_bytes()
        entry = json.loads(body)["entry"][0]
        value = entry["changes"][0]["value"]
        seeded = {
            "platform": "facebook",
            "account_id": entry["id"],
            "post_id": value["post_id"],
            "comment_id": value["comment_id"],
            "parent_id": value["parent_id"],
            "author_id": value["from"]["id"],
            "author_name": value["from"]["name"],
            "text": value["message"],
            "created_time": value["created_time"],
        }
        call(f"{self.platforms}/__comments", "POST", body=seeded)
        signature = webhooks.expected_signature("meta", self.secret("meta"), body)
        status, reply = call(
            f"{self.api}/webhooks/meta", "POST", raw=body, headers={"X-Hub-Signature-256": signature}
        )
        self.show(f"Facebook delivers {name}", status, reply)
        return seeded

    def cases_of(self, comment_id: str, wait: float = 20.0) -> list[dict[str, Any]]:
        token = self.token("moderators")
        deadline = time.monotonic() + wait
        while True:
            _, reply = call(f"{self.api}/moderation/cases?state={ALL_STATES}", token=token)
            found = [c for c in (reply or {}).get("cases", []) if c.get("item_id") == comment_id]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.3)

    def platform_calls(self, comment_id: str) -> list[str]:
        _, calls = call(f"{self.platforms}/__calls")
        return [c["operation"] for c in calls if comment_id in c.get("path", "")]

    def token_calls(self) -> list[str]:
        """The token operations the (fake) platforms received so far (refresh, check), in order."""
        _, calls = call(f"{self.platforms}/__calls")
        return [c["operation"] for c in calls if c["operation"].endswith(("refresh_token", "check_token"))]

    def run(self) -> int:
        self.say("Steward answers")
        self.show("GET /health", *call(f"{self.api}/health"))

        self.say("A parent posts a staff member's phone number on the high school's Facebook page")
        phone = self.comment_on_facebook("facebook_comment_phone.json")
        cases = self.cases_of(phone["comment_id"])
        if not cases:
            print("   no case appeared: is the processor running?")
            return 1
        case = cases[0]
        print(
            f"   case {case['case_id'][:12]}…: rule {case['rule_id']} ({case['category']}), state {case['state']}"
        )
        _, view = call(f"{self.api}/moderation/cases/{case['case_id']}", token=self.token("moderators"))
        archived = ((view or {}).get("evidence") or {}).get("flagged_version") or {}
        print(f"   archived before anything acted on it, write-once: {archived.get('archive_key')}")
        print(
            f"   ground: {(view or {}).get('citation', {}).get('document')}, rule set {case['ruleset_version']}"
        )
        print(f"   Facebook received: {self.platform_calls(phone['comment_id'])}")

        self.say("A moderator reviews the case and restores the comment, with a reason")
        token = self.token("moderators")
        status, reply = call(
            f"{self.api}/moderation/cases/{case['case_id']}/overturn",
            "POST",
            token=token,
            body={"reason": "The number is the school office's public line, listed on the school website."},
        )
        decided = (reply or {}).get("case") or {}
        self.show("POST /moderation/cases/{id}/overturn", status, {"state": decided.get("state")})
        print(f"   Facebook received: {self.platform_calls(phone['comment_id'])}")

        self.say("Sharp criticism of the board arrives: it is archived and left alone")
        criticism = self.comment_on_facebook("facebook_comment_criticism.json")
        time.sleep(1.5)
        print(f"   cases for it: {len(self.cases_of(criticism['comment_id'], wait=3))}")

        self.say("Staff may not work the moderation queue")
        self.show(
            "GET /moderation/cases as staff", *call(f"{self.api}/moderation/cases", token=self.token("staff"))
        )

        try:
            self.official_account()
            self.records_request(phone)
        except DemoFailed as exc:
            print(f"   FAILED: {exc}")
            return 1

        self.say("The records officer verifies the audit trail")
        status, report = call(f"{self.api}/audit/verify", token=self.token("records"))
        self.show("GET /audit/verify as records", status, {"ok": (report or {}).get("ok")})
        return 0 if status == 200 and report.get("ok") else 1

    # ------------------------------------------------------------------------------ official accounts, the vault
    def expect(self, label: str, status: int, reply: Any, wanted: int = 200, shown: Any = None) -> Any:
        """Print the step (``shown`` instead of the reply when given), and stop the demo unless it answered
        ``wanted``. An error reply is printed as the API gave it (errors never carry a secret value)."""
        self.show(label, status, shown if shown is not None and status == wanted else reply)
        if status != wanted:
            raise DemoFailed(f"{label} answered {status}, expected {wanted}")
        return reply

    def credential(self, account_id: str, token: str) -> dict[str, Any]:
        status, reply = call(f"{self.api}/accounts/{account_id}/credential", token=token)
        if status != 200:
            raise DemoFailed(f"GET /accounts/{{id}}/credential answered {status}: {json.dumps(reply)[:300]}")
        return dict(reply)

    def official_account(self) -> None:
        """The official-account and vault story (module docstring); DemoFailed at the first unexpected answer."""
        self.say("A teacher requests an official classroom account on Facebook")
        story = _Story(
            tokens={r: self.token(r) for r in ("staff", "principals", "communications", "it")},
            domain=sorted(default_config().email_domains)[0],
            stamp=int(time.time()),
        )
        self.request_and_approve(story)
        self.stewards_disclosures_activate(story)
        self.store_and_check_out(story)
        self.rotate_password(story)
        self.offboard_an_admin(story)

    def request_and_approve(self, story: _Story) -> None:
        status, reply = call(
            f"{self.api}/accounts",
            "POST",
            token=story.tokens["staff"],
            body={
                "platform": "facebook",
                "handle": f"ssd-room-12-science-{story.stamp}",
                "school": "Steward High School",
                "purpose": "News and reminders for Room 12's science classes",
                "audience": "Room 12 students and their families",
                "kind": "classroom",
            },
        )
        account = self.expect("POST /accounts as staff", status, reply, 201, shown=_status(reply))
        story.account_id = str(account["id"])
        story.url = f"{self.api}/accounts/{story.account_id}"
        print(f"   account {story.account_id[:12]}…: {account.get('kind')}, status {account.get('status')}")

        self.say("The principal approves, then the communications director")
        for role in ("principals", "communications"):
            status, reply = call(
                f"{story.url}/approve", "POST", token=story.tokens[role], body={"note": "Fits AR 1114."}
            )
            self.expect(f"POST /accounts/{{id}}/approve as {role}", status, reply, shown=_status(reply))
        if reply.get("status") != "approved":
            raise DemoFailed(f"the account is {reply.get('status')} after both approvals, not approved")

    def stewards_disclosures_activate(self, story: _Story) -> None:
        comms = story.tokens["communications"]
        self.say("The director names its stewards: two admins and an editor, all district staff")
        story.admins = [f"room12.admin{n}.{story.stamp}@{story.domain}" for n in (1, 2)]
        editor = f"room12.editor.{story.stamp}@{story.domain}"
        for email, role in ((story.admins[0], "admin"), (story.admins[1], "admin"), (editor, "editor")):
            status, reply = call(
                f"{story.url}/stewards", "POST", token=comms, body={"email": email, "role": role}
            )
            self.expect(f"POST /accounts/{{id}}/stewards {role} {email}", status, reply, shown=_status(reply))

        self.say("The director confirms every disclosure the account must display, then activates it")
        status, checklist = call(f"{story.url}/disclosures", token=comms)
        missing = self.expect("GET /accounts/{id}/disclosures", status, checklist, shown=_missing(checklist))
        for item in missing.get("missing") or []:
            status, checklist = call(f"{story.url}/disclosures/{item}/confirm", "POST", token=comms)
            self.expect(
                f"POST /accounts/{{id}}/disclosures/{item}/confirm",
                status,
                checklist,
                shown=_missing(checklist, count=True),
            )
        status, reply = call(f"{story.url}/activate", "POST", token=comms)
        self.expect("POST /accounts/{id}/activate as communications", status, reply, shown=_status(reply))
        if reply.get("status") != "active":
            raise DemoFailed(f"the account is {reply.get('status')} after activation, not active")

    def store_and_check_out(self, story: _Story) -> None:
        it = story.tokens["it"]
        self.say("IT stores the account's credential in the vault; the API never echoes a value")
        status, reply = call(
            f"{story.url}/credential",
            "PUT",
            token=it,
            body={
                "login_email": f"room12.social.{story.stamp}@{story.domain}",
                "password": story.password,
                "tokens": {
                    "page_access_token": story.page_token,
                    "refresh_token": None,
                    "expires_at": (datetime.now(UTC) + timedelta(days=50)).isoformat(timespec="seconds"),
                },
            },
        )
        shown = {k: (reply or {}).get(k) for k in ("login_email", "has_password", "has_tokens", "checkouts")}
        self.expect("PUT /accounts/{id}/credential as it", status, reply, shown=shown)

        self.say("IT checks the credential out, with a reason (recorded, audited, notified)")
        status, reply = call(
            f"{story.url}/credential/checkout",
            "POST",
            token=it,
            body={"reason": "Set up the page's cover photo and pinned post."},
        )
        given = (reply or {}).get("values") if status == 200 else None
        shown = {"version_id": (reply or {}).get("version_id"), "values": NOT_SHOWN if given else None}
        self.expect("POST /accounts/{id}/credential/checkout as it", status, reply, shown=shown)
        if not given or not given.get("password"):
            raise DemoFailed("the checkout returned no values")
        print(f"   values returned: {', '.join(sorted(k for k, v in given.items() if v))}")

    def rotate_password(self, story: _Story) -> None:
        it = story.tokens["it"]
        self.say("IT rotates the password after use: start, take the hand-over, set it on Facebook, confirm")
        status, reply = call(
            f"{story.url}/credential/rotations",
            "POST",
            token=it,
            body={"kind": "password", "reason": "Rotate after the checkout."},
        )
        rotation = (reply or {}).get("rotation") if status == 200 else None
        self.expect(
            "POST /accounts/{id}/credential/rotations as it", status, reply, shown={"rotation": rotation}
        )
        if not rotation:
            raise DemoFailed("no rotation in progress after the start")
        version_id = str(rotation["version_id"])
        status, reply = call(f"{story.url}/credential/rotations/{version_id}/handover", "POST", token=it)
        handed = {k: v for k, v in (reply or {}).items() if k != "password"} if status == 200 else {}
        self.expect(
            "POST /accounts/{id}/credential/rotations/{version}/handover",
            status,
            reply,
            shown={**handed, "password": NOT_SHOWN},
        )
        status, reply = call(
            f"{story.url}/credential/rotations/{version_id}/confirm",
            "POST",
            token=it,
            body={"note": "Set on Facebook."},
        )
        keys = ("current_version", "previous_version", "rotation_in_progress")
        confirmed = self.expect(
            "POST /accounts/{id}/credential/rotations/{version}/confirm",
            status,
            reply,
            shown={k: (reply or {}).get(k) for k in keys},
        )
        if confirmed.get("current_version") != version_id:
            raise DemoFailed(f"the current version is {confirmed.get('current_version')}, not {version_id}")
        print(f"   current version is the rotation's: {confirmed['current_version'] == version_id}")

    def offboard_an_admin(self, story: _Story) -> None:
        it = story.tokens["it"]
        self.say("An admin steward leaves the district: the director offboards them")
        before = self.credential(story.account_id, it).get("tokens_refreshed_at")
        seen = len(self.token_calls())
        status, reply = call(
            f"{self.api}/offboardings",
            "POST",
            token=story.tokens["communications"],
            body={"email": story.admins[1], "reason": "HR ticket 4821: left the district."},
        )
        keys = ("removed_from", "below_minimum", "rotations")
        report = self.expect(
            "POST /offboardings as communications",
            status,
            reply,
            shown={k: (reply or {}).get(k) for k in keys},
        )
        short = [s.get("account_id") for s in report.get("below_minimum") or []]
        if story.account_id not in short:
            raise DemoFailed("the offboarding report does not list the account below two admins")
        print(f"   account below two admins: {story.account_id in short}")

        self.say(
            "The rotation function refreshes the page token through Facebook and opens a password rotation"
        )
        deadline = time.monotonic() + 20
        view = self.credential(story.account_id, it)
        while not _refreshed_and_waiting(view, before) and time.monotonic() < deadline:
            time.sleep(0.5)
            view = self.credential(story.account_id, it)
        waiting = view.get("rotation") or {}
        print(f"   page token refreshed: {view.get('tokens_refreshed_at') != before}")
        print(f"   Facebook received: {self.token_calls()[seen:]}")
        print(f"   password rotation: {waiting.get('kind')}, next step {waiting.get('next_step')}")
        if not _refreshed_and_waiting(view, before):
            raise DemoFailed(
                "the rotation function did not refresh the token and open the password rotation within 20 s: "
                "is the rotations queue poller running?"
            )

    # ------------------------------------------------------------------------------ a public-records request
    def records_request(self, phone: dict[str, Any]) -> None:
        """The public-records story (module docstring); DemoFailed at the first unexpected answer."""
        token = self.token("records")
        day = datetime.fromtimestamp(int(phone["created_time"]), UTC)
        page = f"facebook:{phone['account_id']}"
        self.say("A resident asks for that day's comments on the page, including deleted ones")
        status, reply = call(
            f"{self.api}/requests",
            "POST",
            token=token,
            body={
                "requester": "A. Resident",
                "received_on": datetime.now(UTC).date().isoformat(),
                "text": "All comments on the high school's Facebook page on the day of the field trip notice",
                "jurisdiction": "WA",
                "scope": {"accounts": [page]},
            },
        )
        view = self.expect(
            "POST /requests as records",
            status,
            reply,
            201,
            shown={"due_on": _get(reply, "request", "due_on"), "hold": _get(reply, "hold", "kind")},
        )
        request_id = view["request"]["id"]
        window = {
            "account": page,
            "date_from": (day - timedelta(hours=12)).isoformat(),
            "date_to": (day + timedelta(hours=12)).isoformat(),
        }
        query = "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in window.items())
        status, found = call(f"{self.api}/search?{query}", token=token)
        self.expect(
            "GET /search?account=…&date_from=…&date_to=…",
            status,
            found,
            shown={"hits": len(_get(found, "hits") or []), "items_read": _get(found, "items_read")},
        )

        self.say(
            "The records officer exports them, phone numbers redacted; the export worker builds the package"
        )
        status, reply = call(
            f"{self.api}/requests/{request_id}/exports",
            "POST",
            token=token,
            body={**window, "redact": {"categories": ["phone", "email"]}},
        )
        export = self.expect("POST /requests/{id}/exports", status, reply, 202, shown={"state": "queued"})
        deadline = time.monotonic() + 30
        while export.get("state") in ("queued", "building") and time.monotonic() < deadline:
            time.sleep(0.5)
            _, export = call(f"{self.api}/requests/{request_id}/exports/{export['id']}", token=token)
        print(
            f"   state {export.get('state')}: {export.get('items')} item(s), {export.get('redactions')} "
            f"redaction(s), audit verified {export.get('audit_verified')}, SHA-256 {str(export.get('sha256'))[:16]}…"
        )
        if export.get("state") != "ready":
            raise DemoFailed("the export was not built within 30 s: is the exports queue poller running?")

        self.say("The officer downloads it through a link valid for minutes (the download is audited)")
        status, reply = call(
            f"{self.api}/requests/{request_id}/exports/{export['id']}/download", "POST", token=token
        )
        link = self.expect(
            "POST /requests/{id}/exports/{export}/download",
            status,
            reply,
            shown={"expires_at": _get(reply, "expires_at")},
        )
        with urllib.request.urlopen(link["url"], timeout=30) as response:  # noqa: S310 - the local moto server
            package = response.read()
        print(
            f"   {link['filename']}: {len(package)} bytes, SHA-256 matches: "
            f"{hashlib.sha256(package).hexdigest() == export['sha256']}"
        )
        number = phone["text"].split()[-1].rstrip(".")
        with zipfile.ZipFile(io.BytesIO(package)) as bundle:
            files = bundle.namelist()
            shown = any(number.encode() in bundle.read(name) for name in files)
        print(f"   {len(files)} files, a BagIt bag: {any(f.endswith('/bagit.txt') for f in files)}")
        print(f"   the phone number is anywhere in the package: {shown}")


def _get(reply: Any, *path: str) -> Any:
    for key in path:
        reply = reply.get(key) if isinstance(reply, dict) else None
    return reply


@dataclass
class _Story:
    """What the official-account story carries from step to step."""

    tokens: dict[str, str]
    domain: str
    stamp: int
    account_id: str = ""
    url: str = ""
    admins: list[str] = field(default_factory=list)
    # Development values (not secrets), unique per run; the demo never prints them.
    password: str = field(default_factory=lambda: f"Room12-demo-{time.time_ns()}!")
    page_token: str = field(default_factory=lambda: f"demo-page-token-{time.time_ns()}")


def _missing(checklist: Any, *, count: bool = False) -> dict[str, Any]:
    """A checklist's completeness and what it misses (how many, with ``count``)."""
    found = checklist if isinstance(checklist, dict) else {}
    missing = found.get("missing") or []
    return {"complete": found.get("complete"), "missing": len(missing) if count else missing}


def _status(reply: Any) -> dict[str, Any]:
    account = reply if isinstance(reply, dict) else {}
    return {
        "status": account.get("status"),
        "pending_approval": account.get("pending_approval"),
        "stewards": len(account.get("stewards") or []),
    }


def _refreshed_and_waiting(view: dict[str, Any], before: Any) -> bool:
    rotation = view.get("rotation") or {}
    return (
        view.get("tokens_refreshed_at") != before
        and rotation.get("kind") == "password"
        and rotation.get("next_step") == "hand_over"
    )
