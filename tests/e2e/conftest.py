"""Start the real local runtime (``steward local``) in a subprocess and talk HTTP to it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infrastructure.local import spawn

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LocalSteward:
    state_file: Path
    state: dict[str, Any]

    @property
    def api(self) -> str:
        return str(self.state["api_url"])

    def steward(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "infrastructure.cli", "--state", str(self.state_file), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def client(self, service: str) -> Any:
        """A boto3 client of the running system's moto server."""
        return spawn.client(self.state, service)

    def token(self, role: str) -> str:
        result = self.steward("token", "--role", role)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(f"{self.api}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            request.add_header(k, v)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                payload = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            payload, status = exc.read(), exc.code
        try:
            return status, json.loads(payload)
        except json.JSONDecodeError:
            return status, payload.decode(errors="replace")


def start_local(tmp: Path) -> Iterator[LocalSteward]:
    with spawn.spawned(tmp, timeout=90) as state:
        yield LocalSteward(state_file=Path(state["state_file"]), state=state)


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSteward]:
    """A fresh local runtime for the test module (sample data included)."""
    yield from start_local(tmp_path_factory.mktemp("steward-local"))
