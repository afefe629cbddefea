"""Facebook Page and Instagram comment moderation through the Graph API (``STEWARD_META_GRAPH_URL``).

- Facebook: ``POST /{comment-id}`` with form field ``is_hidden=true|false``; ``DELETE /{comment-id}``.
- Instagram: ``POST /{ig-comment-id}`` with form field ``hide=true|false``; ``DELETE /{ig-comment-id}``.

Both answer ``{"success": true}``. The Page (or Instagram account) token goes in ``Authorization: Bearer``, which
the Graph API accepts in place of the ``access_token`` parameter, so it is never in a URL. Graph errors are
``{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}``; throttling comes back as
codes 4, 17, 32, 613 (often with HTTP 400/403, not 429) and service trouble as codes 1 and 2, so those and anything
marked ``is_transient`` are retried. Code 100 with subcode 33 (or HTTP 404) means the object does not exist.

Tokens: Meta has no refresh token. :meth:`exchange_token` trades a token for a long-lived one
(``GET /oauth/access_token?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token``), which is
Meta's protocol and the one call that puts a token and the app secret in a URL: the core never logs a URL or puts
one in an error, and redacts both values from the answer. :meth:`check_token` is ``GET /me?fields=id,name``;
error 190 (OAuthException) or HTTP 401 means the token is invalid, expired or revoked (final).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.store.platforms._http import (
    ClientConfig,
    ErrorInfo,
    HttpCore,
    PlatformName,
    check_token,
    item_segment,
)
from shared.store.platforms.errors import PlatformRefused
from shared.store.platforms.oauth import (
    IssuedToken,
    OAuthClient,
    account_id,
    checked_client,
    issued_token,
    read_oauth_error,
)

# Graph error codes that mean "try again later": unknown/temporary service errors and the rate limits.
TRANSIENT_GRAPH_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})


def read_graph_error(status: int, body: Any) -> ErrorInfo:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = body.get("_text") if isinstance(body, dict) else None
        return ErrorInfo(message=str(text or f"HTTP {status} without a Graph error body"))
    code = error.get("code")
    subcode = error.get("error_subcode")
    kind = error.get("type")
    reason = f"{kind or 'GraphError'}#{code}" + (f".{subcode}" if subcode is not None else "")
    transient = bool(error.get("is_transient")) or code in TRANSIENT_GRAPH_CODES
    not_found = status == 404 or (code == 100 and subcode == 33)
    return ErrorInfo(
        message=str(error.get("message") or "no message"),
        reason=reason,
        transient=transient,
        not_found=not_found,
    )


def read_graph_token_error(status: int, body: Any) -> ErrorInfo:
    """Graph errors at the token endpoint: a wrong app secret comes back as OAuthException code 1 ("Error
    validating client secret."), which elsewhere is Graph's transient "unknown error"; here it is final."""
    info = read_graph_error(status, body)
    code = (info.reason or "").partition(".")[0]
    if info.transient and code == "OAuthException#1" and "client secret" in info.message.lower():
        return ErrorInfo(info.message, info.reason, False, info.not_found)
    return info


class _GraphCommentClient:
    platform: PlatformName
    hide_field: str

    def __init__(
        self, config: ClientConfig | None = None, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.core = HttpCore(
            self.platform, config or ClientConfig.for_platform(self.platform), read_graph_error, sleep=sleep
        )

    def set_hidden(self, comment_id: str, hidden: bool, token: str) -> None:
        operation = "hide" if hidden else "unhide"
        path = "/" + item_segment(self.platform, comment_id)
        answer = self.core.call(
            operation, "POST", path, token=token, form={self.hide_field: "true" if hidden else "false"}
        )
        self._confirm(operation, answer.body, answer.status)

    def hide(self, comment_id: str, token: str) -> None:
        self.set_hidden(comment_id, True, token)

    def unhide(self, comment_id: str, token: str) -> None:
        self.set_hidden(comment_id, False, token)

    def delete(self, comment_id: str, token: str) -> None:
        path = "/" + item_segment(self.platform, comment_id)
        answer = self.core.call("delete", "DELETE", path, token=token)
        self._confirm("delete", answer.body, answer.status)

    def exchange_token(self, access_token: str, client: OAuthClient) -> IssuedToken:
        """A long-lived token for ``access_token`` (Meta's refresh); ``refresh_token`` is always ``None``."""
        check_token(access_token)
        checked_client(self.platform, client)
        answer = self.core.call(
            "refresh_token",
            "GET",
            "/oauth/access_token",
            token=None,
            query={
                "grant_type": "fb_exchange_token",
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "fb_exchange_token": access_token,
            },
            secrets=(access_token, client.client_secret),
            read_error=read_oauth_error(read_graph_token_error),
        )
        return issued_token(self.platform, answer, refresh_token=None, zero_means_never=True)

    def check_token(self, token: str) -> str:
        """The id of the Page, Instagram account or user ``token`` acts as; PlatformRefused when the token is
        invalid or revoked (190 / HTTP 401), PlatformError when the Graph API could not answer."""
        answer = self.core.call("check_token", "GET", "/me", token=token, query={"fields": "id,name"})
        body = answer.body if isinstance(answer.body, dict) else {}
        return account_id(self.platform, answer, body.get("id"))

    def _confirm(self, operation: str, body: Any, status: int) -> None:
        if isinstance(body, dict) and body.get("success") is True:
            return
        raise PlatformRefused(
            f"{self.platform} {operation} was not confirmed: the answer lacks success=true",
            platform=self.platform,
            operation=operation,
            http_status=status,
            reason="unconfirmed",
        )


class FacebookClient(_GraphCommentClient):
    """Hide, unhide and delete comments on the district's Facebook Pages."""

    platform: PlatformName = "facebook"
    hide_field = "is_hidden"


class InstagramClient(_GraphCommentClient):
    """Hide, unhide and delete comments on the district's Instagram professional accounts."""

    platform: PlatformName = "instagram"
    hide_field = "hide"
