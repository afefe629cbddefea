"""Acknowledge, one finding at a time, the wildcards that CDK's ``grant_*`` methods put in a function's policy.

cdk-nag's AwsSolutions-IAM5 reports every ``*`` in an IAM policy. The ``grant_*`` methods of tables, buckets,
queues and keys use a few action wildcards (``s3:GetObject*``, ``kms:GenerateDataKey*``...) and resource
wildcards that mean "the objects of this bucket" or "the indexes of this table"; X-Ray only accepts
``Resource: *``. This module reads the policy CDK actually generated and acknowledges each wildcard it finds with
the reason that wildcard is acceptable. A wildcard it has no reason for is an error: somebody has to write one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_cdk import ArnFormat, CfnResource, Stack
from aws_cdk import aws_iam as iam

from infrastructure.constructs import nag
from shared import catalogue

if TYPE_CHECKING:
    from infrastructure.constructs.functions import Resources

RULE = "AwsSolutions-IAM5"

ACTION_REASONS: dict[str, str] = {
    "s3:GetObject*": (
        "bucket.grant_read: s3:GetObject* matches only read-only object actions (GetObject, GetObjectVersion, "
        "GetObjectRetention, GetObjectLegalHold, GetObjectTagging, GetObjectAttributes, ...) and the statement "
        "names only the catalogue buckets this function reads."
    ),
    "s3:GetBucket*": (
        "bucket.grant_read: s3:GetBucket* matches only read-only bucket configuration (location, versioning, "
        "Object Lock configuration, policy, ...) of the catalogue buckets this function reads."
    ),
    "s3:List*": (
        "bucket.grant_read: s3:List* lets the function list keys and versions (ListBucket, ListBucketVersions, "
        "ListMultipartUploadParts) of the catalogue buckets it reads, e.g. to list audit anchors."
    ),
    "s3:DeleteObject*": (
        "bucket.grant_write: s3:DeleteObject* (DeleteObject, DeleteObjectVersion, DeleteObjectTagging, "
        "DeleteObjectVersionTagging) on the catalogue buckets this function writes; on Object Lock buckets "
        "COMPLIANCE retention still refuses deleting a retained version."
    ),
    "s3:Abort*": (
        "bucket.grant_write: s3:Abort* is AbortMultipartUpload on the catalogue buckets this function writes, "
        "so a failed upload can be cleaned up."
    ),
    "kms:GenerateDataKey*": (
        "grant on a resource encrypted with the stack's one data key: kms:GenerateDataKey* (with and without "
        "plaintext) is what DynamoDB, S3 and SQS need to encrypt new data; the statement names that key only."
    ),
    "kms:ReEncrypt*": (
        "grant on a resource encrypted with the stack's one data key: kms:ReEncrypt* (ReEncryptFrom/To) is part "
        "of CDK's encrypt grant for writers; the statement names that key only."
    ),
}
XRAY_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})
XRAY_REASON = (
    "Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level "
    "permissions, so AWS requires Resource '*'; the statement holds those two actions only."
)


def flatten(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag prints it in a finding id (``<Logical.Attr>``, ``<Ref>``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return str(delimiter).join(flatten(i) for i in items)
        if "Fn::Sub" in value:
            return flatten(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{flatten(resource)}.{flatten(attribute)}>"
        if "Fn::ImportValue" in value:
            return flatten(value["Fn::ImportValue"])
        if "Ref" in value:
            return f"<{flatten(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))


def vault_secrets_arn(stack: Stack) -> str:
    """The ARN pattern of the credential vault's secrets: every secret named under the catalogue's prefix."""
    return stack.format_arn(
        service="secretsmanager",
        resource="secret",
        resource_name=f"{catalogue.VAULT_SECRET_PREFIX}*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resource_reasons(stack: Stack, resources: Resources) -> dict[str, str]:
    reasons: dict[str, str] = {}
    for key, bucket in resources.buckets.items():
        cfn = bucket.node.default_child
        assert isinstance(cfn, CfnResource)
        reasons[f"<{stack.get_logical_id(cfn)}.Arn>/*"] = (
            f"bucket.grant_*: '<bucket>/*' means the objects of the catalogue bucket {key!r}, which this "
            "function's catalogue entry lists; object ARNs cannot be enumerated in advance."
        )
    for key, table in resources.tables.items():
        cfn = table.node.default_child
        assert isinstance(cfn, CfnResource)
        reasons[f"<{stack.get_logical_id(cfn)}.Arn>/index/*"] = (
            f"table.grant_*_data: '<table>/index/*' means the global secondary indexes of the catalogue table "
            f"{key!r} (queried by index), which this function's catalogue entry lists."
        )
    reasons[flatten(stack.resolve(vault_secrets_arn(stack)))] = (
        "the credential vault: one secret per official account, created on the account's first credential store "
        f"and named '{catalogue.VAULT_SECRET_PREFIX}<account id>', so the secrets cannot be listed in advance; "
        "the pattern names only the vault's prefix in this account and region."
    )
    return reasons


def acknowledge_grant_wildcards(stack: Stack, role: iam.Role, resources: Resources, *, function: str) -> None:
    policy = role.node.try_find_child("DefaultPolicy")
    if policy is None:
        return
    assert isinstance(policy, iam.Policy)
    document = stack.resolve(policy.document.to_json())
    resource_reasons = _resource_reasons(stack, resources)
    findings: dict[str, str] = {}
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        for action in actions:
            if "*" not in action:
                continue
            if action not in ACTION_REASONS:
                raise ValueError(
                    f"function {function!r}: no reason is known for the wildcard action {action!r}"
                )
            findings[f"Action::{action}"] = ACTION_REASONS[action]
        for resource in _as_list(statement.get("Resource", [])):
            flat = flatten(resource)
            if "*" not in flat:
                continue
            if flat == "*" and set(actions) <= XRAY_ACTIONS:
                findings["Resource::*"] = XRAY_REASON
            elif flat in resource_reasons:
                findings[f"Resource::{flat}"] = resource_reasons[flat]
            else:
                raise ValueError(
                    f"function {function!r}: no reason is known for the wildcard resource {flat!r} "
                    f"(actions {actions})"
                )
    for finding, reason in sorted(findings.items()):
        nag.acknowledge(role, f"{RULE}[{finding}]", f"Function {function}: {reason}")
