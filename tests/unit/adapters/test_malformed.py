"""Deliveries that are not what the platform sends at all: a BadRequest whose message names the problem."""

from __future__ import annotations

from datetime import datetime

import pytest

from shared.domain.adapters import parse
from shared.errors import BadRequest
from tests.unit.adapters.support import RECEIVED


@pytest.mark.parametrize(
    ("platform", "body", "message"),
    [
        ("meta", b"", "empty"),
        ("meta", b"not json", "not JSON: Expecting value at line 1 column 1"),
        ("meta", b'{"object": "page", "entry": [', "not JSON"),
        ("meta", b"\xff\xfe{}", "not UTF-8"),
        ("meta", b'{"object": "page", "entry": [], "x": NaN}', "NaN is not allowed"),
        ("meta", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("meta", b'"a string"', "must be a JSON object, got string"),
        ("meta", b"[]", "empty array"),
        ("meta", b'{"object": "page"}', "has no 'entry' list"),
        ("meta", b'{"object": "page", "entry": {}}', "'entry' must be a list"),
        ("meta", b'{"object": 5, "entry": []}', "'object' must be a string"),
        ("meta", b'[{"object": "page", "entry": []}, 3]', r"delivery \[1\] must be a JSON object"),
        ("x", b"", "empty"),
        ("x", b"<xml/>", "not JSON"),
        ("x", b'{"for_user_id": true}', "for_user_id must be a string or integer id"),
        ("twitter", b"{}", "unknown platform 'twitter'"),
    ],
)
def test_malformed_delivery_is_a_bad_request(platform: str, body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message) as caught:
        parse(platform, body, RECEIVED)
    assert caught.value.status == 400
    assert caught.value.body()["code"] == "bad_request"


def test_receive_time_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse("x", b"{}", datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


def test_empty_event_arrays_are_fine() -> None:
    assert parse("meta", b'{"object": "page", "entry": []}', RECEIVED).outcomes == ()
    assert parse("x", b'{"for_user_id": "1"}', RECEIVED).outcomes == ()
    assert parse("youtube", b'<feed xmlns="http://www.w3.org/2005/Atom"/>', RECEIVED).outcomes == ()
