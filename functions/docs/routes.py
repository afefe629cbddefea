from __future__ import annotations

import importlib
import json
import pkgutil
from functools import lru_cache
from types import ModuleType
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict

from shared import api, catalogue

router = APIGatewayRouter()
TITLE = "Steward API"
VERSION = "0.1.0"


def _route_modules() -> list[ModuleType]:
    """The route modules of every function that serves routes, found through the catalogue: its ``routes`` and
    any ``<name>_routes`` beside it (a function may split its routes, e.g. ``offboarding_routes``)."""
    packages = {f.module.rsplit(".", 1)[0] for f in catalogue.FUNCTIONS if catalogue.routes_of(f.key)}
    modules = []
    for package in sorted(packages):
        names = {m.name for m in pkgutil.iter_modules(importlib.import_module(package).__path__)}
        modules += [
            importlib.import_module(f"{package}.{n}")
            for n in sorted(names)
            if n == "routes" or n.endswith("_routes")
        ]
    return modules


def api_routers() -> list[APIGatewayRouter]:
    """The routers of the functions served by a resolver."""
    return [m.router for m in _route_modules() if hasattr(m, "router")]


def raw_paths() -> dict[str, Any]:
    """OpenAPI paths of the functions that read raw events (the webhook receiver), from their own tables."""
    paths: dict[str, Any] = {}
    for module in _route_modules():
        if hasattr(module, "openapi_paths"):
            paths.update(module.openapi_paths())
    return paths


def raw_components() -> dict[str, Any]:
    """The schemas those functions' paths refer to."""
    schemas: dict[str, Any] = {}
    for module in _route_modules():
        if hasattr(module, "openapi_components"):
            schemas.update(module.openapi_components())
    return schemas


@lru_cache(maxsize=1)
def openapi_document() -> str:
    """Generated from the resolvers themselves: every route each function registers, with its schemas."""
    app = APIGatewayRestResolver(enable_validation=True)
    for r in api_routers():
        # include_router makes a router hand its request state (context, current event) to the including app.
        # This app only documents: give each router back to its function's own resolver, or that function's
        # routes would read this app's context, holding the identity of whoever asked for the document first.
        owner = r.api_resolver
        app.include_router(r)
        r.api_resolver = owner
    document: dict[str, Any] = app.get_openapi_schema(
        title=TITLE,
        version=VERSION,
        description=(
            "Steward governs a school district's official social media accounts: archive, moderation, "
            "records requests, credentials and audit. Every route but the webhooks and /health needs a "
            "Cognito ID token; the roles allowed on each route are listed in its description."
        ),
        security_schemes={api.BEARER: HTTPBearer(bearerFormat="JWT", description="Cognito ID token")},
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    document["paths"].update(raw_paths())
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorBody"] = api.ErrorBody.model_json_schema()
    schemas.update(raw_components())
    return json.dumps(document, separators=(",", ":"))


HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """An OpenAPI document's operations by (METHOD, path)."""
    return {
        (method.upper(), path): op
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    }


class ApiDocument(BaseModel):
    """The OpenAPI document; only its top level is described."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


class Me(BaseModel):
    subject: str
    username: str
    email: str | None
    roles: list[str]


@router.get("/openapi.json", **api.doc("GET", "/openapi.json", ApiDocument))
def openapi() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_document())


@router.get("/me", **api.doc("GET", "/me", Me))
def me() -> Me:
    who = api.caller(router)
    return Me(subject=who.subject, username=who.username, email=who.email, roles=sorted(who.roles))
