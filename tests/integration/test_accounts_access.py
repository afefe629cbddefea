"""Each role sees only what the route table allows: every accounts-api route (registry, vault, rotation,
offboarding) called by every role and by no one, against the real handler on moto. An allowed role gets past the
role gate (whatever the answer to an empty request is, it is not 401 or 403); every other role gets 403 with a
message; no token gets 401. Nothing a refused call could touch changes."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from functions.accounts_api.handler import handler as accounts_api
from infrastructure.local.provision import Provisioned
from shared import audit, catalogue
from shared.catalogue import Role
from tests.conftest import FakeContext
from tests.events import rest_event
from tests.integration.test_accounts_api import World

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

ROUTES = catalogue.routes_of("accounts-api")
EXAMPLE = {
    "account_id": "0" * 32,
    "email": "someone@district.example.org",
    "item": "contact",
    "version_id": str(uuid.uuid4()),
}


def concrete(path: str) -> str:
    for name, value in EXAMPLE.items():
        path = path.replace(f"{{{name}}}", value)
    return path


def call(route: catalogue.Route, roles: tuple[str, ...] | None) -> tuple[int, dict[str, Any]]:
    body = None if route.method in ("GET", "DELETE") else {}
    response = accounts_api(
        rest_event(route.method, concrete(route.path), roles=roles, body=body), FakeContext()
    )
    return response["statusCode"], json.loads(response["body"])


def test_the_route_table_lists_every_accounts_route() -> None:
    paths = {r.path for r in ROUTES}
    for expected in (
        "/accounts/{account_id}/credential/rotations",
        "/accounts/{account_id}/credential/rotations/{version_id}/handover",
        "/accounts/{account_id}/credential/compromise",
        "/offboardings",
    ):
        assert expected in paths


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_each_role_gets_only_what_the_route_table_allows(
    moto_env: Provisioned, route: catalogue.Route
) -> None:
    audit.reset()
    world = World(moto_env)
    before = world.snapshot()
    for role in Role:
        status, body = call(route, (str(role),))
        if role in route.roles:
            assert status not in (401, 403), (role, status, body)
        else:
            assert status == 403, (role, status, body)
            assert str(role) not in route.roles
            assert body["message"], body
    status, body = call(route, None)
    assert status == 401, body
    assert body["message"]
    assert world.snapshot() == before  # empty or refused requests change nothing
