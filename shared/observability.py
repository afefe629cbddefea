"""The one place Steward's logger, tracer and metrics are made.

Every handler is decorated in the same order (``shared.handlers``): logger context with the correlation id →
metrics → tracer. The tracer is made on first use: it loads the X-Ray SDK, which costs more at cold start than
the webhook receiver's budget allows, so the receiver goes without it (Lambda's active tracing still records
its invocations).
"""

from __future__ import annotations

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


# A request that publishes no metric of its own is normal (API Gateway counts requests); don't warn about it.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
