"""The one small HTTP core every platform client uses: standard library only (``http.client``).

- One request per connection, no redirects followed (an ``Authorization`` header must never be replayed to another
  host), no proxy discovery, a bounded response size.
- The access token travels only in the ``Authorization: Bearer`` header, never in a URL (URLs get logged), and is
  redacted from anything the platform sends back before it reaches an exception or a log line. Token endpoints
  send other secrets (a refresh token, the client secret, and for Meta's exchange the token itself in the query,
  which is Meta's protocol): a call names them in ``secrets`` and they are redacted from every error the same way.
  No URL is ever logged or put into an error.
- Retries, up to ``attempts`` tries in all: on 429 (waiting what ``Retry-After`` says, or X's
  ``x-rate-limit-reset``), on 5xx, on errors the platform marks transient, and on timeouts and connection errors,
  with full-jitter exponential backoff otherwise. Any other 4xx is final. Every call the clients make is idempotent
  (set hidden, set a moderation status, delete, read), so repeating one whose answer was lost is safe.
- A platform that asks for a longer wait than ``max_retry_after`` is not waited for: the call fails at once with a
  :class:`PlatformError` carrying ``retry_after`` so the caller can come back later.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote, urlencode, urlsplit

from shared.errors import BadRequest
from shared.observability import logger
from shared.settings import Settings, get_settings
from shared.store.platforms.errors import PlatformError, PlatformRefused

PlatformName = Literal["facebook", "instagram", "x", "youtube"]
PLATFORM_NAMES: tuple[PlatformName, ...] = ("facebook", "instagram", "x", "youtube")

MAX_RESPONSE_BYTES = 8 * 1024 * 1024
USER_AGENT = "steward-platform-client/1"
# A token is sent as a header value: printable ASCII without spaces, so it can never split or inject a header.
_TOKEN = re.compile(r"^[\x21-\x7e]{1,4096}$")
# Item ids of every platform: Graph ``123_456``, X digits, YouTube ``Ugx...`` and replies ``Ugx....abc``.
_ITEM_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,256}$")
REDACTED = "[redacted]"


@dataclass(frozen=True)
class ClientConfig:
    """Where a client sends its calls and how hard it tries."""

    base_url: str
    timeout: float = 10.0
    attempts: int = 3
    backoff_base: float = 0.25
    backoff_cap: float = 4.0
    max_retry_after: float = 30.0

    def longest_call_seconds(self) -> float:
        """How long one call can take when every try times out: the tries and the longest backoffs between them
        (a platform asking to wait longer with ``Retry-After`` can add up to ``max_retry_after`` per retry)."""
        return self.attempts * self.timeout + (self.attempts - 1) * self.backoff_cap

    @classmethod
    def for_platform(cls, platform: PlatformName, settings: Settings | None = None) -> ClientConfig:
        """Base URL, timeout and attempts from the settings (``STEWARD_META_GRAPH_URL`` and friends)."""
        s = settings or get_settings()
        base = {
            "facebook": s.meta_graph_url,
            "instagram": s.meta_graph_url,
            "x": s.x_api_url,
            "youtube": s.youtube_api_url,
        }[platform]
        return cls(base_url=base, timeout=float(s.platform_timeout_seconds), attempts=s.platform_attempts)

    @classmethod
    def for_token_endpoint(cls, platform: PlatformName, settings: Settings | None = None) -> ClientConfig:
        """Where ``platform``'s OAuth token endpoint is: the Graph API and X's API serve their own, YouTube's
        is Google's (``STEWARD_GOOGLE_OAUTH_URL``)."""
        s = settings or get_settings()
        config = cls.for_platform(platform, s)
        if platform == "youtube":
            return cls(base_url=s.google_oauth_url, timeout=config.timeout, attempts=config.attempts)
        return config


@dataclass(frozen=True)
class ErrorInfo:
    """A platform's error answer, as read by its client."""

    message: str
    reason: str | None = None
    transient: bool = False
    not_found: bool = False


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: Any  # parsed JSON, or None for an empty body
    raw: bytes = b""  # the body exactly as received (kept as evidence by callers that store it; not scrubbed)


ErrorReader = Callable[[int, Any], ErrorInfo]


class _Retry(Exception):
    """One attempt failed in a way worth another try."""

    def __init__(self, status: int | None, info: ErrorInfo, wait: float | None) -> None:
        super().__init__(info.message)
        self.status = status
        self.info = info
        self.wait = wait


def check_token(token: str) -> str:
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise BadRequest("the platform access token is empty or malformed")
    return token


def item_segment(platform: str, item_id: str) -> str:
    """``item_id`` as one URL path segment, refused if it is not an id any platform issues."""
    if not isinstance(item_id, str) or not _ITEM_ID.match(item_id):
        raise BadRequest(f"{item_id!r} is not a valid {platform} item id")
    return quote(item_id, safe="")


def redact(text: str, token: str) -> str:
    return text.replace(token, REDACTED) if token else text


def redactions(values: Iterable[str | None]) -> tuple[str, ...]:
    """The non-empty ``values`` and their URL-encoded forms (a platform may echo a query string back), longest
    first so a secret that contains another is redacted whole."""
    found: set[str] = set()
    for value in values:
        if value:
            found.update({value, quote(value, safe=""), quote(value, safe="").replace("%20", "+")})
    return tuple(sorted(found, key=len, reverse=True))


def redact_all(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = redact(text, secret)
    return text


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` (parsed JSON) with every occurrence of each secret redacted."""
    if isinstance(value, str):
        return redact_all(value, secrets)
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, dict):
        return {redact_all(str(k), secrets): _scrub(v, secrets) for k, v in value.items()}
    return value


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait a 429 (or 503) asks for: ``Retry-After`` in seconds or as an HTTP date, else X's
    ``x-rate-limit-reset`` (epoch seconds). ``None`` when the answer names none."""
    current = time.time() if now is None else now
    raw = headers.get("retry-after", "").strip()
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, when.timestamp() - current)
    reset = headers.get("x-rate-limit-reset", "").strip()
    if reset.isdigit():
        return max(0.0, float(reset) - current)
    return None


class HttpCore:
    """Sends one platform's calls: encoding, auth header, retries, error mapping."""

    def __init__(
        self,
        platform: PlatformName,
        config: ClientConfig,
        read_error: ErrorReader,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(config.base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadRequest(f"the {platform} base URL must be an http(s) URL")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise BadRequest(f"the {platform} base URL must not carry a query, fragment or credentials")
        if config.attempts < 1 or config.timeout <= 0:
            raise BadRequest("platform attempts must be at least 1 and the timeout positive")
        self.platform = platform
        self.config = config
        self._read_error = read_error
        self._sleep = sleep
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._random = secrets.SystemRandom()

    # ------------------------------------------------------------------------------------------ public
    def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        token: str | None,
        query: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        json_body: Any = None,
        basic_auth: tuple[str, str] | None = None,
        secrets: Iterable[str | None] = (),
        read_error: ErrorReader | None = None,
    ) -> Response:
        """Send ``method path`` until it succeeds, is refused, or the attempts run out.

        ``token`` goes in ``Authorization: Bearer``; a token endpoint passes ``None`` and authenticates the client
        with ``basic_auth`` (id, secret) or in the form instead. Every one of ``secrets`` (and the token) is
        redacted from error answers; a successful answer is scrubbed of the bearer token only, since a token
        endpoint's answer legitimately holds the tokens it issues. ``read_error`` replaces the client's error
        reader for this call (a token endpoint answers in its own shape)."""
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if token is not None:
            headers["Authorization"] = f"Bearer {check_token(token)}"
        elif basic_auth is not None:
            pair = f"{basic_auth[0]}:{basic_auth[1]}".encode()
            headers["Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
        hidden = redactions([token, *secrets, basic_auth[1] if basic_auth else None])
        target = self._prefix + path + (f"?{urlencode(query)}" if query else "")
        body: bytes | None = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        elif method in ("POST", "PUT"):
            body = b""

        attempts = self.config.attempts
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(
                    operation, method, target, headers, body, token, hidden, attempt, read_error
                )
            except _Retry as retry:
                wait = retry.wait
                if wait is not None and wait > self.config.max_retry_after:
                    raise self._unavailable(operation, retry, attempt, retry_after=wait) from None
                if attempt == attempts:
                    raise self._unavailable(operation, retry, attempt) from None
                if wait is None:
                    wait = self._random.uniform(
                        0, min(self.config.backoff_cap, self.config.backoff_base * 2 ** (attempt - 1))
                    )
                logger.warning(
                    "platform call will be retried",
                    extra={
                        "platform": self.platform,
                        "operation": operation,
                        "attempt": attempt,
                        "http_status": retry.status,
                        "reason": retry.info.reason,
                        "wait_seconds": round(wait, 3),
                    },
                )
                self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------------------------------ attempts
    def _connection(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.config.timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.config.timeout)

    def _attempt(
        self,
        operation: str,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | None,
        token: str | None,
        hidden: tuple[str, ...],
        attempt: int,
        read_error: ErrorReader | None = None,
    ) -> Response:
        connection = self._connection()
        try:
            connection.request(method, target, body=body, headers=dict(headers))
            answer = connection.getresponse()
            raw = answer.read(MAX_RESPONSE_BYTES + 1)
            status = answer.status
            answer_headers = {k.lower(): v for k, v in answer.getheaders()}
        except (OSError, http.client.HTTPException) as exc:
            kind = (
                "timed out" if isinstance(exc, TimeoutError) else f"connection failed ({type(exc).__name__})"
            )
            raise _Retry(
                None, ErrorInfo(message=f"the request {kind}", reason=type(exc).__name__), None
            ) from None
        finally:
            connection.close()

        if len(raw) > MAX_RESPONSE_BYTES:
            raise _Retry(status, ErrorInfo(message="the response was larger than the client accepts"), None)
        if 200 <= status < 300:
            return Response(status, answer_headers, self._parse(raw, redactions([token])), raw)
        info = (read_error or self._read_error)(status, self._parse(raw, hidden))
        info = ErrorInfo(
            redact_all(info.message, hidden),
            redact_all(info.reason, hidden) if info.reason else info.reason,
            info.transient,
            info.not_found,
        )
        if status == 429 or status >= 500 or info.transient:
            wait = retry_after_seconds(answer_headers) if status in (429, 503) or info.transient else None
            raise _Retry(status, info, wait)
        raise PlatformRefused(
            f"{self.platform} {operation} was refused: HTTP {status}: {info.message}",
            platform=self.platform,
            operation=operation,
            http_status=status,
            platform_message=info.message,
            reason=info.reason,
            attempts=attempt,
            not_found=info.not_found or status == 404,
        )

    @staticmethod
    def _parse(raw: bytes, hidden: tuple[str, ...]) -> Any:
        if not raw.strip():
            return None
        try:
            return _scrub(json.loads(raw.decode("utf-8")), hidden)
        except (UnicodeDecodeError, ValueError):
            return {"_text": redact_all(raw[:2000].decode("utf-8", "replace"), hidden)}

    def _unavailable(
        self, operation: str, retry: _Retry, attempts: int, retry_after: float | None = None
    ) -> PlatformError:
        what = f"HTTP {retry.status}" if retry.status is not None else "no answer"
        if retry_after is not None:
            summary = f"asked to wait {retry_after:.0f} s, longer than this call may wait"
        else:
            summary = f"failed after {attempts} attempt{'s' if attempts != 1 else ''}"
        return PlatformError(
            f"{self.platform} {operation} {summary}: {what}: {retry.info.message}",
            platform=self.platform,
            operation=operation,
            http_status=retry.status,
            platform_message=retry.info.message,
            reason=retry.info.reason,
            attempts=attempts,
            retry_after=retry_after,
        )


def text_of(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
