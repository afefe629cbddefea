"""The README's promises, over HTTP against `steward local`."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.catalogue import Role
from tests.e2e.conftest import LocalSteward

pytestmark = pytest.mark.e2e


def test_health_answers_without_a_token(local: LocalSteward) -> None:
    status, body = local.call("GET", "/health")
    assert (status, body) == (200, {"status": "ok", "service": "steward"})


def test_records_reads_verify_and_the_sample_trail_is_intact(local: LocalSteward) -> None:
    status, body = local.call("GET", "/audit/verify", token=local.token("records"))
    assert status == 200
    assert body["ok"] is True
    assert sum(c["entries"] for c in body["chains"]) >= len(Role)  # the seeded users and the first anchor
    assert body["anchors"]["count"] >= 1


def test_staff_is_forbidden_with_a_message(local: LocalSteward) -> None:
    status, body = local.call("GET", "/audit/verify", token=local.token("staff"))
    assert status == 403
    assert "records" in body["message"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-jwt", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"],
    ids=["missing", "garbage", "wrong-key"],
)
def test_missing_or_invalid_token_is_401_with_a_message(
    local: LocalSteward, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    status, body = local.call("GET", "/audit/verify", headers=headers)
    assert status == 401
    assert body["message"]


def test_a_token_with_a_forged_payload_is_refused(local: LocalSteward) -> None:
    header, payload, signature = local.token("staff").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cognito:groups"] = ["records"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    status, _ = local.call(
        "GET", "/audit/verify", headers={"Authorization": f"Bearer {header}.{forged}.{signature}"}
    )
    assert status == 401


def test_me_reports_the_callers_roles(local: LocalSteward) -> None:
    status, body = local.call("GET", "/me", token=local.token("principals"))
    assert status == 200
    assert body["roles"] == ["principals"]
    assert body["username"] == local.state["users"]["principals"]


def test_openapi_document_lists_every_route(local: LocalSteward) -> None:
    from shared import catalogue

    status, document = local.call("GET", "/openapi.json", token=local.token("staff"))
    assert status == 200
    assert document["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert documented == {r.key for r in catalogue.ROUTES}


def test_bad_input_is_a_4xx_with_a_message_and_writes_nothing(local: LocalSteward) -> None:
    token = local.token("records")
    _, before = local.call("GET", "/audit/anchors", token=token)
    cases = [
        (b"{not json", 400),
        (json.dumps({"reason": "fine reason", "unexpected": 1}).encode(), 422),
        (json.dumps({"reason": 42}).encode(), 422),
        (json.dumps({"reason": "x" * 300_000}).encode(), 413),
    ]
    for raw, expected in cases:
        status, body = local.call("POST", "/audit/anchors", token=token, raw=raw)
        assert status == expected, body
        assert body["message"]
    _, after = local.call("GET", "/audit/anchors", token=token)
    assert after["total"] == before["total"]


def test_bad_path_id_and_unknown_route(local: LocalSteward) -> None:
    token = local.token("it")
    status, body = local.call("GET", "/audit/chains/not-a-number", token=token)
    assert status == 422
    assert "chain" in body["message"]
    status, body = local.call("GET", "/audit/chains/9", token=token)
    assert status == 404
    status, body = local.call("GET", "/no/such/route", token=token)
    assert status == 404
    status, body = local.call("DELETE", "/health")
    assert status == 405


def test_anchor_on_demand_then_cli_verify(local: LocalSteward) -> None:
    status, body = local.call(
        "POST", "/audit/anchors", token=local.token("it"), body={"reason": "before a records export"}
    )
    assert status == 201
    assert body["key"].startswith("anchors/")
    result = local.steward("audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "audit trail verified" in result.stdout


def test_schedule_can_be_run_now(local: LocalSteward) -> None:
    token = local.token("records")
    _, before = local.call("GET", "/audit/anchors", token=token)
    result = local.steward("schedule", "run", "audit-anchor")
    assert result.returncode == 0, result.stderr
    _, after = local.call("GET", "/audit/anchors", token=token)
    assert after["total"] == before["total"] + 1
    assert after["anchors"][0]["reason"] == "scheduled"


def test_a_delivery_signed_with_the_documented_development_secret_is_accepted(local: LocalSteward) -> None:
    from infrastructure.local.provision import local_secret_values
    from shared.domain import webhooks
    from tests.fixtures import fixture

    body = fixture("fb_feed_comment_add_1.json")
    signature = webhooks.expected_signature("meta", local_secret_values("meta-app")["app_secret"], body)
    headers = {"X-Hub-Signature-256": signature}
    status, reply = local.call("POST", "/webhooks/meta", raw=body, headers=headers)
    assert (status, reply) == (200, {"status": "received"})
    status, _ = local.call("POST", "/webhooks/meta", raw=body + b" ", headers=headers)
    assert status == 401
    # The queue poller feeds the processor: the comment is archived and indexed shortly after.
    import time

    ddb = local.client("dynamodb")
    table = local.state["env"]["STEWARD_TABLE_CONTENT"]
    comment = "901097836652708_903438993085259"

    def recorded() -> list[dict[str, Any]]:
        return [i for i in ddb.scan(TableName=table)["Items"] if i.get("item_id", {}).get("S") == comment]

    deadline = time.monotonic() + 20
    while not recorded() and time.monotonic() < deadline:
        time.sleep(0.2)
    [item] = recorded()
    assert item["state"]["S"] == "visible"
    token = local_secret_values("meta-app")["verify_token"]
    status, challenge = local.call(
        "GET", f"/webhooks/meta?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=42"
    )
    assert (status, challenge) == (200, 42)


def test_the_sample_comments_are_archived_and_indexed_on_start(local: LocalSteward) -> None:
    import time

    ddb = local.client("dynamodb")
    table = local.state["env"]["STEWARD_TABLE_CONTENT"]
    deadline = time.monotonic() + 20
    platforms: set[str] = set()
    while time.monotonic() < deadline and not {"facebook", "instagram", "x", "youtube"} <= platforms:
        platforms = {i["platform"]["S"] for i in ddb.scan(TableName=table)["Items"] if "platform" in i}
        time.sleep(0.2)
    assert {"facebook", "instagram", "x", "youtube"} <= platforms


def test_a_records_request_is_exported_and_the_package_downloads_through_its_link(
    local: LocalSteward, tmp_path: Path
) -> None:
    """The whole export path on the running system: request, export job (the local poller runs the worker),
    the presigned link fetched over HTTP from the moto server, and the bag validated by the bagit library."""
    import hashlib
    import io
    import time
    import urllib.request
    import zipfile

    import bagit

    ddb = local.client("dynamodb")
    table = local.state["env"]["STEWARD_TABLE_CONTENT"]
    deadline = time.monotonic() + 20
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not found:
        items = ddb.scan(TableName=table)["Items"]
        found = [i for i in items if "account_sk" in i and i["platform"]["S"] == "facebook"]
        time.sleep(0.2)
    sample = found[0]
    account = sample["account_id"]["S"]
    created = datetime.fromisoformat(sample["account_sk"]["S"].split("#", 1)[0].replace("Z", "+00:00"))
    token = local.token("records")
    status, view = local.call(
        "POST",
        "/requests",
        token=token,
        body={
            "received_on": datetime.now(UTC).date().isoformat(),
            "text": "Comments on the page",
            "jurisdiction": "WA",
        },
    )
    assert status == 201, view
    rid = view["request"]["id"]
    query = {
        "account": f"facebook:{account}",
        "date_from": (created - timedelta(days=1)).isoformat(),
        "date_to": (created + timedelta(days=1)).isoformat(),
        "redact": {"categories": ["phone", "email"]},
    }
    status, export = local.call("POST", f"/requests/{rid}/exports", token=token, body=query)
    assert status == 202, export
    deadline = time.monotonic() + 60
    while export["state"] in ("queued", "building") and time.monotonic() < deadline:
        time.sleep(0.5)
        status, export = local.call("GET", f"/requests/{rid}/exports/{export['id']}", token=token)
    assert export["state"] == "ready", export
    assert export["items"] >= 1
    status, link = local.call("POST", f"/requests/{rid}/exports/{export['id']}/download", token=token)
    assert status == 200, link
    with urllib.request.urlopen(link["url"], timeout=30) as response:
        data = response.read()
    assert hashlib.sha256(data).hexdigest() == export["sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        bundle.extractall(tmp_path)
    (bag_dir,) = list(tmp_path.iterdir())
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.info["External-Identifier"] == rid
    status, _ = local.call(
        "POST", f"/requests/{rid}/exports/{export['id']}/download", token=local.token("it")
    )
    assert status == 403
