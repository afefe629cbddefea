"""A moto server in a process of its own (``python -m infrastructure.local.moto_server``: moto's server with the
speed-ups of ``moto_speedups``): the local runtime's AWS.

In its own process moto has its own interpreter lock, so the gateway, the pollers and the handlers (one process)
do not wait on moto's request handling, and its storage stays out of the caller's heap (what the export benchmark
measures). On Linux the server is told to stop when its parent dies, so a killed runtime leaves no server behind.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the server module is imported from the project
START_SECONDS = 30
START_ATTEMPTS = 3


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class MotoProcess:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._fixed_port = port
        self.port = port or free_port(host)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Start the server and wait until it answers; its endpoint. A port picked here that another process took
        meanwhile is picked again."""
        for _ in range(START_ATTEMPTS if not self._fixed_port else 1):
            if self._start():
                return self.endpoint
            self.port = free_port(self.host)
        raise RuntimeError(f"the moto server did not start on {self.host}")

    def _start(self) -> bool:
        self._process = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
            [sys.executable, "-m", "infrastructure.local.moto_server", "-H", self.host, "-p", str(self.port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads run in the child before exec)
        )
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                probe = http.client.HTTPConnection(self.host, self.port, timeout=1)
                probe.request("GET", "/moto-api/")
                probe.getresponse().read()
                probe.close()
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    return False
                time.sleep(0.1)
            else:
                if self._process.poll() is None:
                    return True
                self._process = None  # another process answered on this port, and ours exited
                return False

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
