"""The ``steward`` command line from outside the checkout, and the README's signed-delivery recipe, run as written,
against a fresh ``steward local``.

The commands run as a user's shell would run them: no AWS_ or STEWARD_ variables, and ``XDG_STATE_HOME`` where
this runtime wrote its per-port state file (``spawn.spawned`` keeps it out of the user's own directory)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import ROOT, LocalSteward

pytestmark = pytest.mark.e2e

README = ROOT / "README.md"
RECIPE_MARKER = "<!-- readme-recipe: signed-delivery"
SAMPLE_PAGE = "1234567890321"
PHONE_DELIVERY = ROOT / "events" / "deliveries" / "facebook_comment_phone.json"
ALL_STATES = "open,actioned,action_failed,confirmed,overturned,escalated"


def user_environment(local: LocalSteward) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STEWARD_"))}
    return {**env, "XDG_STATE_HOME": str(local.state["state_home"])}


def steward_in(local: LocalSteward, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infrastructure.cli", *args],
        cwd=cwd,
        env={**user_environment(local), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def readme_block(marker: str) -> str:
    """The ``sh`` code block that follows ``marker`` in the README, as a reader copies it."""
    text = README.read_text()
    start = text.index("```sh\n", text.index(marker)) + len("```sh\n")
    return text[start : text.index("\n```\n", start) + 1]


def fake(local: LocalSteward, path: str) -> Any:
    with urllib.request.urlopen(f"{local.state['platforms_url']}{path}", timeout=30) as response:
        return json.loads(response.read())


# ------------------------------------------------------------------------------------------------ steward token
def test_a_token_fetched_from_another_directory_by_port_is_accepted(
    local: LocalSteward, tmp_path: Path
) -> None:
    port = urlsplit(local.api).port
    result = steward_in(local, tmp_path, "token", "--role", "records", "--port", str(port))
    assert result.returncode == 0, result.stderr
    status, body = local.call("GET", "/me", token=result.stdout.strip())
    assert status == 200, body
    assert body["roles"] == ["records"]


def test_the_only_running_runtime_is_found_without_options_and_a_wrong_port_is_a_clear_error(
    local: LocalSteward, tmp_path: Path
) -> None:
    found = steward_in(local, tmp_path, "url", "platforms")
    assert (found.returncode, found.stdout.strip()) == (0, local.state["platforms_url"]), found.stderr
    port = free_port()
    wrong = steward_in(local, tmp_path, "token", "--role", "records", "--port", str(port))
    assert (wrong.returncode, wrong.stdout) == (2, "")
    assert wrong.stderr.startswith(f"steward: no local runtime is running on port {port}")
    assert "Traceback" not in wrong.stderr


# ------------------------------------------------------------------------------------------------ README recipe
def test_the_readme_signed_delivery_recipe_hides_the_comment(local: LocalSteward) -> None:
    tools = {tool: shutil.which(tool) for tool in ("bash", "curl", "openssl", "sed")}
    if missing := [tool for tool, path in tools.items() if path is None]:
        pytest.skip(f"the README's recipe needs {', '.join(missing)}")
    if not (ROOT / ".venv" / "bin" / "steward").exists():
        pytest.skip("the README's recipe calls .venv/bin/steward (make install)")
    before = {c["comment_id"] for c in fake(local, "/__comments")}

    result = subprocess.run(
        [str(tools["bash"]), "-euo", "pipefail", "-c", readme_block(RECIPE_MARKER)],
        cwd=ROOT,
        env=user_environment(local),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '{"status": "received"}' in result.stdout, result.stdout

    seeded = [c for c in fake(local, "/__comments") if c["comment_id"] not in before]
    assert len(seeded) == 1, seeded
    comment = seeded[0]
    delivered = json.loads(PHONE_DELIVERY.read_bytes())["entry"][0]["changes"][0]["value"]
    # The fake shows what Facebook delivered (else reconciliation would later find an "edit").
    assert (comment["account_id"], comment["post_id"], comment["text"]) == (
        SAMPLE_PAGE,
        delivered["post_id"],
        delivered["message"],
    )

    token = local.token("communications")
    deadline = time.monotonic() + 60
    case: dict[str, Any] = {}
    while time.monotonic() < deadline:
        _, listed = local.call(
            "GET", f"/moderation/cases?account=facebook:{SAMPLE_PAGE}&state={ALL_STATES}", token=token
        )
        found = [
            c
            for c in listed.get("cases", [])
            if c["item_id"] == comment["comment_id"] and c["rule_id"] == "phone-number"
        ]
        if found and found[0]["state"] != "open":
            case = found[0]
            break
        time.sleep(0.3)
    assert case, f"no acted-on phone-number case for {comment['comment_id']}"
    assert case["state"] == "actioned", case  # not action_failed: the fake knew the comment

    hides = [
        c
        for c in fake(local, "/__calls")
        if c["operation"] == "facebook.hide" and c["path"].endswith(comment["comment_id"])
    ]
    assert [c["status"] for c in hides] == [200]
    assert (
        next(c for c in fake(local, "/__comments") if c["comment_id"] == comment["comment_id"])["state"]
        == "hidden"
    )
