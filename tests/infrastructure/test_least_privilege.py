"""Least privilege and template hygiene, beyond test_iam.py and test_storage.py.

test_iam.py already proves: no statement grants ``*`` or ``service:*``; each function's policy refers (by Ref or
GetAtt) only to its catalogue resources, its log group and the data key, with reads and writes as declared.
test_storage.py proves every bucket blocks public access, denies non-TLS requests and is encrypted, and every
table, queue and secret is encrypted with the data key. This module adds what those leave open: broad grants by
other means (NotAction, NotResource, a ``*`` resource), ARNs written as strings (the vault's secret prefix),
the data key, Cognito and the vault granted only to functions that use them, no resource policy that lets
anyone in, every topic encrypted, and cfn-lint finding no error in the synthesized template.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfnlint.api import lint  # type: ignore[import-untyped]

from shared import catalogue
from tests.infrastructure.support import Synth, refs

FUNCTION_KEYS = [f.key for f in catalogue.FUNCTIONS]
# Actions that have no resource-level permissions, so "Resource": "*" is the only way to grant them.
UNSCOPABLE = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# A sub-resource of a granted resource: Fn::Join of its ARN and one of these suffixes.
SUB_RESOURCES = {"/*", "/index/*"}
VAULT_ACTIONS_WRITE = {
    "secretsmanager:CreateSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _policies(synth: Synth) -> list[tuple[str, dict[str, Any]]]:
    """(owner logical id, statement) for every identity policy in the template."""
    found = []
    for logical_id, policy in synth.of_type("AWS::IAM::Policy").items():
        found += [(logical_id, s) for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    for logical_id, policy in synth.of_type("AWS::IAM::ManagedPolicy").items():
        found += [(logical_id, s) for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    for logical_id, role in synth.of_type("AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            found += [(logical_id, s) for s in inline["PolicyDocument"]["Statement"]]
    return found


def _function_statements(synth: Synth, key: str) -> list[dict[str, Any]]:
    role_id = synth.logical_id(synth.stack.functions.functions[key].role)  # type: ignore[arg-type]
    return [
        s
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in _as_list(s["Action"])}


def _vault_arn(value: Any) -> bool:
    return catalogue.VAULT_SECRET_PREFIX in json.dumps(value)


def test_the_function_roles_exist_for_every_catalogue_function(synth: Synth) -> None:
    for key in FUNCTION_KEYS:
        assert _function_statements(synth, key), key


def test_no_allow_grants_by_exclusion(synth: Synth) -> None:
    # test_iam checks Action for "*" and "service:*"; the same grant can be written as NotAction or NotResource.
    for owner, statement in _policies(synth):
        if statement["Effect"] == "Allow":
            assert "NotAction" not in statement, owner
            assert "NotResource" not in statement, owner
            assert "NotPrincipal" not in statement, owner


def test_a_star_resource_is_granted_only_for_actions_without_resource_permissions(synth: Synth) -> None:
    for owner, statement in _policies(synth):
        if statement["Effect"] == "Allow" and "*" in _as_list(statement["Resource"]):
            assert set(_as_list(statement["Action"])) <= UNSCOPABLE, (owner, statement["Action"])


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_every_resource_of_a_function_policy_is_its_own_or_a_part_of_it(synth: Synth, key: str) -> None:
    """A Join of a granted ARN must only narrow it (objects, indexes); a string ARN may only be the vault's."""
    spec = catalogue.function(key)
    for statement in _function_statements(synth, key):
        for resource in _as_list(statement["Resource"]):
            if resource == "*":
                continue
            if isinstance(resource, dict) and ("Ref" in resource or "Fn::GetAtt" in resource):
                continue
            if _vault_arn(resource):
                assert spec.vault is not None or spec.rotates_vault, (key, resource)
                continue
            parts = resource.get("Fn::Join", ["", []])[1] if isinstance(resource, dict) else []
            assert len(parts) == 2, (key, resource)
            arn, suffix = parts
            assert len(refs(arn)) == 1, (key, resource)
            assert suffix in SUB_RESOURCES, (key, resource)


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_the_vault_is_granted_only_to_the_functions_that_declare_it(synth: Synth, key: str) -> None:
    spec = catalogue.function(key)
    statements = _function_statements(synth, key)
    vault = [s for s in statements if any(_vault_arn(r) for r in _as_list(s["Resource"]))]
    if spec.vault is None and not spec.rotates_vault:
        assert vault == []
        return
    assert vault, key
    for statement in vault:
        # The wildcard stays inside the vault's name prefix: no other secret of the account matches it.
        for resource in filter(_vault_arn, _as_list(statement["Resource"])):
            literal = "".join(p for p in resource["Fn::Join"][1] if isinstance(p, str))
            assert f":secret:{catalogue.VAULT_SECRET_PREFIX}" in literal, resource
            assert literal.endswith(f"{catalogue.VAULT_SECRET_PREFIX}*"), resource
    actions = _actions(vault)
    assert all(a.startswith("secretsmanager:") for a in actions), actions
    if spec.vault == "read" and not spec.rotates_vault:
        assert not actions & VAULT_ACTIONS_WRITE, actions


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_the_data_key_and_the_user_pool_only_where_used(synth: Synth, key: str) -> None:
    spec = catalogue.function(key)
    statements = _function_statements(synth, key)
    key_id = synth.logical_id(synth.stack.keys.key)
    pool_id = synth.logical_id(synth.stack.identity.user_pool)
    uses_data = bool(
        spec.tables
        or spec.buckets
        or spec.queues
        or spec.secrets
        or spec.topics
        or spec.consumes
        or spec.vault
    )
    on_key = [s for s in statements if key_id in refs(s["Resource"])]
    assert bool(on_key) is uses_data, key
    assert all(a.startswith("kms:") for a in _actions(on_key)), _actions(on_key)
    cognito = {a for a in _actions(statements) if a.startswith("cognito-idp:")}
    assert bool(cognito) is spec.uses_user_pool, (key, cognito)
    for statement in statements:
        if pool_id in refs(statement["Resource"]):
            assert spec.uses_user_pool, key


RESOURCE_POLICIES = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SecretsManager::ResourcePolicy": "ResourcePolicy",
}


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(v == "*" or (isinstance(v, list) and "*" in v) for v in principal.values())
    return False


def test_no_resource_policy_lets_everyone_in(synth: Synth) -> None:
    """Principal "*" appears only in Deny statements (the TLS-only denials); services are let in by name and
    with a condition naming the source."""
    checked = 0
    for kind, field in RESOURCE_POLICIES.items():
        for logical_id, resource in synth.of_type(kind).items():
            document = resource["Properties"].get(field)
            if document is None:
                continue
            for statement in document["Statement"]:
                checked += 1
                if statement["Effect"] != "Allow":
                    continue
                assert not _everyone(statement.get("Principal")), (logical_id, statement)
                service = (statement.get("Principal") or {}).get("Service")
                if service and kind != "AWS::KMS::Key":
                    assert statement.get("Condition"), (logical_id, statement)
    assert checked


def test_no_bucket_grants_through_acls(synth: Synth) -> None:
    for logical_id, bucket in synth.of_type("AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert props.get("AccessControl") in (None, "Private", "LogDeliveryWrite"), logical_id
        assert props.get("OwnershipControls", {}).get("Rules", [{}])[0].get("ObjectOwnership") in (
            None,
            "BucketOwnerEnforced",
            "ObjectWriter",
        ), logical_id
        assert "WebsiteConfiguration" not in props, logical_id


def test_every_topic_and_table_is_encrypted_with_the_data_key(synth: Synth) -> None:
    key_id = synth.logical_id(synth.stack.keys.key)
    topics = synth.of_type("AWS::SNS::Topic")
    assert len(topics) == len(catalogue.TOPICS)
    for logical_id, topic in topics.items():
        assert refs(topic["Properties"].get("KmsMasterKeyId")) == {key_id}, logical_id
    tables = synth.of_type("AWS::DynamoDB::Table")
    assert len(tables) == len(catalogue.TABLES)  # so test_storage's per-table check covers every table
    for logical_id, table in tables.items():
        assert table["Properties"]["SSESpecification"]["SSEType"] == "KMS", logical_id
        assert refs(table["Properties"]["SSESpecification"]["KMSMasterKeyId"]) == {key_id}, logical_id


def test_every_bucket_but_the_access_log_bucket_uses_the_data_key(synth: Synth) -> None:
    key_id = synth.logical_id(synth.stack.keys.key)
    logs_id = synth.logical_id(synth.stack.storage.access_logs)
    for logical_id, bucket in synth.of_type("AWS::S3::Bucket").items():
        (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        default = rule["ServerSideEncryptionByDefault"]
        if logical_id == logs_id:
            continue  # S3 server access logging cannot deliver to an SSE-KMS bucket (test_storage checks AES256)
        assert default["SSEAlgorithm"] == "aws:kms", logical_id
        assert refs(default["KMSMasterKeyID"]) == {key_id}, logical_id


def test_cfn_lint_finds_no_error(synth: Synth) -> None:
    matches = lint(json.dumps(synth.json), regions=["us-east-1"])
    errors = [
        f"{m.rule.id} {'/'.join(map(str, m.path))}: {m.message}" for m in matches if m.rule.id[0] == "E"
    ]
    assert errors == []
