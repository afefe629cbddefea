"""The Lambda entry points, decorated the same way everywhere: logger context with the correlation id →
metrics → tracer. A handler module is then one line: ``handler = handlers.http(app)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from shared.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext

Handler = Callable[[dict[str, Any], "LambdaContext"], Any]


def entry(work: Handler, correlation_path: str, *, traced: bool = True) -> Handler:
    """Wrap ``work`` in the standard decorators (the tracer innermost, the logger outermost)."""
    wrapped = tracer().capture_lambda_handler(work, capture_response=False) if traced else work
    wrapped = metrics.log_metrics(wrapped)
    return logger.inject_lambda_context(wrapped, correlation_id_path=correlation_path, clear_state=True)


def http(app: APIGatewayRestResolver) -> Handler:
    """Entry point for an API Gateway REST proxy function served by a resolver."""

    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return entry(handle, correlation_paths.API_GATEWAY_REST)


def raw_http(work: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
    """Entry point for a proxy function that reads the raw event itself (the webhook receiver), untraced."""

    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return work(event)

    return entry(handle, correlation_paths.API_GATEWAY_REST, traced=False)


def scheduled(work: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
    """Entry point for an EventBridge-scheduled function; ``work`` gets the event and returns a summary."""

    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        summary = work(event)
        logger.info("scheduled run finished", extra={"summary": summary})
        return summary

    return entry(handle, correlation_paths.EVENT_BRIDGE)


# The batch's first message id: SQS batches have no request id of their own.
SQS_BATCH = "Records[0].messageId"


def queue(work: Handler) -> Handler:
    """Entry point for an SQS-triggered function; ``work`` returns the partial-batch-failure response."""
    return entry(work, SQS_BATCH)
