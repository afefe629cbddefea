"""Issue 4's scenario, end to end on moto and the fake platform server: a classroom account requested by a teacher,
approved by the principal and then the communications director, given its stewards and every disclosure, made
active; its credential stored and checked out by IT; its password rotated by the assisted flow; a steward offboarded
(the rotation function then refreshes the tokens and opens the password rotation); every step in the audit trail,
which verifies; and not one secret value in any log line, response body or audit entry along the way."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from infrastructure.local.fake_platforms import FakePlatforms
from shared import audit
from shared.domain.credentials import parse_values, secret_strings
from tests.integration.test_rotation import Rotations, rot  # noqa: F401 (fixture)
from tests.integration.test_vault import DOMAIN, PEOPLE, all_logs, call  # noqa: F401 (fixture)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

PEOPLE.setdefault("coach.diaz", ("staff",))
COACH = f"coach.diaz@{DOMAIN}"


def ok(method: str, path: str, who: str, body: Any = None, bodies: list[str] | None = None) -> Any:
    status, answer, text = call(method, path, who, body=body)
    assert status in (200, 201), (method, path, status, answer)
    if bodies is not None:
        bodies.append(text)
    return answer


def test_request_to_active_checkout_assisted_rotation_and_offboarding(
    rot: Rotations,  # noqa: F811
    fake: FakePlatforms,
    all_logs: io.StringIO,  # noqa: F811
    capfd: pytest.CaptureFixture[str],
) -> None:
    bodies: list[str] = []

    # Requested by a teacher: a classroom account needs the principal's approval, then the director's.
    account = ok(
        "POST",
        "/accounts",
        "coach.diaz",
        {
            "platform": "facebook",
            "handle": "yhs.robotics.class",
            "school": "Yelm High School",
            "purpose": "Classroom news for the robotics course",
            "audience": "Students and families",
            "kind": "classroom",
        },
        bodies,
    )
    acc = account["id"]
    base = f"/accounts/{acc}"
    assert account["pending_approval"] == "principals"
    assert ok("POST", f"{base}/approve", "principal.lee", {"note": "I supervise it"})["pending_approval"] == (
        "communications"
    )
    assert ok("POST", f"{base}/approve", "director.kim", {})["status"] == "approved"

    # Stewards (two district admins) and every required disclosure, then active.
    ok("POST", f"{base}/stewards", "director.kim", {"email": f"director.kim@{DOMAIN}", "role": "admin"})
    ok("POST", f"{base}/stewards", "director.kim", {"email": COACH, "role": "admin"})
    ok("POST", f"{base}/stewards", "director.kim", {"email": f"tech.ortiz@{DOMAIN}", "role": "editor"})
    for item in ok("GET", f"{base}/disclosures", "director.kim")["missing"]:
        ok("POST", f"{base}/disclosures/{item}/confirm", "director.kim", {})
    assert ok("POST", f"{base}/activate", "director.kim", {})["status"] == "active"

    # The credential: stored by IT (tokens issued by the platform), checked out by IT with a reason.
    access, refresh = fake.issue_tokens("facebook", "page-robotics")
    data = {
        "login_email": f"robotics.social@{DOMAIN}",
        "password": "Initial-Password-For-Robotics-2026",
        "mfa_seed": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        "recovery_codes": ["rc-robotics-0001", "rc-robotics-0002"],
        "tokens": {
            "page_access_token": access,
            "refresh_token": refresh,
            "expires_at": "2027-03-01T00:00:00Z",
        },
    }
    secrets = set(secret_strings(parse_values(data, district_domains=[DOMAIN])))
    ok("PUT", f"{base}/credential", "tech.ortiz", data, bodies)
    status, out, _ = call("POST", f"{base}/credential/checkout", "tech.ortiz", body={"reason": "set up Meta"})
    assert status == 200, out
    assert out["values"]["password"] == data["password"]

    # The assisted rotation: a new password, handed over once to IT, confirmed set, promoted.
    started = ok(
        "POST",
        f"{base}/credential/rotations",
        "tech.ortiz",
        {"kind": "password", "reason": "after use"},
        bodies,
    )
    version = started["rotation"]["version_id"]
    status, given, _ = call("POST", f"{base}/credential/rotations/{version}/handover", "tech.ortiz")
    assert status == 200, given
    secrets.add(given["password"])
    done = ok("POST", f"{base}/credential/rotations/{version}/confirm", "tech.ortiz", {"note": "set"}, bodies)
    assert done["current_version"] == version
    assert done["rotation"] is None

    # Offboarding the coach: removed, the account reported below two admins, their reach rotated.
    report = ok(
        "POST", "/offboardings", "director.kim", {"email": COACH, "reason": "Left the district"}, bodies
    )
    assert [r["account_id"] for r in report["removed_from"]] == [acc]
    assert [s["account_id"] for s in report["below_minimum"]] == [acc]
    assert rot.work() >= 1
    view = ok("GET", f"{base}/credential", "records.officer", bodies=bodies)
    assert view["tokens_refreshed_at"] is not None  # the tokens were refreshed through the platform
    assert view["rotation"]["kind"] == "password"
    assert view["rotation"]["next_step"] == "hand_over"  # waits for IT
    current = rot.current(view["secret_id"])
    secrets.add(current["tokens"]["page_access_token"])
    assert COACH not in [s["email"] for s in ok("GET", base, "director.kim")["stewards"]]

    # Every step in the audit trail, in order, and the trail verifies.
    trail = [e.action for e in sorted(audit.log().for_resource(f"account:{acc}", 500), key=lambda e: e.at)]
    expected = [
        "account.requested",
        "account.approved_by_principals",
        "account.approved",
        "account.steward_added",
        "account.disclosure_confirmed",
        "account.activated",
        "credential.stored",
        "credential.checked_out",
        "credential.rotation_started",
        "credential.password_handed_over",
        "credential.rotation_finished",
        "credential.rotation_flagged",
        "credential.rotation_finished",
        "credential.rotation_started",
    ]
    position = 0
    for action in trail:
        if position < len(expected) and action == expected[position]:
            position += 1
    assert position == len(expected), (expected[position:], trail)
    assert any(e["details"].get("email") == COACH for e in _staff_entries())
    assert audit.verify().ok

    # Every change was announced on account-notices (the principal and director subscribe to what awaits them).
    announced = rot.notices()
    kinds = {json.loads(n["Message"])["kind"] for n in announced}
    assert {
        "account.requested",
        "account.approved_by_principals",
        "account.approved",
        "account.steward_added",
        "account.disclosure_confirmed",
        "account.activated",
        "credential.rotation_started",
        "credential.handover_ready",
        "credential.rotation_finished",
        "staff.offboarded",
        "account.below_two_admins",
    } <= kinds, kinds
    requested = next(json.loads(n["Message"]) for n in announced if "account.requested" in n["Message"])
    assert requested["awaiting_approval_of"] == "principals"
    bodies += [n["Message"] for n in announced]

    # No secret value anywhere: logs (every logger at DEBUG), stdout/stderr, responses (but the two that
    # hand them out), audit details.
    captured = capfd.readouterr()
    haystack = "\n".join(
        [all_logs.getvalue(), captured.out, captured.err, *bodies]
        + [json.dumps(e.details) for e in audit.log().for_resource(f"account:{acc}", 500)]
    )
    leaked = [s for s in secrets if s in haystack]
    assert not leaked, f"{len(leaked)} secret value(s) leaked"


def _staff_entries() -> list[dict[str, Any]]:
    return [
        {"action": e.action, "details": e.details} for e in audit.log().for_resource(f"staff:{COACH}", 50)
    ]
