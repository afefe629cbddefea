"""The Lambda entry points, decorated the same way everywhere: logger context with the correlation id →
metrics → tracer. A handler module is then one line: ``handler = handlers.http(app)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.observability import logger, metrics, tracer

Handler = Callable[[dict[str, Any], LambdaContext], Any]


def http(app: APIGatewayRestResolver) -> Handler:
    """Entry point for an API Gateway REST proxy function."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler


def scheduled(work: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
    """Entry point for an EventBridge-scheduled function; ``work`` gets the event and returns a summary."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
    @metrics.log_metrics
    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        summary = work(event)
        logger.info("scheduled run finished", extra={"summary": summary})
        return summary

    return handler
