"""``steward local``: the whole system on one machine, on moto, in memory.

moto's server runs in-process on 127.0.0.1; every resource in the catalogue is provisioned on it; the API is
served through the local gateway; queues are polled into their consumer functions; schedules run on their
local cadence. A state file tells the other ``steward`` commands (token, audit verify, schedule run) where
everything is: one per runtime, named by its API port, in a per-user directory (:func:`state_dir`), so those
commands find the running runtime from any directory (:func:`find_state`).
"""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3

REGION = "us-east-1"


def local_environment(endpoint: str) -> dict[str, str]:
    """The process environment the handlers see locally (set before any handler module is imported)."""
    return {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "steward-local",
        "AWS_SECRET_ACCESS_KEY": "steward-local",
        "STEWARD_STAGE": "local",
        "STEWARD_AWS_ENDPOINT_URL": endpoint,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "steward",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
    }


def apply_environment(env: dict[str, str]) -> None:
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)
    os.environ.update(env)


class PortInUse(OSError):
    pass


@dataclass
class LocalRuntime:
    host: str = "127.0.0.1"
    port: int = 8080
    moto_port: int = 0
    platforms_port: int = 0
    sample_data: bool = True
    # Written besides the runtime's own state file in state_dir() (``steward --state PATH local``).
    state_file: Path | None = None
    state_files: list[Path] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    def start(self) -> dict[str, Any]:
        from infrastructure.local.moto_process import MotoProcess

        self._moto = MotoProcess(self.host, self.moto_port)
        endpoint = self._moto.start()
        apply_environment(local_environment(endpoint))

        from infrastructure.local.fake_platforms import FakePlatforms
        from infrastructure.local.gateway import Gateway, TokenVerifier, serve
        from infrastructure.local.lambdas import Lambdas
        from infrastructure.local.poller import QueuePoller
        from infrastructure.local.provision import provision
        from infrastructure.local.sample import seed
        from infrastructure.local.scheduler import run as run_schedule
        from shared import catalogue
        from shared.store import aws

        session = boto3.session.Session(region_name=REGION)
        provisioned = provision(session, endpoint)
        # The platforms' APIs are an honest fake on loopback: it records calls and sends the echo webhooks.
        self._platforms = FakePlatforms.local(port=self.platforms_port).start()
        provisioned.env.update(self._platforms.settings_env())
        os.environ.update(provisioned.env)
        aws.reset()
        seeded = seed(provisioned) if self.sample_data else {}

        lambdas = Lambdas(REGION)
        verifier = TokenVerifier(endpoint, REGION, provisioned.user_pool_id, provisioned.client_id)
        try:
            self._server = serve(Gateway(verifier, lambdas.invoke), self.host, self.port)
        except OSError as exc:
            self._platforms.stop()
            self._moto.stop()
            raise PortInUse(f"cannot serve on {self.host}:{self.port} ({exc.strerror}): pass --port") from exc
        api_port = self._server.server_address[1]
        self._platforms.set_callback(f"http://127.0.0.1:{api_port}")
        self._spawn("gateway", self._server.serve_forever)

        sqs = session.client("sqs", endpoint_url=endpoint)
        for fn in catalogue.FUNCTIONS:
            if fn.consumes:
                poller = QueuePoller(sqs, fn, provisioned.queue_urls[fn.consumes], lambdas.invoke, REGION)
                self._spawn(f"poll-{fn.key}", poller.run, self.stop_event)
        for schedule in catalogue.SCHEDULES:
            self._spawn(
                f"schedule-{schedule.key}", run_schedule, schedule, lambdas.invoke, REGION, self.stop_event
            )

        self.state = {
            "api_url": f"http://{self.host}:{api_port}",
            "endpoint": endpoint,
            "platforms_url": self._platforms.url,
            "region": REGION,
            "pid": os.getpid(),
            "sample_data": seeded,
            **provisioned.to_json(),
        }
        self.state_files = [state_path(api_port), *([self.state_file] if self.state_file else [])]
        for path in self.state_files:
            _write_state(path, self.state)
        return self.state

    def _spawn(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        self.stop_event.set()
        self._server.shutdown()
        self._server.server_close()
        self._platforms.stop()
        self._moto.stop()
        for path in self.state_files:
            path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- state files
class NoRuntime(LookupError):
    """No running local runtime answers to what was asked; the message says what to do."""


def state_dir() -> Path:
    """Where each ``steward local`` keeps its state file: ``$XDG_STATE_HOME/steward``, by default
    ``~/.local/state/steward`` (the same from any directory)."""
    base = os.environ.get("XDG_STATE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / "steward"


def state_path(port: int) -> Path:
    """The state file of the runtime serving its API on ``port``."""
    return state_dir() / f"local-{port}.json"


def _write_state(path: Path, state: dict[str, Any]) -> None:
    """Written whole or not at all (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(state, indent=2))
    partial.replace(path)


def _read_state(path: Path) -> dict[str, Any] | None:
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and "api_url" in state else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


def running(state: dict[str, Any], timeout: float = 1.0) -> bool:
    """Whether the runtime a state file describes is still there: its process (when the state names it) is
    alive and its API port accepts a connection. A runtime that was killed leaves its state file behind."""
    pid = state.get("pid")
    if isinstance(pid, int) and not _pid_alive(pid):
        return False
    try:
        api = urlsplit(str(state["api_url"]))
        with socket.create_connection((api.hostname or "127.0.0.1", api.port or 80), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def _locate(port: int | None, path: Path | None) -> tuple[Path, dict[str, Any] | None]:
    """The state file to act on and its state, read once (None when a file named by ``path`` is not one)."""
    if path is not None:
        if not path.is_file():
            raise NoRuntime(f"no local runtime state file at {path}")
        return path, _read_state(path)
    if port is not None:
        found = state_path(port)
        state = _read_state(found)
        if state is None or not running(state):
            raise NoRuntime(
                f"no local runtime is running on port {port} ({found} is missing or stale): "
                f"start one with `make run PORT={port}`"
            )
        return found, state
    live = {
        p: state
        for p in sorted(state_dir().glob("local-*.json"))
        if (state := _read_state(p)) is not None and running(state)
    }
    if not live:
        raise NoRuntime(
            f"no local runtime is running (no live state file in {state_dir()}): start one with `make run`"
        )
    if len(live) > 1:
        ports = ", ".join(
            str(n) for n in sorted(urlsplit(str(s["api_url"])).port or 0 for s in live.values())
        )
        raise NoRuntime(f"{len(live)} local runtimes are running (ports {ports}): pass --port to choose one")
    return next(iter(live.items()))


def find_state(*, port: int | None = None, path: Path | None = None) -> Path:
    """The state file of the runtime to act on: ``path`` if given; else that of the runtime on ``port``; else
    that of the only running runtime. :class:`NoRuntime` when there is none, or several and no port."""
    return _locate(port, path)[0]


def load_state(*, port: int | None = None, path: Path | None = None) -> dict[str, Any]:
    """The running local runtime's state (:func:`find_state`), with its environment applied to this process."""
    found, state = _locate(port, path)
    if state is None:
        raise NoRuntime(f"{found} is not a local runtime state file")
    apply_environment({**local_environment(state["endpoint"]), **state["env"]})
    return state
