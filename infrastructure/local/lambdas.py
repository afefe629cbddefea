"""Runs the catalogue's Lambda handlers in this process, one invocation at a time.

Lambda gives each instance one event at a time, and the handlers keep per-invocation state in module-level
objects (the resolver's current event, the logger's keys); invoking them one at a time keeps that true here.
"""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from shared import catalogue
from shared.observability import logger


@dataclass
class LocalContext:
    """The Lambda context object, with the fields Powertools and handlers read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class Lambdas:
    def __init__(self, region: str) -> None:
        self.region = region
        self._lock = threading.Lock()
        self._handlers: dict[str, Any] = {}

    def handler(self, key: str) -> Any:
        if key not in self._handlers:
            module = importlib.import_module(catalogue.function(key).module)
            self._handlers[key] = module.handler
        return self._handlers[key]

    def invoke(self, key: str, event: dict[str, Any]) -> Any:
        """Invoke function ``key``; an exception is logged and re-raised (the caller decides what it means)."""
        spec = catalogue.function(key)
        name = f"steward-local-{key}"
        context = LocalContext(
            function_name=name,
            memory_limit_in_mb=spec.memory_mb,
            invoked_function_arn=f"arn:aws:lambda:{self.region}:123456789012:function:{name}",
            aws_request_id=str(uuid.uuid4()),
            deadline=time.monotonic() + spec.timeout_seconds,
            log_group_name=f"/aws/lambda/{name}",
        )
        with self._lock:
            handler = self.handler(key)
            try:
                return handler(event, context)
            except Exception:
                logger.exception("function failed", extra={"function": key})
                raise
