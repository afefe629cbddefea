"""Build the dependency layer from the lock file for Lambda's python3.12 on x86_64, and check what was built.

The steps, each of which names the package at fault when it cannot go on:

1. ``uv export`` the locked runtime dependencies (``[project].dependencies``) with their hashes, leaving out what
   Lambda's python3.12 runtime already provides (:data:`RUNTIME_PROVIDED`: the AWS SDK and its dependencies).
2. For each package, read its files from ``uv.lock``. One with a wheel Lambda can load (:func:`lambda_tags`) is
   installed from that wheel. One published only as a source distribution is downloaded from the lock's URL,
   checked against the lock's SHA-256, and built into a wheel on this machine; the wheel must be pure Python
   (``py3-none-any``): a package with compiled code must come as a cp312 manylinux x86_64 wheel, since a build
   here would be for this machine's interpreter, not Lambda's.
3. ``uv pip install --only-binary :all: --require-hashes`` into ``python/`` (the locally built wheels are named by
   path with their own hashes; their sources were checked against the lock in step 2).
4. :func:`check_layer`: every exported package is installed at its locked version, every dependency of every
   installed package is in the layer or in the runtime, every compiled extension is for CPython 3.12 on Linux
   x86_64, and every third-party module the functions' code imports is in the layer or the runtime.

Nothing here falls back to Docker: a problem raises :class:`LayerBuildError`.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename

from infrastructure import staging

PYTHON_VERSION = "3.12"
# Lambda's python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34) on x86_64.
GLIBC = (2, 34)
UV_PLATFORM = f"x86_64-manylinux_{GLIBC[0]}_{GLIBC[1]}"
# What the python3.12 runtime ships: boto3 and everything it depends on (distribution → import name). The layer
# leaves them out.
_RUNTIME: dict[str, str] = {
    "boto3": "boto3",
    "botocore": "botocore",
    "s3transfer": "s3transfer",
    "jmespath": "jmespath",
    "python-dateutil": "dateutil",
    "six": "six",
    "urllib3": "urllib3",
}
RUNTIME_PROVIDED: frozenset[NormalizedName] = frozenset(canonicalize_name(n) for n in _RUNTIME)
RUNTIME_MODULES = frozenset(_RUNTIME.values())
# Lambda's limit on a function's code plus its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
_ELF_MACHINE_X86_64 = 0x3E
_DOWNLOAD_TIMEOUT_SECONDS = 120

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
    UV_PLATFORM,
    "--python-version",
    PYTHON_VERSION,
    "--only-binary",
    ":all:",
    "--require-hashes",
    "--no-deps",
)


class LayerBuildError(RuntimeError):
    """The dependency layer cannot be built for Lambda's platform (there is no Docker fallback)."""


def lambda_tags() -> frozenset[Tag]:
    """The wheel tags Lambda's python3.12 on x86_64 (glibc 2.34) can load: CPython 3.12, abi3 and pure wheels."""
    platforms = [f"manylinux_{GLIBC[0]}_{minor}_x86_64" for minor in range(GLIBC[1], 4, -1)]
    platforms += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]  # 2_17, 2_12, 2_5
    return frozenset(cpython_tags((3, 12), platforms=platforms)) | frozenset(
        compatible_tags((3, 12), interpreter="cp312", platforms=platforms)
    )


@dataclass(frozen=True)
class Locked:
    """One package of the layer as ``uv.lock`` has it."""

    name: NormalizedName
    version: str
    wheels: tuple[tuple[str, str], ...]  # (url, "sha256:...")
    sdist: tuple[str, str] | None

    def lambda_wheel(self, tags: frozenset[Tag]) -> str | None:
        for url, _hash in self.wheels:
            _name, _version, _build, wheel_tags = parse_wheel_filename(url.rsplit("/", 1)[-1])
            if wheel_tags & tags:
                return url
        return None


def read_lock(lock_file: Path) -> dict[NormalizedName, Locked]:
    data = tomllib.loads(lock_file.read_text(encoding="utf-8"))
    out: dict[NormalizedName, Locked] = {}
    for pkg in data.get("package", []):
        sdist = pkg.get("sdist")
        out[canonicalize_name(pkg["name"])] = Locked(
            name=canonicalize_name(pkg["name"]),
            version=str(pkg.get("version", "")),
            wheels=tuple((w["url"], w["hash"]) for w in pkg.get("wheels", []) if "url" in w),
            sdist=(sdist["url"], sdist["hash"]) if sdist and "url" in sdist and "hash" in sdist else None,
        )
    return out


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def pinned(requirements: str) -> dict[NormalizedName, str]:
    """``name == version`` of each requirement line of a ``uv export`` file."""
    pins: dict[NormalizedName, str] = {}
    for line in requirements.splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


@dataclass(frozen=True)
class Plan:
    """What to do with each package: install its locked wheel, or build its locked sdist into a wheel."""

    from_wheel: tuple[NormalizedName, ...]
    from_sdist: tuple[Locked, ...]


def plan(pins: dict[NormalizedName, str], lock: dict[NormalizedName, Locked]) -> Plan:
    tags = lambda_tags()
    from_wheel: list[NormalizedName] = []
    from_sdist: list[Locked] = []
    problems: list[str] = []
    for name, version in sorted(pins.items()):
        locked = lock.get(name)
        if locked is None or locked.version != version:
            problems.append(f"{name}=={version}: not in uv.lock at that version (run `uv lock`)")
        elif locked.lambda_wheel(tags):
            from_wheel.append(name)
        elif locked.sdist is None:
            problems.append(
                f"{name}=={version}: uv.lock has no wheel for CPython {PYTHON_VERSION} manylinux x86_64 "
                "and no source distribution"
            )
        elif any(not _pure(url) for url, _ in locked.wheels):
            problems.append(
                f"{name}=={version}: has compiled code but no wheel for CPython {PYTHON_VERSION} manylinux "
                f"x86_64 in uv.lock (it has: {', '.join(_filename(u) for u, _ in locked.wheels)}); choose a "
                "version that publishes one"
            )
        else:
            from_sdist.append(locked)
    if problems:
        raise LayerBuildError(
            "the dependency layer cannot be built for Lambda's python3.12 on x86_64:\n  "
            + "\n  ".join(problems)
        )
    return Plan(tuple(from_wheel), tuple(from_sdist))


def _filename(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def _pure(url: str) -> bool:
    return all(tag.abi == "none" and tag.platform == "any" for tag in parse_wheel_filename(_filename(url))[3])


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _run(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise LayerBuildError(
            f"{' '.join(args)} failed with exit code {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def _download(url: str, expected: str, dest: Path) -> None:
    algorithm, _, want = expected.partition(":")
    if algorithm != "sha256" or not url.startswith("https://"):
        raise LayerBuildError(f"{_filename(url)}: uv.lock must give an https URL and a sha256 hash")
    with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_SECONDS) as response:  # noqa: S310 - https only
        dest.write_bytes(response.read())
    got = sha256_file(dest)
    if got != want:
        dest.unlink()
        raise LayerBuildError(f"{_filename(url)}: SHA-256 {got} does not match uv.lock's {want}")


def build_pure_wheel(uv: str, locked: Locked, wheelhouse: Path) -> Path:
    """The wheel built from ``locked``'s source distribution (cached in ``wheelhouse`` by the sdist's hash)."""
    assert locked.sdist is not None
    url, expected = locked.sdist
    cache = wheelhouse / f"{locked.name}-{locked.version}-{expected.partition(':')[2][:16]}"
    built = sorted(cache.glob("*.whl")) if cache.is_dir() else []
    if not built:
        with tempfile.TemporaryDirectory(prefix="steward-sdist-") as scratch:
            sdist = Path(scratch) / _filename(url)
            _download(url, expected, sdist)
            out = Path(scratch) / "out"
            _run([uv, "build", "--wheel", "--no-config", "--out-dir", str(out), str(sdist)], Path(scratch))
            wheels = sorted(out.glob("*.whl"))
            if len(wheels) != 1:
                raise LayerBuildError(f"{locked.name}=={locked.version}: building its sdist gave {wheels}")
            if not _pure(wheels[0].name):
                raise LayerBuildError(
                    f"{locked.name}=={locked.version}: its source distribution has compiled code "
                    f"({wheels[0].name}); Lambda needs a CPython {PYTHON_VERSION} manylinux x86_64 wheel of it"
                )
            cache.mkdir(parents=True, exist_ok=True)
            shutil.copy2(wheels[0], cache / wheels[0].name)
        built = sorted(cache.glob("*.whl"))
    return built[0]


def _export(uv: str, project_dir: Path, out: Path, leave_out: Iterable[str]) -> str:
    """The locked runtime dependencies with their hashes, less ``leave_out``. Written to a file, not read from
    stdout: uv colours what it prints when CDK's environment asks for colour."""
    left_out = [arg for name in sorted(leave_out) for arg in ("--no-emit-package", name)]
    _run([uv, *EXPORT_ARGS, *left_out, "--project", str(project_dir), "-o", str(out)], project_dir)
    return out.read_text(encoding="utf-8")


def build(
    uv: str, project_dir: Path, target: Path, wheelhouse: Path, code_roots: Iterable[Path] = ()
) -> None:
    """Install the locked runtime dependencies into ``target`` (the layer's ``python/``) and check them."""
    with tempfile.TemporaryDirectory(prefix="steward-layer-") as scratch:
        requirements = _export(uv, project_dir, Path(scratch) / "all.txt", RUNTIME_PROVIDED)
        pins = pinned(requirements)
        the_plan = plan(pins, read_lock(project_dir / "uv.lock"))
        # The packages built here are left out of the export and named by their wheel and its hash instead.
        local = [build_pure_wheel(uv, locked, wheelhouse) for locked in the_plan.from_sdist]
        req_file = Path(scratch) / "requirements.txt"
        req_file.write_text(
            _export(uv, project_dir, req_file, RUNTIME_PROVIDED | {e.name for e in the_plan.from_sdist})
            + "".join(f"{w.resolve().as_uri()} --hash=sha256:{sha256_file(w)}\n" for w in local),
            encoding="utf-8",
        )
        _run([uv, *INSTALL_ARGS, "--target", str(target), "-r", str(req_file)], project_dir)
    # Byte code is compiled by Lambda's own interpreter; console scripts are never run there.
    for unused in [*target.rglob("__pycache__"), target / "bin"]:
        shutil.rmtree(unused, ignore_errors=True)
    problems = check_layer(target, pins, code_roots)
    if problems:
        raise LayerBuildError("the built layer is not usable on Lambda:\n  " + "\n  ".join(problems))


# ------------------------------------------------------------------------------------------- checking a layer
@dataclass(frozen=True)
class Installed:
    name: NormalizedName
    version: str
    requires: tuple[str, ...]
    tags: tuple[str, ...]
    top_level: frozenset[str]


def installed(target: Path) -> dict[NormalizedName, Installed]:
    """The distributions in a layer's ``python/`` folder, from their ``.dist-info``."""
    out: dict[NormalizedName, Installed] = {}
    for info in sorted(target.glob("*.dist-info")):
        meta = Parser().parsestr((info / "METADATA").read_text(encoding="utf-8"))
        wheel = (
            Parser().parsestr((info / "WHEEL").read_text(encoding="utf-8"))
            if (info / "WHEEL").exists()
            else None
        )
        name = canonicalize_name(meta["Name"])
        out[name] = Installed(
            name=name,
            version=meta["Version"],
            requires=tuple(meta.get_all("Requires-Dist") or ()),
            tags=tuple(wheel.get_all("Tag") or ()) if wheel else (),
            top_level=_top_level(target, info),
        )
    return out


def _top_level(target: Path, info: Path) -> frozenset[str]:
    names: set[str] = set()
    record = info / "RECORD"
    if record.exists():
        for line in record.read_text(encoding="utf-8").splitlines():
            first = line.split(",", 1)[0].split("/", 1)[0]
            if first and not first.endswith((".dist-info", ".data")) and first != "..":
                names.add(first.split(".", 1)[0] if first.endswith((".py", ".so", ".pyd")) else first)
    return frozenset(n for n in names if (target / n).exists() or any(target.glob(f"{n}.*")))


def _lambda_environment() -> dict[str, str]:
    env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    env.update(
        python_version=PYTHON_VERSION,
        python_full_version=f"{PYTHON_VERSION}.0",
        implementation_name="cpython",
        platform_python_implementation="CPython",
        sys_platform="linux",
        platform_system="Linux",
        platform_machine="x86_64",
        os_name="posix",
    )
    return env


def _extension_problems(target: Path) -> Iterator[str]:
    for so in sorted(target.rglob("*.so*")):
        if not so.is_file():
            continue
        rel = so.relative_to(target).as_posix()
        with so.open("rb") as fh:
            header = fh.read(20)
        if header[:4] != b"\x7fELF" or int.from_bytes(header[18:20], "little") != _ELF_MACHINE_X86_64:
            yield f"{rel} is not an x86_64 Linux (ELF) library"
        match = re.search(r"\.cpython-(\d+)-([a-z0-9_]+)-linux-gnu\.so$", so.name)
        if match and (match.group(1), match.group(2)) != ("312", "x86_64"):
            yield f"{rel} is built for cpython-{match.group(1)} {match.group(2)}, not cpython-312 x86_64"


def check_layer(target: Path, pins: dict[NormalizedName, str], code_roots: Iterable[Path] = ()) -> list[str]:
    """What makes the layer unusable on Lambda's python3.12 x86_64; empty when it is fine."""
    problems: list[str] = []
    dists = installed(target)
    for name, version in sorted(pins.items()):
        dist = dists.get(name)
        if dist is None:
            problems.append(f"{name}=={version} is locked but not in the layer")
        elif dist.version != version:
            problems.append(f"{name} is {dist.version} in the layer, {version} in uv.lock")
    tags = {str(t) for t in lambda_tags()}
    env = _lambda_environment()
    for dist in dists.values():
        if dist.name in RUNTIME_PROVIDED:
            problems.append(f"{dist.name} is in the layer, but the Lambda runtime provides it")
        wheel_tags = set(dist.tags)
        if wheel_tags and not wheel_tags & tags:
            problems.append(f"{dist.name} {dist.version} is a wheel for {sorted(wheel_tags)}, not for Lambda")
        for spec in dist.requires:
            try:
                req = Requirement(spec)
            except InvalidRequirement:
                problems.append(f"{dist.name} declares an unreadable dependency {spec!r}")
                continue
            if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
                continue
            dep = canonicalize_name(req.name)
            if dep not in dists and dep not in RUNTIME_PROVIDED:
                problems.append(
                    f"{dist.name} needs {req.name}, which is neither in the layer nor in the runtime"
                )
    problems.extend(_extension_problems(target))
    modules = {m for dist in dists.values() for m in dist.top_level} | RUNTIME_MODULES
    for module in sorted(third_party_imports(code_roots) - modules):
        problems.append(f"the functions import {module}, which is neither in the layer nor in the runtime")
    return problems


class _RunTimeImports(ast.NodeVisitor):
    """Top-level module names imported anywhere in a file, except under ``if TYPE_CHECKING:``."""

    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(alias.name.split(".", 1)[0] for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.found.add(node.module.split(".", 1)[0])


def third_party_imports(roots: Iterable[Path]) -> set[str]:
    """Top-level modules imported at run time by the code under ``roots``: not the stdlib, not the roots."""
    roots = list(roots)
    first_party = {root.name for root in roots}
    visitor = _RunTimeImports()
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return {
        m
        for m in visitor.found
        if m not in sys.stdlib_module_names and m not in first_party and m != "__future__"
    }


def tree_size(path: Path) -> int:
    """Bytes of the files under ``path`` (what Lambda counts as unzipped size)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            file = Path(root) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def report(layer_dir: Path, code_dir: Path) -> str:
    """The unzipped sizes Lambda counts, against its 250 MB limit."""
    layer_size = tree_size(layer_dir)
    code_size = tree_size(code_dir)
    total = layer_size + code_size
    mb = 1024 * 1024
    return (
        f"dependency layer {layer_size / mb:.1f} MB + function code {code_size / mb:.1f} MB = "
        f"{total / mb:.1f} MB unzipped, {100 * total / LAMBDA_UNZIPPED_LIMIT:.0f}% of Lambda's 250 MB"
    )


def check_synthesized(cloud_assembly: Path, stack: str = "Steward") -> str:
    """Check the layer and code assets of a synthesized template; the size report, or LayerBuildError."""
    template = json.loads((cloud_assembly / f"{stack}.template.json").read_text())
    layers: list[Path] = []
    code: set[Path] = set()
    for resource in template["Resources"].values():
        asset = resource.get("Metadata", {}).get("aws:asset:path")
        if asset and resource["Type"] == "AWS::Lambda::LayerVersion":
            layers.append(cloud_assembly / asset)
        elif asset and resource["Type"] == "AWS::Lambda::Function":
            code.add(cloud_assembly / asset)
    if len(layers) != 1 or not code:
        raise LayerBuildError(
            f"{stack}: expected one layer and the functions' code, found {layers} and {code}"
        )
    python = layers[0] / "python"
    if not python.is_dir() or not any(python.iterdir()):
        raise LayerBuildError(
            f"{stack}: the dependency layer asset {layers[0]} is empty (was bundling skipped?)"
        )
    problems = check_layer(python, {}, [c / package for c in code for package in staging.FUNCTION_CODE])
    if problems:
        raise LayerBuildError("the synthesized layer is not usable on Lambda:\n  " + "\n  ".join(problems))
    largest = max(code, key=tree_size)
    return report(layers[0], largest)


if __name__ == "__main__":  # `make synth` runs this on cdk.out after the synth
    try:
        sys.stdout.write(f"{check_synthesized(Path(sys.argv[1] if len(sys.argv) > 1 else 'cdk.out'))}\n")
    except LayerBuildError as exc:
        sys.stderr.write(f"{exc}\n")
        sys.exit(1)
