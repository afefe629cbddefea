"""Claims → identity, the route-doc helper, and settings validation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared import api
from shared.catalogue import Role
from shared.errors import ConfigurationError
from shared.settings import get_settings


# --------------------------------------------------------------------------------------------- groups and claims
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("records,it", {Role.RECORDS, Role.IT}),
        ("records, it", {Role.RECORDS, Role.IT}),
        ("[records it]", {Role.RECORDS, Role.IT}),
        ("[staff]", {Role.STAFF}),
        (["moderators", "principals"], {Role.MODERATORS, Role.PRINCIPALS}),
        ("records,admin,Records,root", {Role.RECORDS}),
        (["admin"], set()),
        ("", set()),
        (None, set()),
    ],
)
def test_parse_groups_reads_every_shape_and_ignores_unknown_names(value: Any, expected: set[Role]) -> None:
    assert api.parse_groups(value) == frozenset(expected)


def test_identity_from_claims_reads_the_cognito_claims() -> None:
    who = api.identity_from_claims(
        {"sub": "s-1", "cognito:username": "alice", "email": "a@x.example", "cognito:groups": "it,staff"}
    )
    assert who is not None
    assert (who.subject, who.username, who.email, who.roles) == (
        "s-1",
        "alice",
        "a@x.example",
        frozenset({Role.IT, Role.STAFF}),
    )
    assert who.actor == "user:alice"


@pytest.mark.parametrize("claims", [None, {}, {"sub": ""}, {"cognito:username": "alice"}])
def test_claims_without_a_subject_are_no_identity(claims: dict[str, Any] | None) -> None:
    assert api.identity_from_claims(claims) is None


def test_identity_falls_back_to_the_subject_for_the_username() -> None:
    who = api.identity_from_claims({"sub": "s-2"})
    assert who is not None
    assert (who.username, who.roles) == ("s-2", frozenset())


# --------------------------------------------------------------------------------------------- route docs
def test_doc_refuses_a_route_missing_from_the_table() -> None:
    with pytest.raises(LookupError, match="GET /nowhere"):
        api.doc("GET", "/nowhere")


def test_doc_of_a_protected_route_documents_401_403_and_security() -> None:
    meta = api.doc("POST", "/audit/anchors", ok_status=201)
    assert {201, 400, 401, 403, 413, 422, 503} <= set(meta["responses"])
    assert meta["security"] == [{api.BEARER: []}]
    assert meta["openapi_extensions"] == {"x-steward-roles": ["it", "records"]}


def test_doc_of_a_public_route_needs_no_token() -> None:
    meta = api.doc("GET", "/health")
    assert meta["security"] == []
    assert 401 not in meta["responses"]
    assert 403 not in meta["responses"]


# --------------------------------------------------------------------------------------------- settings
@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("fresh_settings")
def test_settings_defaults() -> None:
    s = get_settings()
    assert (s.stage, s.region, s.audit_chains, s.endpoint) == ("test", "us-east-1", 4, None)


@pytest.mark.usefixtures("fresh_settings")
@pytest.mark.parametrize(
    ("var", "value", "named"),
    [
        ("STEWARD_AUDIT_CHAINS", "0", "STEWARD_AUDIT_CHAINS"),
        ("STEWARD_AUDIT_CHAINS", "65", "STEWARD_AUDIT_CHAINS"),
        ("STEWARD_AUDIT_CHAINS", "many", "STEWARD_AUDIT_CHAINS"),
        ("STEWARD_MAX_BODY_BYTES", "10", "STEWARD_MAX_BODY_BYTES"),
        ("STEWARD_STAGE", "prod", "STEWARD_STAGE"),
        ("STEWARD_AWS_ENDPOINT_URL", "not a url", "STEWARD_AWS_ENDPOINT_URL"),
        ("STEWARD_ORGANIZATION", "", "STEWARD_ORGANIZATION"),
    ],
)
def test_invalid_settings_raise_a_configuration_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, named: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigurationError, match=named) as caught:
        get_settings()
    assert caught.value.status == 500


@pytest.mark.usefixtures("fresh_settings")
def test_every_invalid_setting_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_AUDIT_CHAINS", "0")
    monkeypatch.setenv("STEWARD_MAX_BODY_BYTES", "1")
    with pytest.raises(ConfigurationError) as caught:
        get_settings()
    assert "STEWARD_AUDIT_CHAINS" in caught.value.message
    assert "STEWARD_MAX_BODY_BYTES" in caught.value.message


@pytest.mark.usefixtures("fresh_settings")
def test_endpoint_override_loses_its_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_AWS_ENDPOINT_URL", "http://127.0.0.1:5000/")
    assert get_settings().endpoint == "http://127.0.0.1:5000"


@pytest.mark.usefixtures("fresh_settings")
def test_an_ungranted_resource_is_a_configuration_error_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STEWARD_TABLE_AUDIT", raising=False)
    with pytest.raises(ConfigurationError, match="STEWARD_TABLE_AUDIT is not set"):
        get_settings().table_name("audit")


@pytest.mark.usefixtures("fresh_settings")
def test_a_granted_resource_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_TABLE_AUDIT", " steward-audit ")
    assert get_settings().table_name("audit") == "steward-audit"
