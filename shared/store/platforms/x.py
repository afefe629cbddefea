"""X (Twitter) reply moderation through the v2 API (``STEWARD_X_API_URL``).

``PUT /2/tweets/{id}/hidden`` with JSON ``{"hidden": true|false}`` and the district account's user token in
``Authorization: Bearer``; the answer is ``{"data": {"hidden": true|false}}``. Only replies in conversations the
account started can be hidden, and no API lets an account delete someone else's reply (see the facade for how
``delete`` is mapped). Errors come either as ``{"errors": [{"message", ...}]}`` or as a problem document
``{"title", "detail", "type", "status"}``; rate limits are 429 with ``x-rate-limit-reset``.

Tokens: :meth:`XClient.refresh_token` is ``POST /2/oauth2/token`` (form ``grant_type=refresh_token``,
``refresh_token``, ``client_id``; the app's id and secret in HTTP Basic auth) → ``{"token_type", "expires_in",
"access_token", "scope", "refresh_token"}``. X rotates the refresh token: the old one stops working, so the new one
must be stored. A refresh is not idempotent: if an answer is lost and the retry is refused, the first attempt may
have used the refresh token up (the refusal says so). Token endpoint errors are ``{"error", "error_description"}``
(400/401, final). :meth:`XClient.check_token` is ``GET /2/users/me`` → ``{"data": {"id", "name", "username"}}``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.store.platforms._http import ClientConfig, ErrorInfo, HttpCore, item_segment, text_of
from shared.store.platforms.errors import PlatformRefused
from shared.store.platforms.oauth import (
    IssuedToken,
    OAuthClient,
    account_id,
    checked_client,
    issued_token,
    read_oauth_error,
    required_refresh_token,
)


def read_x_error(status: int, body: Any) -> ErrorInfo:
    if not isinstance(body, dict):
        return ErrorInfo(message=f"HTTP {status} without an error body")
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    message = text_of(body.get("detail")) or text_of(first.get("message")) or text_of(body.get("title"))
    reason = text_of(body.get("type")) or text_of(first.get("type")) or text_of(str(first.get("code") or ""))
    not_found = status == 404 or "resource-not-found" in (reason or "")
    return ErrorInfo(message=message or f"HTTP {status}", reason=reason, not_found=not_found)


class XClient:
    """Hide and unhide replies to the district's posts on X."""

    platform = "x"

    def __init__(
        self, config: ClientConfig | None = None, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.core = HttpCore("x", config or ClientConfig.for_platform("x"), read_x_error, sleep=sleep)

    def set_hidden(self, tweet_id: str, hidden: bool, token: str) -> None:
        operation = "hide" if hidden else "unhide"
        path = f"/2/tweets/{item_segment('x', tweet_id)}/hidden"
        answer = self.core.call(operation, "PUT", path, token=token, json_body={"hidden": hidden})
        data = answer.body.get("data") if isinstance(answer.body, dict) else None
        if not isinstance(data, dict) or data.get("hidden") is not hidden:
            raise PlatformRefused(
                f"x {operation} was not confirmed: the answer lacks data.hidden={str(hidden).lower()}",
                platform="x",
                operation=operation,
                http_status=answer.status,
                reason="unconfirmed",
            )

    def hide(self, tweet_id: str, token: str) -> None:
        self.set_hidden(tweet_id, True, token)

    def unhide(self, tweet_id: str, token: str) -> None:
        self.set_hidden(tweet_id, False, token)

    def refresh_token(self, refresh_token: str | None, client: OAuthClient) -> IssuedToken:
        """A new access token and the rotated refresh token (store it: the one passed in no longer works)."""
        current = required_refresh_token("x", refresh_token)
        checked_client("x", client)
        try:
            answer = self.core.call(
                "refresh_token",
                "POST",
                "/2/oauth2/token",
                token=None,
                form={"grant_type": "refresh_token", "refresh_token": current, "client_id": client.client_id},
                basic_auth=(client.client_id, client.client_secret),
                secrets=(current,),
                read_error=read_oauth_error(read_x_error),
            )
        except PlatformRefused as refused:
            if refused.attempts < 2:
                raise
            raise PlatformRefused(
                f"{refused.message} (an earlier attempt went unanswered and may have used the refresh token up: "
                "X rotates it on every refresh)",
                platform="x",
                operation="refresh_token",
                http_status=refused.http_status,
                platform_message=refused.platform_message,
                reason=refused.reason,
                attempts=refused.attempts,
            ) from None
        return issued_token("x", answer, refresh_token=current)

    def check_token(self, token: str) -> str:
        """The id of the X user ``token`` acts as; PlatformRefused when it is invalid or revoked (401)."""
        answer = self.core.call("check_token", "GET", "/2/users/me", token=token)
        data = answer.body.get("data") if isinstance(answer.body, dict) else None
        return account_id("x", answer, data.get("id") if isinstance(data, dict) else None)
