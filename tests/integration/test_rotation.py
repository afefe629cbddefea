"""Credential rotation on moto and the fake platform server: the assisted password flow through the API, token
rotation by the rotation function (queue worker and Secrets Manager's four-step contract), cancel, the 409 of a
second rotation, Secrets Manager failures mid-rotation (AWSCURRENT keeps working, the rotation resumes), a platform
refusal, and the rotation schedule."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from functions.rotation.handler import handler as rotation_function
from infrastructure.local.fake_platforms import FakePlatforms
from infrastructure.local.poller import QueuePoller
from infrastructure.local.provision import Provisioned
from shared import audit, catalogue, rotation_service, runs
from shared.domain.credentials import CredentialKind, DueReason, RotationRequest
from shared.domain.runs import RunState
from shared.errors import Conflict
from shared.store import aws, rotation_queue
from tests.conftest import REGION, FakeContext
from tests.integration.conftest import QueueWorker
from tests.integration.test_vault import REQUEST, World, call, canary_values

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


class Rotations(World):
    """The vault world, listening to account notices, with the rotation function polling its queue."""

    def __init__(self, env: Provisioned) -> None:
        super().__init__(env)
        self.topic = env.env[catalogue.topic("account-notices").env_var]
        self.listen()
        self.worker = QueueWorker(env, "credential-rotation")
        self.dead_letters = env.dlq_urls["rotations"]

    def work(self) -> int:
        return self.worker.work()

    def stages(self, secret_id: str) -> dict[str, list[str]]:
        return dict(self.secrets.describe_secret(SecretId=secret_id)["VersionIdsToStages"])

    def current(self, secret_id: str) -> dict[str, Any]:
        answer = self.secrets.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")
        return {"version": answer["VersionId"], **json.loads(answer["SecretString"])}

    def actions(self, account_id: str) -> list[str]:
        return [e.action for e in audit.log().for_resource(f"account:{account_id}", limit=500)]

    def notice_kinds(self) -> list[str]:
        return [json.loads(n["Message"])["kind"] for n in self.notices()]


@pytest.fixture
def rot(moto_env: Provisioned, fake: FakePlatforms, monkeypatch: pytest.MonkeyPatch) -> Rotations:
    audit.reset()
    monkeypatch.setenv(catalogue.VAULT_PREFIX_ENV_VAR, f"steward/t{uuid.uuid4().hex[:8]}/accounts/")
    return Rotations(moto_env)


@contextmanager
def failing(operation: str) -> Iterator[list[int]]:
    """Every ``operation`` call on the vault's Secrets Manager client fails with a 500 while inside."""
    client = aws.secretsmanager()
    calls: list[int] = []

    def fail(**_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        calls.append(1)
        body = {"Error": {"Code": "InternalServiceError", "Message": "injected"}, "ResponseMetadata": {}}
        return AWSResponse("https://injected.invalid", 500, {}, None), body

    event = f"before-call.secrets-manager.{operation}"
    client.meta.events.register(event, fail, unique_id=f"fail-{operation}")
    try:
        yield calls
    finally:
        client.meta.events.unregister(event, unique_id=f"fail-{operation}")


def stored(fake: FakePlatforms, platform: str = "facebook") -> tuple[str, dict[str, Any], str]:
    """A new account with a credential whose tokens the fake platform issued: (account id, values, secret id)."""
    body = {**REQUEST, "platform": platform, "handle": f"page-{uuid.uuid4().hex[:10]}"}
    status, account, _ = call("POST", "/accounts", "director.kim", body=body)
    assert status == 201, account
    acc = str(account["id"])
    data = canary_values()
    access, refresh = fake.issue_tokens(platform, f"page-{acc[:8]}")  # type: ignore[arg-type]
    data["tokens"] = {
        "page_access_token": access,
        "refresh_token": refresh,
        "expires_at": (datetime.now(UTC) + timedelta(days=50)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    status, view, _ = call("PUT", f"/accounts/{acc}/credential", "tech.ortiz", body=data)
    assert status == 200, view
    return acc, data, view["secret_id"]


# --------------------------------------------------------------------------------------------- passwords
def test_the_assisted_password_flow_hands_over_once_and_promotes_on_confirmation(
    rot: Rotations, fake: FakePlatforms
) -> None:
    acc, data, secret_id = stored(fake)
    base = f"/accounts/{acc}/credential/rotations"
    old = rot.current(secret_id)

    status, view, _ = call("POST", base, "director.kim", body={"kind": "password", "reason": "annual review"})
    assert status == 200, view
    rotation = view["rotation"]
    assert (rotation["kind"], rotation["phase"], rotation["next_step"]) == (
        "password",
        "created",
        "hand_over",
    )
    version = rotation["version_id"]
    assert rot.stages(secret_id)[version] == ["AWSPENDING"]
    assert rot.current(secret_id) == old  # AWSCURRENT untouched

    # One rotation at a time: a clear 409 that names the one in progress.
    status, answer, _ = call("POST", base, "tech.ortiz", body={"kind": "token", "reason": "try another"})
    assert status == 409, answer
    assert "already in progress" in answer["message"]
    assert "director.kim" in answer["message"]

    # The hand-over: IT only, once.
    status, answer, _ = call("POST", f"{base}/{version}/handover", "director.kim")
    assert status == 403, answer
    status, given, _text = call("POST", f"{base}/{version}/handover", "tech.ortiz")
    assert status == 200, given
    password = given["password"]
    assert len(password) >= 20
    assert password != data["password"]
    status, answer, again = call("POST", f"{base}/{version}/handover", "tech.ortiz")
    assert status == 409
    assert password not in again

    # Until confirmed, the current password is the one a checkout returns.
    status, out, _ = call(
        "POST", f"/accounts/{acc}/credential/checkout", "tech.ortiz", body={"reason": "post"}
    )
    assert status == 200
    assert out["values"]["password"] == data["password"]

    status, view, _ = call(
        "POST", f"{base}/{version}/confirm", "tech.ortiz", body={"note": "set on Facebook"}
    )
    assert status == 200, view
    assert view["rotation"] is None
    assert view["current_version"] == version
    assert view["previous_version"] == old["version"]
    assert not [d for d in view["due"] if d["kind"] == "password"]  # the checkout's flag is cleared
    now = rot.current(secret_id)
    assert (now["version"], now["password"]) == (version, password)
    assert rot.stages(secret_id)[old["version"]] == ["AWSPREVIOUS"]

    actions = rot.actions(acc)
    for expected in (
        "credential.rotation_started",
        "credential.rotation_step",
        "credential.password_handed_over",
        "credential.rotation_finished",
    ):
        assert expected in actions
    assert audit.verify().ok
    kinds = rot.notice_kinds()
    assert kinds.count("credential.rotation_step") == 2  # setSecret (confirmed) and testSecret
    assert {
        "credential.rotation_started",
        "credential.handover_ready",
        "credential.password_handed_over",
        "credential.rotation_finished",
    } <= set(kinds)
    # No audit entry holds the new password.
    assert password not in json.dumps([e.details for e in audit.log().for_resource(f"account:{acc}", 500)])


def test_cancel_drops_the_pending_version_and_keeps_the_current_one(
    rot: Rotations, fake: FakePlatforms
) -> None:
    acc, _data, secret_id = stored(fake)
    base = f"/accounts/{acc}/credential/rotations"
    old = rot.current(secret_id)
    _, view, _ = call("POST", base, "tech.ortiz", body={"kind": "password", "reason": "spring clean"})
    version = view["rotation"]["version_id"]

    status, answer, _ = call("POST", f"{base}/{version}/cancel", "tech.ortiz", body={"reason": ""})
    assert status == 422, answer  # a reason is required
    status, view, _ = call("POST", f"{base}/{version}/cancel", "tech.ortiz", body={"reason": "wrong account"})
    assert status == 200, view
    assert view["rotation"] is None
    assert view["current_version"] == old["version"]
    assert "AWSPENDING" not in rot.stages(secret_id)[version]
    assert rot.current(secret_id) == old
    # A new rotation may start after the cancel.
    status, view, _ = call("POST", base, "tech.ortiz", body={"kind": "password", "reason": "again"})
    assert status == 200
    assert view["rotation"]["version_id"] != version


def test_unknown_account_and_wrong_roles_change_nothing(rot: Rotations, fake: FakePlatforms) -> None:
    acc, _, _ = stored(fake)
    before = rot.snapshot()
    body = {"kind": "password", "reason": "why not"}
    assert call("POST", f"/accounts/{'0' * 32}/credential/rotations", "tech.ortiz", body=body)[0] == 404
    for who in ("records.officer", "principal.lee", "mod.ng", "ms.rivera"):
        assert call("POST", f"/accounts/{acc}/credential/rotations", who, body=body)[0] == 403
    assert call("POST", f"/accounts/{acc}/credential/rotations", "tech.ortiz", body={"kind": "pin"})[0] == 422
    fake_version = str(uuid.uuid4())
    status, answer, _ = call(
        "POST", f"/accounts/{acc}/credential/rotations/{fake_version}/confirm", "tech.ortiz"
    )
    assert status == 409
    assert "no rotation" in answer["message"]
    assert rot.snapshot() == before


# --------------------------------------------------------------------------------------------- failures
def test_a_secrets_manager_failure_mid_rotation_leaves_awscurrent_working_and_resumes(
    rot: Rotations, fake: FakePlatforms
) -> None:
    acc, data, secret_id = stored(fake)
    base = f"/accounts/{acc}/credential/rotations"
    old = rot.current(secret_id)

    # createSecret fails: the rotation is open with the failure recorded; AWSCURRENT still checks out.
    with failing("PutSecretValue") as calls:
        status, answer, _ = call("POST", base, "tech.ortiz", body={"kind": "password", "reason": "quarterly"})
    assert calls, answer
    assert status == 503, answer
    _, view, _ = call("GET", f"/accounts/{acc}/credential", "tech.ortiz")
    rotation = view["rotation"]
    assert (rotation["phase"], rotation["attempts"]) == ("started", 1)
    assert rotation["last_failure"]["step"] == "createSecret"
    version = rotation["version_id"]
    status, out, _ = call(
        "POST", f"/accounts/{acc}/credential/checkout", "tech.ortiz", body={"reason": "use"}
    )
    assert status == 200
    assert out["values"]["password"] == data["password"]

    status, view, _ = call("POST", f"{base}/{version}/resume", "tech.ortiz")
    assert status == 200, view
    assert view["rotation"]["phase"] == "created", view
    _, given, _ = call("POST", f"{base}/{version}/handover", "tech.ortiz")

    # finishSecret fails: the platform has the new password, AWSCURRENT still the old one; resume finishes.
    with failing("UpdateSecretVersionStage"):
        status, answer, _ = call("POST", f"{base}/{version}/confirm", "tech.ortiz")
    assert status == 503, answer
    assert rot.current(secret_id)["version"] == old["version"]
    _, view, _ = call("GET", f"/accounts/{acc}/credential", "tech.ortiz")
    assert view["rotation"]["phase"] == "tested"
    assert view["rotation"]["last_failure"]["step"] == "finishSecret"
    status, answer, _ = call("POST", f"{base}/{version}/cancel", "tech.ortiz", body={"reason": "give up"})
    assert status == 409  # the platform already uses the new password: only forward

    status, view, _ = call("POST", f"{base}/{version}/resume", "tech.ortiz")
    assert status == 200, view
    assert view["rotation"] is None, view
    assert rot.current(secret_id)["password"] == given["password"]
    assert audit.verify().ok
    assert "credential.rotation_step_failed" in rot.actions(acc)


# --------------------------------------------------------------------------------------------- tokens
def test_a_token_rotation_is_refreshed_through_the_platform_by_the_rotation_function(
    rot: Rotations, fake: FakePlatforms
) -> None:
    acc, data, secret_id = stored(fake)
    old = rot.current(secret_id)
    status, view, _ = call(
        "POST",
        f"/accounts/{acc}/credential/rotations",
        "tech.ortiz",
        body={"kind": "token", "reason": "refresh"},
    )
    assert status == 200, view
    assert view["rotation"]["phase"] == "started", view
    assert rot.work() == 1

    now = rot.current(secret_id)
    assert now["version"] != old["version"]
    assert now["tokens"]["page_access_token"] != data["tokens"]["page_access_token"]
    assert now["password"] == data["password"]  # only the tokens changed
    assert len(fake.calls("refresh_token")) == 1
    assert len(fake.calls("check_token")) >= 1
    _, view, _ = call("GET", f"/accounts/{acc}/credential", "records.officer")
    assert view["rotation"] is None
    assert view["tokens_refreshed_at"] is not None
    assert audit.verify().ok


def test_a_revoked_token_fails_the_rotation_without_touching_awscurrent(
    rot: Rotations, fake: FakePlatforms
) -> None:
    acc, data, secret_id = stored(fake)
    old = rot.current(secret_id)
    fake.revoke(data["tokens"]["page_access_token"])
    call(
        "POST",
        f"/accounts/{acc}/credential/rotations",
        "tech.ortiz",
        body={"kind": "token", "reason": "refresh"},
    )
    rot.work()
    assert rot.current(secret_id) == old
    _, view, _ = call("GET", f"/accounts/{acc}/credential", "tech.ortiz")
    assert view["rotation"]["last_failure"]["step"] == "createSecret"
    assert data["tokens"]["page_access_token"] not in json.dumps(view)
    assert "credential.rotation_step_failed" in rot.notice_kinds()


def test_the_secrets_manager_contract_drives_the_four_steps(rot: Rotations, fake: FakePlatforms) -> None:
    _acc, data, secret_id = stored(fake, "x")
    old = rot.current(secret_id)
    version = str(uuid.uuid4())
    # (moto's rotate_secret runs no rotation function: drive the steps as Secrets Manager does)
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        event = {"Step": step, "SecretId": secret_id, "ClientRequestToken": version}
        assert rotation_function(event, FakeContext())["result"] == f"{step} done"
    stages = rot.stages(secret_id)
    assert stages[version] == ["AWSCURRENT"]
    assert stages[old["version"]] == ["AWSPREVIOUS"]
    now = rot.current(secret_id)
    assert now["tokens"]["refresh_token"] != data["tokens"]["refresh_token"]  # X rotates refresh tokens
    # A repeated finishSecret is a no-op.
    event = {"Step": "finishSecret", "SecretId": secret_id, "ClientRequestToken": version}
    assert rotation_function(event, FakeContext())["result"] == "already current"
    assert audit.verify().ok


def test_secrets_manager_cannot_rotate_a_password_without_a_person(
    rot: Rotations, fake: FakePlatforms
) -> None:
    acc, _, secret_id = stored(fake)
    status, view, _ = call(
        "POST",
        f"/accounts/{acc}/credential/rotations",
        "tech.ortiz",
        body={"kind": "password", "reason": "x" * 5},
    )
    assert status == 200, view
    pending = view["rotation"]["version_id"]
    event = {"Step": "setSecret", "SecretId": secret_id, "ClientRequestToken": pending}
    with pytest.raises(Conflict, match="waits for hand_over"):
        rotation_function(event, FakeContext())


# --------------------------------------------------------------------------------------------- the schedule
def test_the_schedule_queues_expiring_tokens_and_checkouts_after_their_grace(
    rot: Rotations, fake: FakePlatforms
) -> None:
    expiring, data, _ = stored(fake)
    soon = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    call(
        "PUT",
        f"/accounts/{expiring}/credential",
        "tech.ortiz",
        body={**data, "tokens": {**data["tokens"], "expires_at": soon}},
    )
    used, _, _ = stored(fake)
    call("POST", f"/accounts/{used}/credential/checkout", "tech.ortiz", body={"reason": "post the news"})
    quiet, _, _ = stored(fake)

    # the checkout is still in its grace period
    summary = rotation_function({"source": "aws.events", "detail-type": "Scheduled Event"}, FakeContext())
    assert (summary["due"], summary["queued"]) == (1, 1)
    run = runs.run_of("credential-rotation", summary["run"])
    assert (run.state, run.seen, run.actions) == (RunState.SUCCEEDED, 1, 1)
    rot.work()
    assert call("GET", f"/accounts/{expiring}/credential", "tech.ortiz")[1]["tokens_refreshed_at"] is not None

    later = datetime.now(UTC) + timedelta(hours=9)
    assert rotation_service.sweep(later) == {"due": 1, "queued": 1}
    rot.work()
    _, view, _ = call("GET", f"/accounts/{used}/credential", "tech.ortiz")
    # tokens first (rotated), then the password waits for its hand-over
    assert (view["rotation"]["kind"], view["rotation"]["next_step"]) == ("password", "hand_over"), view
    assert "credential.handover_ready" in rot.notice_kinds()
    _, view, _ = call("GET", f"/accounts/{quiet}/credential", "tech.ortiz")
    assert view["rotation"] is None
    assert view["checkouts"] == 0


# --------------------------------------------------------------------------------------------- queued requests
def request(account_id: str, reason: DueReason = DueReason.COMPROMISE) -> RotationRequest:
    return RotationRequest(
        account_id=account_id,
        kinds=(CredentialKind.TOKEN,),
        reason=reason,
        detail=f"{reason} reported in a test",
        requested_by="user:tech.ortiz",
        requested_at=datetime.now(UTC),
    )


def dead_lettered(rot: Rotations) -> list[str]:
    """The bodies on the rotations queue's dead-letter queue (taken off it)."""
    url = rot.dead_letters
    bodies = []
    while got := rot.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in got:
            bodies.append(m["Body"])
            rot.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def test_a_request_handled_again_after_its_rotation_rotates_nothing_more(
    rot: Rotations, fake: FakePlatforms
) -> None:
    acc, _, secret_id = stored(fake)
    asked = request(acc)
    assert rotation_service.handle_request(asked) == "rotated"
    rotated = rot.current(secret_id)
    assert len(fake.calls("refresh_token")) == 1
    _, view, _ = call("GET", f"/accounts/{acc}/credential", "tech.ortiz")
    assert view["rotation"] is None
    assert view["rotation_due"] is False

    # Redelivered by SQS, or re-sent by a repeated offboarding: the token was rotated since it was asked for.
    for _ in range(2):
        assert rotation_service.handle_request(asked) == "rotated"
    assert rot.current(secret_id) == rotated
    assert len(fake.calls("refresh_token")) == 1
    _, again, _ = call("GET", f"/accounts/{acc}/credential", "tech.ortiz")
    assert (again["rotation"], again["rotation_due"]) == (None, False)
    assert rot.actions(acc).count("credential.rotation_started") == 1
    assert audit.verify().ok


def test_a_request_that_cannot_succeed_does_not_dead_letter_the_others_of_its_message(
    rot: Rotations, fake: FakePlatforms
) -> None:
    dead_lettered(rot)
    broken, data, broken_secret = stored(fake, "x")
    no_refresh = {**data, "tokens": {**data["tokens"], "refresh_token": None}}
    status, view, _ = call("PUT", f"/accounts/{broken}/credential", "tech.ortiz", body=no_refresh)
    assert status == 200, view
    before = rot.current(broken_secret)
    good, good_data, good_secret = stored(fake)

    rotation_queue.send([request(broken), request(good)])  # one message
    assert rot.work() == 1

    assert dead_lettered(rot) == []
    now = rot.current(good_secret)
    assert now["tokens"]["page_access_token"] != good_data["tokens"]["page_access_token"]
    assert rot.current(broken_secret) == before  # AWSCURRENT untouched
    _, view, _ = call("GET", f"/accounts/{broken}/credential", "tech.ortiz")
    failure = view["rotation"]["last_failure"]
    assert failure["step"] == "createSecret"
    assert "reconnected" in failure["message"]
    assert "credential.rotation_step_failed" in rot.notice_kinds()
    # Handled on its own, the refusal is an outcome, not an error that fails the message.
    outcome = rotation_service.handle_request(request(broken))
    assert outcome.startswith("refused: "), outcome
    assert "reconnected" in outcome, outcome


@dataclass
class RunningOut(FakeContext):
    """A Lambda context whose remaining time is scripted: one value (seconds) per question, the last repeated."""

    left: list[float] = field(default_factory=list)

    def get_remaining_time_in_millis(self) -> int:
        return int((self.left.pop(0) if len(self.left) > 1 else self.left[0]) * 1000)


def test_requests_that_do_not_fit_in_the_time_left_go_back_on_the_queue_as_a_new_message(
    moto_env: Provisioned, rot: Rotations, fake: FakePlatforms
) -> None:
    dead_lettered(rot)
    accounts = [stored(fake) for _ in range(3)]
    asked = [request(acc) for acc, _, _ in accounts]
    rotation_queue.send(asked)  # one message of three requests
    budget = rotation_service.request_budget_seconds()
    context = RunningOut(left=[budget + 1, budget - 1])  # time for the second rotation, not for the third
    sqs = boto3.client("sqs", region_name=REGION)
    poller = QueuePoller(
        sqs,
        catalogue.function("credential-rotation"),
        moto_env.queue_urls["rotations"],
        lambda _key, event: rotation_function(event, context),
        REGION,
        0,
    )
    assert poller.poll_once() == 1
    assert len(fake.calls("refresh_token")) == 2

    def token(secret_id: str) -> str:
        return str(rot.current(secret_id)["tokens"]["page_access_token"])

    assert [token(secret) == data["tokens"]["page_access_token"] for _, data, secret in accounts] == [
        False,
        False,
        True,
    ]

    # The original message is done (deleted, not retried); a new one holds the third request, as it was asked.
    waiting = sqs.receive_message(QueueUrl=moto_env.queue_urls["rotations"], VisibilityTimeout=0)["Messages"]
    assert [RotationRequest.model_validate(r) for r in json.loads(waiting[0]["Body"])] == asked[2:]
    assert rot.work() == 1
    assert len(fake.calls("refresh_token")) == 3
    assert token(accounts[2][2]) != accounts[2][1]["tokens"]["page_access_token"]
    assert dead_lettered(rot) == []
    assert [rot.actions(acc).count("credential.rotation_started") for acc, _, _ in accounts] == [1, 1, 1]
    assert audit.verify().ok


def test_test_secret_refuses_a_token_acting_as_another_account_than_the_linked_one(
    rot: Rotations, fake: FakePlatforms
) -> None:
    acc, _, secret_id = stored(fake)
    status, view, _ = call(
        "PUT", f"/accounts/{acc}/platform-id", "tech.ortiz", body={"platform_id": "another-page"}
    )
    assert status == 200, view
    old = rot.current(secret_id)
    status, view, _ = call(
        "POST",
        f"/accounts/{acc}/credential/rotations",
        "tech.ortiz",
        body={"kind": "token", "reason": "refresh"},
    )
    assert status == 200, view
    assert rot.work() == 1
    assert dead_lettered(rot) == []

    assert rot.current(secret_id) == old  # AWSCURRENT untouched
    _, view, _ = call("GET", f"/accounts/{acc}/credential", "tech.ortiz")
    failure = view["rotation"]["last_failure"]
    assert failure["step"] == "testSecret", view
    assert f"acts as facebook account page-{acc[:8]}" in failure["message"]
    assert "another-page" in failure["message"]
    assert "credential.rotation_step_failed" in rot.notice_kinds()

    # Linked to the account the token acts as, the same rotation resumes and finishes.
    status, view, _ = call(
        "PUT", f"/accounts/{acc}/platform-id", "tech.ortiz", body={"platform_id": f"page-{acc[:8]}"}
    )
    assert status == 200, view
    version = rot.current(secret_id)["version"]
    _, view, _ = call("GET", f"/accounts/{acc}/credential", "tech.ortiz")
    pending = view["rotation"]["version_id"]
    status, view, _ = call("POST", f"/accounts/{acc}/credential/rotations/{pending}/resume", "tech.ortiz")
    assert status == 200, view
    rot.work()
    assert rot.current(secret_id)["version"] == pending != version
