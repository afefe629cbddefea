"""The local runtime (``steward local``) in a subprocess of its own, for the end-to-end tests and the load test:
on a free port, its output in a log file (a pipe nobody reads would block it once full), stopped on exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def spawned(directory: Path, timeout: float = 120) -> Iterator[dict[str, Any]]:
    """Start ``steward local --port 0`` with its state file and log in ``directory``; yields its state (with
    ``state_file``, ``log`` and ``state_home``). RuntimeError, with the log's tail, if it does not start within
    ``timeout``.

    Its per-port state file goes under ``state_home`` (``XDG_STATE_HOME``), in ``directory`` too, not in the
    user's own: a ``steward`` command finds this runtime by its port only with ``XDG_STATE_HOME=state_home``."""
    state_file, log, state_home = directory / "local.json", directory / "local.log", directory / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STEWARD_"))}
    env["XDG_STATE_HOME"] = str(state_home)
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
            [sys.executable, "-m", "infrastructure.cli", "--state", str(state_file), "local", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout
        while not state_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"the local runtime did not start:\n{tail}")
            time.sleep(0.1)
        state: dict[str, Any] = json.loads(state_file.read_text())
        yield {**state, "state_file": str(state_file), "log": str(log), "state_home": str(state_home)}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def client(state: dict[str, Any], service: str) -> Any:
    """A boto3 client of the runtime's moto server."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=state["endpoint"],
        region_name=state["region"],
        aws_access_key_id="steward-local",
        aws_secret_access_key="steward-local",  # noqa: S106 (the local moto server's development value)
    )
