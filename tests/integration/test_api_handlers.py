"""The API functions end to end through their Lambda handlers, on moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from functions.audit_api.handler import handler as audit_api
from functions.docs.handler import handler as docs
from functions.docs.routes import openapi_document
from functions.health.handler import handler as health
from shared import audit
from shared.store import aws
from tests.conftest import FakeContext
from tests.events import rest_event
from tests.integration.conftest import Stores, inject_error

# Every test runs on moto, even those whose routes should touch no AWS service: nothing can reach real AWS.
# (A request that publishes no metric is normal; shared.observability silences the warning, pytest restores it.)
pytestmark = [
    pytest.mark.usefixtures("moto_env"),
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def call(handler: Handler, event: dict[str, Any], context: FakeContext) -> tuple[int, Any]:
    response = handler(event, context)
    # The role gate answers with single-value headers, the resolver with multi-value ones: both are valid.
    content_type = (response.get("headers") or {}).get("Content-Type") or response["multiValueHeaders"][
        "Content-Type"
    ][0]
    assert content_type == "application/json"
    return response["statusCode"], json.loads(response["body"])


def as_user(event: dict[str, Any], username: str) -> dict[str, Any]:
    claims = event["requestContext"]["authorizer"]["claims"]
    claims.update(
        {"cognito:username": username, "sub": f"sub-{username}", "email": f"{username}@district.example"}
    )
    return event


@pytest.fixture
def api_env(stores: Stores, fresh_audit: None) -> Stores:
    return stores


# --------------------------------------------------------------------------------------------- verify
@pytest.mark.parametrize("role", ["records", "it", "communications"])
def test_audit_readers_can_verify(api_env: Stores, lambda_context: FakeContext, role: str) -> None:
    audit.append("user:a", "x.y", "r:1")

    status, body = call(audit_api, rest_event("GET", "/audit/verify", roles=(role,)), lambda_context)

    assert status == 200
    assert body["ok"] is True
    assert len(body["chains"]) == 4
    assert sum(c["entries"] for c in body["chains"]) == 1


@pytest.mark.parametrize("role", ["staff", "principals", "moderators"])
def test_other_roles_are_forbidden_with_a_json_message(
    api_env: Stores, lambda_context: FakeContext, role: str
) -> None:
    status, body = call(audit_api, rest_event("GET", "/audit/verify", roles=(role,)), lambda_context)

    assert status == 403
    assert body["code"] == "forbidden"
    assert "records" in body["message"]


def test_without_a_token_verify_is_unauthorized(api_env: Stores, lambda_context: FakeContext) -> None:
    status, body = call(audit_api, rest_event("GET", "/audit/verify", roles=None), lambda_context)
    assert status == 401
    assert body["code"] == "unauthorized"
    assert "token" in body["message"]


def test_a_tampered_trail_is_reported_with_200_and_ok_false(
    api_env: Stores, lambda_context: FakeContext
) -> None:
    entry = audit.append("user:a", "x.y", "r:1")
    api_env.ddb.delete_item(
        TableName=api_env.table,
        Key={"pk": {"S": f"CHAIN#{entry.chain:04d}"}, "sk": {"S": "SEQ#000000000001"}},
    )
    audit.append("user:a", "x.y", "r:2")  # may land on the same chain: a gap either way, or an empty chain

    status, body = call(audit_api, rest_event("GET", f"/audit/chains/{entry.chain}"), lambda_context)

    assert status == 200
    chain = body["chains"][0]
    assert chain["chain"] == entry.chain
    if chain["entries"]:
        assert body["ok"] is False
        assert chain["problem"]["kind"] == "deleted"


def test_one_chain_can_be_verified(api_env: Stores, lambda_context: FakeContext) -> None:
    status, body = call(audit_api, rest_event("GET", "/audit/chains/2"), lambda_context)
    assert status == 200
    assert [c["chain"] for c in body["chains"]] == [2]


def test_a_chain_that_is_not_a_number_is_422_naming_the_parameter(
    api_env: Stores, lambda_context: FakeContext
) -> None:
    status, body = call(audit_api, rest_event("GET", "/audit/chains/abc"), lambda_context)
    assert status == 422
    assert "chain" in body["message"]


@pytest.mark.parametrize("chain", ["99", "4", "-1"])
def test_a_chain_out_of_range_is_a_client_error(
    api_env: Stores, lambda_context: FakeContext, chain: str
) -> None:
    status, body = call(audit_api, rest_event("GET", f"/audit/chains/{chain}"), lambda_context)
    assert 400 <= status < 500
    assert "chain" in body["message"]


def test_an_unknown_path_is_a_json_404(api_env: Stores, lambda_context: FakeContext) -> None:
    status, body = call(audit_api, rest_event("GET", "/audit/nothing"), lambda_context)
    assert status == 404
    assert body["code"] == "not_found"


# --------------------------------------------------------------------------------------------- anchors
BAD_ANCHOR_REQUESTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("malformed JSON", {"body": '{"reason": '}, 400, "not valid JSON"),
    ("not an object", {"body": "[1, 2]"}, 422, "body"),
    ("unknown field", {"body": {"reason": "quarterly", "extra": 1}}, 422, "extra: unknown field"),
    ("wrong type", {"body": {"reason": 42}}, 422, "reason"),
    ("too short", {"body": {"reason": "x"}}, 422, "reason"),
    ("only whitespace", {"body": {"reason": "  \t\u00a0\n  "}}, 422, "reason"),
    ("too short once trimmed", {"body": {"reason": "   x   "}}, 422, "reason"),
    ("missing", {"body": {}}, 422, "reason: required"),
    ("no body", {}, 422, "required"),
    ("not UTF-8", {"raw_body": b'{"reason": "\xff\xfe"}'}, 400, "not"),
    ("lone surrogate", {"body": '{"reason": "bad \\ud800 half"}'}, 422, "reason"),
    ("staff", {"body": {"reason": "quarterly"}, "roles": ("staff",)}, 403, "needs one of the roles"),
    ("communications", {"body": {"reason": "quarterly"}, "roles": ("communications",)}, 403, "roles"),
    ("no token", {"body": {"reason": "quarterly"}, "roles": None}, 401, "token"),
]


@pytest.mark.parametrize(
    ("request_kwargs", "status", "message"),
    [pytest.param(kw, st, msg, id=name) for name, kw, st, msg in BAD_ANCHOR_REQUESTS],
)
def test_a_bad_anchor_request_is_refused_and_changes_nothing(
    api_env: Stores, lambda_context: FakeContext, request_kwargs: dict[str, Any], status: int, message: str
) -> None:
    # Given a trail with one entry and one anchor
    audit.append("user:a", "x.y", "r:1")
    audit.anchor("user:records", "baseline")
    before = api_env.snapshot()

    # When a bad request is made
    got, body = call(audit_api, rest_event("POST", "/audit/anchors", **request_kwargs), lambda_context)

    # Then it is refused with a JSON message, and neither the bucket nor the table changed
    assert got == status, body
    assert message in body["message"]
    assert api_env.snapshot() == before


def test_a_body_over_the_limit_is_413_and_changes_nothing(
    api_env: Stores, lambda_context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_MAX_BODY_BYTES", "1024")
    aws.reset()
    before = api_env.snapshot()

    status, body = call(
        audit_api, rest_event("POST", "/audit/anchors", body={"reason": "x" * 2000}), lambda_context
    )

    assert status == 413
    assert "1024" in body["message"]
    assert api_env.snapshot() == before


def test_a_valid_anchor_request_writes_one_anchor_and_one_entry(
    api_env: Stores, lambda_context: FakeContext
) -> None:
    audit.append("user:a", "x.y", "r:1")
    items, objects = api_env.snapshot()

    status, body = call(
        audit_api,
        as_user(rest_event("POST", "/audit/anchors", body={"reason": "records request 17"}), "rita"),
        lambda_context,
    )

    assert status == 201
    assert api_env.snapshot() == (items + 1, objects + 1)
    assert body["previous"] is None
    assert len(body["chains"]) == 4
    entries = audit.log().for_resource(f"audit-anchor:{body['key']}")
    assert [(e.id, e.actor, e.details["reason"]) for e in entries] == [
        (body["audit_entry"], "user:rita", "records request 17")
    ]


def test_an_s3_failure_mid_request_is_a_json_5xx_and_writes_no_entry(
    api_env: Stores, lambda_context: FakeContext
) -> None:
    audit.append("user:a", "x.y", "r:1")
    before = api_env.snapshot()
    injected = inject_error(aws.s3(), "PutObject", "InternalError")

    status, body = call(
        audit_api, rest_event("POST", "/audit/anchors", body={"reason": "quarterly"}), lambda_context
    )

    assert injected.calls == 1
    assert 500 <= status < 600
    assert body["code"] == "unavailable"
    assert api_env.snapshot() == before


def test_a_dynamodb_failure_during_verify_is_a_json_503(api_env: Stores, lambda_context: FakeContext) -> None:
    from shared.store.audit_log import AuditItem

    audit.log()  # binds the model
    inject_error(AuditItem._get_connection().connection.client, "Query", "InternalServerError")

    status, body = call(audit_api, rest_event("GET", "/audit/verify"), lambda_context)

    assert status == 503
    assert body["code"] == "unavailable"


def test_anchors_are_listed_newest_first(api_env: Stores, lambda_context: FakeContext) -> None:
    keys = [audit.anchor("user:records", f"anchor {i}").key for i in range(3)]

    status, body = call(audit_api, rest_event("GET", "/audit/anchors", query={"limit": "2"}), lambda_context)

    assert status == 200
    assert body["total"] == 3
    assert [a["key"] for a in body["anchors"]] == keys[::-1][:2]
    assert [a["reason"] for a in body["anchors"]] == ["anchor 2", "anchor 1"]
    assert body["anchors"][0]["previous"] == keys[1]


def test_an_object_under_the_anchor_prefix_that_is_no_anchor_is_listed_not_fatal(
    api_env: Stores, lambda_context: FakeContext
) -> None:
    # Given a real anchor and a stray object written under the anchor prefix
    real = audit.anchor("user:records", "real").key
    api_env.s3.put_object(Bucket=api_env.bucket, Key="anchors/9999/stray.json", Body=b"not an anchor")

    # When the anchors are listed and verified
    status, body = call(audit_api, rest_event("GET", "/audit/anchors"), lambda_context)
    verified, report = call(audit_api, rest_event("GET", "/audit/verify"), lambda_context)

    # Then both answer; the stray object is listed as unreadable and fails verification
    assert (status, verified) == (200, 200)
    assert [(a["key"], a["chains"]) for a in body["anchors"]] == [("anchors/9999/stray.json", 0), (real, 4)]
    assert "unreadable" in body["anchors"][0]["reason"]
    assert report["ok"] is False
    assert [p["kind"] for p in report["anchors"]["problems"]] == ["anchor_unreadable"]


def test_an_anchor_list_limit_out_of_range_is_422(api_env: Stores, lambda_context: FakeContext) -> None:
    status, body = call(audit_api, rest_event("GET", "/audit/anchors", query={"limit": "0"}), lambda_context)
    assert status == 422
    assert "limit" in body["message"]


# --------------------------------------------------------------------------------------------- health and docs
def test_health_needs_no_token(lambda_context: FakeContext) -> None:
    status, body = call(health, rest_event("GET", "/health", roles=None), lambda_context)
    assert (status, body) == (200, {"status": "ok", "service": "steward"})


def test_me_returns_the_callers_identity_and_roles(lambda_context: FakeContext) -> None:
    event = as_user(rest_event("GET", "/me", roles=("records", "it", "not-a-role")), "rita")
    status, body = call(docs, event, lambda_context)
    assert status == 200
    assert body == {
        "subject": "sub-rita",
        "username": "rita",
        "email": "rita@district.example",
        "roles": ["it", "records"],
    }


def test_me_without_a_token_is_401(lambda_context: FakeContext) -> None:
    status, _ = call(docs, rest_event("GET", "/me", roles=None), lambda_context)
    assert status == 401


def test_the_openapi_document_is_served_to_any_role(lambda_context: FakeContext) -> None:
    status, body = call(docs, rest_event("GET", "/openapi.json", roles=("staff",)), lambda_context)
    assert status == 200
    assert body["openapi"].startswith("3.1")
    assert "/audit/verify" in body["paths"]


def test_each_request_sees_its_own_caller_even_after_the_document_is_built(
    lambda_context: FakeContext,
) -> None:
    # Given the OpenAPI document built (afresh) while one user is calling
    openapi_document.cache_clear()
    first = as_user(rest_event("GET", "/openapi.json", roles=("records",)), "rita")
    assert call(docs, first, lambda_context)[0] == 200

    # When another user asks who they are
    status, body = call(docs, as_user(rest_event("GET", "/me", roles=("it",)), "ivan"), lambda_context)

    # Then they are told about themselves, not about the earlier caller
    assert status == 200
    assert (body["username"], body["roles"]) == ("ivan", ["it"])


def test_anchors_are_attributed_to_the_caller_even_after_the_document_is_built(
    api_env: Stores, lambda_context: FakeContext
) -> None:
    # Given the OpenAPI document built in this process (it includes the audit API's router)
    openapi_document.cache_clear()
    call(docs, as_user(rest_event("GET", "/openapi.json", roles=("records",)), "rita"), lambda_context)

    # When another user anchors through the audit API
    status, body = call(
        audit_api,
        as_user(rest_event("POST", "/audit/anchors", roles=("it",), body={"reason": "ad hoc"}), "ivan"),
        lambda_context,
    )

    # Then the entry names that user
    assert status == 201
    entries = audit.log().for_resource(f"audit-anchor:{body['key']}")
    assert [e.actor for e in entries] == ["user:ivan"]
