"""Schema fuzzing of the running local API with schemathesis: the schema, the ids worth fuzzing with, the checks.

Random ids only ever reach a route's 404, so the fuzzer also draws path parameters (and the query parameters a
route cannot answer without) from what the running system holds after ``steward demo``: real accounts, cases,
requests, holds, exports, runs. The rest of each request is generated from the document.

``STEWARD_FUZZ_EXAMPLES`` bounds the examples per route, role and mode (positive: inputs the document allows;
negative: inputs it forbids). ``STEWARD_FUZZ_RANDOM=1`` draws new examples each run instead of the same ones.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckContext, CheckFunction, not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared import catalogue
from shared.catalogue import Role
from tests.e2e.conftest import LocalSteward

EXAMPLES = int(os.environ.get("STEWARD_FUZZ_EXAMPLES", "3"))
RANDOM = os.environ.get("STEWARD_FUZZ_RANDOM") == "1"
CASE_STATES = "open,actioned,action_failed,escalated,confirmed,overturned"


def message_on_4xx(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every refusal says why: a JSON object with a non-empty ``message``."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict), f"a {response.status_code} body is not a JSON object: {body!r}"
        message = body.get("message")
        assert isinstance(message, str), f"a {response.status_code} has no message: {body}"
        assert message.strip(), f"a {response.status_code} has an empty message: {body}"
    return None


CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    message_on_4xx,
]


@dataclass
class FuzzTarget:
    """The running API as the fuzzer sees it."""

    local: LocalSteward
    schema: BaseSchema
    tokens: dict[str, str]
    path_values: dict[str, list[str]]
    query_values: dict[str, list[dict[str, str]]]
    session: requests.Session = field(default_factory=requests.Session)
    # Statuses answered per route (method, path), to see how deep the fuzzing reached.
    answers: Counter[tuple[str, str, int]] = field(default_factory=Counter)

    def operation(self, route: catalogue.Route) -> APIOperation:
        operation: APIOperation = self.schema[route.path][route.method.lower()]
        return operation

    def headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def strategy(self, route: catalogue.Route, mode: GenerationMode) -> st.SearchStrategy[Case]:
        """Generated requests, and in positive mode as many again on the system's real ids."""
        operation = self.operation(route)
        generated = operation.as_strategy(generation_mode=mode)
        if mode is not GenerationMode.POSITIVE:
            return generated
        names = [p.name for p in operation.path_parameters]
        if any(not self.path_values.get(n) for n in names):
            return generated
        paths = st.fixed_dictionaries({n: st.sampled_from(self.path_values[n]) for n in names})
        queries = st.sampled_from(self.query_values.get(route.path, [{}]))
        known = st.tuples(paths, queries).flatmap(
            lambda pq: operation.as_strategy(
                generation_mode=mode, path_parameters=pq[0] or None, query=pq[1] or None
            )
        )
        return st.one_of(generated, known)

    def fuzz(self, route: catalogue.Route, role: str | None, mode: GenerationMode, examples: int) -> None:
        """Send ``examples`` generated requests as ``role``; raise on the first response that fails a check."""
        headers = self.headers(role)

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=not RANDOM,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
        )
        @given(case=self.strategy(route, mode))
        def send(case: Case) -> None:
            response = case.call(base_url=self.local.api, session=self.session, headers=headers, timeout=60)
            self.answers[(route.method, route.path, response.status_code)] += 1
            case.validate_response(response, checks=CHECKS, headers=headers)

        send()

    def negatable(self, route: catalogue.Route) -> bool:
        """Whether the operation has any input to get wrong (otherwise negative mode has nothing to send)."""
        operation = self.operation(route)
        return bool(operation.body) or any(True for _ in operation.iter_parameters())


def _get(local: LocalSteward, token: str, path: str) -> Any:
    status, body = local.call("GET", path, token=token)
    assert status == 200, (path, status, body)
    return body


def _unique(values: Iterable[Any]) -> list[str]:
    return sorted({str(v) for v in values if v is not None and v != ""})


def known_values(local: LocalSteward, tokens: dict[str, str]) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Path parameter values, by name, and per-route query parameters, read from the running system."""
    comms, records = tokens[Role.COMMUNICATIONS], tokens[Role.RECORDS]
    accounts = _get(local, comms, "/accounts?limit=100")["accounts"]
    cases = _get(local, comms, f"/moderation/cases?limit=100&state={CASE_STATES}")["cases"]
    request_ids = _unique(r["request"]["id"] for r in _get(local, records, "/requests")["requests"])
    exports = [e for rid in request_ids for e in _get(local, records, f"/requests/{rid}/exports")["exports"]]
    holds = _get(local, records, "/holds")["holds"]
    sweeps = _unique(s.key for s in catalogue.SCHEDULES)
    runs = []
    for sweep in sweeps:
        status, body = local.call("GET", f"/runs/{sweep}", token=records)
        runs += body["runs"] if status == 200 else []  # a sweep that records no runs is a 404
    schedule = _get(local, records, "/retention/schedule")
    chains = _get(local, records, "/audit/verify")["chains"]
    batches = _get(local, records, "/disposition/batches")["batches"]
    account_ids = _unique(a["id"] for a in accounts)
    items, versions = [], []
    for account_id in account_ids:
        items += [i["item"] for i in _get(local, comms, f"/accounts/{account_id}/disclosures")["items"]]
        status, credential = local.call("GET", f"/accounts/{account_id}/credential", token=comms)
        if status == 200:
            versions += [credential["current_version"], credential["previous_version"]]
    month = datetime.now(UTC).strftime("%Y-%m")
    path_values = {
        "account_id": account_ids + _unique(c["account_id"] for c in cases),
        "email": _unique(e for a in accounts for e in a["stewards"]),
        "item": _unique(items),
        "version_id": _unique(versions),
        "case_id": _unique(c["case_id"] for c in cases),
        "item_id": _unique(c["item_id"] for c in cases),
        "request_id": request_ids,
        "export_id": _unique(e["id"] for e in exports),
        "hold_id": _unique(h["hold"]["id"] for h in holds),
        "batch_id": _unique(b["id"] for b in batches),
        "sweep": sweeps,
        "run_id": _unique(r["id"] for r in runs),
        "version": _unique([schedule["version"]]),
        "dan": _unique(s["dan"] for s in schedule["series"]),
        "chain": _unique(c["chain"] for c in chains),
        "month": [month, "2026-01"],
        "platform": _unique([*(a["platform"] for a in accounts), *(c["platform"] for c in cases)]),
    }
    today = datetime.now(UTC)
    window = {
        "date_from": (today - timedelta(days=30)).isoformat(),
        "date_to": (today + timedelta(days=1)).isoformat(),
    }
    query_values = {
        "/search": [{"account": f"{c['platform']}:{c['account_id']}", **window} for c in cases[:3]],
        "/moderation/reports/removals": [{"from": "2026-01", "to": month}],
    }
    return path_values, query_values


def load(local: LocalSteward) -> FuzzTarget:
    """Seed the runtime with ``steward demo``, get a token per role and load the served document."""
    seeded = local.steward("demo")
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    tokens = {role.value: local.token(role.value) for role in Role}
    status, document = local.call("GET", "/openapi.json", token=tokens[Role.STAFF])
    assert status == 200, document
    schema = schemathesis.openapi.from_dict(document)
    path_values, query_values = known_values(local, tokens)
    return FuzzTarget(local, schema, tokens, path_values, query_values)
