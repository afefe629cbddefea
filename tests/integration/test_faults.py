"""Fault injection on moto and the fake platform server: AWS errors injected through botocore's event hooks on
the functions' own clients (:mod:`tests.integration.faults_support`), races played for real against moto, and the
platforms' 429s, 500s and hangs. For each fault, the outcome the platform, the processor and the vault owe:

* the receiver answers 503 (the platform retries) and the retry is recorded once;
* the processor retries, dead-letters with the reason, and once the fault clears and the message is re-driven,
  exactly the delivery's versions exist, archived once and indexed once;
* a race is lost by one writer, which reads again: nothing lost, nothing twice, no half-written change;
* the audit chain verifies; no secret (platform app secret, token, vault value) is in a response, an error,
  a dead-letter reason or a log line.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from infrastructure.local.fake_platforms import FakePlatforms
from infrastructure.local.provision import Provisioned, local_secret_values
from shared import audit, catalogue, ingest
from shared.domain import adapters, webhooks
from shared.domain.cases import CaseState
from shared.settings import get_settings
from shared.store import aws, intake
from shared.store.audit_log import AuditItem, AuditLog
from shared.store.content_store import ContentRecord
from tests.integration import test_rotation, test_vault
from tests.integration.faults_support import (
    Fault,
    aws_error,
    aws_raises,
    race,
    table_client,
    transaction_client,
)
from tests.integration.test_moderation_cases import PAGE, PHONE, cases_of, delivery, seed
from tests.integration.test_processor import Pipeline
from tests.integration.test_rotation import Rotations, stored
from tests.integration.test_vault import REQUEST, World, call, canary_values
from tests.integration.test_webhook_receiver import post

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

# The fixtures of the vault and rotation tests, used here as they are.
world, all_logs, rot = test_vault.world, test_vault.all_logs, test_rotation.rot

MAX_RECEIVES = catalogue.queue("intake").max_receive_count
KMS_DENIED = "User: arn:aws:sts::123456789012:assumed-role/steward is not authorized to perform: kms:Decrypt"
# What a stack trace would show in a response or a reason.
TRACE_MARKERS = ("Traceback", 'File "', "botocore.exceptions")


# --------------------------------------------------------------------------------------------- helpers
def platform_secrets() -> list[str]:
    """Every platform secret the receiver and the processor hold (app secrets, verify token, page tokens)."""
    values = [*local_secret_values("meta-app").values(), *local_secret_values("x-app").values()]
    values += local_secret_values("websub").values()
    values += local_secret_values("platform-tokens").values()
    return [v for v in values if isinstance(v, str) and len(v) >= 8]


def assert_no_leak(texts: list[str], secrets: list[str]) -> None:
    """No secret value in any of ``texts`` (responses, reasons, log lines: logs may carry a stack trace)."""
    for text in texts:
        for secret in secrets:
            assert secret not in text, "a secret value leaked"


def assert_plain(answer: str) -> None:
    """A response body or a dead-letter reason says what failed in words, with no stack trace."""
    for marker in TRACE_MARKERS:
        assert marker not in answer, f"a stack trace in {answer[:200]}"


def versions(comment_id: str) -> list[bytes]:
    """Two deliveries of one comment: it is added, then edited (two versions)."""
    added = delivery(comment_id, "Thanks for posting the new bus schedule!")
    edit = json.loads(added)
    value = edit["entry"][0]["changes"][0]["value"]
    value.update(verb="edited", message="Thanks for posting the new bus schedule! Route 4 too?")
    return [added, json.dumps(edit).encode()]


def secrets_of(data: dict[str, Any]) -> list[str]:
    """The secret values of a credential body (a Facebook page has no refresh token)."""
    tokens = data["tokens"]
    found = [data["password"], data["mfa_seed"], *data["recovery_codes"], *tokens.values()]
    return [v for v in found if v and v != tokens["expires_at"]]


def expected_event_ids(bodies: list[bytes]) -> set[str]:
    now = datetime.now(UTC)
    return {e.event_id for body in bodies for e in adapters.parse("meta", body, now).events}


def sign(body: bytes) -> str:
    return webhooks.expected_signature("meta", local_secret_values("meta-app")["app_secret"], body)


def take_dead_letters(pipeline: Pipeline) -> list[dict[str, Any]]:
    """Every message on the intake dead-letter queue, taken off it."""
    return take(pipeline, pipeline.env.dlq_urls["intake"])


def take(world: Any, url: str) -> list[dict[str, Any]]:
    """Every message on queue ``url`` with its attributes, taken off it (``world.sqs`` reads it)."""
    out: list[dict[str, Any]] = []
    while got := world.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages"):
        for message in got:
            out.append(message)
            world.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return out


def redrive(pipeline: Pipeline, messages: list[dict[str, Any]]) -> None:
    """What the operator does once the fault is gone: the dead letters go back on the intake queue."""
    for message in messages:
        pipeline.sqs.send_message(QueueUrl=pipeline.env.queue_urls["intake"], MessageBody=message["Body"])


def assert_recorded_exactly(pipeline: Pipeline, comment_id: str, expected: set[str]) -> None:
    """The item's history holds each expected version once, and the archive holds each once, nothing else."""
    [history] = [h for h in pipeline.index().values() if h["item_id"] == comment_id]
    ids = [e["event_id"] for e in history["events"]]
    assert sorted(ids) == sorted(expected)
    archived = [k for k in pipeline.archive() if f"/{comment_id}/" in k]
    assert sorted(k.rsplit("/", 1)[1].removesuffix(".json") for k in archived) == sorted(expected)


@pytest.fixture
def pipeline(moto_env: Provisioned) -> Pipeline:
    audit.reset()
    return Pipeline(moto_env)


# --------------------------------------------------------------------------------------------- the receiver
def bucket(key: str) -> str:
    return get_settings().bucket_name(key)


RECEIVER_FAULTS: dict[str, Callable[[], AbstractContextManager[Fault]]] = {
    "s3-500": lambda: aws_error(aws.s3(), "PutObject", "InternalError", target=bucket("intake")),
    "s3-slowdown": lambda: aws_error(
        aws.s3(), "PutObject", "SlowDown", status=503, message="Please reduce your request rate."
    ),
    "sqs-unreachable": lambda: aws_raises(
        aws.sqs(), "SendMessage", EndpointConnectionError(endpoint_url="https://sqs.invalid")
    ),
    "secrets-timeout": lambda: aws_raises(
        aws.secretsmanager(), "GetSecretValue", ReadTimeoutError(endpoint_url="https://secrets.invalid")
    ),
    "secrets-kms-denied": lambda: aws_error(
        aws.secretsmanager(), "GetSecretValue", "AccessDeniedException", status=400, message=KMS_DENIED
    ),
}


@pytest.mark.parametrize("fault", sorted(RECEIVER_FAULTS))
def test_a_receiver_fault_is_a_503_and_the_platforms_retry_is_recorded_once(
    pipeline: Pipeline, all_logs: io.StringIO, capfd: pytest.CaptureFixture[str], fault: str
) -> None:
    comment = "901097836652708_8100"
    body = versions(comment)[0]
    with RECEIVER_FAULTS[fault]() as injected:
        reply = post("meta", body, sign(body))
    assert injected.calls >= 1
    assert reply["statusCode"] == 503, reply
    assert json.loads(reply["body"])["message"]
    assert_plain(reply["body"])
    assert pipeline.sqs.receive_message(QueueUrl=pipeline.env.queue_urls["intake"]).get("Messages") is None

    # The platform retries the same delivery once the fault has cleared: it is recorded, once.
    assert post("meta", body, sign(body))["statusCode"] == 200
    pipeline.drain()
    assert take_dead_letters(pipeline) == []
    assert_recorded_exactly(pipeline, comment, expected_event_ids([body]))
    assert audit.verify().ok
    captured = capfd.readouterr()
    assert_no_leak([reply["body"], all_logs.getvalue(), captured.out, captured.err], platform_secrets())


# --------------------------------------------------------------------------------------------- the processor
def content_table() -> Any:
    ingest.store()  # binds the model (binding drops the client)
    return table_client(ContentRecord)


def audit_table() -> Any:
    audit.log()
    return table_client(AuditItem)


PROCESSOR_FAULTS: dict[str, tuple[Callable[[], AbstractContextManager[Fault]], str]] = {
    "ddb-throughput-exceeded": (
        lambda: aws_error(
            content_table(), "PutItem", "ProvisionedThroughputExceededException", status=400, times=None
        ),
        "the content index could not be written",
    ),
    "ddb-audit-throttled": (
        lambda: aws_error(audit_table(), "PutItem", "ThrottlingException", status=400),
        "the audit trail could not be written",
    ),
    "s3-archive-500": (
        lambda: aws_error(aws.s3(), "PutObject", "InternalError", target=bucket("archive")),
        "the archive could not be written",
    ),
    "s3-archive-slowdown": (
        lambda: aws_error(aws.s3(), "PutObject", "SlowDown", status=503, target=bucket("archive")),
        "the archive could not be written",
    ),
    "s3-intake-kms-denied": (
        lambda: aws_error(
            aws.s3(), "GetObject", "AccessDenied", status=403, message=KMS_DENIED, target=bucket("intake")
        ),
        "could not be read",
    ),
}


@pytest.mark.parametrize("fault", sorted(PROCESSOR_FAULTS))
def test_a_processor_fault_retries_then_dead_letters_and_the_redrive_records_every_version_once(
    pipeline: Pipeline, all_logs: io.StringIO, fault: str
) -> None:
    comment = "901097836652708_8200"
    bodies = versions(comment)
    make, reason = PROCESSOR_FAULTS[fault]
    with make() as injected:
        for body in bodies:
            assert pipeline.deliver("edit.json", body) == 200
        pipeline.drain()
    # Every attempt SQS made met the fault, and the last one dead-lettered each message with its reason.
    assert injected.calls >= len(bodies) * MAX_RECEIVES
    dead = take_dead_letters(pipeline)
    assert len(dead) == len(bodies)
    for message in dead:
        text = message["MessageAttributes"]["reason"]["StringValue"]
        assert text.startswith("failed on its last attempt: Unavailable: "), text
        assert reason in text
        assert_plain(text)
        assert_no_leak([text], platform_secrets())

    redrive(pipeline, dead)
    pipeline.drain()
    assert take_dead_letters(pipeline) == []
    assert_recorded_exactly(pipeline, comment, expected_event_ids(bodies))
    assert audit.verify().ok
    assert_no_leak([all_logs.getvalue()], platform_secrets())


def queued_pointers(pipeline: Pipeline) -> list[intake.Pointer]:
    got = pipeline.sqs.receive_message(QueueUrl=pipeline.env.queue_urls["intake"], MaxNumberOfMessages=10)
    return [intake.parse_pointer(m["Body"]) for m in got.get("Messages", [])]


def test_two_processors_racing_on_one_item_keep_both_versions_once(pipeline: Pipeline) -> None:
    """Another processor indexes the edit between the add's archive write and its index write: the add's
    put-if-new fails on moto (ConditionalCheckFailedException), so it reads the item and adds itself to it."""
    comment = "901097836652708_8300"
    bodies = versions(comment)
    for body in bodies:
        assert pipeline.deliver("edit.json", body) == 200
    added, edited = sorted(queued_pointers(pipeline), key=lambda p: p.size)
    with race(content_table(), "PutItem", lambda: ingest.ingest(edited)) as raced:
        report = ingest.ingest(added)
    assert raced.calls == 1
    assert report.recorded == 1
    assert_recorded_exactly(pipeline, comment, expected_event_ids(bodies))
    history = ingest.store().get("facebook", PAGE, comment)
    assert history is not None
    assert history.revision == 2  # the edit's write, then the add's: neither overwrote the other

    # The platform delivers both again: duplicates, nothing changes.
    pipeline.sqs.purge_queue(QueueUrl=pipeline.env.queue_urls["intake"])
    for body in bodies:
        pipeline.deliver("edit.json", body)
    pipeline.drain()
    assert_recorded_exactly(pipeline, comment, expected_event_ids(bodies))
    assert audit.verify().ok


def test_two_writers_racing_for_the_same_audit_position_both_append_and_the_chain_verifies(
    pipeline: Pipeline, chains: Callable[[int], None]
) -> None:
    """Another function instance appends to the one chain first: this writer's conditional put of the same
    position fails on moto, and it appends after the other entry."""
    chains(1)
    audit.log().append("system:test", "test.first", "test:race")  # this writer caches the chain's head
    other = AuditLog(1)
    comment = "901097836652708_8400"
    [body] = versions(comment)[:1]
    assert pipeline.deliver("add.json", body) == 200
    [pointer] = queued_pointers(pipeline)
    with race(
        audit_table(), "PutItem", lambda: other.append("system:other", "test.raced", "test:race")
    ) as raced:
        ingest.ingest(pointer)
    assert raced.calls == 1
    actions = [e.entry.action for e in audit.log().entries(0) if e.entry is not None]
    assert actions == ["test.first", "test.raced", "content.recorded"]
    assert_recorded_exactly(pipeline, comment, expected_event_ids([body]))
    assert audit.verify().ok


# --------------------------------------------------------------------------------------------- the vault
CREDENTIAL = "/accounts/{}/credential"


def current_secret(w: World, account_id: str) -> tuple[str, dict[str, Any]]:
    _, view, _ = call("GET", CREDENTIAL.format(account_id), "tech.ortiz")
    answer = w.secrets.get_secret_value(SecretId=view["secret_id"], VersionStage="AWSCURRENT")
    return str(answer["VersionId"]), json.loads(answer["SecretString"])


@pytest.fixture
def vaulted(world: World) -> tuple[str, dict[str, Any]]:
    """An account with a stored credential: (account id, its values)."""
    status, account, _ = call("POST", "/accounts", "director.kim", body={**REQUEST, "handle": "faultyhigh"})
    assert status == 201, account
    data = canary_values()
    status, view, _ = call("PUT", CREDENTIAL.format(account["id"]), "tech.ortiz", body=data)
    assert status == 200, view
    return str(account["id"]), data


VAULT_FAULTS: dict[str, tuple[str, Callable[[], AbstractContextManager[Fault]]]] = {
    "store-kms-denied": (
        "store",
        lambda: aws_error(
            aws.secretsmanager(), "PutSecretValue", "AccessDeniedException", status=400, message=KMS_DENIED
        ),
    ),
    "store-record-throttled": (
        "store",
        lambda: aws_error(
            transaction_client(),
            "TransactWriteItems",
            "TransactionCanceledException",
            status=400,
            message="Transaction cancelled, please refer cancellation reasons for specific reasons",
            extra={"CancellationReasons": [{"Code": "ThrottlingError"}, {"Code": "None"}]},
        ),
    ),
    "checkout-kms-denied": (
        "checkout",
        lambda: aws_error(
            aws.secretsmanager(), "GetSecretValue", "AccessDeniedException", status=400, message=KMS_DENIED
        ),
    ),
    "checkout-secrets-timeout": (
        "checkout",
        lambda: aws_raises(
            aws.secretsmanager(), "GetSecretValue", ReadTimeoutError(endpoint_url="https://secrets.invalid")
        ),
    ),
}


@pytest.mark.parametrize("fault", sorted(VAULT_FAULTS))
def test_a_vault_fault_is_a_503_that_changes_nothing_and_shows_no_value(
    world: World,
    vaulted: tuple[str, dict[str, Any]],
    all_logs: io.StringIO,
    capfd: pytest.CaptureFixture[str],
    fault: str,
) -> None:
    account_id, data = vaulted
    what, make = VAULT_FAULTS[fault]
    before_version, before_values = current_secret(world, account_id)
    _, before_view, _ = call("GET", CREDENTIAL.format(account_id), "tech.ortiz")
    entries, notices = len(world.entries()), len(world.notices())
    replacement = canary_values()
    with make() as injected:
        if what == "store":
            status, answer, text = call("PUT", CREDENTIAL.format(account_id), "tech.ortiz", body=replacement)
        else:
            path = f"{CREDENTIAL.format(account_id)}/checkout"
            status, answer, text = call("POST", path, "tech.ortiz", body={"reason": "post the notice"})
    assert injected.calls >= 1
    assert status == 503, answer
    assert answer["message"]
    assert_plain(text)
    # Nothing changed: the same current version and values, the same record, no audit entry, no notice.
    assert current_secret(world, account_id) == (before_version, before_values)
    assert call("GET", CREDENTIAL.format(account_id), "tech.ortiz")[1] == before_view
    assert (len(world.entries()), len(world.notices())) == (entries, notices)
    assert audit.verify().ok
    # The fault cleared, the same request succeeds. (Not a store after an undone one: moto's
    # UpdateSecretVersionStage leaves its own idea of the current version behind, so its next PutSecretValue
    # with AWSCURRENT labels two versions AWSCURRENT; Secrets Manager moves the label.)
    if what == "store" and fault != "store-record-throttled":
        assert call("PUT", CREDENTIAL.format(account_id), "tech.ortiz", body=replacement)[0] == 200
        assert current_secret(world, account_id)[1]["password"] == replacement["password"]
    else:
        out = call(
            "POST", f"{CREDENTIAL.format(account_id)}/checkout", "tech.ortiz", body={"reason": "again"}
        )
        assert out[1]["values"]["password"] == data["password"]
    captured = capfd.readouterr()
    assert_no_leak(
        [text, all_logs.getvalue(), captured.out, captured.err], secrets_of(data) + secrets_of(replacement)
    )


def test_two_stores_racing_on_one_credential_leave_the_secret_and_the_record_agreeing(
    world: World, vaulted: tuple[str, dict[str, Any]], all_logs: io.StringIO
) -> None:
    """A second store commits between this store's secret write and its transaction: the transaction is
    cancelled on moto (TransactionCanceledException), the loser gets a 409, and AWSCURRENT is the winner's
    version, the one the record names."""
    account_id, data = vaulted
    mine, theirs = canary_values(), canary_values()
    path = CREDENTIAL.format(account_id)

    def other_store() -> None:
        assert call("PUT", path, "director.kim", body=theirs)[0] == 200

    with race(transaction_client(), "TransactWriteItems", other_store) as raced:
        status, answer, text = call("PUT", path, "tech.ortiz", body=mine)
    assert raced.calls == 1
    assert status == 409, answer
    assert_plain(text)
    _, view, _ = call("GET", path, "tech.ortiz")
    version, values = current_secret(world, account_id)
    assert version == view["current_version"]
    assert values["password"] == theirs["password"]
    out = call("POST", f"{path}/checkout", "tech.ortiz", body={"reason": "which one won"})[1]
    assert out["values"]["password"] == theirs["password"]
    assert audit.verify().ok
    assert_no_leak([text, all_logs.getvalue()], secrets_of(data) + secrets_of(mine) + secrets_of(theirs))


# --------------------------------------------------------------------------------------------- the platforms
PLATFORM_FAULTS: dict[str, Callable[[FakePlatforms, str], None]] = {
    "429": lambda fake, op: fake.rate_limit_next(op, times=100, retry_after=0.1),
    "500": lambda fake, op: fake.fail_next(op, times=100, status=500),
    "timeout": lambda fake, op: fake.hang_next(op, times=100, seconds=1.2),
}


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_PLATFORM_TIMEOUT_SECONDS", "1")
    aws.reset()


# A 500 on a hide: test_moderation_cases.test_a_platform_failure_leaves_the_case_action_failed_and_the_delivery_recorded
@pytest.mark.parametrize("fault", ["429", "timeout"])
def test_a_platform_fault_on_a_hide_leaves_the_case_action_failed_and_the_delivery_recorded(
    pipeline: Pipeline, fake: FakePlatforms, short_timeout: None, all_logs: io.StringIO, fault: str
) -> None:
    comment = f"901097836652708_85{len(fault)}"
    seed(fake, comment, PHONE)
    PLATFORM_FAULTS[fault](fake, "facebook.hide")
    body = delivery(comment, PHONE)
    assert pipeline.deliver("phone.json", body) == 200
    pipeline.drain()
    assert take_dead_letters(pipeline) == []
    assert_recorded_exactly(pipeline, comment, expected_event_ids([body]))
    (case,) = cases_of(comment)
    assert case.state is CaseState.ACTION_FAILED
    assert fake.comment("facebook", comment).state == "visible"
    assert len(fake.calls("facebook.hide")) == 2  # the client's attempts, then the case waits for a person
    assert audit.verify().ok
    assert_no_leak([all_logs.getvalue(), json.dumps(case.model_dump(mode="json"))], platform_secrets())


@pytest.mark.parametrize("fault", ["429", "500"])  # a hang costs the client's timeout per call: see the hide
def test_a_platform_fault_on_a_token_refresh_keeps_awscurrent_and_the_redrive_rotates_once(
    moto_env: Provisioned,
    rot: Rotations,
    fake: FakePlatforms,
    short_timeout: None,
    all_logs: io.StringIO,
    fault: str,
) -> None:
    acc, data, secret_id = stored(fake)
    old = rot.current(secret_id)
    PLATFORM_FAULTS[fault](fake, "refresh_token")
    path = f"{CREDENTIAL.format(acc)}/rotations"
    status, view, _ = call("POST", path, "tech.ortiz", body={"kind": "token", "reason": "refresh"})
    assert status == 200, view
    rot.work()
    # Every receive tried the platform (the client's two attempts each), then the request was dead-lettered.
    receives = catalogue.queue("rotations").max_receive_count
    assert len(fake.calls("refresh_token")) == 2 * receives
    [dead] = take(rot, rot.dead_letters)
    reason = dead["MessageAttributes"]["reason"]["StringValue"]
    assert reason.startswith("failed on its last attempt: PlatformError: facebook refresh_token failed"), (
        reason
    )
    assert rot.current(secret_id) == old  # AWSCURRENT untouched while the platform fails
    _, view, _ = call("GET", CREDENTIAL.format(acc), "tech.ortiz")
    assert view["rotation"]["last_failure"]["step"] == "createSecret"
    assert view["rotation"]["attempts"] == receives

    fake.clear_faults()
    rot.sqs.send_message(QueueUrl=moto_env.queue_urls["rotations"], MessageBody=dead["Body"])
    rot.work()
    now = rot.current(secret_id)
    assert now["version"] != old["version"]
    assert now["tokens"]["page_access_token"] != data["tokens"]["page_access_token"]
    _, view, text = call("GET", CREDENTIAL.format(acc), "tech.ortiz")
    assert view["rotation"] is None, view
    assert rot.actions(acc).count("credential.rotation_started") == 1
    assert rot.actions(acc).count("credential.rotation_finished") == 1
    assert audit.verify().ok
    tokens = [now["tokens"]["page_access_token"], *secrets_of(data)]
    assert_no_leak([reason, text, all_logs.getvalue(), json.dumps(rot.notices())], tokens)
