"""The one place Steward's logger, tracer and metrics are made.

Every handler imports these three and decorates itself in the same order: logger context (with the
correlation id) → metrics → tracer.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "steward"
NAMESPACE = "Steward"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

# A request that publishes no metric of its own is normal (API Gateway counts requests); don't warn about it.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
