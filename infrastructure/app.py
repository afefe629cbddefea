"""The Steward CDK app.

    uv run python -m infrastructure.app      # synthesizes into cdk.out/ with cdk.json's feature flags
    npx cdk synth | diff | deploy            # the pinned CLI runs the same module (cdk.json "app")

Run without the CLI, a CDK app reads no cdk.json, so this module loads cdk.json's context (the feature flags)
itself. cdk-nag's AwsSolutions checks run as a validation plugin: an unacknowledged finding fails the synth.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infrastructure.stack import StewardStack

REPO_ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = REPO_ROOT / "cdk.json"
STACK_NAME = "Steward"
# What the CLI adds to the context by default, so ``python -m`` writes the same cloud assembly as ``cdk synth``.
CLI_DEFAULT_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
}


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` of cdk.json: the feature flags this app is written against."""
    context = json.loads(CDK_JSON.read_text()).get("context", {})
    if not isinstance(context, dict):
        raise TypeError(f"{CDK_JSON}: 'context' must be an object")
    return context


def _under_cli() -> bool:
    # The CDK CLI passes the output folder (and the context, from cdk.json and the command line) by environment.
    return "CDK_OUTDIR" in os.environ


def build_app(
    context: Mapping[str, Any] | None = None, outdir: str | None = None
) -> tuple[App, StewardStack]:
    """The app with the Steward stack and cdk-nag; ``context`` is added to (and overrides) cdk.json's."""
    if _under_cli():
        app = App(context=dict(context or {}) or None)
    else:
        app = App(
            context={**CLI_DEFAULT_CONTEXT, **cdk_json_context(), **(context or {})},
            outdir=outdir or str(REPO_ROOT / "cdk.out"),
        )
    stack = StewardStack(
        app,
        STACK_NAME,
        stack_name=STACK_NAME,
        description="Steward: governance of a school district's official social media accounts",
        termination_protection=True,
    )
    Tags.of(app).add("project", "steward")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return app, stack


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
