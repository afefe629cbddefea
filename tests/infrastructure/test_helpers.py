"""The infrastructure helpers that need no synth."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrastructure import layer, layer_build, staging
from infrastructure.constructs.api import path_parameters, public_reason
from infrastructure.constructs.naming import construct_id, pascal
from infrastructure.constructs.policy_wildcards import flatten
from shared import catalogue


def test_pascal_case_ids_from_catalogue_keys() -> None:
    assert pascal("audit-anchors") == "AuditAnchors"
    assert construct_id("Function", "audit_api") == "FunctionAuditApi"


def test_path_parameters() -> None:
    assert path_parameters("/audit/chains/{chain}") == {"method.request.path.chain": True}
    assert path_parameters("/files/{proxy+}") == {"method.request.path.proxy": True}
    assert path_parameters("/health") == {}


def test_public_routes_need_a_written_reason() -> None:
    assert "liveness" in public_reason(catalogue.Route("GET", "/health", "health", frozenset(), public=True))
    assert "signature" in public_reason(
        catalogue.Route("POST", "/webhooks/meta", "x", frozenset(), public=True)
    )
    with pytest.raises(ValueError, match="no reason"):
        public_reason(catalogue.Route("GET", "/debug", "x", frozenset(), public=True))


def test_flatten_matches_cdk_nag_finding_ids() -> None:
    joined = {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket1", "Arn"]}, "/*"]]}
    assert flatten(joined) == "<Bucket1.Arn>/*"
    assert flatten({"Ref": "AWS::Partition"}) == "<AWS::Partition>"
    assert flatten("*") == "*"


def test_staging_is_content_addressed_and_skips_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "BUILD_DIR", tmp_path / "build")
    source = tmp_path / "src"
    (source / "pkg" / "__pycache__").mkdir(parents=True)
    (source / "pkg" / "mod.py").write_text("X = 1\n")
    (source / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")

    first = staging.stage("code", {"lib": source})
    assert (first / "lib" / "pkg" / "mod.py").read_text() == "X = 1\n"
    assert not (first / "lib" / "pkg" / "__pycache__").exists()
    assert staging.stage("code", {"lib": source}) == first

    (source / "pkg" / "mod.py").write_text("X = 2\n")
    second = staging.stage("code", {"lib": source})
    assert second != first
    assert (second / "lib" / "pkg" / "mod.py").read_text() == "X = 2\n"


def test_layer_bundling_fails_loudly_instead_of_falling_back_to_docker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(layer, "_uv", lambda: "/bin/false")
    monkeypatch.setattr(layer, "BUILT_DIR", tmp_path / "built")
    bundler = layer.UvLocalBundling(tmp_path)
    with pytest.raises(layer_build.LayerBuildError, match="exit code 1"):
        bundler.try_bundle(str(tmp_path / "out"))
