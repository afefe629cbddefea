"""The webhook receiver on moto: signed deliveries are kept and queued; anything else changes nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from functions.webhooks import receiver
from functions.webhooks.handler import handler
from infrastructure.local.provision import Provisioned, local_secret_values
from shared import catalogue
from shared.domain import webhooks
from shared.store import aws
from tests.conftest import REGION, FakeContext
from tests.events import rest_event
from tests.fixtures import VECTORS, WEBHOOKS, fixture, vector_body
from tests.integration.conftest import inject_error

SIGNED_FIXTURES = {
    "meta": [
        "fb_feed_comment_add_1.json",
        "fb_batch_two_entries_1.json",
        "ig_comments_1.json",
        "ig_live_comments_1.json",
    ],
    "x": ["x_tweet_create_events_1.json", "x_tweet_delete_events_1.json"],
    "youtube": ["yt_websub_upload_1.xml", "yt_websub_deleted_1.xml"],
}
SECRET_FIELD = {
    "meta": ("meta-app", "app_secret"),
    "x": ("x-app", "consumer_secret"),
    "youtube": ("websub", "secret"),
}


class Intake:
    def __init__(self, env: Provisioned) -> None:
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.bucket = env.env[catalogue.bucket("intake").env_var]
        self.queue = env.queue_urls["intake"]

    def keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]

    def body(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def messages(self) -> list[dict[str, Any]]:
        found = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in found]


@pytest.fixture
def intake(moto_env: Provisioned) -> Intake:
    return Intake(moto_env)


def secret(platform: str) -> str:
    key, field = SECRET_FIELD[platform]
    return local_secret_values(key)[field]


def post(platform: str, body: bytes, signature: str | None, *, b64: bool = False) -> dict[str, Any]:
    headers = {"Content-Type": webhooks.DELIVERY_TYPES[platform]}  # type: ignore[index]
    if signature is not None:
        headers[webhooks.SIGNATURE_HEADERS[platform]] = signature  # type: ignore[index]
    event = rest_event("POST", f"/webhooks/{platform}", roles=None, raw_body=body, headers=headers)
    if b64:
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return handler(event, FakeContext())  # type: ignore[no-any-return]


def get(platform: str, query: dict[str, str]) -> dict[str, Any]:
    return handler(rest_event("GET", f"/webhooks/{platform}", roles=None, query=query), FakeContext())  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("platform", "name"),
    [(p, n) for p, names in SIGNED_FIXTURES.items() for n in names],
    ids=str,
)
def test_a_signed_delivery_is_kept_byte_for_byte_then_queued(
    intake: Intake, platform: str, name: str
) -> None:
    body = fixture(name)
    reply = post(platform, body, webhooks.expected_signature(platform, secret(platform), body))  # type: ignore[arg-type]
    assert reply["statusCode"] == 200, reply["body"]
    [key] = intake.keys()
    assert key.startswith(f"deliveries/{platform}/")
    assert intake.body(key) == body
    [pointer] = intake.messages()
    assert (pointer["key"], pointer["platform"], pointer["size"]) == (key, platform, len(body))


def test_base64_bodies_are_decoded_before_the_signature_check(intake: Intake) -> None:
    body = fixture("fb_feed_comment_add_7_thai_utf8.json")
    assert (
        post("meta", body, webhooks.expected_signature("meta", secret("meta"), body), b64=True)["statusCode"]
        == 200
    )
    assert intake.body(intake.keys()[0]) == body


@pytest.mark.parametrize("platform", ["meta", "x", "youtube"])
def test_a_wrong_or_missing_signature_is_401_and_nothing_is_stored(intake: Intake, platform: str) -> None:
    body = fixture(SIGNED_FIXTURES[platform][0])
    wrong = webhooks.expected_signature(platform, "not-the-secret", body)  # type: ignore[arg-type]
    for signature in (wrong, None):
        reply = post(platform, body, signature)
        assert reply["statusCode"] == 401
        assert json.loads(reply["body"])["message"]
    assert intake.keys() == []
    assert intake.messages() == []


@contextmanager
def secret_set_to(platform: str, value: str, field: str | None = None) -> Iterator[None]:
    """The platform's secret (or another field of it) holding ``value`` for the duration."""
    key, signing = SECRET_FIELD[platform]
    sm = boto3.client("secretsmanager", region_name=REGION)
    current = json.loads(sm.get_secret_value(SecretId=f"steward-local-{key}")["SecretString"])
    sm.put_secret_value(
        SecretId=f"steward-local-{key}", SecretString=json.dumps({**current, (field or signing): value})
    )
    aws.reset()
    try:
        yield
    finally:
        sm.put_secret_value(SecretId=f"steward-local-{key}", SecretString=json.dumps(current))
        aws.reset()


def test_a_published_vector_is_accepted_with_its_secret(intake: Intake) -> None:
    platform, secret_value, body, header = VECTORS["W1"]
    with secret_set_to(platform, secret_value):
        assert post(platform, vector_body(body), header)["statusCode"] == 200
        assert post(platform, vector_body(body) + b"\n", header)["statusCode"] == 401


@pytest.mark.parametrize("name", ["M2", "X1"])
def test_a_secret_too_short_to_be_real_verifies_nothing(intake: Intake, name: str) -> None:
    """The documentation's own vectors use toy secrets ("DDD"): a deployment holding one is not configured."""
    platform, secret_value, body, header = VECTORS[name]
    with secret_set_to(platform, secret_value):
        reply = post(platform, vector_body(body), header)
    assert reply["statusCode"] == 503
    assert "not configured" in json.loads(reply["body"])["message"]
    assert secret_value not in reply["body"]
    assert intake.keys() == []


HANDSHAKES = {
    "meta": {"hub.mode": "subscribe", "hub.verify_token": catalogue.SECRET_PLACEHOLDER, "hub.challenge": "1"},
    "x": {"crc_token": "abc"},
    "youtube": {
        "hub.mode": "subscribe",
        "hub.topic": "https://www.youtube.com/xml/feeds/videos.xml?channel_id=UCXuqSBlHAE6Xw-yeJA0Tunw",
        "hub.challenge": "ch",
    },
}


@pytest.mark.parametrize("platform", ["meta", "x", "youtube"])
def test_the_deployments_placeholder_secret_verifies_nothing_and_answers_no_handshake(
    intake: Intake, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stack seeds the platform-issued secrets with a public placeholder: signatures made with it are not
    accepted, handshakes are not answered (503: the platform retries once the district puts the value in)."""
    emitted: list[str] = []
    add_metric = receiver.metrics.add_metric
    monkeypatch.setattr(
        receiver.metrics, "add_metric", lambda **kw: (emitted.append(kw["name"]), add_metric(**kw))[1]
    )
    body = fixture(SIGNED_FIXTURES[platform][0])
    forged = webhooks.expected_signature(platform, catalogue.SECRET_PLACEHOLDER, body)  # type: ignore[arg-type]
    with secret_set_to(platform, catalogue.SECRET_PLACEHOLDER):
        delivery = post(platform, body, forged)
        handshake = get(platform, HANDSHAKES[platform])
    assert (delivery["statusCode"], handshake["statusCode"]) == (503, 503)
    assert "not configured" in json.loads(delivery["body"])["message"]
    assert intake.keys() == []
    assert intake.messages() == []
    assert emitted.count("WebhookSecretNotConfigured") == 2  # the metric the stack alarms on


def test_a_placeholder_verify_token_answers_no_meta_handshake(intake: Intake) -> None:
    with secret_set_to("meta", catalogue.SECRET_PLACEHOLDER, field="verify_token"):
        reply = get("meta", HANDSHAKES["meta"])
    assert reply["statusCode"] == 503
    assert "verify_token" in json.loads(reply["body"])["message"]


def test_a_signed_body_of_the_wrong_shape_is_kept_for_diagnosis_but_refused(intake: Intake) -> None:
    body = b'{"hello": "not a meta delivery"}'
    reply = post("meta", body, webhooks.expected_signature("meta", secret("meta"), body))
    assert reply["statusCode"] == 400
    assert "entry" in json.loads(reply["body"])["message"]
    [key] = intake.keys()
    assert key.startswith("rejected/meta/")
    assert intake.messages() == []


def test_an_oversized_delivery_is_413_and_nothing_is_stored(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_WEBHOOK_MAX_BODY_BYTES", str(64 * 1024))
    aws.reset()
    body = json.dumps({"object": "page", "entry": [{"id": "1", "pad": "x" * 70_000}]}).encode()
    reply = post("meta", body, webhooks.expected_signature("meta", secret("meta"), body))
    assert reply["statusCode"] == 413
    assert intake.keys() == []


def test_if_the_store_fails_the_platform_is_told_to_retry_and_nothing_is_queued(intake: Intake) -> None:
    body = fixture("fb_feed_comment_add_1.json")
    inject_error(aws.s3(), "PutObject", "InternalError")
    reply = post("meta", body, webhooks.expected_signature("meta", secret("meta"), body))
    assert reply["statusCode"] == 503
    assert intake.messages() == []


def test_if_the_queue_fails_the_platform_is_told_to_retry(intake: Intake) -> None:
    body = fixture("fb_feed_comment_add_1.json")
    inject_error(aws.sqs(), "SendMessage", "InternalError")
    reply = post("meta", body, webhooks.expected_signature("meta", secret("meta"), body))
    assert reply["statusCode"] == 503
    assert "retry" in json.loads(reply["body"])["message"]


def test_if_secrets_manager_fails_nothing_is_stored_and_no_secret_leaks(intake: Intake) -> None:
    body = fixture("fb_feed_comment_add_1.json")
    inject_error(aws.secretsmanager(), "GetSecretValue", "InternalServiceError")
    reply = post("meta", body, webhooks.expected_signature("meta", secret("meta"), body))
    assert reply["statusCode"] == 503
    assert secret("meta") not in reply["body"]
    assert intake.keys() == []


def test_handshakes(intake: Intake) -> None:
    token = local_secret_values("meta-app")["verify_token"]
    ok = get("meta", {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"})
    assert (ok["statusCode"], ok["body"], ok["headers"]["Content-Type"]) == (200, "1158201444", "text/plain")
    wrong = get("meta", {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    assert wrong["statusCode"] == 403
    crc = json.loads(get("x", {"crc_token": "abc"})["body"])
    assert crc["response_token"] == webhooks.x_crc({"crc_token": "abc"}, secret("x")).body["response_token"]  # type: ignore[index]
    topic = "https://www.youtube.com/xml/feeds/videos.xml?channel_id=UCXuqSBlHAE6Xw-yeJA0Tunw"
    websub = get("youtube", {"hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "ch"})
    assert (websub["statusCode"], websub["body"]) == (200, "ch")
    assert intake.keys() == []


@pytest.mark.parametrize("name", sorted(p.name for p in WEBHOOKS.iterdir() if p.suffix in (".json", ".xml")))
def test_every_fixture_with_a_wrong_signature_is_refused_and_nothing_is_stored(
    intake: Intake, name: str
) -> None:
    platform = "youtube" if name.startswith("yt_") else "x" if name.startswith("x_") else "meta"
    body = fixture(name)
    assert post(platform, body, webhooks.expected_signature(platform, "wrong", body))["statusCode"] == 401
    assert (
        post(platform, body, webhooks.expected_signature(platform, secret(platform), body + b"x"))[
            "statusCode"
        ]
        == 401
    )
    assert intake.keys() == []


def test_the_x_crc_cannot_be_used_to_sign_a_forged_delivery(intake: Intake) -> None:
    """The attack of the security review: ask the CRC to 'answer' a delivery's bytes, then post that delivery
    with the answer as its signature. The CRC refuses the token, so there is no signature to use."""
    forged = fixture("x_tweet_create_events_3_reply.json")
    reply = get("x", {"crc_token": forged.decode()})
    assert reply["statusCode"] == 400
    assert "response_token" not in reply["body"]
    oracle = webhooks.expected_signature("x", "not-the-consumer-secret", forged)
    assert post("x", forged, oracle)["statusCode"] == 401
    assert intake.keys() == []


@pytest.mark.parametrize(
    "sent", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json"]
)
def test_a_delivery_is_kept_as_opaque_bytes_whatever_content_type_it_was_sent_with(
    intake: Intake, sent: str
) -> None:
    body = fixture("fb_feed_comment_add_1.json")
    headers = {webhooks.SIGNATURE_HEADERS["meta"]: webhooks.expected_signature("meta", secret("meta"), body)}
    headers["Content-Type"] = sent
    event = rest_event("POST", "/webhooks/meta", roles=None, raw_body=body, headers=headers)
    assert handler(event, FakeContext())["statusCode"] == 200
    [key] = intake.keys()
    head = intake.s3.head_object(Bucket=intake.bucket, Key=key)
    assert head["ContentType"] == "application/octet-stream"
    assert head["Metadata"]["sent-content-type"] == sent
    assert intake.body(key) == body
