"""What the platforms' OAuth token endpoints take and give, and how their answers are read.

Refreshing differs by platform (the clients hold the wire details):

- Facebook / Instagram: Meta has no refresh token; a token is exchanged for a long-lived one
  (``grant_type=fb_exchange_token``, about 60 days; no ``expires_in`` means it does not expire).
- X: ``grant_type=refresh_token`` at ``/2/oauth2/token``; X rotates the refresh token (the old one stops working).
- YouTube: Google's token endpoint; the refresh token usually stays the same (no new one in the answer).

Token endpoints answer errors as RFC 6749 ``{"error": "invalid_grant", "error_description": ...}`` (X, Google) or
in Graph's shape (Meta). Neither a token nor a client secret is ever put into an error or a log line: the values
sent are redacted from anything the platform answers, and the messages below never quote them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.errors import BadRequest
from shared.store.platforms._http import ErrorInfo, ErrorReader, Response, text_of
from shared.store.platforms.errors import PlatformRefused

# Client ids and secrets, refresh and access tokens: printable ASCII without spaces (header- and form-safe).
_CREDENTIAL = re.compile(r"^[\x21-\x7e]{1,4096}$")
# RFC 6749 error codes that mean "try again later".
TRANSIENT_OAUTH_ERRORS = frozenset({"temporarily_unavailable", "server_error"})
# An X client id cannot hold ':' (it is the Basic auth separator).
_CLIENT_ID = re.compile(r"^[\x21-\x39\x3b-\x7e]{1,4096}$")


@dataclass(frozen=True)
class OAuthClient:
    """The platform app Steward is registered as (the OAuth client that refreshes the accounts' tokens)."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class IssuedToken:
    """What a refresh gave. ``refresh_token`` is the one to keep: the new one when the platform rotated it, else
    the one passed in (``None`` for Meta, which has none). ``expires_at`` is timezone-aware UTC, ``None`` when the
    platform says the token does not expire."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None


def checked_client(platform: str, client: OAuthClient) -> OAuthClient:
    """``client`` when its id and secret can be sent; BadRequest (never quoting them) otherwise."""
    if not isinstance(client, OAuthClient):
        raise BadRequest(f"the {platform} OAuth client must be an OAuthClient")
    if not isinstance(client.client_id, str) or not _CLIENT_ID.match(client.client_id):
        raise BadRequest(f"the {platform} OAuth client id is empty or malformed")
    if not isinstance(client.client_secret, str) or not _CREDENTIAL.match(client.client_secret):
        raise BadRequest(f"the {platform} OAuth client secret is empty or malformed")
    return client


def required_refresh_token(platform: str, refresh_token: str | None) -> str:
    if refresh_token is None:
        raise BadRequest(f"the {platform} account has no refresh token: it must be reconnected")
    if not isinstance(refresh_token, str) or not _CREDENTIAL.match(refresh_token):
        raise BadRequest(f"the {platform} refresh token is empty or malformed")
    return refresh_token


def read_oauth_error(fallback: ErrorReader) -> ErrorReader:
    """An error reader for a token endpoint: RFC 6749 ``{"error": code, "error_description"}`` answers, and
    anything else as the platform's API shape (``fallback``)."""

    def read(status: int, body: Any) -> ErrorInfo:
        code = text_of(body.get("error")) if isinstance(body, dict) else None
        if code is None:
            return fallback(status, body)
        assert isinstance(body, dict)
        description = text_of(body.get("error_description"))
        return ErrorInfo(
            message=f"{code}: {description}" if description else code,
            reason=code,
            transient=code in TRANSIENT_OAUTH_ERRORS,
        )

    return read


def _unreadable(platform: str, operation: str, status: int, what: str) -> PlatformRefused:
    return PlatformRefused(
        f"{platform} {operation} answered without {what}",
        platform=platform,
        operation=operation,
        http_status=status,
        reason="unreadable",
    )


def _seconds(value: Any) -> float | None:
    """``expires_in`` as seconds: a number or a numeric string, not negative; ``None`` when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = float(value.strip())
    else:
        return None
    return seconds if 0 <= seconds < 100 * 365 * 86400 else None


def issued_token(
    platform: str,
    answer: Response,
    *,
    refresh_token: str | None,
    zero_means_never: bool = False,
    now: datetime | None = None,
) -> IssuedToken:
    """The token a token endpoint's successful answer issued; PlatformRefused (``reason="unreadable"``, the values
    never quoted) when it lacks a usable access token or has a malformed ``expires_in``."""
    operation = "refresh_token"
    body = answer.body
    if not isinstance(body, dict):
        raise _unreadable(platform, operation, answer.status, "a JSON object")
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise _unreadable(platform, operation, answer.status, "an access_token")
    if not _CREDENTIAL.match(access):
        raise _unreadable(platform, operation, answer.status, "a well-formed access_token")
    token_type = body.get("token_type")
    if token_type is not None and (not isinstance(token_type, str) or token_type.lower() != "bearer"):
        raise _unreadable(platform, operation, answer.status, "a bearer token_type")
    rotated = body.get("refresh_token")
    if rotated is not None and (not isinstance(rotated, str) or not _CREDENTIAL.match(rotated)):
        raise _unreadable(platform, operation, answer.status, "a well-formed refresh_token")
    expires_at: datetime | None = None
    if body.get("expires_in") is not None:
        seconds = _seconds(body["expires_in"])
        if seconds is None:
            raise _unreadable(platform, operation, answer.status, "a numeric expires_in")
        if not (zero_means_never and seconds == 0):
            expires_at = (now or datetime.now(UTC)) + timedelta(seconds=seconds)
    return IssuedToken(access_token=access, refresh_token=rotated or refresh_token, expires_at=expires_at)


def account_id(platform: str, answer: Response, value: Any) -> str:
    """The id a token check named; PlatformRefused when the answer names none."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise _unreadable(platform, "check_token", answer.status, "the account's id")
    return value
