"""Token refresh and token checks in the platform clients, against canned HTTP answers on loopback.

A tiny scripted server answers exactly what each test says (the platform's documented answers, and the malformed
ones the fake never sends), and records every request, so the wire shape of each call can be asserted. Unit tests
block the network (``tests/unit/conftest.py``); this module narrows that to loopback only.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.errors import BadRequest, ConfigurationError, Unavailable
from shared.settings import Settings, load
from shared.store.platforms import (
    ClientConfig,
    FacebookClient,
    InstagramClient,
    IssuedToken,
    OAuthClient,
    PlatformError,
    PlatformFailure,
    PlatformRefused,
    Platforms,
    XClient,
    YouTubeClient,
)

ACCESS = "EAAG-old-access-token-never-log-me"
REFRESH = "old-refresh-token-never-log-me"
NEW_ACCESS = "new-access-token-never-log-me"
NEW_REFRESH = "new-refresh-token-never-log-me"
CLIENT = OAuthClient("steward-client-id", "client-secret-never-log-me")
SECRETS = (ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH, CLIENT.client_secret)

pytestmark = pytest.mark.usefixtures("loopback_only")  # tests/unit/conftest.py


# --------------------------------------------------------------------------------------------- the canned server
@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    form: dict[str, str]


@dataclass
class Canned:
    """Answers the scripted (status, body, headers) in order; records every request."""

    url: str = ""
    answers: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Canned:
        self.answers.append((status, body, headers or {}))
        return self


@pytest.fixture
def canned() -> Iterator[Canned]:
    state = Canned()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def _answer(self, method: str) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            parts = urlsplit(self.path)
            with state.lock:
                state.seen.append(
                    Seen(
                        method,
                        parts.path,
                        {k: v[-1] for k, v in parse_qs(parts.query).items()},
                        {k.lower(): v for k, v in self.headers.items()},
                        {k: v[-1] for k, v in parse_qs(raw).items()},
                    )
                )
                status, body, headers = state.answers.pop(0) if state.answers else (500, {}, {})
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every record the Steward logger emits, with all its fields, as text."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.getMessage()} {record.__dict__!r}")

    handler = Collect(level=logging.DEBUG)
    target = logging.getLogger("steward")
    target.addHandler(handler)
    yield lines
    target.removeHandler(handler)


def config(url: str, **overrides: Any) -> ClientConfig:
    values: dict[str, Any] = {"base_url": url, "timeout": 1.0, "attempts": 3, "backoff_base": 0.001}
    values.update(overrides)
    return ClientConfig(**values)


def no_sleep(_: float) -> None:
    return None


def graph_client(canned: Canned) -> FacebookClient:
    return FacebookClient(config(f"{canned.url}/graph/v21.0"), sleep=no_sleep)


def x_client(canned: Canned) -> XClient:
    return XClient(config(f"{canned.url}/x"), sleep=no_sleep)


def youtube_client(canned: Canned) -> YouTubeClient:
    return YouTubeClient(
        config(f"{canned.url}/youtube/v3"), oauth_config=config(f"{canned.url}/google"), sleep=no_sleep
    )


def assert_secrets_absent(exc: BaseException, logs: list[str] | None = None) -> None:
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, PlatformFailure):
        texts.extend([repr(exc.body()), repr(vars(exc))])
    texts.extend(logs or [])
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def expires_between(issued: IssuedToken, before: datetime, seconds: int) -> None:
    assert issued.expires_at is not None
    assert issued.expires_at.tzinfo is not None
    assert issued.expires_at.utcoffset() == timedelta(0)
    assert before + timedelta(seconds=seconds) <= issued.expires_at
    assert issued.expires_at <= datetime.now(UTC) + timedelta(seconds=seconds)


# --------------------------------------------------------------------------------------------- request shapes
def test_meta_exchanges_the_token_for_a_long_lived_one(canned: Canned) -> None:
    # Given Meta's answer to a long-lived token exchange
    canned.answer(200, {"access_token": NEW_ACCESS, "token_type": "bearer", "expires_in": 5183944})
    before = datetime.now(UTC)

    # When the Page token is refreshed
    issued = graph_client(canned).exchange_token(ACCESS, CLIENT)

    # Then it is Meta's fb_exchange_token grant, with no Authorization header, and no refresh token comes back
    [seen] = canned.seen
    assert (seen.method, seen.path) == ("GET", "/graph/v21.0/oauth/access_token")
    assert seen.query == {
        "grant_type": "fb_exchange_token",
        "client_id": CLIENT.client_id,
        "client_secret": CLIENT.client_secret,
        "fb_exchange_token": ACCESS,
    }
    assert "authorization" not in seen.headers
    assert (issued.access_token, issued.refresh_token) == (NEW_ACCESS, None)
    expires_between(issued, before, 5183944)


def test_a_meta_token_without_expires_in_does_not_expire(canned: Canned) -> None:
    canned.answer(200, {"access_token": NEW_ACCESS, "token_type": "bearer"})
    issued = InstagramClient(config(f"{canned.url}/graph/v21.0")).exchange_token(ACCESS, CLIENT)
    assert issued.expires_at is None


def test_x_refreshes_with_basic_client_auth_and_keeps_the_rotated_refresh_token(canned: Canned) -> None:
    canned.answer(
        200,
        {
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": NEW_ACCESS,
            "scope": "tweet.read users.read offline.access",
            "refresh_token": NEW_REFRESH,
        },
    )
    before = datetime.now(UTC)

    issued = x_client(canned).refresh_token(REFRESH, CLIENT)

    [seen] = canned.seen
    assert (seen.method, seen.path) == ("POST", "/x/2/oauth2/token")
    assert seen.form == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": CLIENT.client_id,
    }
    assert seen.query == {}
    scheme, _, value = seen.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(value).decode() == f"{CLIENT.client_id}:{CLIENT.client_secret}"
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert (issued.access_token, issued.refresh_token) == (NEW_ACCESS, NEW_REFRESH)
    expires_between(issued, before, 7200)


def test_google_refresh_keeps_the_refresh_token_it_was_given(canned: Canned) -> None:
    canned.answer(
        200,
        {
            "access_token": NEW_ACCESS,
            "expires_in": 3599,
            "scope": "youtube.force-ssl",
            "token_type": "Bearer",
        },
    )
    before = datetime.now(UTC)

    issued = youtube_client(canned).refresh_token(REFRESH, CLIENT)

    [seen] = canned.seen
    assert (seen.method, seen.path) == ("POST", "/google/token")
    assert seen.form == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": CLIENT.client_id,
        "client_secret": CLIENT.client_secret,
    }
    assert "authorization" not in seen.headers
    assert (issued.access_token, issued.refresh_token) == (NEW_ACCESS, REFRESH)
    expires_between(issued, before, 3599)


def test_reprs_never_show_a_token_or_the_client_secret() -> None:
    issued = IssuedToken(NEW_ACCESS, NEW_REFRESH, None)
    for text in (repr(issued), str(issued), repr(CLIENT), str(CLIENT)):
        for secret in SECRETS:
            assert secret not in text
    assert CLIENT.client_id in repr(CLIENT)


# --------------------------------------------------------------------------------------------- checks
def test_checks_name_the_account_each_token_acts_as(canned: Canned) -> None:
    canned.answer(200, {"id": "1234567890321", "name": "Steward School District"})
    canned.answer(200, {"data": {"id": "930524282358325248", "name": "District", "username": "district"}})
    canned.answer(200, {"kind": "youtube#channelListResponse", "items": [{"id": "UCdistrict"}]})

    assert graph_client(canned).check_token(ACCESS) == "1234567890321"
    assert x_client(canned).check_token(ACCESS) == "930524282358325248"
    assert youtube_client(canned).check_token(ACCESS) == "UCdistrict"

    graph, x, youtube = canned.seen
    assert (graph.method, graph.path, graph.query) == ("GET", "/graph/v21.0/me", {"fields": "id,name"})
    assert (x.method, x.path, x.query) == ("GET", "/x/2/users/me", {})
    assert (youtube.method, youtube.path, youtube.query) == (
        "GET",
        "/youtube/v3/channels",
        {"part": "id", "mine": "true"},
    )
    assert all(s.headers["authorization"] == f"Bearer {ACCESS}" for s in canned.seen)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (
            400,
            {
                "error": {
                    "message": "Error validating access token: The user has not authorized application.",
                    "type": "OAuthException",
                    "code": 190,
                    "error_subcode": 458,
                }
            },
        ),
        (401, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}),
    ],
)
def test_a_revoked_meta_token_is_refused_at_once(canned: Canned, status: int, body: Any) -> None:
    canned.answer(status, body)
    with pytest.raises(PlatformRefused) as raised:
        graph_client(canned).check_token(ACCESS)
    assert raised.value.reason == "OAuthException#190" + (".458" if status == 400 else "")
    assert len(canned.seen) == 1
    assert_secrets_absent(raised.value)


def test_x_and_youtube_refuse_an_invalid_token(canned: Canned) -> None:
    canned.answer(
        401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    )
    canned.answer(
        401,
        {"error": {"code": 401, "message": "Invalid Credentials", "errors": [{"reason": "authError"}]}},
    )
    with pytest.raises(PlatformRefused) as x:
        x_client(canned).check_token(ACCESS)
    with pytest.raises(PlatformRefused) as youtube:
        youtube_client(canned).check_token(ACCESS)
    assert (x.value.http_status, youtube.value.reason) == (401, "authError")
    assert len(canned.seen) == 2


def test_a_token_that_reaches_no_channel_is_refused(canned: Canned) -> None:
    canned.answer(200, {"kind": "youtube#channelListResponse", "items": []})
    with pytest.raises(PlatformRefused, match="reaches no channel"):
        youtube_client(canned).check_token(ACCESS)


def test_a_check_answer_without_an_id_is_refused(canned: Canned) -> None:
    canned.answer(200, {"name": "no id"})
    with pytest.raises(PlatformRefused) as raised:
        graph_client(canned).check_token(ACCESS)
    assert raised.value.reason == "unreadable"


# --------------------------------------------------------------------------------------------- answers checked
REFRESHERS: dict[str, Callable[[Canned], IssuedToken]] = {
    "facebook": lambda c: graph_client(c).exchange_token(ACCESS, CLIENT),
    "x": lambda c: x_client(c).refresh_token(REFRESH, CLIENT),
    "youtube": lambda c: youtube_client(c).refresh_token(REFRESH, CLIENT),
}


@pytest.mark.parametrize("platform", sorted(REFRESHERS))
@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"token_type": "bearer", "expires_in": 7200}, "without an access_token"),
        ({"access_token": "", "expires_in": 7200}, "without an access_token"),
        ({"access_token": NEW_ACCESS, "expires_in": "soon"}, "without a numeric expires_in"),
        ({"access_token": NEW_ACCESS, "expires_in": -5}, "without a numeric expires_in"),
        ({"access_token": NEW_ACCESS, "expires_in": True}, "without a numeric expires_in"),
        ({"access_token": f"{NEW_ACCESS} with spaces", "expires_in": 60}, "well-formed access_token"),
        ({"access_token": NEW_ACCESS, "token_type": "mac"}, "bearer token_type"),
        (["not", "an", "object"], "without a JSON object"),
    ],
)
def test_an_unusable_answer_is_refused_without_quoting_it(
    canned: Canned, platform: str, body: Any, complaint: str
) -> None:
    canned.answer(200, body)
    with pytest.raises(PlatformRefused, match=complaint) as raised:
        REFRESHERS[platform](canned)
    assert raised.value.reason == "unreadable"
    assert raised.value.operation == "refresh_token"
    assert_secrets_absent(raised.value)


def test_expires_in_may_come_as_a_numeric_string(canned: Canned) -> None:
    canned.answer(200, {"access_token": NEW_ACCESS, "expires_in": "3600"})
    issued = REFRESHERS["youtube"](canned)
    assert issued.expires_at is not None


# --------------------------------------------------------------------------------------------- errors and retries
def test_an_invalid_grant_is_refused_once_with_the_echoed_secrets_redacted(
    canned: Canned, log_lines: list[str]
) -> None:
    # Given Google refusing the grant and echoing what it was sent
    canned.answer(
        400,
        {
            "error": "invalid_grant",
            "error_description": f"Token {REFRESH} has been expired or revoked (client {CLIENT.client_secret}).",
        },
    )

    with pytest.raises(PlatformRefused) as raised:
        REFRESHERS["youtube"](canned)

    error = raised.value
    assert not isinstance(error, Unavailable)
    assert (error.platform, error.operation, error.reason, error.attempts) == (
        "youtube",
        "refresh_token",
        "invalid_grant",
        1,
    )
    assert "Token [redacted] has been expired or revoked (client [redacted])" in str(error)
    assert len(canned.seen) == 1
    assert_secrets_absent(error, log_lines)


def test_an_x_refusal_after_a_lost_answer_says_the_token_may_be_used_up(canned: Canned) -> None:
    canned.answer(503, {"error": "temporarily_unavailable", "error_description": "try later"})
    canned.answer(
        400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}
    )

    with pytest.raises(PlatformRefused) as raised:
        REFRESHERS["x"](canned)

    assert raised.value.attempts == 2
    assert "may have used the refresh token up" in str(raised.value)
    assert raised.value.reason == "invalid_request"
    assert_secrets_absent(raised.value)


def test_a_wrong_meta_client_secret_is_final_though_graph_code_1_is_transient(canned: Canned) -> None:
    canned.answer(
        400,
        {
            "error": {
                "message": "Error validating client secret.",
                "type": "OAuthException",
                "code": 1,
                "fbtrace_id": "A1",
            }
        },
    )
    with pytest.raises(PlatformRefused) as raised:
        REFRESHERS["facebook"](canned)
    assert raised.value.reason == "OAuthException#1"
    assert len(canned.seen) == 1


@pytest.mark.parametrize("platform", sorted(REFRESHERS))
def test_5xx_and_429_are_retried_then_succeed(canned: Canned, platform: str) -> None:
    canned.answer(500, {"error": "server_error", "error_description": "boom"})
    canned.answer(429, {"error": "rate_limit_exceeded"}, {"Retry-After": "0"})
    canned.answer(200, {"access_token": NEW_ACCESS, "expires_in": 60, "refresh_token": NEW_REFRESH})

    issued = REFRESHERS[platform](canned)

    assert issued.access_token == NEW_ACCESS
    assert len(canned.seen) == 3


def test_5xx_exhausted_is_a_platform_error_logging_no_secret(canned: Canned, log_lines: list[str]) -> None:
    for _ in range(3):
        canned.answer(502, {"error": "server_error", "error_description": f"lost {REFRESH}"})

    with pytest.raises(PlatformError) as raised:
        REFRESHERS["x"](canned)

    assert (raised.value.http_status, raised.value.attempts) == (502, 3)
    assert len(log_lines) == 2
    assert_secrets_absent(raised.value, log_lines)


# --------------------------------------------------------------------------------------------- the facade
def facade(canned: Canned) -> Platforms:
    return Platforms(
        settings=Settings(
            region="us-east-1",
            meta_graph_url=f"{canned.url}/graph/v21.0",
            x_api_url=f"{canned.url}/x",
            youtube_api_url=f"{canned.url}/youtube/v3",
            google_oauth_url=f"{canned.url}/google",
            platform_timeout_seconds=2,
            platform_attempts=1,
        )
    )


def test_the_facade_sends_each_platform_to_its_token_endpoint(canned: Canned) -> None:
    for _ in range(4):
        canned.answer(200, {"access_token": NEW_ACCESS, "expires_in": 60})
    platforms = facade(canned)

    for platform in ("facebook", "instagram", "x", "youtube"):
        issued = platforms.refresh_token(platform, access_token=ACCESS, refresh_token=REFRESH, client=CLIENT)
        assert issued.access_token == NEW_ACCESS

    assert [s.path for s in canned.seen] == [
        "/graph/v21.0/oauth/access_token",
        "/graph/v21.0/oauth/access_token",
        "/x/2/oauth2/token",
        "/google/token",
    ]
    assert platforms.youtube.oauth_core.config == ClientConfig(
        f"{canned.url}/google", timeout=2.0, attempts=1
    )


def test_the_facade_checks_tokens_on_each_platform(canned: Canned) -> None:
    canned.answer(200, {"id": "1", "name": "Page"})
    canned.answer(200, {"id": "2", "name": "IG"})
    canned.answer(200, {"data": {"id": "3"}})
    canned.answer(200, {"items": [{"id": "UC4"}]})
    platforms = facade(canned)
    assert [platforms.check_token(p, ACCESS) for p in ("facebook", "instagram", "x", "youtube")] == [
        "1",
        "2",
        "3",
        "UC4",
    ]


def test_the_facade_refuses_what_it_cannot_send(canned: Canned) -> None:
    platforms = facade(canned)
    with pytest.raises(BadRequest, match="has no token refresh"):
        platforms.refresh_token("myspace", access_token=ACCESS, refresh_token=REFRESH, client=CLIENT)
    with pytest.raises(BadRequest, match="has no token check"):
        platforms.check_token("myspace", ACCESS)
    for platform in ("x", "youtube"):
        with pytest.raises(BadRequest, match="has no refresh token") as raised:
            platforms.refresh_token(platform, access_token=ACCESS, refresh_token=None, client=CLIENT)
        assert_secrets_absent(raised.value)
    with pytest.raises(BadRequest, match="client secret is empty or malformed") as bad_secret:
        platforms.refresh_token(
            "x", access_token=ACCESS, refresh_token=REFRESH, client=OAuthClient("id", "has a space")
        )
    assert "has a space" not in str(bad_secret.value)
    with pytest.raises(BadRequest, match="client id"):
        platforms.refresh_token(
            "x", access_token=ACCESS, refresh_token=REFRESH, client=OAuthClient("a:b", "s")
        )
    with pytest.raises(BadRequest, match="access token is empty or malformed"):
        platforms.refresh_token("facebook", access_token="", refresh_token=None, client=CLIENT)
    assert canned.seen == []


# --------------------------------------------------------------------------------------------- the setting
def test_the_google_oauth_url_is_a_validated_setting() -> None:
    assert Settings().google_oauth_url == "https://oauth2.googleapis.com"
    env = {"AWS_REGION": "us-east-1", "STEWARD_GOOGLE_OAUTH_URL": "http://127.0.0.1:9/google-oauth/"}
    assert load(env).google_oauth_url == "http://127.0.0.1:9/google-oauth"
    with pytest.raises(ConfigurationError, match="STEWARD_GOOGLE_OAUTH_URL"):
        load({"AWS_REGION": "us-east-1", "STEWARD_GOOGLE_OAUTH_URL": "ftp://example.org"})
