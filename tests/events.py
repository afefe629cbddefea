"""Build API Gateway REST proxy events the way API Gateway (and the local gateway) does."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from shared import catalogue


def claims_for(*roles: str, username: str = "tester", sub: str = "sub-tester") -> dict[str, str]:
    """Cognito authorizer claims as API Gateway passes them: every value a string."""
    return {
        "sub": sub,
        "cognito:username": username,
        "email": f"{username}@district.example",
        "cognito:groups": ",".join(roles),
        "token_use": "id",
    }


def rest_event(
    method: str,
    path: str,
    *,
    roles: tuple[str, ...] | None = ("records",),
    body: Any = None,
    raw_body: bytes | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST proxy event for ``method path``; ``roles=None`` means no authorizer claims (no token)."""
    matched = catalogue.match_path(method, path)
    resource, params = (matched[0].path, matched[1]) if matched else (path, {})
    is_b64 = False
    text: str | None
    if raw_body is not None:
        try:
            text = raw_body.decode()
        except UnicodeDecodeError:
            text, is_b64 = base64.b64encode(raw_body).decode(), True
    elif body is not None:
        text = body if isinstance(body, str) else json.dumps(body)
    else:
        text = None
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": hdrs,
        "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": str(uuid.uuid4()),
            "requestTime": "21/Nov/2026:16:00:00 +0000",
            "requestTimeEpoch": 1795276800000,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest"},
            "authorizer": {"claims": claims_for(*roles)} if roles is not None else None,
        },
        "body": text,
        "isBase64Encoded": is_b64,
    }
