"""cdk-nag: the shared synth already fails on any unacknowledged AwsSolutions finding. Here: every
acknowledgment has a real reason, and every acknowledgment matches a finding that exists (no stale or blanket
acknowledgments)."""

from __future__ import annotations

from aws_cdk import App
from cdk_nag import AwsSolutionsChecks

from infrastructure.app import STACK_NAME, cdk_json_context
from infrastructure.constructs import nag
from infrastructure.stack import StewardStack
from tests.infrastructure.support import SKIP_BUNDLING, Synth


def test_the_synth_passed_the_aws_solutions_checks(synth: Synth) -> None:
    assert synth.resources  # building the shared template ran cdk-nag and raised on any finding


def test_every_acknowledgment_has_a_reason(synth: Synth) -> None:
    acks = list(nag.acknowledgments(synth.stack))
    assert acks
    for ack in acks:
        assert ack.rule.startswith("AwsSolutions-"), ack
        assert len(ack.reason.strip()) >= 40, ack


def test_acknowledgments_are_written_into_the_template_metadata(synth: Synth) -> None:
    written = [
        rule
        for resource in synth.resources.values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert written
    assert all(rule["id"] and rule["reason"].strip() for rule in written)


def test_every_acknowledgment_matches_a_real_finding(synth: Synth) -> None:
    app = App(context={**cdk_json_context(), **SKIP_BUNDLING, nag.ACKNOWLEDGMENTS_CONTEXT: False})
    bare = StewardStack(app, STACK_NAME)
    assert not list(nag.acknowledgments(bare))
    report = AwsSolutionsChecks().validate_scope(bare)
    findings = {
        (r.construct_path or "", v.rule_name) for v in report.violations for r in v.violating_resources
    }
    for ack in nag.acknowledgments(synth.stack):
        assert any(
            rule == ack.rule and (path == ack.path or path.startswith(ack.path + "/"))
            for path, rule in findings
        ), f"{ack.rule} on {ack.path} acknowledges nothing"
    # ...and nothing is left over once the acknowledgments are in place.
    acknowledged = {(a.path, a.rule) for a in nag.acknowledgments(synth.stack)}
    for path, rule in findings:
        assert any(rule == r and (path == p or path.startswith(p + "/")) for p, r in acknowledged), (
            path,
            rule,
        )
