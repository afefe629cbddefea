"""``steward demo``: walk a running local Steward through its main story, printing each step.

A parent comments on the high school's Facebook page with a staff member's phone number. Facebook (the local
fake) delivers the signed webhook; Steward keeps it, archives the comment write-once, finds it breaks the
published private-information rule, and hides it on Facebook with the rule recorded. A moderator reviews the case
and restores the comment. A sharp criticism of the board arrives too, and nothing happens to it: criticism is
never a ground. Last, the audit trail verifies.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from shared.domain import webhooks
from shared.domain.cases import CaseState
from shared.domain.webhooks import Platform

DELIVERIES = Path(__file__).resolve().parents[2] / "events" / "deliveries"
ALL_STATES = ",".join(s.value for s in CaseState)
SECRET_OF: dict[Platform, tuple[str, str]] = {
    "meta": ("meta-app", "app_secret"),
    "x": ("x-app", "consumer_secret"),
    "youtube": ("websub", "secret"),
}


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

    def secret(self, platform: Platform) -> str:
        key, field = SECRET_OF[platform]
        client = boto3.client(
            "secretsmanager",
            endpoint_url=self.state["endpoint"],
            region_name=self.state["region"],
            aws_access_key_id="steward-local",
            aws_secret_access_key="steward-local",  # noqa: S106 - moto accepts any credentials
        )
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

        self.say("Staff may not work the moderation queue; the records officer verifies the audit trail")
        self.show(
            "GET /moderation/cases as staff", *call(f"{self.api}/moderation/cases", token=self.token("staff"))
        )
        status, report = call(f"{self.api}/audit/verify", token=self.token("records"))
        self.show("GET /audit/verify as records", status, {"ok": (report or {}).get("ok")})
        return 0 if status == 200 and report.get("ok") else 1
