"""What the infrastructure tests share: the synthesized stack wrapper and template helpers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aws_cdk import CfnResource, Stack
from aws_cdk.assertions import Template
from constructs import IConstruct

from infrastructure.stack import StewardStack

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

SKIP_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}


@dataclass(frozen=True)
class Synth:
    stack: StewardStack
    template: Template
    json: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.json["Resources"]  # type: ignore[no-any-return]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == kind}

    def logical_id(self, construct: IConstruct) -> str:
        cfn = construct if isinstance(construct, CfnResource) else construct.node.default_child
        assert isinstance(cfn, CfnResource), construct.node.path
        return Stack.of(cfn).resolve(cfn.logical_id)  # type: ignore[no-any-return]

    def resource(self, construct: IConstruct) -> dict[str, Any]:
        return self.resources[self.logical_id(construct)]


def refs(value: Any) -> set[str]:
    """Every logical id a CloudFormation value refers to (Ref and Fn::GetAtt, not pseudo parameters)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str) and not value["Ref"].startswith("AWS::"):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for item in value.values():
            found |= refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= refs(item)
    return found
