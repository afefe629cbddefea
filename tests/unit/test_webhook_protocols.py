"""Signatures, handshakes and envelope checks of the three platforms, against the published vectors."""

from __future__ import annotations

from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import webhooks
from shared.domain.webhooks import Platform
from tests.fixtures import VECTORS, WEBHOOKS, fixture, vector_body


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_every_signed_vector_verifies(name: str) -> None:
    platform, secret, body, expected = VECTORS[name]
    raw = vector_body(body)
    assert webhooks.expected_signature(cast(Platform, platform), secret, raw) == expected
    assert webhooks.signature_matches(cast(Platform, platform), secret, raw, expected)


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_changing_any_one_byte_of_a_vector_is_rejected(name: str) -> None:
    platform, secret, body, expected = VECTORS[name]
    raw = vector_body(body)
    for position in range(len(raw)):
        changed = bytearray(raw)
        changed[position] ^= 0x01
        assert not webhooks.signature_matches(cast(Platform, platform), secret, bytes(changed), expected), (
            position
        )
    assert not webhooks.signature_matches(cast(Platform, platform), secret, raw + b" ", expected)
    assert not webhooks.signature_matches(cast(Platform, platform), secret, raw[:-1], expected)


@given(st.binary(max_size=512), st.text(min_size=1, max_size=40), st.sampled_from(["meta", "x", "youtube"]))
def test_signatures_round_trip_and_a_wrong_secret_fails(body: bytes, secret: str, platform: str) -> None:
    p = cast(Platform, platform)
    header = webhooks.expected_signature(p, secret, body)
    assert webhooks.signature_matches(p, secret, body, header)
    assert not webhooks.signature_matches(p, secret + "x", body, header)


def test_the_escaped_and_raw_utf8_forms_sign_differently() -> None:
    # Meta signs the bytes it sends; re-serializing parsed JSON would not verify.
    _, secret, escaped, header = VECTORS["M4"]
    assert not webhooks.signature_matches(
        "meta", secret, fixture("fb_feed_comment_add_7_thai_utf8.json"), header
    )
    assert webhooks.signature_matches("meta", secret, vector_body(escaped), header)


@pytest.mark.parametrize(
    ("platform", "provided"),
    [
        ("meta", None),
        ("meta", ""),
        ("meta", "sha1=6cce4c85b53e5ffcbf1b36d62b3127b0ac62561e"),  # the legacy SHA-1 header is not accepted
        ("x", "sha256="),
        ("youtube", "md5=abc"),
        ("youtube", "sha1"),
    ],
)
def test_missing_or_malformed_signatures_fail(platform: str, provided: str | None) -> None:
    assert not webhooks.signature_matches(cast(Platform, platform), "test-app-secret", b"{}", provided)


def test_meta_hex_case_and_websub_algorithms() -> None:
    body = b'{"object":"page","entry":[]}'
    assert webhooks.signature_matches(
        "meta",
        "s",
        body,
        webhooks.expected_signature("meta", "s", body).upper()[:6].lower()
        + webhooks.expected_signature("meta", "s", body)[6:].upper(),
    )
    for algorithm in ("sha1", "sha256", "sha384", "sha512"):
        assert webhooks.signature_matches(
            "youtube", "s", body, webhooks.expected_signature("youtube", "s", body, algorithm)
        )


def test_headers_are_found_whatever_their_case() -> None:
    assert webhooks.header({"X-Hub-Signature-256": "v"}, "x-hub-signature-256") == "v"
    assert webhooks.header(None, "x") is None


# --------------------------------------------------------------------------------------------- handshakes
def test_meta_handshake_echoes_the_challenge_exactly() -> None:
    reply = webhooks.meta_handshake(
        {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "meatyhamhock"},
        "meatyhamhock",
    )
    assert (reply.status, reply.body, reply.content_type) == (200, "1158201444", "text/plain")


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "wrong"}, 403),
        ({"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": "meatyhamhock"}, 400),
        ({"hub.mode": "subscribe", "hub.verify_token": "meatyhamhock"}, 400),
        ({}, 400),
    ],
)
def test_meta_handshake_refusals(query: dict[str, str], status: int) -> None:
    reply = webhooks.meta_handshake(query, "meatyhamhock")
    assert reply.status == status
    assert isinstance(reply.body, dict)
    assert reply.body["message"]


def test_x_crc_matches_the_published_vector() -> None:
    reply = webhooks.x_crc({"crc_token": "test-crc-token"}, "test-consumer-secret")
    assert reply.body == {"response_token": "sha256=1Fg22hsV/J0MPCeiX/iZqLqDkZ0S28yOOMIljrsAX9M="}
    assert webhooks.x_crc({}, "s").status == 400


@pytest.mark.parametrize(
    "token",
    [
        '{"for_user_id":"2975699229","tweet_create_events":[]}',
        fixture("x_tweet_create_events_1.json").decode(),
        "[1]",
        "a b",
        "x" * 129,
        "<feed/>",
        "caf\u00e9",
    ],
)
def test_x_crc_refuses_a_token_that_is_not_a_short_opaque_string(token: str) -> None:
    reply = webhooks.x_crc({"crc_token": token}, "test-consumer-secret")
    assert reply.status == 400
    assert isinstance(reply.body, dict)
    assert "crc_token must be" in reply.body["message"]


@given(st.text(max_size=200) | st.from_regex(webhooks.CRC_TOKEN, fullmatch=True))
def test_no_crc_answer_is_ever_the_signature_of_a_delivery(token: str) -> None:
    """The CRC answer is HMAC(consumer secret, token), the construction of a delivery's signature: every token
    answered must be a body the receiver refuses as a delivery, so the answer cannot sign a forged one."""
    reply = webhooks.x_crc({"crc_token": token}, "test-consumer-secret")
    if reply.status != 200:
        return
    assert isinstance(reply.body, dict)
    signature = reply.body["response_token"]
    assert webhooks.signature_matches("x", "test-consumer-secret", token.encode(), signature)
    assert webhooks.shape_problem("x", token.encode()) is not None


def test_websub_verification() -> None:
    topic = "https://www.youtube.com/xml/feeds/videos.xml?channel_id=UCXuqSBlHAE6Xw-yeJA0Tunw"
    ok = webhooks.websub_verification({"hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "abc"})
    assert (ok.status, ok.body) == (200, "abc")
    other = webhooks.websub_verification(
        {"hub.mode": "subscribe", "hub.topic": "https://evil.example/", "hub.challenge": "x"}
    )
    assert other.status == 404
    assert webhooks.websub_verification({"hub.mode": "denied", "hub.topic": topic}).status == 200
    assert (
        webhooks.websub_verification({"hub.mode": "publish", "hub.topic": topic, "hub.challenge": "x"}).status
        == 400
    )


# --------------------------------------------------------------------------------------------- shape
@pytest.mark.parametrize("path", sorted(p.name for p in WEBHOOKS.glob("*.json")))
def test_every_json_fixture_has_a_valid_envelope(path: str) -> None:
    platform: Platform = "x" if path.startswith("x_") else "meta"
    assert webhooks.shape_problem(platform, fixture(path)) is None


@pytest.mark.parametrize("path", sorted(p.name for p in WEBHOOKS.glob("*.xml")))
def test_every_websub_fixture_has_a_valid_envelope(path: str) -> None:
    assert webhooks.shape_problem("youtube", fixture(path)) is None


@pytest.mark.parametrize(
    ("platform", "body", "says"),
    [
        ("meta", b"not json", "not JSON"),
        ("meta", b"[1, 2]", "JSON object"),
        ("meta", b"[]", "at least one"),
        ("meta", b'{"object": 7, "entry": []}', "'object'"),
        ("meta", b'{"object": "page"}', "'entry'"),
        ("meta", b'{"object": "page", "entry": {}}', "'entry'"),
        ("meta", b"\xff\xfe", "UTF-8"),
        ("x", b'{"tweet_create_events": []}', "for_user_id"),
        ("youtube", b"<feed", "well-formed"),
        ("youtube", b"<rss/>", "Atom"),
        (
            "youtube",
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><feed xmlns="http://www.w3.org/2005/Atom">&lol;</feed>',
            "DOCTYPE",
        ),
    ],
)
def test_wrong_envelopes_are_named(platform: str, body: bytes, says: str) -> None:
    problem: Any = webhooks.shape_problem(cast(Platform, platform), body)
    assert problem is not None
    assert says in problem
