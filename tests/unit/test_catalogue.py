"""The catalogue is plain data; these tests keep it consistent with itself."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from shared import catalogue
from shared.catalogue import ROUTES, Role


@pytest.mark.parametrize(
    ("method", "path", "template", "params"),
    [
        ("GET", "/health", "/health", {}),
        ("GET", "/audit/chains/3", "/audit/chains/{chain}", {"chain": "3"}),
        ("GET", "/audit/chains/abc", "/audit/chains/{chain}", {"chain": "abc"}),
        ("GET", "/audit/chains/a%20b%2Fc", "/audit/chains/{chain}", {"chain": "a b/c"}),
        ("GET", "/audit/verify/", "/audit/verify", {}),
        ("POST", "/audit/anchors", "/audit/anchors", {}),
    ],
)
def test_match_path_finds_the_template_and_decodes_parameters(
    method: str, path: str, template: str, params: dict[str, str]
) -> None:
    matched = catalogue.match_path(method, path)
    assert matched is not None
    route, found = matched
    assert (route.method, route.path, found) == (method, template, params)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nowhere"),
        ("GET", "/"),
        ("GET", "/audit/chains"),
        ("GET", "/audit/chains/"),
        ("GET", "/audit/chains/1/extra"),
        ("DELETE", "/audit/anchors"),
        ("POST", "/audit/verify"),
    ],
)
def test_match_path_returns_none_for_unknown_paths_and_methods(method: str, path: str) -> None:
    assert catalogue.match_path(method, path) is None


def test_methods_for_a_path_tells_405_from_404() -> None:
    assert catalogue.methods_for("/audit/anchors") == {"GET", "POST"}
    assert catalogue.methods_for("/nowhere") == set()


def test_find_route_uses_the_template_not_the_concrete_path() -> None:
    assert catalogue.find_route("GET", "/audit/chains/{chain}") is not None
    assert catalogue.find_route("GET", "/audit/chains/1") is None


def test_every_route_belongs_to_a_function_in_the_catalogue() -> None:
    functions = {f.key for f in catalogue.FUNCTIONS}
    assert {r.function for r in ROUTES} <= functions


def test_routes_are_unique_and_well_formed() -> None:
    assert not [k for k, n in Counter(r.key for r in ROUTES).items() if n > 1]
    for r in ROUTES:
        assert r.path.startswith("/")
        assert r.summary, f"{r.key} has no summary"
        # A route is either public (no roles) or needs at least one role: never neither, never both.
        assert r.public == (not r.roles), r.key


def test_every_role_is_allowed_somewhere() -> None:
    used = set().union(*(r.roles for r in ROUTES))
    assert used == set(Role)


def test_every_schedule_and_trigger_names_a_catalogued_function_and_resource() -> None:
    functions = {f.key for f in catalogue.FUNCTIONS}
    assert {s.function for s in catalogue.SCHEDULES} <= functions
    tables = {t.key for t in catalogue.TABLES}
    buckets = {b.key for b in catalogue.BUCKETS}
    queues = {q.key for q in catalogue.QUEUES}
    for f in catalogue.FUNCTIONS:
        assert {u.resource for u in f.tables} <= tables, f.key
        assert {u.resource for u in f.buckets} <= buckets, f.key
        assert {u.resource for u in f.queues} <= queues, f.key
        assert f.consumes is None or f.consumes in queues, f.key


def _env_vars() -> list[str]:
    return [
        *(t.env_var for t in catalogue.TABLES),
        *(b.env_var for b in catalogue.BUCKETS),
        *(q.env_var for q in catalogue.QUEUES),
    ]


def test_resource_env_var_names_are_unique() -> None:
    assert not [v for v, n in Counter(_env_vars()).items() if n > 1]


def test_resource_env_var_names_are_valid_lambda_variable_names() -> None:
    # Lambda refuses any other name (a hyphen from a key like "audit-anchors" would fail the deployment).
    bad = [v for v in _env_vars() if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]+", v)]
    assert bad == []
