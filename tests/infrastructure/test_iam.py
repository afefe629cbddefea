"""Least privilege: each function's role reaches exactly the resources its catalogue entry lists."""

from __future__ import annotations

from typing import Any

import pytest
from constructs import IConstruct

from shared import catalogue
from tests.infrastructure.support import Synth, refs

FUNCTION_KEYS = [f.key for f in catalogue.FUNCTIONS]
WRITE_ACTIONS = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "s3:PutObject",
    "s3:DeleteObject*",
    "sqs:SendMessage",
    "secretsmanager:PutSecretValue",
    "sns:Publish",
}
READ_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "s3:GetObject*",
    "sqs:ReceiveMessage",
    "secretsmanager:GetSecretValue",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _all_statements(synth: Synth) -> list[dict[str, Any]]:
    statements = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        statements += policy["Properties"]["PolicyDocument"]["Statement"]
    for policy in synth.of_type("AWS::IAM::ManagedPolicy").values():
        statements += policy["Properties"]["PolicyDocument"]["Statement"]
    for role in synth.of_type("AWS::IAM::Role").values():
        for inline in role["Properties"].get("Policies", []):
            statements += inline["PolicyDocument"]["Statement"]
    return statements


def _role_statements(synth: Synth, key: str) -> list[dict[str, Any]]:
    role_id = synth.logical_id(synth.stack.functions.functions[key].role)  # type: ignore[arg-type]
    statements = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    assert not synth.resources[role_id]["Properties"].get("ManagedPolicyArns")
    assert not synth.resources[role_id]["Properties"].get("Policies")
    return statements


def test_no_statement_grants_every_action_of_a_service(synth: Synth) -> None:
    for statement in _all_statements(synth):
        for action in _as_list(statement["Action"]):
            assert action != "*"
            assert not action.endswith(":*"), action


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_function_policy_references_only_its_catalogue_resources(synth: Synth, key: str) -> None:
    spec = catalogue.function(key)
    stack = synth.stack
    function = stack.functions.functions[key]
    log_group = function.node.scope.node.find_child(f"{function.node.id}Logs")  # type: ignore[union-attr]
    allowed = {synth.logical_id(log_group), synth.logical_id(stack.keys.key)}
    needed = {synth.logical_id(log_group)}
    for use in spec.tables:
        needed.add(synth.logical_id(stack.storage.tables[use.resource]))
    for use in spec.buckets:
        needed.add(synth.logical_id(stack.storage.buckets[use.resource]))
    for use in spec.queues:
        needed.add(synth.logical_id(stack.queues.queues[use.resource]))
    for use in spec.secrets:
        needed.add(synth.logical_id(stack.secrets.secrets[use.resource]))
    for use in spec.topics:
        needed.add(synth.logical_id(stack.topics.topics[use.resource]))
    if spec.consumes:
        needed.add(synth.logical_id(stack.queues.queues[spec.consumes]))
        needed.add(synth.logical_id(stack.queues.dead_letter_queues[spec.consumes]))
    if spec.uses_user_pool:
        needed.add(synth.logical_id(stack.identity.user_pool))
    if any(s.function == key for s in catalogue.SCHEDULES):
        needed.add(synth.logical_id(stack.schedules.dead_letter_queue))
    allowed |= needed

    referenced: set[str] = set()
    for statement in _role_statements(synth, key):
        assert statement["Effect"] == "Allow"
        resources = refs(statement["Resource"])
        if statement["Resource"] == "*":
            assert set(_as_list(statement["Action"])) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
        referenced |= resources
    assert referenced <= allowed
    assert needed <= referenced


def test_health_function_has_no_data_permissions(synth: Synth) -> None:
    actions = {a for s in _role_statements(synth, "health") for a in _as_list(s["Action"])}
    assert not {
        a
        for a in actions
        if a.split(":")[0] in ("dynamodb", "s3", "sqs", "sns", "kms", "cognito-idp", "secretsmanager")
    }


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_actions_follow_the_declared_access(synth: Synth, key: str) -> None:
    spec = catalogue.function(key)
    stack = synth.stack
    uses: list[tuple[catalogue.Uses, IConstruct]] = [
        (u, stack.storage.tables[u.resource]) for u in spec.tables
    ]
    uses += [(u, stack.storage.buckets[u.resource]) for u in spec.buckets]
    uses += [(u, stack.queues.queues[u.resource]) for u in spec.queues]
    uses += [(u, stack.secrets.secrets[u.resource]) for u in spec.secrets]
    uses += [(u, stack.topics.topics[u.resource]) for u in spec.topics]
    statements = _role_statements(synth, key)
    for use, construct in uses:
        resource_id = synth.logical_id(construct)
        actions = {a for s in statements if resource_id in refs(s["Resource"]) for a in _as_list(s["Action"])}
        if use.access == "read":
            assert not actions & WRITE_ACTIONS, (use, actions & WRITE_ACTIONS)
        if use.access == "write":
            assert not actions & READ_ACTIONS, (use, actions & READ_ACTIONS)
        if use.access in ("read", "read_write"):
            assert actions & READ_ACTIONS, use
        if use.access in ("write", "read_write"):
            assert actions & WRITE_ACTIONS, use
