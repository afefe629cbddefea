"""The one way this app acknowledges a cdk-nag finding: on the narrowest construct, one finding at a time,
with the reason it is acceptable.

cdk-nag 3 reads CDK's native ``Validations`` acknowledgments from construct metadata (on the resource or any of
its parents). ``acknowledgments`` reads the same metadata back, for tests and reviews.

Setting the context key ``steward:nag-acknowledgments`` to ``false`` builds the stack without any
acknowledgment, which lets a test list every raw finding and check that each acknowledgment matches one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

ACKNOWLEDGMENTS_CONTEXT = "steward:nag-acknowledgments"
_MIN_REASON = 40


@dataclass(frozen=True)
class Ack:
    path: str
    rule: str
    reason: str


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope`` and below."""
    reason = " ".join(reason.split())
    if len(reason) < _MIN_REASON:
        raise ValueError(f"acknowledging {rule} on {scope.node.path} needs a real reason, not {reason!r}")
    if scope.node.try_get_context(ACKNOWLEDGMENTS_CONTEXT) in (False, "false"):
        return
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def acknowledgments(scope: IConstruct) -> Iterator[Ack]:
    """Every acknowledgment recorded on ``scope`` and its descendants."""
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY and isinstance(entry.data, dict):
                for qualified, reason in entry.data.items():
                    rule = (
                        qualified.split("::", 1)[1]
                        if qualified.lower().startswith("annotation::")
                        else qualified
                    )
                    yield Ack(construct.node.path, rule, str(reason))
