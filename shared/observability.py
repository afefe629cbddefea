"""The one place Steward's logger, tracer and metrics are made.

Every handler is decorated in the same order (``shared.handlers``): logger context with the correlation id →
metrics → tracer. The tracer is made on first use: it loads the X-Ray SDK, which costs more at cold start than
the webhook receiver's budget allows, so the receiver goes without it (Lambda's active tracing still records
its invocations).

Secrets must never reach a log: botocore writes every request and response body at DEBUG (a Secrets Manager
``SecretString`` among them: app secrets, tokens, vault credentials) and Powertools' resolver writes each route
handler's arguments (a credential body among them). A filter on exactly those loggers, installed here for every
function, replaces such a record's text.
"""

from __future__ import annotations

import logging
import warnings
from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "steward"
NAMESPACE = "Steward"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


@lru_cache(maxsize=1)
def tracer() -> Tracer:
    return Tracer(service=SERVICE)


# The loggers that write request bodies at DEBUG: botocore's request and response bodies, and Powertools'
# "Calling API Route Handler" with the route's arguments (the parsed body).
_BODY_LOGGERS = ("botocore.endpoint", "botocore.parsers", "aws_lambda_powertools.event_handler.api_gateway")
_SECRET_MARKERS = ("secretsmanager", "SecretString", "SecretBinary")


class _BodyGuard(logging.Filter):
    """Keeps a body-logging record only when it cannot hold a credential; otherwise keeps its first words."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("aws_lambda_powertools"):
            if isinstance(record.msg, str) and record.msg.startswith("Calling API Route Handler"):
                names = sorted(record.args) if isinstance(record.args, dict) else []
                record.msg, record.args = "Calling API Route Handler (arguments: %s)", (", ".join(names),)
            return True
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is dropped, not leaked
            return False
        if any(marker in text for marker in _SECRET_MARKERS):
            record.msg, record.args = "%s (a Secrets Manager body, not logged)", (text.split("(", 1)[0][:80],)
            record.exc_info = record.exc_text = None
        return True


_GUARD = _BodyGuard()


def guard_logs() -> None:
    """Install the filter on the body-logging loggers (idempotent; done on import for every function)."""
    for name in _BODY_LOGGERS:
        target = logging.getLogger(name)
        if _GUARD not in target.filters:
            target.addFilter(_GUARD)


guard_logs()

# A request that publishes no metric of its own is normal (API Gateway counts requests); don't warn about it.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
