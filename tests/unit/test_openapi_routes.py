"""The route table and the resolvers must agree: the generated OpenAPI document is the resolvers' view."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from functions.docs.routes import api_routers, openapi_document, operations, raw_paths
from shared import api, catalogue


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(openapi_document())
    return doc


def test_the_document_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.1\.\d+", document["openapi"])


@pytest.mark.parametrize("route", catalogue.ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_in_the_table_is_served_and_documented(
    document: dict[str, Any], route: catalogue.Route
) -> None:
    served = operations(document)
    assert route.key in served, f"{route.method} {route.path} is in ROUTES but no resolver serves it"
    assert served[route.key]["summary"] == route.summary
    assert served[route.key]["tags"] == [route.function]


def test_every_documented_operation_is_in_the_route_table(document: dict[str, Any]) -> None:
    table = {r.key for r in catalogue.ROUTES}
    assert set(operations(document)) - table == set()


def test_routes_are_served_only_by_their_own_function() -> None:
    # Each function's router registers exactly the routes the table gives that function (and no other's).
    served = {
        (method, re.sub(r"<(\w+)>", r"{\1}", path))
        for router in api_routers()
        for (path, methods, *_rest) in router._routes
        for method in methods
    }
    raw = {(method.upper(), path) for path, ops in raw_paths().items() for method in ops}
    assert not served & raw
    assert served | raw == {r.key for r in catalogue.ROUTES}


@pytest.mark.parametrize(
    "route", [r for r in catalogue.ROUTES if not r.public], ids=lambda r: f"{r.method} {r.path}"
)
def test_every_protected_operation_documents_401_403_and_needs_the_bearer_scheme(
    document: dict[str, Any], route: catalogue.Route
) -> None:
    op = operations(document)[route.key]
    assert {"401", "403"} <= set(op["responses"])
    assert op["security"] == [{api.BEARER: []}]
    assert op["x-steward-roles"] == sorted(route.roles)
    assert api.BEARER in document["components"]["securitySchemes"]


@pytest.mark.parametrize(
    "route", [r for r in catalogue.ROUTES if r.public], ids=lambda r: f"{r.method} {r.path}"
)
def test_public_operations_need_no_token(document: dict[str, Any], route: catalogue.Route) -> None:
    op = operations(document)[route.key]
    assert not op.get("security")
    assert not document.get("security"), "a global security requirement would apply to public routes too"
    # No token is asked for; a signed webhook may still document 401 for a bad signature.
    assert "401" not in op["responses"] or "signature" in op["responses"]["401"]["description"].lower()


def test_path_parameters_are_typed(document: dict[str, Any]) -> None:
    params = operations(document)[("GET", "/audit/chains/{chain}")]["parameters"]
    chain = next(p for p in params if p["name"] == "chain")
    assert chain["in"] == "path"
    assert chain["required"] is True
    assert chain["schema"]["type"] == "integer"
