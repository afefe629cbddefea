"""The one dependency layer every function ships with, built on this machine without Docker.

:mod:`infrastructure.layer_build` turns the lock file into ``python/`` of the layer for Lambda's python3.12 on
x86_64 (wheels from the lock, pure-Python sdists built into wheels, compiled code only from manylinux cp312
wheels) and checks the result. The build is cached under ``.build/layer-built/`` by the staged inputs (lock file,
dependency list, the build code), so ``make synth`` and the test of the built layer build it once. CDK calls
``try_bundle`` before it would start a Docker container; this bundler either copies the built layer and returns
True or raises :class:`~infrastructure.layer_build.LayerBuildError`, so synth never falls back to Docker.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infrastructure import layer_build, staging

BUILT_DIR = staging.BUILD_DIR / "layer-built"
WHEELHOUSE = staging.BUILD_DIR / "wheelhouse"


def _uv() -> str:
    """uv on PATH, or where ``make install`` puts it when it was not (``.tools/bin``)."""
    uv = shutil.which("uv") or shutil.which("uv", path=str(staging.REPO_ROOT / ".tools" / "bin"))
    if uv is None:
        raise layer_build.LayerBuildError(
            "uv is not on PATH: it builds the dependency layer (there is no Docker fallback); run `make synth`"
        )
    return uv


def stage_source() -> Path:
    """The layer's inputs in a content-addressed folder: the lock file, the dependency list and the build code
    itself, so its name changes exactly when the layer must."""
    return staging.stage(
        "layer",
        {
            "pyproject.toml": staging.REPO_ROOT / "pyproject.toml",
            "uv.lock": staging.REPO_ROOT / "uv.lock",
            "layer_build.py": Path(layer_build.__file__),
        },
    )


def built_layer(source: Path | None = None) -> Path:
    """The built layer (a folder holding ``python/``) for the staged ``source``; built once, then reused."""
    source = source or stage_source()
    return staging.publish(
        BUILT_DIR / source.name,
        lambda scratch: layer_build.build(
            _uv(), source, scratch / "python", WHEELHOUSE, staging.FUNCTION_CODE.values()
        ),
    )


@jsii.implements(ILocalBundling)
class UvLocalBundling:
    """Copies the built layer (:func:`built_layer`) into CDK's asset output folder."""

    def __init__(self, project_dir: Path) -> None:
        self._project_dir = project_dir

    # jsii calls this with the bundling options as a second positional argument (a struct), not as keywords.
    def try_bundle(self, output_dir: str, *_options: Any, **_keywords: Any) -> bool:
        built = built_layer(self._project_dir)
        shutil.copytree(built / "python", Path(output_dir) / "python", dirs_exist_ok=True)
        return True


class DependencyLayer(Construct):
    """``lambda_.LayerVersion`` with the locked runtime dependencies for python3.12 on x86_64."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # The asset is keyed by the lock file, the project's dependency list and the exact build commands: any
        # change to them rebuilds the layer; anything else reuses the bundled output in cdk.out.
        source = stage_source()
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            description="Steward runtime dependencies (uv.lock) for python3.12 x86_64",
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
            compatible_architectures=[lambda_.Architecture.X86_64],
            code=lambda_.Code.from_asset(
                str(source),
                asset_hash_type=AssetHashType.SOURCE,
                bundling=BundlingOptions(
                    # Required by the API but never started: UvLocalBundling builds the layer or raises.
                    image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.12"),
                    local=UvLocalBundling(source),
                ),
            ),
        )
