"""One synthesized Steward stack shared by every infrastructure test (a synth costs ~10-20 s of jsii start-up).

Bundling is skipped (``aws:cdk:bundling-stacks: []``): the dependency layer is not built, so no network is
needed. The synth runs the cdk-nag AwsSolutions plugin, so an unacknowledged finding fails every test here.
"""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest
from aws_cdk.assertions import Template

from infrastructure.app import build_app
from tests.infrastructure.support import SKIP_BUNDLING, Synth


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    _, stack = build_app(SKIP_BUNDLING, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    template = Template.from_stack(stack)
    return Synth(stack=stack, template=template, json=dict(template.to_json()))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep every infrastructure test on one xdist worker (``--dist loadgroup``), so the stack is synthesized once."""
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.xdist_group("synth"))
