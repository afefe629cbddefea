"""Schema fuzzing: every route of the served OpenAPI document, generated requests with each role's token.

No 5xx; every status, content type and body as the document says; every 4xx with a message. The examples per
route, role and mode are ``STEWARD_FUZZ_EXAMPLES`` (default 3; ``make fuzz`` runs more).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from schemathesis import GenerationMode

from shared import catalogue
from shared.catalogue import Role
from tests.e2e import fuzz_support
from tests.e2e.conftest import start_local
from tests.e2e.fuzz_support import FuzzTarget

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """A runtime of its own (the fuzzer changes what it holds), seeded by the demo."""
    for local in start_local(tmp_path_factory.mktemp("steward-fuzz")):
        yield fuzz_support.load(local)


def _label(route: catalogue.Route) -> str:
    return f"{route.method} {route.path}"


def test_the_document_lists_every_route_of_the_table(target: FuzzTarget) -> None:
    documented = {(op.method.upper(), op.path) for op in _operations(target)}
    assert documented == {r.key for r in catalogue.ROUTES}


def _operations(target: FuzzTarget) -> list[fuzz_support.APIOperation]:
    return [result.ok() for result in target.schema.get_all_operations()]


@pytest.mark.parametrize("route", catalogue.ROUTES, ids=_label)
def test_allowed_callers_get_documented_answers_and_never_a_5xx(
    target: FuzzTarget, route: catalogue.Route
) -> None:
    callers: list[str | None] = [None] if route.public else sorted(route.roles)
    modes = [GenerationMode.POSITIVE]
    if target.negatable(route):
        modes.append(GenerationMode.NEGATIVE)
    for role in callers:
        for mode in modes:
            target.fuzz(route, role, mode, fuzz_support.EXAMPLES)


@pytest.mark.parametrize("route", [r for r in catalogue.ROUTES if not r.public], ids=_label)
def test_other_roles_are_refused_as_documented(target: FuzzTarget, route: catalogue.Route) -> None:
    """The role check answers before the input is read, so one example per role shows its documented 403."""
    for role in sorted(set(Role) - route.roles):
        target.fuzz(route, role, GenerationMode.POSITIVE, 1)
