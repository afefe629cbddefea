"""An honest fake of the platform HTTP APIs Steward calls, on loopback, for ``steward local`` and the tests.

One ``ThreadingHTTPServer`` on 127.0.0.1 serves the three APIs under path prefixes, so the settings point at it:

- ``STEWARD_META_GRAPH_URL   = {url}/graph/v21.0``  Graph API: ``POST /{comment-id}`` (Facebook ``is_hidden``,
  Instagram ``hide``), ``DELETE /{comment-id}``; answers ``{"success": true}``. ``GET /{post-or-media-id}/comments``
  (``fields``, ``limit``, ``after``; Facebook ``filter=stream`` lists replies too, flat, each with ``parent``;
  Instagram lists top-level comments with ``replies`` when asked) → ``{"data": [...], "paging": {...}}``, the
  hidden comments included (with ``is_hidden`` / ``hidden``), removed ones left out, oldest first.
- ``STEWARD_X_API_URL        = {url}/x``             ``PUT /2/tweets/{id}/hidden`` ``{"hidden": bool}`` →
  ``{"data": {"hidden": bool}}``.
- ``STEWARD_YOUTUBE_API_URL  = {url}/youtube/v3``    ``POST /comments/setModerationStatus`` → 204;
  ``GET /commentThreads`` (``allThreadsRelatedToChannelId`` or ``videoId``, ``order=time``, ``maxResults``,
  ``pageToken``, ``moderationStatus`` defaulting to ``published``) → ``youtube#commentThreadListResponse``.

Tokens, on the same server (the real protocols; ``FAKE_CLIENT_ID`` / ``FAKE_CLIENT_SECRET`` is the OAuth client it
knows, :meth:`FakePlatforms.add_client` adds others; a wrong client gets the platform's own error):

- Graph ``GET /oauth/access_token?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token`` → a new
  long-lived token (60 days), no refresh token; ``GET /me?fields=id,name`` → the Page or account the token acts as.
- X ``POST /2/oauth2/token`` (Basic client auth, form ``grant_type=refresh_token``) → a new access token (2 hours)
  and a new refresh token; the old refresh token stops working (X rotates them). ``GET /2/users/me``.
- ``STEWARD_GOOGLE_OAUTH_URL = {url}/google-oauth``: ``POST /token`` (form ``grant_type=refresh_token`` with the
  client id and secret) → a new access token (1 hour), the refresh token unchanged. YouTube
  ``GET /channels?part=id&mine=true`` → the channel.

:meth:`FakePlatforms.issue_tokens` gives a test a first access/refresh pair bound to an account;
:meth:`FakePlatforms.revoke` makes any token fail. Every endpoint accepts the tokens the fake issued (unexpired,
unrevoked, on their own platform) and, as before, any other token unless the fake was started with ``tokens=``;
such a token acts as the account its local name says (``local-token-<platform>-<account>``) or the platform's
first account. Token calls are recorded as ``<platform>.refresh_token`` and ``<platform>.check_token`` (``graph.``
when the Graph token is not one the fake issued); neither a token nor a client secret is recorded.

Errors come in each platform's own shape: Graph ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}`` (an unknown or deleted id is code 100 subcode 33), X problem documents with ``errors``, Google
``{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}``. A call without a token
is refused the way each platform refuses it.

State: accounts and comments per platform (``seed_comment``); every call recorded (method, path, parameters,
operation, whether and where a token was presented — never the token); faults injected per operation (429 with
Retry-After, 5xx, any platform error, or a hang past the client's timeout). An operation pattern without a ``.``
also matches the name after the platform: ``fail_next("refresh_token")`` fails the next refresh on any platform.

**Echoes.** After a hide, unhide or delete that changed a Facebook comment, the fake sends, on a thread after its
answer, the ``feed`` change the real Page webhook sends (``verb`` hide/unhide/remove, ``from`` = the Page, which
acted), to ``{callback_url}/webhooks/meta``, as Meta does: compact escaped-unicode JSON (``/`` as ``\\/``) signed
with the app secret in ``X-Hub-Signature-256`` (and the legacy SHA-1 ``X-Hub-Signature``). A delivery that fails is
recorded, never raised. Instagram's ``comments`` webhook reports only new comments, X's Account Activity API has no
event for hidden replies, and YouTube has no comment push at all: for those the fake sends nothing, as the real
platforms do (the adapters would otherwise read an Instagram "echo" as a new comment).

Human-readable endpoints: ``GET /__health``, ``GET /__calls``, ``GET /__comments``, ``GET /__echoes``; and for
other processes (e2e tests against a running ``steward local``): ``POST /__comments`` (seed one or a list, same
fields as :meth:`FakePlatforms.seed_comment`) and ``POST /__faults`` (same fields as :meth:`FakePlatforms.fail_next`
plus ``hang_seconds``).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import http.client
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from shared.domain.webhooks import expected_signature

Platform = Literal["facebook", "instagram", "x", "youtube"]
PLATFORMS: tuple[Platform, ...] = ("facebook", "instagram", "x", "youtube")
State = Literal["visible", "hidden", "removed"]
STATES: tuple[State, ...] = ("visible", "hidden", "removed")
# YouTube's moderation statuses as the fake's states.
YOUTUBE_STATES: dict[str, State] = {"published": "visible", "heldForReview": "hidden", "rejected": "removed"}
YOUTUBE_STATUS_OF: dict[State, str] = {v: k for k, v in YOUTUBE_STATES.items()}

GRAPH_PATH = re.compile(r"^/graph(?:/v\d+\.\d+)?/(?P<id>[^/]+)/?$")
GRAPH_COMMENTS_PATH = re.compile(r"^/graph(?:/v\d+\.\d+)?/(?P<id>[^/]+)/comments/?$")
GRAPH_PAGE_LIMIT = 100
X_HIDDEN_PATH = re.compile(r"^/x/2/tweets/(?P<id>[^/]+)/hidden/?$")
YT_PREFIX = "/youtube/v3"
GOOGLE_OAUTH_PREFIX = "/google-oauth"
GRAPH_TOKEN_PATH = re.compile(r"^/graph(?:/v\d+\.\d+)?/oauth/access_token/?$")
GRAPH_ME_PATH = re.compile(r"^/graph(?:/v\d+\.\d+)?/me/?$")
X_TOKEN_PATH = "/x/2/oauth2/token"  # noqa: S105 (a path, not a secret)
X_ME_PATH = "/x/2/users/me"
# The OAuth client the fake knows unless told of others (development values, not secrets).
FAKE_CLIENT_ID = "steward-fake-client"
FAKE_CLIENT_SECRET = "steward-fake-client-secret"  # noqa: S105 (the fake's development value)
# Lifetimes of the tokens the fake issues, in seconds: Meta's long-lived token, X's and Google's access tokens; the
# first Meta token (:meth:`FakePlatforms.issue_tokens`) is a short-lived one, as Facebook Login gives.
TOKEN_SECONDS: dict[str, int] = {"meta": 60 * 86400, "x": 2 * 3600, "youtube": 3600}
SHORT_META_TOKEN_SECONDS = 2 * 3600
# Request parameters that carry a token or a secret: never recorded.
SECRET_PARAMS = frozenset({"access_token", "fb_exchange_token", "client_secret", "refresh_token"})
X_SCOPE = "tweet.read users.read tweet.moderate.write offline.access"
GOOGLE_SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
LOCAL_TOKEN = re.compile(r"^local-token-(?P<platform>facebook|instagram|x|youtube)-(?P<account>.+)$")
MAX_BODY = 1024 * 1024
ECHO_TIMEOUT_SECONDS = 10.0


def _now() -> int:
    return int(time.time())


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _family(platform: str) -> str:
    """Which token issuer serves ``platform``: Facebook and Instagram (and unnamed Graph calls) share Meta's."""
    return "meta" if platform in ("facebook", "instagram", "graph") else platform


def _matches(operation: str, pattern: str) -> bool:
    """``pattern`` (fnmatch) matches the whole name, or, without a ``.``, the name after the platform."""
    if fnmatch.fnmatchcase(operation, pattern):
        return True
    return "." not in pattern and fnmatch.fnmatchcase(operation.partition(".")[2], pattern)


def meta_body(payload: Any) -> bytes:
    """JSON the way Meta puts it on the wire: compact, non-ASCII as ``\\uXXXX``, ``/`` as ``\\/``."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode("ascii")


# --------------------------------------------------------------------------------------------- state
@dataclass
class FakeComment:
    """One comment on one platform.

    ``account_id`` is the Page, Instagram account, X user or YouTube channel it was made on; ``post_id`` the post,
    media, conversation (root tweet) or video; ``parent_id`` the post (Facebook top-level), the comment replied
    to, the tweet replied to (X), or ``""`` (Instagram and YouTube top-level comments).
    """

    platform: Platform
    comment_id: str
    account_id: str
    post_id: str
    parent_id: str
    author_id: str
    author_name: str
    text: str
    created_time: int
    state: State = "visible"
    updated_time: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RecordedCall:
    """One request the fake received. ``token_location`` is ``header``, ``query``, ``form`` or ``None``; the
    token itself is never kept, and ``access_token`` is dropped from the recorded parameters."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    json_body: Any
    operation: str
    token_presented: bool
    token_location: str | None
    status: int | None
    at: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EchoDelivery:
    """One echo webhook the fake sent (or tried to)."""

    platform: Platform
    url: str
    body: bytes
    headers: dict[str, str]
    status: int | None
    error: str | None
    at: float

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "body": self.body.decode("utf-8")}

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Fault:
    pattern: str
    remaining: int
    status: int = 500
    retry_after: float | None = None
    reason: str | None = None
    message: str | None = None
    hang_seconds: float = 0.0


@dataclass
class FakeToken:
    """A token the fake issued: bound to one account; ``expires_at`` is epoch seconds (``None``: never)."""

    platform: Platform
    account_id: str
    kind: Literal["access", "refresh"]
    expires_at: float | None
    revoked: bool = field(default=False)

    def live(self) -> bool:
        return not self.revoked and (self.expires_at is None or time.time() < self.expires_at)


class PlatformAnswer(Exception):
    """Raised inside a handler to answer with a platform-shaped error."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


# --------------------------------------------------------------------------------------------- error shapes
def graph_error(
    status: int,
    message: str,
    code: int,
    *,
    kind: str = "OAuthException",
    subcode: int | None = None,
    is_transient: bool | None = None,
) -> PlatformAnswer:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if is_transient is not None:
        error["is_transient"] = is_transient
    elif code in (1, 2, 4, 17, 32, 613):
        error["is_transient"] = code in (1, 2)
    error["fbtrace_id"] = base64.urlsafe_b64encode(hashlib.sha256(message.encode()).digest()[:9]).decode()
    return PlatformAnswer(status, {"error": error})


def x_error(status: int, title: str, detail: str, kind: str, item_id: str | None = None) -> PlatformAnswer:
    body: dict[str, Any] = {"title": title, "detail": detail, "type": kind, "status": status}
    if item_id is not None:
        body["errors"] = [
            {
                "value": item_id,
                "detail": detail,
                "title": title,
                "resource_type": "tweet",
                "parameter": "id",
                "resource_id": item_id,
                "type": kind,
                "message": detail,
            }
        ]
    return PlatformAnswer(status, body)


_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def google_error(status: int, reason: str, message: str, domain: str = "youtube.api") -> PlatformAnswer:
    return PlatformAnswer(
        status,
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": domain, "reason": reason}],
                "status": _GOOGLE_STATUS.get(status, "UNKNOWN"),
            }
        },
    )


def oauth_error(status: int, error: str, description: str) -> PlatformAnswer:
    """An OAuth 2.0 token endpoint's error (RFC 6749 §5.2), as X and Google send them."""
    return PlatformAnswer(status, {"error": error, "error_description": description})


def _fault_answer(operation: str, fault: Fault) -> PlatformAnswer:
    """The error a platform sends for ``fault.status`` (and ``reason``), in its own shape (the token endpoints of X
    and Google answer in the OAuth shape, except X's rate limiter, which is the API's)."""
    platform, _, name = operation.partition(".")
    if platform in ("facebook", "instagram", "graph"):
        answer = _graph_fault(fault)
    elif name == "refresh_token" and not (platform == "x" and fault.status == 429):
        answer = _oauth_fault(fault)
    elif platform == "x":
        answer = _x_fault(fault)
    else:
        answer = _google_fault(fault)
    if fault.retry_after is not None:
        answer.headers["Retry-After"] = _seconds(fault.retry_after)
    return answer


def _graph_fault(fault: Fault) -> PlatformAnswer:
    if fault.status == 429:
        return graph_error(429, fault.message or "(#4) Application request limit reached", 4)
    if fault.status >= 500:
        return graph_error(fault.status, fault.message or "An unexpected error has occurred.", 2)
    code = int(fault.reason) if fault.reason and fault.reason.isdigit() else 100
    return graph_error(fault.status, fault.message or f"(#{code}) Injected error", code)


def _oauth_fault(fault: Fault) -> PlatformAnswer:
    if fault.status == 429:
        error = fault.reason or "rate_limit_exceeded"
    elif fault.status == 503:
        error = fault.reason or "temporarily_unavailable"
    elif fault.status >= 500:
        error = fault.reason or "server_error"
    else:
        error = fault.reason or "invalid_request"
    return oauth_error(fault.status, error, fault.message or "Injected error")


def _x_fault(fault: Fault) -> PlatformAnswer:
    if fault.status == 429:
        answer = x_error(429, "Too Many Requests", fault.message or "Too Many Requests", "about:blank")
        answer.headers["x-rate-limit-remaining"] = "0"
        return answer
    if fault.status >= 500:
        return x_error(
            fault.status, "Internal Server Error", fault.message or "Internal error", "about:blank"
        )
    return x_error(fault.status, "Injected", fault.message or "Injected error", fault.reason or "about:blank")


def _google_fault(fault: Fault) -> PlatformAnswer:
    if fault.status == 429:
        message = fault.message or "The request rate is too high."
        return google_error(429, fault.reason or "rateLimitExceeded", message, "usageLimits")
    if fault.status >= 500:
        return google_error(
            fault.status, fault.reason or "backendError", fault.message or "Backend Error", "global"
        )
    if fault.reason == "quotaExceeded":
        message = fault.message or "The request cannot be completed because you have exceeded your quota."
        return google_error(403, "quotaExceeded", message, "youtube.quota")
    return google_error(fault.status, fault.reason or "badRequest", fault.message or "Injected error")


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --------------------------------------------------------------------------------------------- the fake
class FakePlatforms:
    """The fake's state and Python API; :meth:`start` serves it on 127.0.0.1 (port 0 = any free port)."""

    def __init__(
        self,
        *,
        callback_url: str | None = None,
        meta_app_secret: str = "",
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Iterable[str] | None = None,
    ) -> None:
        self.callback_url = callback_url.rstrip("/") if callback_url else None
        self.meta_app_secret = meta_app_secret
        self.host = host
        self.port = port
        # When given, only these tokens are accepted (others get each platform's invalid-token error).
        self._tokens = frozenset(tokens) if tokens is not None else None
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._comments: dict[tuple[Platform, str], FakeComment] = {}
        self._accounts: dict[tuple[Platform, str], str] = {}
        self._calls: list[RecordedCall] = []
        self._echoes: list[EchoDelivery] = []
        self._faults: list[Fault] = []
        self._clients: dict[str, str] = {FAKE_CLIENT_ID: FAKE_CLIENT_SECRET}
        self._issued: dict[str, FakeToken] = {}
        self._revoked: set[str] = set()
        self._ids = itertools.count(1)
        self._echo_threads: list[threading.Thread] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def local(cls, callback_url: str | None = None, port: int = 0) -> FakePlatforms:
        """The fake as ``steward local`` runs it: signing echoes with the local Meta app secret."""
        from infrastructure.local.provision import local_secret_values

        return cls(
            callback_url=callback_url,
            meta_app_secret=local_secret_values("meta-app")["app_secret"],
            port=port,
        )

    # ------------------------------------------------------------------------------------------ lifecycle
    def start(self) -> FakePlatforms:
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fake-platforms", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in list(self._echo_threads):
            thread.join(timeout=ECHO_TIMEOUT_SECONDS)

    def __enter__(self) -> FakePlatforms:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake platform server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def graph_url(self) -> str:
        return f"{self.url}/graph/v21.0"

    @property
    def x_url(self) -> str:
        return f"{self.url}/x"

    @property
    def youtube_url(self) -> str:
        return f"{self.url}{YT_PREFIX}"

    @property
    def google_oauth_url(self) -> str:
        return f"{self.url}{GOOGLE_OAUTH_PREFIX}"

    def settings_env(self) -> dict[str, str]:
        """The environment that points Steward's platform clients at this fake."""
        return {
            "STEWARD_META_GRAPH_URL": self.graph_url,
            "STEWARD_X_API_URL": self.x_url,
            "STEWARD_YOUTUBE_API_URL": self.youtube_url,
            "STEWARD_GOOGLE_OAUTH_URL": self.google_oauth_url,
        }

    def set_callback(self, callback_url: str | None) -> None:
        with self._lock:
            self.callback_url = callback_url.rstrip("/") if callback_url else None

    # ------------------------------------------------------------------------------------------ seeding
    def add_account(self, platform: Platform, account_id: str, name: str) -> None:
        """Name an account (the Page's name appears in Facebook echoes as ``from.name``)."""
        with self._lock:
            self._accounts[(platform, account_id)] = name

    def seed_comment(
        self,
        platform: Platform,
        *,
        account_id: str,
        post_id: str,
        text: str,
        comment_id: str | None = None,
        parent_id: str | None = None,
        author_id: str = "",
        author_name: str = "",
        created_time: int | None = None,
        state: State = "visible",
    ) -> FakeComment:
        """Put a comment on the platform (a new YouTube comment appears at the top of ``commentThreads.list``).

        Defaults: Facebook ``parent_id`` is the post (a top-level comment); X ``parent_id`` is the conversation's
        root tweet; Instagram and YouTube top-level comments have none. Ids are made up when not given, in each
        platform's style."""
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}")
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        with self._lock:
            serial = next(self._ids)
            if comment_id is None:
                comment_id = self._new_id(platform, post_id, parent_id, serial)
            if parent_id is None:
                parent_id = post_id if platform in ("facebook", "x") else ""
            created = _now() if created_time is None else created_time
            comment = FakeComment(
                platform=platform,
                comment_id=comment_id,
                account_id=account_id,
                post_id=post_id,
                parent_id=parent_id,
                author_id=author_id or f"{platform}-user-{serial}",
                author_name=author_name or f"Commenter {serial}",
                text=text,
                created_time=created,
                state=state,
                updated_time=created,
            )
            self._comments[(platform, comment_id)] = comment
            self._accounts.setdefault((platform, account_id), f"Steward account {account_id}")
            self._changed.notify_all()
            return comment

    @staticmethod
    def _new_id(platform: Platform, post_id: str, parent_id: str | None, serial: int) -> str:
        if platform == "facebook":
            return f"{post_id.rpartition('_')[2]}_{9_000_000_000 + serial}"
        if platform == "instagram":
            return str(17_800_000_000_000_000 + serial)
        if platform == "x":
            return str(1_800_000_000_000_000_000 + serial)
        digest = base64.urlsafe_b64encode(hashlib.sha256(f"{post_id}:{serial}".encode()).digest())
        suffix = digest.decode().rstrip("=")
        return f"{parent_id}.{suffix[:22]}" if parent_id else f"Ugz{suffix[:23]}"

    def change_comment(
        self, platform: Platform, comment_id: str, *, text: str | None = None, state: State | None = None
    ) -> FakeComment:
        """Change a comment on the platform without any webhook: an edit or deletion the webhooks missed (or one
        the platform never reports, like an author deleting their own Instagram comment)."""
        with self._lock:
            comment = self._comments[(platform, comment_id)]
            if text is not None:
                comment.text = text
            if state is not None:
                if state not in STATES:
                    raise ValueError(f"state must be one of {', '.join(STATES)}")
                comment.state = state
            comment.updated_time = _now()
            self._changed.notify_all()
            return comment

    def comment(self, platform: Platform, comment_id: str) -> FakeComment:
        with self._lock:
            return self._comments[(platform, comment_id)]

    def comments(self, platform: Platform | None = None) -> list[FakeComment]:
        with self._lock:
            return [c for c in self._comments.values() if platform is None or c.platform == platform]

    # ------------------------------------------------------------------------------------------ tokens
    def add_client(self, client_id: str, client_secret: str) -> None:
        """Know another OAuth client (``FAKE_CLIENT_ID`` / ``FAKE_CLIENT_SECRET`` is always known)."""
        with self._lock:
            self._clients[client_id] = client_secret

    def issue_tokens(self, platform: Platform, account_id: str) -> tuple[str, str | None]:
        """A first (access token, refresh token) for ``account_id``, as the platform's consent flow gives them:
        Meta a short-lived token and no refresh token, X and Google both."""
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}")
        with self._lock:
            self._accounts.setdefault((platform, account_id), f"Steward account {account_id}")
            seconds = SHORT_META_TOKEN_SECONDS if _family(platform) == "meta" else TOKEN_SECONDS[platform]
            access = self._new_token(platform, account_id, "access", seconds)
            refresh = (
                None
                if _family(platform) == "meta"
                else self._new_token(platform, account_id, "refresh", None)
            )
            return access, refresh

    def revoke(self, token: str) -> None:
        """Make ``token`` (access or refresh, issued here or not) fail from now on."""
        with self._lock:
            self._revoked.add(token)
            issued = self._issued.get(token)
            if issued is not None:
                issued.revoked = True

    def token_account(self, token: str) -> tuple[Platform, str] | None:
        """(platform, account id) a token the fake issued is bound to; ``None`` for any other token."""
        with self._lock:
            issued = self._issued.get(token)
            return (issued.platform, issued.account_id) if issued is not None else None

    def _new_token(
        self, platform: Platform, account_id: str, kind: Literal["access", "refresh"], seconds: int | None
    ) -> str:
        prefix = {"meta": "EAAG", "x": "", "youtube": "ya29." if kind == "access" else "1//"}[
            _family(platform)
        ]
        token = prefix + secrets.token_urlsafe(36)
        expires_at = time.time() + seconds if seconds is not None else None
        with self._lock:
            self._issued[token] = FakeToken(platform, account_id, kind, expires_at)
        return token

    def _client_check(
        self, client_id: str | None, client_secret: str | None
    ) -> Literal["ok", "unknown", "secret"]:
        with self._lock:
            known = self._clients.get(client_id or "")
        if known is None:
            return "unknown"
        return "ok" if client_secret is not None and hmac.compare_digest(known, client_secret) else "secret"

    def _live(self, token: str | None, kind: Literal["access", "refresh"], family: str) -> FakeToken | None:
        """The issued token ``token`` when it is of ``kind``, unexpired, unrevoked and ``family``'s."""
        with self._lock:
            issued = self._issued.get(token or "")
            if (
                issued is None
                or issued.kind != kind
                or not issued.live()
                or _family(issued.platform) != family
            ):
                return None
            return issued

    def _acting_as(self, token: str, family: str) -> tuple[Platform, str] | None:
        """(platform, account) an accepted access token acts as; ``None`` when the token is not accepted."""
        with self._lock:
            if token in self._revoked:
                return None
            issued = self._issued.get(token)
            if issued is not None:
                live = issued.kind == "access" and issued.live() and _family(issued.platform) == family
                return (issued.platform, issued.account_id) if live else None
            if self._tokens is not None and token not in self._tokens:
                return None
            named = LOCAL_TOKEN.match(token)
            if named and _family(named["platform"]) == family:
                return named["platform"], named["account"]  # type: ignore[return-value]
            for platform, account in self._accounts:
                if _family(platform) == family:
                    return platform, account
            fallback: Platform = "facebook" if family == "meta" else family  # type: ignore[assignment]
            return fallback, str(int(hashlib.sha256(token.encode()).hexdigest()[:12], 16))

    def _exchange_meta(self, token: str) -> dict[str, Any]:
        """Meta's long-lived token exchange; the token exchanged keeps working until it expires."""
        bound = self._acting_as(token, "meta")
        if bound is None:
            raise graph_error(
                400, "Error validating access token: The session is invalid or has expired.", 190, subcode=463
            )
        platform, account = bound
        seconds = TOKEN_SECONDS["meta"]
        return {
            "access_token": self._new_token(platform, account, "access", seconds),
            "token_type": "bearer",
            "expires_in": seconds,
        }

    def _refresh(self, family: Literal["x", "youtube"], refresh_token: str) -> dict[str, Any] | None:
        """A new access token for a live refresh token (X also rotates the refresh token); ``None`` if refused."""
        with self._lock:
            grant = self._live(refresh_token, "refresh", family)
            if grant is None:
                return None
            seconds = TOKEN_SECONDS[family]
            access = self._new_token(grant.platform, grant.account_id, "access", seconds)
            if family == "youtube":
                return {
                    "access_token": access,
                    "expires_in": seconds - 1,
                    "scope": GOOGLE_SCOPE,
                    "token_type": "Bearer",
                }
            grant.revoked = True  # X: the refresh token is used up
            rotated = self._new_token(grant.platform, grant.account_id, "refresh", None)
            return {
                "token_type": "bearer",
                "expires_in": seconds,
                "access_token": access,
                "scope": X_SCOPE,
                "refresh_token": rotated,
            }

    # ------------------------------------------------------------------------------------------ faults
    def fail_next(
        self,
        operation: str,
        times: int = 1,
        *,
        status: int = 500,
        retry_after: float | None = None,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``operation`` fail with ``status`` in the platform's error shape.

        ``operation`` is a pattern (``fnmatch``) over the names recorded with each call: ``facebook.hide``,
        ``facebook.unhide``, ``facebook.delete``, ``instagram.*``, ``x.hide``, ``x.unhide``,
        ``youtube.setModerationStatus``, ``youtube.commentThreads.list``, ``<platform>.refresh_token``,
        ``<platform>.check_token``; ``*`` is every call, and a pattern without a ``.`` also matches the name after
        the platform (``refresh_token`` is every platform's refresh). ``reason`` is the
        Graph error code (``"4"``), X problem type, or Google reason (``"quotaExceeded"`` gives YouTube's 403)."""
        with self._lock:
            self._faults.append(Fault(operation, times, status, retry_after, reason, message))

    def rate_limit_next(self, operation: str, times: int = 1, *, retry_after: float = 1) -> None:
        """429 with ``Retry-After`` (the platforms send whole seconds; fractions are allowed for fast tests)."""
        self.fail_next(operation, times, status=429, retry_after=retry_after)

    def hang_next(self, operation: str, times: int = 1, *, seconds: float = 5.0) -> None:
        """Hold the next ``times`` calls for ``seconds`` (past the client's timeout), then drop the connection
        without answering. The change is not applied."""
        with self._lock:
            self._faults.append(Fault(operation, times, hang_seconds=seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, operation: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and _matches(operation, fault.pattern):
                    fault.remaining -= 1
                    return fault
            self._faults = [f for f in self._faults if f.remaining > 0]
            return None

    # ------------------------------------------------------------------------------------------ records
    def calls(self, operation: str | None = None) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self._calls if operation is None or _matches(c.operation, operation)]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def echoes(self) -> list[EchoDelivery]:
        with self._lock:
            return list(self._echoes)

    def wait_for_echoes(self, count: int, timeout: float = 5.0) -> list[EchoDelivery]:
        """The echo deliveries once at least ``count`` were attempted; raises TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._echoes) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"{len(self._echoes)} echo deliveries after {timeout} s, expected {count}"
                    )
                self._changed.wait(remaining)
            return list(self._echoes)

    def _record(self, call: RecordedCall) -> None:
        with self._lock:
            self._calls.append(call)
            self._changed.notify_all()

    # ------------------------------------------------------------------------------------------ behaviour
    def _token_ok(self, token: str | None, platform: str | None = None) -> bool:
        """Whether ``token`` may call ``platform``'s API: a token the fake issued for that platform's issuer while
        it is live; any other token unless revoked or the fake was started with a list of tokens."""
        if not token:
            return self._tokens is None
        with self._lock:
            if platform is not None and token in self._issued:
                return self._acting_as(token, _family(platform)) is not None
            if token in self._revoked:
                return False
            issued = self._issued.get(token)
            if issued is not None:
                return issued.kind == "access" and issued.live()
        return self._tokens is None or token in self._tokens

    def _graph_comment(self, comment_id: str, verb: str) -> FakeComment:
        """A live Facebook or Instagram comment, or Graph's 'does not exist' error."""
        for platform in ("facebook", "instagram"):
            comment = self._comments.get((platform, comment_id))
            if comment is not None and comment.state != "removed":
                return comment
        raise graph_error(
            400,
            f"Unsupported {verb} request. Object with ID '{comment_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation. Please read the Graph API documentation at "
            "https://developers.facebook.com/docs/graph-api",
            100,
            kind="GraphMethodException",
            subcode=33,
        )

    def _set_state(self, comment: FakeComment, state: State) -> bool:
        """Change a comment's state; True when it changed."""
        with self._lock:
            if comment.state == state:
                return False
            comment.state = state
            comment.updated_time = _now()
            self._changed.notify_all()
            return True

    # ------------------------------------------------------------------------------------------ echoes
    def _facebook_echo(self, comment: FakeComment, verb: str) -> tuple[str, bytes, dict[str, str]]:
        now = _now()
        page_name = self._accounts.get(("facebook", comment.account_id), comment.account_id)
        value: dict[str, Any] = {
            "item": "comment",
            "verb": verb,
            "comment_id": comment.comment_id,
            "post_id": comment.post_id,
            "parent_id": comment.parent_id,
            "from": {"id": comment.account_id, "name": page_name},
        }
        if verb != "remove":  # as in the fixtures: a removal carries neither the message nor created_time
            value["created_time"] = comment.created_time
            value["message"] = comment.text
        payload = {
            "object": "page",
            "entry": [
                {"id": comment.account_id, "time": now, "changes": [{"field": "feed", "value": value}]}
            ],
        }
        body = meta_body(payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
            "X-Hub-Signature": "sha1="
            + hmac.new(self.meta_app_secret.encode(), body, hashlib.sha1).hexdigest(),
            "X-Hub-Signature-256": expected_signature("meta", self.meta_app_secret, body),
        }
        return "/webhooks/meta", body, headers

    def _send_echo_later(self, comment: FakeComment, verb: str) -> None:
        if comment.platform != "facebook":
            return  # Instagram, X and YouTube send no webhook for a hide, unhide or delete (module docstring)
        path, body, headers = self._facebook_echo(comment, verb)
        thread = threading.Thread(
            target=self._deliver, args=(comment.platform, path, body, headers), name="fake-echo", daemon=True
        )
        with self._lock:
            self._echo_threads = [t for t in self._echo_threads if t.is_alive()]
            self._echo_threads.append(thread)
        thread.start()

    def _deliver(self, platform: Platform, path: str, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            callback = self.callback_url
        url = f"{callback}{path}" if callback else path
        status: int | None = None
        error: str | None = None
        if not callback:
            error = "no callback URL is configured"
        else:
            parts = urlsplit(url)
            connection_type = (
                http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            )
            connection = connection_type(parts.hostname or "", parts.port, timeout=ECHO_TIMEOUT_SECONDS)
            try:
                connection.request("POST", parts.path or "/", body=body, headers=headers)
                answer = connection.getresponse()
                answer.read()
                status = answer.status
                if status >= 300:
                    error = f"the callback answered HTTP {status}"
            except (OSError, http.client.HTTPException) as exc:
                error = f"delivery failed: {type(exc).__name__}: {exc}"
            finally:
                connection.close()
        with self._lock:
            self._echoes.append(EchoDelivery(platform, url, body, headers, status, error, time.time()))
            self._changed.notify_all()

    # ------------------------------------------------------------------------------------------ Graph reads
    def _graph_platform(self, object_id: str) -> Platform:
        """Whose post or media ``object_id`` is, by the comments on it (Facebook when none)."""
        with self._lock:
            for c in self._comments.values():
                if c.platform in ("facebook", "instagram") and c.post_id == object_id:
                    return c.platform
        return "facebook"

    def _graph_comments(self, object_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        platform = self._graph_platform(object_id)
        fields = query.get("fields", "")
        try:
            limit = int(query.get("limit", "25"))
        except ValueError:
            limit = -1
        if not 1 <= limit <= GRAPH_PAGE_LIMIT:
            raise graph_error(400, f"(#100) limit must be between 1 and {GRAPH_PAGE_LIMIT}", 100)
        stream = platform == "facebook" and query.get("filter") == "stream"
        with self._lock:
            live = [
                c
                for c in self._comments.values()
                if c.platform == platform and c.post_id == object_id and c.state != "removed"
            ]
            tops = sorted(
                (c for c in live if stream or c.parent_id in ("", object_id)),
                key=lambda c: (c.created_time, c.comment_id),
            )
            start = 0
            if query.get("after"):
                after = _decode_token(query["after"])
                start = sum(1 for c in tops if (c.created_time, c.comment_id) <= after)
            page, rest = tops[start : start + limit], tops[start + limit :]
            data = []
            for c in page:
                item = _graph_comment_json(c, object_id)
                if platform == "instagram" and "replies" in fields:
                    replies = sorted(
                        (r for r in live if r.parent_id == c.comment_id),
                        key=lambda r: (r.created_time, r.comment_id),
                    )
                    if replies:
                        item["replies"] = {"data": [_graph_comment_json(r, object_id) for r in replies]}
                data.append(item)
        body: dict[str, Any] = {"data": data}
        if page:
            body["paging"] = {"cursors": {"before": _encode_token(page[0]), "after": _encode_token(page[-1])}}
            if rest:
                body["paging"]["next"] = f"/{object_id}/comments?after={_encode_token(page[-1])}"
        return body

    # ------------------------------------------------------------------------------------------ YouTube reads
    def _threads_page(self, query: Mapping[str, str]) -> dict[str, Any]:
        part = {p.strip() for p in query.get("part", "").split(",") if p.strip()}
        if not part:
            raise google_error(400, "required", "No filter selected. Expected one of: part", "global")
        if not part <= {"id", "snippet", "replies"}:
            raise google_error(400, "unknownPart", f"{query['part']}", "youtube.part")
        channel, video = query.get("allThreadsRelatedToChannelId"), query.get("videoId")
        if bool(channel) == bool(video):
            raise google_error(
                400,
                "incompatibleParameters",
                "Incompatible parameters specified in the request: exactly one filter is required",
                "youtube.parameter",
            )
        try:
            max_results = int(query.get("maxResults", "20"))
        except ValueError:
            max_results = -1
        if not 1 <= max_results <= 100:
            raise google_error(
                400, "invalidValue", "Invalid value for maxResults: must be 1 to 100", "youtube.parameter"
            )
        status = query.get("moderationStatus", "published")
        if status not in ("published", "heldForReview", "likelySpam"):
            raise google_error(400, "invalidValue", "Invalid value for moderationStatus", "youtube.parameter")
        wanted: State | None = YOUTUBE_STATES.get(status)  # likelySpam: the fake never marks spam
        with self._lock:
            tops = [
                c
                for c in self._comments.values()
                if c.platform == "youtube"
                and not c.parent_id
                and (c.account_id == channel if channel else c.post_id == video)
                and c.state == wanted
            ]
            tops.sort(key=lambda c: (c.created_time, c.comment_id), reverse=True)
            cursor = query.get("pageToken")
            if cursor:
                after = _decode_token(cursor)
                tops = [c for c in tops if (c.created_time, c.comment_id) < after]
            page, rest = tops[:max_results], tops[max_results:]
            items = [self._thread_json(c, part) for c in page]
        body: dict[str, Any] = {
            "kind": "youtube#commentThreadListResponse",
            "etag": _etag(items),
        }
        if rest and page:
            body["nextPageToken"] = _encode_token(page[-1])
        body["pageInfo"] = {"totalResults": len(page), "resultsPerPage": max_results}
        body["items"] = items
        return body

    def _thread_json(self, top: FakeComment, part: set[str]) -> dict[str, Any]:
        replies = sorted(
            (
                c
                for c in self._comments.values()
                if c.platform == "youtube" and c.parent_id == top.comment_id and c.state == "visible"
            ),
            key=lambda c: (c.created_time, c.comment_id),
        )
        thread: dict[str, Any] = {
            "kind": "youtube#commentThread",
            "etag": _etag(top.to_json()),
            "id": top.comment_id,
        }
        if "snippet" in part:
            thread["snippet"] = {
                "channelId": top.account_id,
                "videoId": top.post_id,
                "topLevelComment": _comment_json(top),
                "canReply": True,
                "totalReplyCount": len(replies),
                "isPublic": True,
            }
        if "replies" in part and replies:
            thread["replies"] = {"comments": [_comment_json(r) for r in replies]}
        return thread


def _comment_json(c: FakeComment) -> dict[str, Any]:
    snippet: dict[str, Any] = {
        "channelId": c.account_id,
        "videoId": c.post_id,
        "textDisplay": c.text,
        "textOriginal": c.text,
        "authorDisplayName": c.author_name,
        "authorProfileImageUrl": "https://yt3.ggpht.example/default.jpg",
        "authorChannelUrl": f"http://www.youtube.com/channel/{c.author_id}",
        "authorChannelId": {"value": c.author_id},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "moderationStatus": YOUTUBE_STATUS_OF[c.state],
        "publishedAt": _iso(c.created_time),
        "updatedAt": _iso(c.updated_time or c.created_time),
    }
    if c.parent_id:
        snippet["parentId"] = c.parent_id
    return {"kind": "youtube#comment", "etag": _etag(c.to_json()), "id": c.comment_id, "snippet": snippet}


def _graph_comment_json(c: FakeComment, object_id: str) -> dict[str, Any]:
    """A comment as the Graph API lists it: Facebook ``message``/``from{id,name}``/``is_hidden``/``parent``,
    Instagram ``text``/``from{id,username}``/``hidden``/``timestamp``."""
    at = datetime.fromtimestamp(c.created_time, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    if c.platform == "instagram":
        item: dict[str, Any] = {
            "id": c.comment_id,
            "text": c.text,
            "timestamp": at,
            "from": {"id": c.author_id, "username": c.author_name},
            "hidden": c.state == "hidden",
        }
        if c.parent_id:
            item["parent_id"] = c.parent_id
        return item
    item = {
        "id": c.comment_id,
        "message": c.text,
        "created_time": at,
        "from": {"id": c.author_id, "name": c.author_name},
        "is_hidden": c.state == "hidden",
    }
    if c.parent_id and c.parent_id != object_id:
        item["parent"] = {"id": c.parent_id}
    return item


def _etag(value: Any) -> str:
    return base64.urlsafe_b64encode(
        hashlib.sha256(json.dumps(value, sort_keys=True).encode()).digest()[:20]
    ).decode()


def _encode_token(last: FakeComment) -> str:
    raw = json.dumps([last.created_time, last.comment_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[int, str]:
    try:
        created, comment_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(created), str(comment_id)
    except (ValueError, TypeError) as exc:
        raise google_error(
            400, "invalidPageToken", "The request specifies an invalid page token.", "youtube.parameter"
        ) from exc


# --------------------------------------------------------------------------------------------- HTTP
class _Handler(BaseHTTPRequestHandler):
    server_version = "FakePlatforms/1"
    protocol_version = "HTTP/1.1"

    @property
    def fake(self) -> FakePlatforms:
        fake: FakePlatforms = self.server.fake  # type: ignore[attr-defined]
        return fake

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: every call is recorded and readable at /__calls

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # ------------------------------------------------------------------------------------------ plumbing
    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True  # the unread body must not be taken for the next request
            self._send(413, {"message": "request body too large"})
            return
        raw = self.rfile.read(length) if length else b""
        if path.startswith("/__"):
            self._internal(method, path, raw)
            return
        form: dict[str, str] = {}
        json_body: Any = None
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if raw and content_type == "application/x-www-form-urlencoded":
            form = {
                k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()
            }
        elif raw and content_type == "application/json":
            try:
                json_body = json.loads(raw)
            except ValueError:
                json_body = {"_unreadable": True}

        token, location = self._token(query, form)
        operation, action = self._route(method, path, query, form, json_body, token)
        refresh = operation.endswith(".refresh_token")
        if refresh:  # a token endpoint authenticates the client and the grant, not a bearer token
            token, location = self._grant(query, form)
        after: Any = None
        status: int | None
        try:
            fault = self.fake._take_fault(operation)
            if fault is not None and fault.hang_seconds:
                self._record(method, path, query, form, json_body, operation, token, location, None)
                self.fake._stopping.wait(fault.hang_seconds)
                self.close_connection = True
                return
            if fault is not None:
                raise _fault_answer(operation, fault)
            if action is None:
                raise PlatformAnswer(404, {"message": f"the fake serves no {method} {path}"})
            if not refresh and (not token or not self.fake._token_ok(token, operation.partition(".")[0])):
                raise self._auth_error(operation, bool(token))
            status, body, after = action()
            headers: dict[str, str] = {}
        except PlatformAnswer as answer:
            status, body, headers = answer.status, answer.body, answer.headers
        self._record(method, path, query, form, json_body, operation, token, location, status)
        self._send(status, body, headers)
        if after is not None:
            after()

    def _token(self, query: dict[str, str], form: dict[str, str]) -> tuple[str | None, str | None]:
        auth = self.headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("bearer", "oauth") and value.strip():
            return value.strip(), "header"
        if query.get("access_token"):
            return query["access_token"], "query"
        if form.get("access_token"):
            return form["access_token"], "form"
        return None, None

    @staticmethod
    def _grant(query: dict[str, str], form: dict[str, str]) -> tuple[str | None, str | None]:
        """The token a token endpoint was given: Meta's in the query, X's and Google's refresh token in the form."""
        if query.get("fb_exchange_token"):
            return query["fb_exchange_token"], "query"
        if form.get("refresh_token"):
            return form["refresh_token"], "form"
        return None, None

    def _basic_auth(self) -> tuple[str | None, str | None]:
        """(client id, client secret) from an ``Authorization: Basic`` header, or (None, None)."""
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            pair = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None, None
        client_id, colon, secret = pair.partition(":")
        return (client_id, secret) if colon else (None, None)

    def _record(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        form: dict[str, str],
        json_body: Any,
        operation: str,
        token: str | None,
        location: str | None,
        status: int | None,
    ) -> None:
        self.fake._record(
            RecordedCall(
                method=method,
                path=path,
                query={k: v for k, v in query.items() if k not in SECRET_PARAMS},
                form={k: v for k, v in form.items() if k not in SECRET_PARAMS},
                json_body=json_body,
                operation=operation,
                token_presented=token is not None,
                token_location=location,
                status=status,
                at=time.time(),
            )
        )

    def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        try:
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if data:
                self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _auth_error(self, operation: str, presented: bool) -> PlatformAnswer:
        platform = operation.partition(".")[0]
        if platform in ("facebook", "instagram", "graph"):
            if presented:
                return graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
            return graph_error(400, "An access token is required to request this resource.", 104)
        if platform == "x":
            return x_error(401, "Unauthorized", "Unauthorized", "about:blank")
        if presented:
            return google_error(401, "authError", "Invalid Credentials", "global")
        return google_error(
            401,
            "required",
            "Request is missing required authentication credential. Expected OAuth 2 access token.",
            "global",
        )

    # ------------------------------------------------------------------------------------------ routing
    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        form: dict[str, str],
        json_body: Any,
        token: str | None,
    ) -> tuple[str, Any]:
        """(operation name, a callable giving (status, body, after-answer callback)) for one request."""
        fake = self.fake
        params = {**query, **form}  # the Graph API reads parameters from either
        if token_route := self._token_route(method, path, params, form, token):
            return token_route
        if match := GRAPH_COMMENTS_PATH.match(path):
            object_id = match["id"]
            return f"{fake._graph_platform(object_id)}.comments", (
                lambda: (200, fake._graph_comments(object_id, query), None)
            ) if method == "GET" else None
        if match := GRAPH_PATH.match(path):
            comment_id = match["id"]
            with fake._lock:
                known = fake._comments.get(("facebook", comment_id)) or fake._comments.get(
                    ("instagram", comment_id)
                )
            if method == "POST":
                field_name = "is_hidden" if "is_hidden" in params else "hide" if "hide" in params else ""
                guessed = {"is_hidden": "facebook", "hide": "instagram"}.get(field_name, "graph")
                platform = known.platform if known else guessed
                verb = "unhide" if params.get(field_name, "").lower() in ("false", "0") else "hide"
                return f"{platform}.{verb}", lambda: self._graph_hide(comment_id, field_name, params)
            if method == "DELETE":
                platform = known.platform if known else "graph"
                return f"{platform}.delete", lambda: self._graph_delete(comment_id)
            return f"graph.{method.lower()}", None
        if match := X_HIDDEN_PATH.match(path):
            hidden = isinstance(json_body, dict) and json_body.get("hidden")
            if method == "PUT":
                return ("x.hide" if hidden is True else "x.unhide"), lambda: self._x_hide(
                    match["id"], json_body
                )
            return f"x.{method.lower()}", None
        if path.rstrip("/") == f"{YT_PREFIX}/comments/setModerationStatus":
            return "youtube.setModerationStatus", (
                lambda: self._yt_moderate(query)
            ) if method == "POST" else None
        if path.rstrip("/") == f"{YT_PREFIX}/commentThreads":
            return "youtube.commentThreads.list", (
                lambda: (200, fake._threads_page(query), None)
            ) if method == "GET" else None
        return "unknown", None

    def _token_route(
        self, method: str, path: str, params: dict[str, str], form: dict[str, str], token: str | None
    ) -> tuple[str, Any] | None:
        """The token endpoints and token checks (``None`` for any other request)."""
        fake = self.fake
        route = path.rstrip("/")
        if GRAPH_TOKEN_PATH.match(path):
            bound = fake.token_account(params.get("fb_exchange_token", ""))
            platform = bound[0] if bound and _family(bound[0]) == "meta" else "graph"
            action = (lambda: self._graph_exchange(params)) if method == "GET" else None
            return f"{platform}.refresh_token", action
        if GRAPH_ME_PATH.match(path):
            bound = fake.token_account(token or "")
            platform = bound[0] if bound and _family(bound[0]) == "meta" else "graph"
            return f"{platform}.check_token", (
                lambda: self._graph_me(token or "")
            ) if method == "GET" else None
        if route == X_TOKEN_PATH:
            return "x.refresh_token", (lambda: self._x_refresh(form)) if method == "POST" else None
        if route == X_ME_PATH:
            return "x.check_token", (lambda: self._x_me(token or "")) if method == "GET" else None
        if route == f"{GOOGLE_OAUTH_PREFIX}/token":
            return "youtube.refresh_token", (lambda: self._google_refresh(form)) if method == "POST" else None
        if route == f"{YT_PREFIX}/channels":
            return "youtube.check_token", (
                lambda: self._yt_channels(params, token or "")
            ) if method == "GET" else None
        return None

    # ------------------------------------------------------------------------------------------ tokens
    def _graph_exchange(self, params: dict[str, str]) -> tuple[int, Any, Any]:
        fake = self.fake
        if params.get("grant_type") != "fb_exchange_token":
            raise graph_error(400, "Unsupported grant_type", 100)
        client = fake._client_check(params.get("client_id"), params.get("client_secret"))
        if client == "unknown":
            raise graph_error(400, "Error validating application. Invalid application ID.", 101)
        if client == "secret":
            raise graph_error(400, "Error validating client secret.", 1, is_transient=False)
        if not params.get("fb_exchange_token"):
            raise graph_error(400, "Missing fb_exchange_token parameter", 100)
        return 200, fake._exchange_meta(params["fb_exchange_token"]), None

    def _graph_me(self, token: str) -> tuple[int, Any, Any]:
        fake = self.fake
        bound = fake._acting_as(token, "meta")
        if bound is None:  # the bearer check already refused it; a race with revoke() lands here
            raise self._auth_error("graph.check_token", True)
        platform, account = bound
        with fake._lock:
            name = fake._accounts.get((platform, account), f"Steward account {account}")
        return 200, {"id": account, "name": name}, None

    def _x_refresh(self, form: dict[str, str]) -> tuple[int, Any, Any]:
        fake = self.fake
        client_id, secret = self._basic_auth()
        if client_id is None or fake._client_check(client_id, secret) != "ok":
            raise oauth_error(401, "unauthorized_client", "Missing valid authorization header")
        if form.get("client_id") not in (None, client_id):
            raise oauth_error(400, "invalid_request", "Value passed for the client_id was invalid.")
        if form.get("grant_type") != "refresh_token":
            raise oauth_error(400, "invalid_request", "Value passed for the grant type was invalid.")
        answer = fake._refresh("x", form.get("refresh_token", ""))
        if answer is None:
            raise oauth_error(400, "invalid_request", "Value passed for the token was invalid.")
        return 200, answer, None

    def _x_me(self, token: str) -> tuple[int, Any, Any]:
        fake = self.fake
        bound = fake._acting_as(token, "x")
        if bound is None:
            raise self._auth_error("x.check_token", True)
        with fake._lock:
            name = fake._accounts.get(bound, f"Steward account {bound[1]}")
        username = re.sub(r"[^A-Za-z0-9_]", "", name)[:15] or f"user{bound[1][-8:]}"
        return 200, {"data": {"id": bound[1], "name": name, "username": username}}, None

    def _google_refresh(self, form: dict[str, str]) -> tuple[int, Any, Any]:
        fake = self.fake
        client_id, secret = self._basic_auth()
        client_id = form.get("client_id") or client_id
        secret = form.get("client_secret") or secret
        if form.get("grant_type") != "refresh_token":
            raise oauth_error(
                400, "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}"[:100]
            )
        client = fake._client_check(client_id, secret)
        if client == "unknown":
            raise oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if client == "secret":
            raise oauth_error(401, "invalid_client", "Unauthorized")
        if not form.get("refresh_token"):
            raise oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        answer = fake._refresh("youtube", form["refresh_token"])
        if answer is None:
            raise oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        return 200, answer, None

    def _yt_channels(self, params: dict[str, str], token: str) -> tuple[int, Any, Any]:
        fake = self.fake
        part = {p.strip() for p in params.get("part", "").split(",") if p.strip()}
        if not part:
            raise google_error(400, "required", "No filter selected. Expected one of: part", "global")
        if params.get("mine", "").lower() != "true":
            raise google_error(
                400,
                "missingRequiredParameter",
                "No filter selected. Expected one of: mine, id, forHandle, forUsername, managedByMe, categoryId",
                "youtube.parameter",
            )
        bound = fake._acting_as(token, "youtube")
        if bound is None:
            raise self._auth_error("youtube.check_token", True)
        channels = [{"kind": "youtube#channel", "etag": _etag(bound[1]), "id": bound[1]}]
        body = {
            "kind": "youtube#channelListResponse",
            "etag": _etag(channels),
            "pageInfo": {"totalResults": len(channels), "resultsPerPage": 5},
            "items": channels,
        }
        return 200, body, None

    # ------------------------------------------------------------------------------------------ Graph
    def _graph_hide(self, comment_id: str, field_name: str, params: dict[str, str]) -> tuple[int, Any, Any]:
        fake = self.fake
        comment = fake._graph_comment(comment_id, "post")
        wanted = "is_hidden" if comment.platform == "facebook" else "hide"
        if field_name != wanted:
            raise graph_error(
                400,
                f"(#100) The parameter {wanted} is required",
                100,
            )
        raw = params[wanted].lower()
        if raw not in ("true", "false", "1", "0"):
            raise graph_error(400, f"(#100) Param {wanted} must be a boolean", 100)
        hidden = raw in ("true", "1")
        changed = fake._set_state(comment, "hidden" if hidden else "visible")
        after = (lambda: fake._send_echo_later(comment, "hide" if hidden else "unhide")) if changed else None
        return 200, {"success": True}, after

    def _graph_delete(self, comment_id: str) -> tuple[int, Any, Any]:
        fake = self.fake
        comment = fake._graph_comment(comment_id, "delete")
        fake._set_state(comment, "removed")
        return 200, {"success": True}, lambda: fake._send_echo_later(comment, "remove")

    # ------------------------------------------------------------------------------------------ X
    def _x_hide(self, tweet_id: str, body: Any) -> tuple[int, Any, Any]:
        fake = self.fake
        hidden = body.get("hidden") if isinstance(body, dict) else None
        if not isinstance(hidden, bool):
            raise x_error(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "https://api.twitter.com/2/problems/invalid-request",
            )
        with fake._lock:
            tweet = fake._comments.get(("x", tweet_id))
        if tweet is None or tweet.state == "removed":
            raise x_error(
                404,
                "Not Found Error",
                f"Could not find tweet with id: [{tweet_id}].",
                "https://api.twitter.com/2/problems/resource-not-found",
                tweet_id,
            )
        if not tweet.parent_id or tweet.parent_id == tweet.comment_id:
            raise x_error(
                403,
                "Forbidden",
                "You can only hide or unhide replies to conversations you authored.",
                "about:blank",
            )
        fake._set_state(tweet, "hidden" if hidden else "visible")
        return 200, {"data": {"hidden": hidden}}, None  # the Account Activity API sends no event for this

    # ------------------------------------------------------------------------------------------ YouTube
    def _yt_moderate(self, query: dict[str, str]) -> tuple[int, Any, Any]:
        fake = self.fake
        ids = [i for i in query.get("id", "").split(",") if i]
        status = query.get("moderationStatus", "")
        if not ids:
            raise google_error(400, "required", "Required parameter: id", "global")
        if len(ids) > 50:
            raise google_error(400, "invalidValue", "Too many ids: at most 50 a request", "youtube.parameter")
        if status not in YOUTUBE_STATES:
            raise google_error(400, "invalidValue", "Invalid value for moderationStatus", "youtube.parameter")
        if query.get("banAuthor", "false").lower() == "true" and status != "rejected":
            raise google_error(
                400,
                "banWithoutReject",
                "The banAuthor parameter can only be used if the moderationStatus parameter value is 'rejected'.",
                "youtube.comment",
            )
        with fake._lock:
            comments = [fake._comments.get(("youtube", i)) for i in ids]
            missing = [i for i, c in zip(ids, comments, strict=True) if c is None]
            if missing:
                raise google_error(
                    404,
                    "commentNotFound",
                    "One or more comments identified by the request's id parameter could not be found.",
                    "youtube.comment",
                )
            for comment in comments:
                assert comment is not None
                fake._set_state(comment, YOUTUBE_STATES[status])
        return 204, None, None  # YouTube has no comment push

    # ------------------------------------------------------------------------------------------ internal
    def _internal(self, method: str, path: str, raw: bytes) -> None:
        fake = self.fake
        if method == "GET" and path == "/__health":
            self._send(200, {"status": "ok"})
        elif method == "GET" and path == "/__calls":
            self._send(200, [c.to_json() for c in fake.calls()])
        elif method == "GET" and path == "/__comments":
            self._send(200, [c.to_json() for c in fake.comments()])
        elif method == "GET" and path == "/__echoes":
            self._send(200, [e.to_json() for e in fake.echoes()])
        elif method == "POST" and path == "/__comments":
            try:
                document = json.loads(raw)
                specs = document if isinstance(document, list) else [document]
                seeded = [fake.seed_comment(**spec) for spec in specs]
            except (ValueError, TypeError) as exc:
                self._send(400, {"message": f"cannot seed: {exc}"})
                return
            self._send(201, [c.to_json() for c in seeded])
        elif method == "POST" and path == "/__faults":
            try:
                spec = json.loads(raw)
                hang = float(spec.pop("hang_seconds", 0) or 0)
                if hang:
                    fake.hang_next(spec["operation"], int(spec.get("times", 1)), seconds=hang)
                else:
                    fake.fail_next(**spec)
            except (ValueError, TypeError, KeyError) as exc:
                self._send(400, {"message": f"cannot inject: {exc}"})
                return
            self._send(201, {"status": "injected"})
        else:
            self._send(404, {"message": f"the fake serves no {method} {path}"})
