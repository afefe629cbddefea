"""The local gateway builds the event API Gateway would: body bytes, base64, query strings, claims."""

from __future__ import annotations

import base64
import json

import pytest

from infrastructure.local.gateway import Gateway, _claim_string, from_result, is_binary, to_event
from shared import catalogue


def _route(method: str, path: str) -> tuple[catalogue.Route, dict[str, str]]:
    matched = catalogue.match_path(method, path)
    assert matched is not None
    return matched


def test_text_body_passes_through_as_the_exact_utf8_text() -> None:
    raw = '{"message":"สวัสดี \\u0e2a"}'.encode()
    route, params = _route("POST", "/audit/anchors")
    event = to_event(route, params, "POST", "/audit/anchors", {"Content-Type": "application/json"}, raw, None)
    assert event["isBase64Encoded"] is False
    assert event["body"].encode() == raw


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [("application/octet-stream", b"plain ascii"), ("application/json", b"\xff\xfe not utf-8")],
    ids=["binary-media-type", "invalid-utf8"],
)
def test_binary_bodies_are_base64_and_byte_exact(content_type: str, raw: bytes) -> None:
    route, params = _route("POST", "/audit/anchors")
    event = to_event(route, params, "POST", "/audit/anchors", {"Content-Type": content_type}, raw, None)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_path_and_query_parameters_and_resource_template() -> None:
    route, params = _route("GET", "/audit/chains/3")
    event = to_event(route, params, "GET", "/audit/chains/3?a=1&a=2&b=", {}, b"", {"sub": "x"})
    assert event["resource"] == "/audit/chains/{chain}"
    assert event["pathParameters"] == {"chain": "3"}
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["requestContext"]["authorizer"] == {"claims": {"sub": "x"}}
    assert event["body"] is None


def test_path_parameters_are_url_decoded() -> None:
    _, params = _route("GET", "/audit/chains/%33")
    assert params == {"chain": "3"}


def test_claims_are_strings_like_api_gateway() -> None:
    assert _claim_string("cognito:groups", ["records", "it"]) == "records,it"
    assert _claim_string("exp", 0) == "Thu Jan 01 00:00:00 UTC 1970"
    assert _claim_string("email_verified", True) == "true"


def test_media_type_matching() -> None:
    assert is_binary("image/png")
    assert is_binary("application/octet-stream; charset=binary")
    assert not is_binary("application/json")
    assert not is_binary(None)


def test_integration_results_become_replies() -> None:
    reply = from_result({"statusCode": 201, "headers": {"X-A": "1"}, "body": json.dumps({"ok": True})})
    assert (reply.status, reply.headers["X-A"], json.loads(reply.body)) == (201, "1", {"ok": True})
    binary = from_result(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    assert binary.body == b"\x00\x01"
    assert from_result({"no": "status"}).status == 502


def test_a_function_that_raises_is_api_gateways_502_not_a_dropped_connection() -> None:
    def crashing(function: str, event: dict[str, object]) -> dict[str, object]:
        raise RuntimeError("boom")

    gateway = Gateway(verifier=None, invoke=crashing)  # type: ignore[arg-type]  # a public route needs no verifier
    reply = gateway.handle("GET", "/health", {}, b"", "127.0.0.1")
    assert reply.status == 502
    assert json.loads(reply.body) == {"message": "Internal server error"}
