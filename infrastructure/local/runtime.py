"""``steward local``: the whole system on one machine, on moto, in memory.

moto's server runs in-process on 127.0.0.1; every resource in the catalogue is provisioned on it; the API is
served through the local gateway; queues are polled into their consumer functions; schedules run on their
local cadence. A state file tells the other ``steward`` commands (token, audit verify, schedule run) where
everything is.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

REGION = "us-east-1"
DEFAULT_STATE = Path(".steward/local.json")


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
    state_file: Path = DEFAULT_STATE
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
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(self.state, indent=2))
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
        if self.state_file.exists():
            self.state_file.unlink()


def load_state(path: Path = DEFAULT_STATE) -> dict[str, Any]:
    """The running local runtime's state, with its environment applied to this process."""
    if not path.exists():
        raise FileNotFoundError(f"no local runtime is running ({path} is missing): start one with `make run`")
    state: dict[str, Any] = json.loads(path.read_text())
    apply_environment({**local_environment(state["endpoint"]), **state["env"]})
    return state
