from __future__ import annotations

import importlib
from functools import lru_cache

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from shared import api, catalogue

router = APIGatewayRouter()
TITLE = "Steward API"
VERSION = "0.1.0"


def api_routers() -> list[APIGatewayRouter]:
    """The router of every function that serves routes, found through the catalogue."""
    modules = {f.module.rsplit(".", 1)[0] for f in catalogue.FUNCTIONS if catalogue.routes_of(f.key)}
    return [importlib.import_module(f"{m}.routes").router for m in sorted(modules)]


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
    return app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description=(
            "Steward governs a school district's official social media accounts: archive, moderation, "
            "records requests, credentials and audit. Every route but the webhooks and /health needs a "
            "Cognito ID token; the roles allowed on each route are listed in its description."
        ),
        security_schemes={api.BEARER: HTTPBearer(bearerFormat="JWT", description="Cognito ID token")},
    )


class Me(BaseModel):
    subject: str
    username: str
    email: str | None
    roles: list[str]


@router.get("/openapi.json", **api.doc("GET", "/openapi.json"))
def openapi() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_document())


@router.get("/me", **api.doc("GET", "/me", Me))
def me() -> Me:
    who = api.caller(router)
    return Me(subject=who.subject, username=who.username, email=who.email, roles=sorted(who.roles))
