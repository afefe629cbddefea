"""The one dependency layer every function ships with, built on this machine without Docker.

The locked runtime dependencies (``[project].dependencies`` in pyproject.toml, pinned by uv.lock) are exported
with their hashes and installed as Linux x86_64 / CPython 3.12 wheels into ``python/`` of the layer. CDK calls
``try_bundle`` before it would start a Docker container; this bundler either builds the layer and returns True or
raises, so synth never falls back to Docker.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infrastructure import staging

PYTHON_VERSION = "3.12"
# Lambda's python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34) on x86_64.
PYTHON_PLATFORM = "x86_64-manylinux_2_34"

EXPORT_ARGS: tuple[str, ...] = (
    "export",
    "--frozen",
    "--no-dev",
    "--no-default-groups",
    "--no-emit-project",
    "--format",
    "requirements.txt",
)
INSTALL_ARGS: tuple[str, ...] = (
    "pip",
    "install",
    "--python-platform",
    PYTHON_PLATFORM,
    "--python-version",
    PYTHON_VERSION,
    "--only-binary",
    ":all:",
    "--require-hashes",
)


class LayerBundlingError(RuntimeError):
    """The dependency layer could not be built locally (CDK must not fall back to Docker)."""


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise LayerBundlingError(
            "uv is not on PATH: it builds the dependency layer (there is no Docker fallback)"
        )
    return uv


def _run(args: list[str], cwd: Path) -> None:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
    if result.returncode != 0:
        raise LayerBundlingError(
            f"{' '.join(args)} failed with exit code {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )


def dependency_pyproject(path: Path) -> str:
    """The parts of pyproject.toml that ``uv export`` reads: the project's dependencies and groups."""
    data = tomllib.loads(path.read_text())
    project = data["project"]
    lines = [
        "[project]",
        f"name = {json.dumps(project['name'])}",
        f"version = {json.dumps(project['version'])}",
        f"requires-python = {json.dumps(project['requires-python'])}",
        f"dependencies = {json.dumps(project.get('dependencies', []))}",
    ]
    for table, content in (
        ("project.optional-dependencies", project.get("optional-dependencies", {})),
        ("dependency-groups", data.get("dependency-groups", {})),
    ):
        lines += ["", f"[{table}]"] + [
            f"{json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(content.items())
        ]
    return "\n".join(lines) + "\n"


@jsii.implements(ILocalBundling)
class UvLocalBundling:
    """Builds the layer from the staged pyproject.toml and uv.lock with ``uv export`` + ``uv pip install``."""

    def __init__(self, project_dir: Path) -> None:
        self._project_dir = project_dir

    # jsii calls this with the bundling options as a second positional argument (a struct), not as keywords.
    def try_bundle(self, output_dir: str, *_options: Any, **_keywords: Any) -> bool:
        uv = _uv()
        with tempfile.TemporaryDirectory(prefix="steward-layer-") as scratch:
            requirements = Path(scratch) / "requirements.txt"
            _run(
                [uv, *EXPORT_ARGS, "--project", str(self._project_dir), "-o", str(requirements)],
                self._project_dir,
            )
            target = Path(output_dir) / "python"
            _run([uv, *INSTALL_ARGS, "--target", str(target), "-r", str(requirements)], self._project_dir)
        if not any(target.iterdir()):
            raise LayerBundlingError(f"the dependency layer at {target} is empty")
        return True


class DependencyLayer(Construct):
    """``lambda_.LayerVersion`` with the locked runtime dependencies for python3.12 on x86_64."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # The asset is keyed by the lock file, the project's dependency list and the exact build commands: any
        # change to them rebuilds the layer; anything else reuses the bundled output in cdk.out.
        source = staging.stage(
            "layer",
            {
                "pyproject.toml": staging.REPO_ROOT / "pyproject.toml",
                "uv.lock": staging.REPO_ROOT / "uv.lock",
            },
            extra={"build.json": json.dumps({"export": EXPORT_ARGS, "install": INSTALL_ARGS}, indent=2)},
        )
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
