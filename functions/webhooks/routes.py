"""The webhook routes in the API document, generated from the receiver's own tables.

The receiver reads raw proxy events (no resolver, for its cold start), so its operations are described here
from the same constants it runs on: the catalogue's routes, each platform's handshake parameters, signature
header and delivery media type.
"""

from __future__ import annotations

from typing import Any

from functions.webhooks.receiver import PLATFORM_OF
from shared import catalogue
from shared.domain import webhooks

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookError"}}}


def openapi_components() -> dict[str, Any]:
    """The receiver answers a refusal with ``{"message": ...}`` only (no ``code``, unlike the resolvers)."""
    return {
        "WebhookError": {
            "title": "WebhookError",
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"title": "Message", "type": "string", "minLength": 1}},
        }
    }


def _responses(*codes: tuple[int, str]) -> dict[str, Any]:
    return {str(code): {"description": text, "content": ERROR} for code, text in codes}


def _operation(route: catalogue.Route) -> dict[str, Any]:
    platform = PLATFORM_OF[route.path]
    base = {
        "summary": route.summary,
        "tags": [route.function],
        "security": [],
        "operationId": f"{route.method.lower()}_{route.path.strip('/').replace('/', '_')}",
        "x-steward-roles": [],
    }
    if route.method == "GET":
        return {
            **base,
            "description": "Public: the platform's subscription handshake.",
            "parameters": [
                {"name": name, "in": "query", "required": True, "schema": {"type": "string"}}
                for name in webhooks.HANDSHAKE_QUERY[platform]
            ],
            "responses": {
                "200": {"description": "The challenge, echoed as the platform expects"},
                **_responses(
                    (
                        400,
                        "A handshake parameter is missing or wrong (an X crc_token must be a short opaque string)",
                    ),
                    (403, "Wrong verify token"),
                ),
                **_responses(
                    (404, "Not a topic this endpoint subscribes to"),
                    (
                        503,
                        "Secrets unavailable, or the webhook not configured (its secret is still the placeholder)",
                    ),
                ),
            },
        }
    header = webhooks.SIGNATURE_HEADERS[platform]
    return {
        **base,
        "description": f"Public: a signed delivery. The {header} header must sign the raw body.",
        "parameters": [{"name": header, "in": "header", "required": True, "schema": {"type": "string"}}],
        "requestBody": {
            "required": True,
            "content": {
                webhooks.DELIVERY_TYPES[platform]: {"schema": {"type": "string", "format": "binary"}}
            },
        },
        "responses": {
            "200": {"description": "Stored in intake and queued for processing"},
            **_responses((400, "Signed, kept for diagnosis, but not a delivery of this platform")),
            **_responses((401, "Signature missing or wrong; nothing stored"), (413, "Delivery too large")),
            **_responses(
                (503, "Storage or queue failed, or the webhook not configured; the platform should retry")
            ),
        },
    }


def openapi_paths() -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    for route in catalogue.routes_of("webhooks"):
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return paths
