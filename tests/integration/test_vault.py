"""The credential vault on moto, through the accounts-api handler: store, read redacted, check out (audited,
notified, flagged for rotation), the refusals (unknown account, missing reason, a role not allowed, a non-district
login email) and the proof that no secret value reaches a log line, an error, an audit entry or a listing."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from functions.accounts_api.handler import handler as accounts_api
from infrastructure.local.provision import Provisioned
from shared import audit, catalogue
from shared.domain.credentials import parse_values, secret_strings
from shared.observability import logger as steward_logger
from shared.store import vault as vault_store
from tests.conftest import REGION, FakeContext
from tests.events import rest_event
from tests.integration.test_accounts_api import World as AccountsWorld

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

DOMAIN = "district.example.org"
PEOPLE = {  # username: roles
    "ms.rivera": ("staff",),
    "director.kim": ("communications",),
    "tech.ortiz": ("it",),
    "records.officer": ("records",),
    "principal.lee": ("principals",),
    "mod.ng": ("moderators",),
}
REQUEST = {
    "platform": "facebook",
    "handle": "yelmhighschool",
    "school": "Yelm High School",
    "purpose": "School news",
    "audience": "Families and the community",
    "kind": "school",
}


def call(method: str, path: str, who: str = "tech.ortiz", *, body: Any = None) -> tuple[int, Any, str]:
    event = rest_event(method, path, roles=PEOPLE[who], body=body)
    claims = event["requestContext"]["authorizer"]["claims"]
    claims.update({"cognito:username": who, "sub": f"sub-{who}", "email": f"{who}@{DOMAIN}"})
    response = accounts_api(event, FakeContext())
    return response["statusCode"], json.loads(response["body"]), response["body"]


def canary_values() -> dict[str, Any]:
    """Values nobody else could produce: any of them found anywhere is a leak."""
    tag = uuid.uuid4().hex
    return {
        "login_email": f"social.yelm@{DOMAIN}",
        "password": f"Pw-{tag}-Horse!",
        "mfa_seed": base64.b32encode(os.urandom(20)).decode(),
        "recovery_codes": [f"rc-{tag[:10]}-{i}" for i in range(3)],
        "tokens": {
            "page_access_token": f"EAAG{tag}page",
            "refresh_token": f"refresh-{tag}",
            "expires_at": "2027-01-15T00:00:00Z",
        },
    }


def needles(data: dict[str, Any]) -> list[str]:
    values = parse_values(data, district_domains=[DOMAIN])
    raw = [data["password"], data["mfa_seed"], *data["recovery_codes"]]
    raw += [data["tokens"]["page_access_token"], data["tokens"]["refresh_token"]]
    return sorted(set(secret_strings(values)) | set(raw))


class World(AccountsWorld):
    """The accounts world, plus the queues, topic and secrets a vault scenario reads."""

    def __init__(self, env: Provisioned) -> None:
        super().__init__(env)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.sns = boto3.client("sns", region_name=REGION)
        self.secrets = boto3.client("secretsmanager", region_name=REGION)
        self.topic = env.env[catalogue.topic("incidents").env_var]

    def entries(self) -> list[dict[str, Any]]:
        return [i for i in self._scan(self.audit) if i["sk"]["S"] != "HEAD"]

    def notices(self) -> list[dict[str, Any]]:
        """Every message published to the incidents topic, through a queue subscribed for the test."""
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            if not got.get("Messages"):
                return out
            for m in got["Messages"]:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])

    def listen(self) -> None:
        self.queue_url = self.sqs.create_queue(QueueName=f"notices-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=arn)


@pytest.fixture
def world(moto_env: Provisioned, monkeypatch: pytest.MonkeyPatch) -> World:
    audit.reset()
    # Each test its own secrets (moto's state is shared by the module's tests).
    monkeypatch.setenv(catalogue.VAULT_PREFIX_ENV_VAR, f"steward/t{uuid.uuid4().hex[:8]}/accounts/")
    w = World(moto_env)
    w.listen()
    return w


@pytest.fixture
def all_logs() -> Iterator[io.StringIO]:
    """Every log record of every logger at DEBUG (root and the loggers that do not propagate, e.g. Powertools'),
    formatted with its arguments and exception text. ``-p no:logging`` leaves no caplog, so this is done by hand."""
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger()] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    levels = {lg: lg.level for lg in loggers}
    attached = [lg for lg in loggers if lg is logging.getLogger() or not lg.propagate]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    for lg in attached:
        lg.addHandler(handler)
    powertools_level = steward_logger.log_level
    steward_logger.setLevel("DEBUG")
    try:
        yield sink
    finally:
        steward_logger.setLevel(powertools_level)
        for lg in attached:
            lg.removeHandler(handler)
        for lg, level in levels.items():
            lg.setLevel(level)


def new_account() -> str:
    status, account, _ = call("POST", "/accounts", "director.kim", body=REQUEST)
    assert status == 201, account
    return str(account["id"])


# --------------------------------------------------------------------------------------------- the scenario
def test_a_full_vault_scenario_leaks_no_secret_value(
    world: World, all_logs: io.StringIO, capfd: pytest.CaptureFixture[str]
) -> None:
    data = canary_values()
    secrets = needles(data)
    acc = new_account()
    base = f"/accounts/{acc}/credential"
    bodies: list[str] = []

    # Store (it): the redacted view comes back; the secret exists under the prefix, encrypted, AWSCURRENT.
    status, stored, text = call("PUT", base, "tech.ortiz", body=data)
    assert status == 200, stored
    bodies.append(text)
    assert (stored["login_email"], stored["has_password"], stored["has_mfa"], stored["has_tokens"]) == (
        f"social.yelm@{DOMAIN}",
        True,
        True,
        True,
    )
    assert stored["secret_id"] == vault_store.secret_name(acc)
    assert (stored["rotation_due"], stored["checkouts"]) == (False, 0)
    current = world.secrets.get_secret_value(SecretId=stored["secret_id"], VersionStage="AWSCURRENT")
    assert current["VersionId"] == stored["current_version"]

    # Read (records may): redacted only.
    status, seen, text = call("GET", base, "records.officer")
    assert status == 200, seen
    bodies.append(text)
    status, _, text = call("GET", "/accounts", "records.officer")
    assert status == 200
    bodies.append(text)
    status, _, text = call("GET", f"/accounts/{acc}", "director.kim")
    assert status == 200
    bodies.append(text)

    # A bad request: a login email off the district's domains → 400 naming the field, no value, nothing changed.
    before = world.snapshot()
    status, answer, text = call(
        "PUT", base, "director.kim", body={**data, "login_email": "yelm.social@gmail.com"}
    )
    assert status == 400, answer
    assert "login_email" in answer["message"], answer
    assert "district address" in answer["message"], answer
    bodies.append(text)
    # A weak password too: named, not echoed.
    status, answer, text = call("PUT", base, "director.kim", body={**data, "password": "short"})
    assert status == 400, answer
    assert "password" in answer["message"], answer
    bodies.append(text)
    assert world.snapshot() == before

    # A checkout by roles the route table refuses, and one without a reason: nothing changes, no value.
    for who in ("records.officer", "ms.rivera", "principal.lee", "mod.ng"):
        status, answer, text = call("POST", f"{base}/checkout", who, body={"reason": "I need to post"})
        assert status == 403, (who, answer)
        bodies.append(text)
    status, answer, text = call("POST", f"{base}/checkout", "tech.ortiz", body={})
    assert status == 422, answer
    assert "reason" in answer["message"], answer
    bodies.append(text)
    assert world.snapshot() == before
    assert world.notices() == []

    # The checkout (communications): the values once; audited, notified without values, flagged for rotation.
    status, out, checkout_text = call(
        "POST", f"{base}/checkout", "director.kim", body={"reason": "Post the board meeting stream"}
    )
    assert status == 200, out
    assert out["values"]["password"] == data["password"]
    assert out["values"]["tokens"]["page_access_token"] == data["tokens"]["page_access_token"]
    assert out["version_id"] == stored["current_version"]
    notices = world.notices()
    assert len(notices) == 1
    notice = json.loads(notices[0]["Message"])
    assert (notice["kind"], notice["account_id"], notice["by"]) == (
        "credential_checkout",
        acc,
        "user:director.kim",
    )
    assert notice["reason"] == "Post the board meeting stream"
    status, after, text = call("GET", base, "tech.ortiz")
    bodies.append(text)
    assert (after["rotation_due"], after["checkouts"]) == (True, 1)
    assert {d["kind"] for d in after["due"]} == {"password", "token"}
    assert {d["reason"] for d in after["due"]} == {"checkout"}

    # Replacing the values keeps the history and the due flags; the secret gets a new AWSCURRENT version.
    status, replaced, text = call("PUT", base, "director.kim", body=data)
    assert status == 200, replaced
    bodies.append(text)
    assert replaced["previous_version"] == stored["current_version"]
    assert (replaced["checkouts"], replaced["rotation_due"]) == (1, True)
    assert [e["action"] for e in replaced["history"]] == ["stored", "checked_out", "replaced"]

    # The audit trail: stored, checked out, replaced, with redacted details.
    entries = [e for e in world.entries() if e.get("resource", {}).get("S") == f"account:{acc}"]
    body_of = [json.loads(e["body"]["S"]) if "body" in e else e for e in entries]
    text_of_entries = json.dumps(body_of, default=str)
    assert "credential.stored" in text_of_entries
    assert "credential.checked_out" in text_of_entries
    assert "credential.replaced" in text_of_entries
    assert "Post the board meeting stream" in text_of_entries

    # Nothing but the checkout response holds a value.
    out_err = capfd.readouterr()
    captured = "\n".join([all_logs.getvalue(), out_err.out, out_err.err])
    assert "credential changed" in captured  # the capture did see the service's log lines
    notice_text = json.dumps(notices)
    for needle in secrets:
        assert needle in checkout_text
        assert needle not in captured, "a secret value reached the logs"
        assert needle not in text_of_entries, "a secret value reached the audit trail"
        assert needle not in notice_text, "a secret value reached the checkout notice"
        for body in bodies:
            assert needle not in body, f"a secret value reached a response: {body[:200]}"


# --------------------------------------------------------------------------------------------- refusals
def test_unknown_account_missing_reason_and_roles(world: World) -> None:
    unknown = f"/accounts/{'0' * 32}/credential"
    for method, body in (("PUT", canary_values()), ("GET", None)):
        status, answer, _ = call(method, unknown, "tech.ortiz", body=body)
        assert (status, "no account" in answer["message"]) == (404, True), answer
    status, answer, _ = call("POST", f"{unknown}/checkout", "tech.ortiz", body={"reason": "urgent post"})
    assert status == 404, answer

    acc = new_account()
    base = f"/accounts/{acc}/credential"
    status, answer, _ = call("GET", base, "records.officer")
    assert (status, "no credential" in answer["message"]) == (404, True), answer
    status, answer, _ = call("POST", f"{base}/checkout", "director.kim", body={"reason": "urgent post"})
    assert status == 404, answer

    before = world.snapshot()
    for who in ("ms.rivera", "records.officer", "principal.lee"):
        status, answer, _ = call("PUT", base, who, body=canary_values())
        assert status == 403, (who, answer)
    status, answer, _ = call("GET", base, "ms.rivera")
    assert status == 403, answer
    assert world.snapshot() == before

    status, _, _ = call("PUT", base, "director.kim", body=canary_values())
    assert status == 200
    before = world.snapshot()
    for body in ({}, {"reason": ""}, {"reason": "  "}):
        status, answer, _ = call("POST", f"{base}/checkout", "tech.ortiz", body=body)
        assert status in (400, 422), (body, answer)
        assert "reason" in answer["message"], (body, answer)
    status, answer, _ = call("POST", f"{base}/checkout", "ms.rivera", body={"reason": "urgent post"})
    assert status == 403, answer
    assert world.snapshot() == before
    assert world.notices() == []
