"""The webhook receiver: handshake on GET; on POST bound the size, verify the signature over the raw bytes,
keep the delivery in intake, queue a pointer, and answer 200 only after both succeeded.

It reads the raw proxy event itself rather than through a resolver: it must start fast (its import time is
measured against ``import boto3``) and it must see the body's exact bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from shared.catalogue import SECRET_PLACEHOLDER
from shared.domain import webhooks
from shared.domain.webhooks import Platform, Reply
from shared.errors import NotConfigured, StewardError
from shared.observability import logger, metrics
from shared.settings import get_settings
from shared.store import intake
from shared.store.secrets import secret_fields

PLATFORM_OF: dict[str, Platform] = {f"/webhooks/{p}": p for p in webhooks.PLATFORMS}
SECRET_OF: dict[Platform, tuple[str, str]] = {
    "meta": ("meta-app", "app_secret"),
    "x": ("x-app", "consumer_secret"),
    "youtube": ("websub", "secret"),
}


def configured(platform: Platform, key: str, field: str) -> str:
    """Secret ``key``'s ``field``, unless it is the deployment's placeholder or too short to be real: then the
    webhook is not configured (503, so the platform retries once it is; a metric the stack alarms on)."""
    value = secret_fields(key)[field]
    if value == SECRET_PLACEHOLDER or len(value) < webhooks.MIN_SECRET_LENGTH:
        metrics.add_metric(name="WebhookSecretNotConfigured", unit=MetricUnit.Count, value=1)
        logger.error(
            "webhook secret not configured", extra={"platform": platform, "secret": key, "field": field}
        )
        raise NotConfigured(
            f"the {platform} webhook is not configured yet: its secret {key} ({field}) has not been set"
        )
    return value


def handshake(platform: Platform, query: dict[str, str]) -> Reply:
    # No handshake for a webhook that could not verify the deliveries it subscribes to.
    signing = configured(platform, *SECRET_OF[platform])
    if platform == "meta":
        return webhooks.meta_handshake(query, configured(platform, "meta-app", "verify_token"))
    if platform == "x":
        return webhooks.x_crc(query, signing)
    return webhooks.websub_verification(query)


def raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            raise ValueError("the body is marked base64 but is not") from None
    return str(body).encode("utf-8")


def deliver(platform: Platform, event: dict[str, Any]) -> Reply:
    try:
        body = raw_body(event)
    except ValueError as exc:
        return Reply(400, {"message": str(exc)})
    limit = get_settings().webhook_max_body_bytes
    if len(body) > limit:
        return _refused(
            platform, 413, f"the delivery is {len(body)} bytes; the limit is {limit}", "too_large"
        )
    secret = configured(platform, *SECRET_OF[platform])
    headers = event.get("headers") or {}
    provided = webhooks.header(headers, webhooks.SIGNATURE_HEADERS[platform])
    if not webhooks.signature_matches(platform, secret, body, provided):
        what = "missing" if not provided else "wrong"
        return _refused(
            platform, 401, f"the {webhooks.SIGNATURE_HEADERS[platform]} signature is {what}", "signature"
        )
    problem = webhooks.shape_problem(platform, body)
    request_id = str((event.get("requestContext") or {}).get("requestId", ""))
    content_type = webhooks.header(headers, "content-type")
    pointer = intake.store(
        platform, body, datetime.now(UTC), request_id, content_type, rejected=problem is not None
    )
    if problem is not None:
        logger.warning("signed delivery kept but refused", extra={"platform": platform, "key": pointer.key})
        return _refused(platform, 400, problem, "shape")
    intake.enqueue(pointer)
    metrics.add_metric(name="DeliveriesAccepted", unit=MetricUnit.Count, value=1)
    logger.info("delivery received", extra={"platform": platform, "key": pointer.key, "bytes": pointer.size})
    return Reply(200, {"status": "received"})


def _refused(platform: Platform, status: int, message: str, reason: str) -> Reply:
    metrics.add_metric(
        name=f"DeliveriesRefused{reason.title().replace('_', '')}", unit=MetricUnit.Count, value=1
    )
    logger.warning("delivery refused", extra={"platform": platform, "status": status, "reason": reason})
    return Reply(status, {"message": message})


ROUTES: dict[str, Callable[[Platform, dict[str, Any]], Reply]] = {
    "GET": lambda platform, event: handshake(platform, event.get("queryStringParameters") or {}),
    "POST": deliver,
}


def receive(event: dict[str, Any]) -> dict[str, Any]:
    """The proxy response for one webhook request."""
    platform = PLATFORM_OF.get(str(event.get("resource", "")))
    route = ROUTES.get(str(event.get("httpMethod", "")))
    if platform is None or route is None:
        reply = Reply(404, {"message": "no such webhook"})
    else:
        try:
            reply = route(platform, event)
        except StewardError as exc:
            if exc.status >= 500:
                logger.exception("webhook failed", extra={"platform": platform, "code": exc.code})
            reply = Reply(int(exc.status), {"message": exc.message})
    body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
    return {"statusCode": reply.status, "headers": {"Content-Type": reply.content_type}, "body": body}
