"""The local stand-in for API Gateway: HTTP request → REST proxy event → the same Lambda handler → HTTP response.

It does what API Gateway does for Steward's routes: matches the route table, checks the Cognito ID token the
way a Cognito user-pool authorizer does (signature against the pool's JWKS, issuer, audience, token use,
expiry) and hands the handler the claims as strings; passes the body byte for byte (base64 for binary media
types and for bytes that are not UTF-8); refuses bodies over API Gateway's 10 MB limit.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from shared import catalogue

_log = logging.getLogger("steward.local.gateway")

Invoke = Callable[[str, dict[str, Any]], Any]

# Headers a client may not pass through to the function (hop-by-hop, per RFC 9110).
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def json_reply(status: HTTPStatus, message: str, code: str) -> Reply:
    body = json.dumps({"message": message, "code": code}).encode()
    return Reply(int(status), {"Content-Type": "application/json"}, body)


class InvalidToken(Exception):
    pass


@dataclass
class TokenVerifier:
    """Checks Cognito ID tokens against the user pool's published keys, as API Gateway's authorizer does."""

    endpoint: str
    region: str
    user_pool_id: str
    client_id: str
    _keys: KeySet | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    def keys(self) -> KeySet:
        with self._lock:
            if self._keys is None:
                url = f"{self.endpoint}/{self.user_pool_id}/.well-known/jwks.json"
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - the local moto server
                    self._keys = KeySet.import_key_set(json.loads(response.read()))
            return self._keys

    def claims(self, header: str | None) -> dict[str, str]:
        """The token's claims as API Gateway passes them (every value a string); raises InvalidToken."""
        if not header:
            raise InvalidToken("a token is required: send 'Authorization: Bearer <ID token>'")
        value = header.removeprefix("Bearer ").strip()
        try:
            token = jwt.decode(value, self.keys(), algorithms=["RS256"])
            jwt.JWTClaimsRegistry(
                now=int(time.time()),
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                token_use={"essential": True, "value": "id"},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise InvalidToken(f"the token is not valid: {exc.__class__.__name__}") from exc
        return {k: _claim_string(k, v) for k, v in token.claims.items()}


def _claim_string(name: str, value: Any) -> str:
    if name in ("exp", "iat", "auth_time") and isinstance(value, int):
        return datetime.fromtimestamp(value, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def is_binary(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return any(fnmatch.fnmatch(media, pattern) for pattern in catalogue.BINARY_MEDIA_TYPES)


def to_event(
    route: catalogue.Route,
    params: Mapping[str, str],
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    claims: dict[str, str] | None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The REST proxy event API Gateway would send the function for this request."""
    parts = urlsplit(target)
    multi_query = parse_qs(parts.query, keep_blank_values=True)
    text: str | None = None
    encoded = False
    if body:
        if is_binary(headers.get("Content-Type")):
            text, encoded = base64.b64encode(body).decode(), True
        else:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text, encoded = base64.b64encode(body).decode(), True
    now = datetime.now(UTC)
    return {
        "resource": route.path,
        "path": parts.path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(params) or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method,
            "path": f"/local{parts.path}",
            "stage": "local",
            "accountId": "123456789012",
            "apiId": "local",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "authorizer": {"claims": claims} if claims is not None else None,
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def from_result(result: Any) -> Reply:
    """Turn a proxy integration result into an HTTP reply (a malformed one is API Gateway's 502)."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return json_reply(HTTPStatus.BAD_GATEWAY, "Internal server error", "bad_integration_response")
    headers: dict[str, str] = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    for k, values in (result.get("multiValueHeaders") or {}).items():
        headers[k] = ", ".join(str(v) for v in values)
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return Reply(result["statusCode"], headers, body)


class Gateway:
    def __init__(self, verifier: TokenVerifier, invoke: Invoke) -> None:
        self.verifier = verifier
        self.invoke = invoke

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, source_ip: str
    ) -> Reply:
        path = urlsplit(target).path or "/"
        matched = catalogue.match_path(method, path)
        if matched is None:
            if catalogue.methods_for(path):
                return json_reply(
                    HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed on {path}", "not_allowed"
                )
            return json_reply(HTTPStatus.NOT_FOUND, f"no route {method} {path}", "not_found")
        route, params = matched
        claims = None
        if not route.public:
            try:
                claims = self.verifier.claims(headers.get("Authorization"))
            except InvalidToken as exc:
                return json_reply(HTTPStatus.UNAUTHORIZED, str(exc), "unauthorized")
        event = to_event(route, params, method, target, headers, body, claims, source_ip)
        try:
            result = self.invoke(route.function, event)
        except Exception:  # noqa: BLE001 (a function that crashed: API Gateway's 502; the trace is logged)
            _log.exception("function %s raised on %s %s", route.function, method, path)
            return Reply(
                HTTPStatus.BAD_GATEWAY,
                {"Content-Type": "application/json"},
                json.dumps({"message": "Internal server error"}).encode(),
            )
        return from_result(result)


def serve(gateway: Gateway, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server that sends every request through ``gateway`` (call ``serve_forever`` on it)."""

    class RequestHandler(BaseHTTPRequestHandler):
        server_version = "StewardLocal/1"
        protocol_version = "HTTP/1.1"

        def _dispatch(self) -> None:
            length = self.headers.get("Content-Length")
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                reply = json_reply(
                    HTTPStatus.LENGTH_REQUIRED,
                    "send a Content-Length; chunked bodies are refused",
                    "length_required",
                )
            elif length is not None and (
                not length.isdigit() or int(length) > catalogue.API_GATEWAY_MAX_BODY_BYTES
            ):
                reply = json_reply(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    "the body is over API Gateway's 10 MB limit",
                    "payload_too_large",
                )
                self.close_connection = True
            else:
                body = self.rfile.read(int(length)) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                reply = gateway.handle(self.command, self.path, headers, body, self.client_address[0])
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                if k.lower() not in ("content-length", "connection"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

        def log_message(self, format: str, *args: Any) -> None:
            return

    return _Server((host, port), RequestHandler)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Many clients may connect at once (the load test's 20 senders); socketserver's backlog of 5 refuses some.
    request_queue_size = 128
