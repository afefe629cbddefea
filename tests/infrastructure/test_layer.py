"""The dependency layer: built from the lock file for Lambda's python3.12 on x86_64, or refused naming the package.

The first tests feed the planner and the checker lock entries and layer folders made here (no network). The last
ones build the real layer from uv.lock exactly as ``make synth`` does (the build is cached under ``.build/``) and
check what Lambda would load: every module the functions import, every compiled extension, the sizes.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from infrastructure import layer, layer_build, staging

PURE = "https://files.example/pkgs/{n}-{v}-py3-none-any.whl"
CP312 = "https://files.example/pkgs/{n}-{v}-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"


def locked(name: str, version: str, wheels: tuple[str, ...] = (), sdist: bool = True) -> layer_build.Locked:
    return layer_build.Locked(
        name=canonicalize_name(name),
        version=version,
        wheels=tuple((w.format(n=name.replace("-", "_"), v=version), "sha256:" + "0" * 64) for w in wheels),
        sdist=(f"https://files.example/pkgs/{name}-{version}.tar.gz", "sha256:" + "1" * 64)
        if sdist
        else None,
    )


def lock_of(*entries: layer_build.Locked) -> dict[str, layer_build.Locked]:
    return {e.name: e for e in entries}


# ----------------------------------------------------------------------------------------------- the plan
def test_wheels_lambda_can_load_are_installed_and_pure_sdists_are_built() -> None:
    lock = lock_of(
        locked("fast-core", "2.0", (CP312,)),
        locked("pure-lib", "1.0", (PURE,)),
        locked("abi3-lib", "3.0", ("https://f/abi3_lib-3.0-cp39-abi3-manylinux_2_28_x86_64.whl",)),
        locked("sdist-only", "1.9.0"),
    )
    plan = layer_build.plan({n: e.version for n, e in lock.items()}, lock)
    assert set(plan.from_wheel) == {"fast-core", "pure-lib", "abi3-lib"}
    assert [e.name for e in plan.from_sdist] == ["sdist-only"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            locked("native", "1.0", ("https://f/native-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",)),
            "native==1.0: has compiled code but no wheel for CPython 3.12 manylinux x86_64",
        ),
        (
            locked("armonly", "1.0", ("https://f/armonly-1.0-cp312-cp312-manylinux_2_17_aarch64.whl",)),
            "armonly==1.0: has compiled code",
        ),
        (
            locked("toonew", "1.0", ("https://f/toonew-1.0-cp312-cp312-manylinux_2_39_x86_64.whl",)),
            "toonew==1.0: has compiled code",
        ),
        (locked("nothing", "1.0", sdist=False), "nothing==1.0: uv.lock has no wheel for CPython 3.12"),
    ],
)
def test_a_package_lambda_cannot_load_fails_the_build_naming_it(
    entry: layer_build.Locked, message: str
) -> None:
    lock = lock_of(entry, locked("fine", "1.0", (PURE,)))
    with pytest.raises(layer_build.LayerBuildError, match="cannot be built for Lambda") as raised:
        layer_build.plan({entry.name: entry.version, canonicalize_name("fine"): "1.0"}, lock)
    assert message in str(raised.value)
    assert "fine" not in str(raised.value)


def test_a_requirement_the_lock_does_not_hold_is_named() -> None:
    with pytest.raises(layer_build.LayerBuildError, match=r"ghost==2\.0: not in uv.lock"):
        layer_build.plan({canonicalize_name("ghost"): "2.0"}, lock_of(locked("ghost", "1.0", (PURE,))))


def test_the_export_is_read_by_pin() -> None:
    export = (
        "# comment\n"
        "bagit==1.9.0 \\\n"
        "    --hash=sha256:aaaa\n"
        "    # via steward\n"
        "aws-lambda-powertools[tracer]==3.37.0 \\\n"
        "    --hash=sha256:bbbb \\\n"
        "    --hash=sha256:cccc\n"
    )
    assert layer_build.pinned(export) == {"bagit": "1.9.0", "aws-lambda-powertools": "3.37.0"}


def test_the_sdists_hash_is_checked_against_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Response:
        def __enter__(self) -> Response:
            return self

        def __exit__(self, *_: object) -> None:
            return None

        def read(self) -> bytes:
            return b"tampered"

    monkeypatch.setattr(layer_build.urllib.request, "urlopen", lambda *_a, **_k: Response())
    with pytest.raises(layer_build.LayerBuildError, match=r"does not match uv\.lock"):
        layer_build.build_pure_wheel("uv", locked("sdist-only", "1.0"), tmp_path)
    assert not list(tmp_path.rglob("*.whl"))


# ------------------------------------------------------------------------------------------ the checker
def fake_dist(
    target: Path, name: str, version: str, files: dict[str, bytes], requires: tuple[str, ...] = ()
) -> None:
    info = target / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    (info / "METADATA").write_text(meta)
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nTag: py3-none-any\n")
    for rel, content in files.items():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_bytes(content)
    (info / "RECORD").write_text("".join(f"{rel},,\n" for rel in files))


ELF_X86_64 = b"\x7fELF" + b"\0" * 14 + (0x3E).to_bytes(2, "little")
ELF_AARCH64 = b"\x7fELF" + b"\0" * 14 + (0xB7).to_bytes(2, "little")


def test_the_checker_finds_what_would_break_on_lambda(tmp_path: Path) -> None:
    target = tmp_path / "python"
    fake_dist(
        target,
        "good",
        "1.0",
        {"good/__init__.py": b"", "good/_c.cpython-312-x86_64-linux-gnu.so": ELF_X86_64},
    )
    fake_dist(target, "old_ext", "1.0", {"old_ext/_c.cpython-311-x86_64-linux-gnu.so": ELF_X86_64})
    fake_dist(target, "arm", "1.0", {"arm/_c.cpython-312-x86_64-linux-gnu.so": ELF_AARCH64})
    fake_dist(
        target,
        "needy",
        "1.0",
        {"needy.py": b""},
        requires=("missing-dep>=1", "winonly; sys_platform == 'win32'"),
    )
    fake_dist(target, "botocore", "1.0", {"botocore/__init__.py": b""})
    code = tmp_path / "functions"
    code.mkdir()
    (code / "handler.py").write_text(
        "from typing import TYPE_CHECKING\nimport good\nimport boto3\nimport absent_lib\n"
        "if TYPE_CHECKING:\n    import mypy_boto3_s3\n"
        "def f():\n    from functions import x\n    import json\n"
    )
    problems = layer_build.check_layer(
        target, {canonicalize_name("good"): "1.0", canonicalize_name("lost"): "2.0"}, [code]
    )
    text = "\n".join(problems)
    assert "lost==2.0 is locked but not in the layer" in text
    assert "old_ext/_c.cpython-311-x86_64-linux-gnu.so is built for cpython-311" in text
    assert "arm/_c.cpython-312-x86_64-linux-gnu.so is not an x86_64 Linux (ELF) library" in text
    assert "needy needs missing-dep" in text
    assert "winonly" not in text
    assert "botocore is in the layer, but the Lambda runtime provides it" in text
    assert "the functions import absent_lib" in text
    assert len(problems) == 6, problems


# ------------------------------------------------------------------------------------- the real layer
@pytest.fixture(scope="module")
def built() -> Path:
    return layer.built_layer()


def test_the_layer_builds_from_the_lock_and_passes_every_check(built: Path) -> None:
    python = built / "python"
    exported = {d.name for d in layer_build.installed(python).values()}
    assert {"aws-lambda-powertools", "pydantic", "pydantic-core", "pynamodb", "bagit"} <= exported
    assert not exported & layer_build.RUNTIME_PROVIDED
    assert layer_build.check_layer(python, {}, staging.FUNCTION_CODE.values()) == []


def test_every_module_the_functions_import_is_in_the_layer_or_the_runtime(built: Path) -> None:
    imports = layer_build.third_party_imports(staging.FUNCTION_CODE.values())
    assert {"aws_lambda_powertools", "pydantic", "pynamodb", "bagit", "boto3", "botocore"} <= imports
    assert not any(m.startswith("mypy_boto3") for m in imports)  # type-checking only
    modules = {m for d in layer_build.installed(built / "python").values() for m in d.top_level}
    assert imports - modules <= layer_build.RUNTIME_MODULES
    # The sdist-only package was built into a pure wheel and installed.
    assert (built / "python" / "bagit.py").is_file()


def test_every_compiled_extension_is_for_cpython_312_on_linux_x86_64(built: Path) -> None:
    extensions = sorted((built / "python").rglob("*.so"))
    assert extensions, "pydantic-core ships compiled code"
    for so in extensions:
        assert so.name.endswith(("cpython-312-x86_64-linux-gnu.so", ".abi3.so")), so
        assert so.read_bytes()[18:20] == (0x3E).to_bytes(2, "little"), so  # ELF e_machine: x86_64
    lambda_tags = {str(t) for t in layer_build.lambda_tags()}
    for dist in layer_build.installed(built / "python").values():
        assert set(dist.tags) & lambda_tags, dist


def test_the_layer_and_the_code_stay_well_inside_lambdas_unzipped_limit(built: Path) -> None:
    layer_size = layer_build.tree_size(built)
    code_size = layer_build.tree_size(staging.function_code())
    assert "% of Lambda's 250 MB" in layer_build.report(built, staging.function_code())
    assert layer_size > 1024 * 1024
    assert layer_size + code_size < layer_build.LAMBDA_UNZIPPED_LIMIT // 4


def assembly(tmp_path: Path, layer_python: Path | None) -> Path:
    """A cloud assembly as ``cdk synth`` writes it: the template naming its layer and code assets."""
    out = tmp_path / "cdk.out"
    (out / "asset.layer").mkdir(parents=True)
    if layer_python is not None:
        shutil.copytree(layer_python, out / "asset.layer" / "python")
    code = out / "asset.code"
    for name, root in staging.FUNCTION_CODE.items():
        (code / name).mkdir(parents=True)
        (code / name / "handler.py").write_text(f"import pydantic\nimport {name}\n")
        assert root.is_dir()
    resources = {
        "Layer": {"Type": "AWS::Lambda::LayerVersion", "Metadata": {"aws:asset:path": "asset.layer"}},
        "Fn": {"Type": "AWS::Lambda::Function", "Metadata": {"aws:asset:path": "asset.code"}},
    }
    (out / "Steward.template.json").write_text(json.dumps({"Resources": resources}))
    return out


def test_make_synth_refuses_a_template_whose_layer_asset_is_empty(tmp_path: Path) -> None:
    with pytest.raises(layer_build.LayerBuildError, match=r"layer asset .* is empty"):
        layer_build.check_synthesized(assembly(tmp_path, None))


def test_make_synth_reports_the_sizes_of_a_good_template(tmp_path: Path, built: Path) -> None:
    assert "% of Lambda's 250 MB" in layer_build.check_synthesized(assembly(tmp_path, built / "python"))


def test_uv_runs_without_colour_whatever_cdk_sets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``npx cdk synth`` runs the app with FORCE_COLOR set, and uv then colours what it prints."""
    monkeypatch.setenv("FORCE_COLOR", "0")
    probe = "import os; print(os.environ.get('FORCE_COLOR'), os.environ.get('NO_COLOR'))"
    assert layer_build._run([sys.executable, "-c", probe], tmp_path).split() == ["None", "1"]
