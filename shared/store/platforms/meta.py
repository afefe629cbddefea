"""Facebook Page and Instagram comment moderation through the Graph API (``STEWARD_META_GRAPH_URL``).

- Facebook: ``POST /{comment-id}`` with form field ``is_hidden=true|false``; ``DELETE /{comment-id}``.
- Instagram: ``POST /{ig-comment-id}`` with form field ``hide=true|false``; ``DELETE /{ig-comment-id}``.

Both answer ``{"success": true}``. The Page (or Instagram account) token goes in ``Authorization: Bearer``, which
the Graph API accepts in place of the ``access_token`` parameter, so it is never in a URL. Graph errors are
``{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}``; throttling comes back as
codes 4, 17, 32, 613 (often with HTTP 400/403, not 429) and service trouble as codes 1 and 2, so those and anything
marked ``is_transient`` are retried. Code 100 with subcode 33 (or HTTP 404) means the object does not exist.

Reading (reconciliation): :meth:`comments` lists the comments of a post or media, a page at a time
(``GET /{object-id}/comments?fields=...&limit=100&after=...``), oldest first. Facebook asks for
``filter=stream`` (replies too, flat, each naming its ``parent``) and ``is_hidden``; Instagram lists top-level
comments with their ``replies`` and ``hidden``. Comments hidden by the account are listed (to the account's token);
deleted ones are not.

Tokens: Meta has no refresh token. :meth:`exchange_token` trades a token for a long-lived one
(``GET /oauth/access_token?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token``), which is
Meta's protocol and the one call that puts a token and the app secret in a URL: the core never logs a URL or puts
one in an error, and redacts both values from the answer. :meth:`check_token` is ``GET /me?fields=id,name``;
error 190 (OAuthException) or HTTP 401 means the token is invalid, expired or revoked (final).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.store.platforms._http import (
    ClientConfig,
    ErrorInfo,
    HttpCore,
    PlatformName,
    check_token,
    item_segment,
    text_of,
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

COMMENTS_PAGE_SIZE = 100
# How many pages of one post's comments :meth:`_GraphCommentClient.comments` reads at most (10 000 comments).
MAX_COMMENT_PAGES = 100
FACEBOOK_COMMENT_FIELDS = "id,message,from,created_time,is_hidden,parent{id}"
_IG_FIELDS = "id,text,from,timestamp,hidden,parent_id"
INSTAGRAM_COMMENT_FIELDS = f"{_IG_FIELDS},replies{{{_IG_FIELDS}}}"

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


def _graph_time(value: Any) -> datetime | None:
    """Graph's ``2026-02-25T10:00:00+0000`` (or ISO with ``Z``/``+00:00``); None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


@dataclass(frozen=True)
class GraphComment:
    """One comment as the Graph API lists it. ``parent_id`` is the post (media) for a top-level comment, as the
    webhooks have it; ``raw`` is the API's own object."""

    comment_id: str
    post_id: str
    parent_id: str
    author_id: str | None
    author_name: str | None
    text: str | None
    created_at: datetime | None
    hidden: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, item: dict[str, Any], post_id: str, parent_id: str | None = None) -> GraphComment:
        author = item.get("from") if isinstance(item.get("from"), dict) else {}
        assert isinstance(author, dict)
        parent = item.get("parent")
        named_parent = (
            text_of(parent.get("id")) if isinstance(parent, dict) else text_of(item.get("parent_id"))
        )
        text = item.get("message", item.get("text"))
        return cls(
            comment_id=str(item.get("id") or ""),
            post_id=post_id,
            parent_id=parent_id or named_parent or post_id,
            author_id=text_of(author.get("id")),
            author_name=text_of(author.get("name")) or text_of(author.get("username")),
            text=text if isinstance(text, str) else None,
            created_at=_graph_time(item.get("created_time") or item.get("timestamp")),
            hidden=bool(item.get("is_hidden") or item.get("hidden")),
            raw=item,
        )


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

    def comments(
        self, object_id: str, token: str, *, max_pages: int = MAX_COMMENT_PAGES
    ) -> list[GraphComment]:
        """Every comment (and reply) on the post or media ``object_id`` the token can see, oldest first; hidden
        ones included, deleted ones absent. Raises PlatformRefused when the page of comments is unreadable or
        there are more than ``max_pages`` pages (the list would be incomplete)."""
        path = "/" + item_segment(self.platform, object_id) + "/comments"
        query = self._comments_query()
        found: list[GraphComment] = []
        for _ in range(max_pages):
            answer = self.core.call("comments", "GET", path, token=token, query=query)
            data = answer.body.get("data") if isinstance(answer.body, dict) else None
            if not isinstance(data, list):
                raise PlatformRefused(
                    f"{self.platform} comments answered without a data list",
                    platform=self.platform,
                    operation="comments",
                    http_status=answer.status,
                    reason="unreadable",
                )
            for item in data:
                if isinstance(item, dict) and item.get("id"):
                    found.append(GraphComment.parse(item, object_id))
                    replies = item.get("replies")
                    for reply in replies.get("data", []) if isinstance(replies, dict) else []:
                        if isinstance(reply, dict) and reply.get("id"):
                            found.append(GraphComment.parse(reply, object_id, str(item["id"])))
            paging = answer.body.get("paging") if isinstance(answer.body, dict) else None
            cursors = paging.get("cursors") if isinstance(paging, dict) else None
            after = text_of(cursors.get("after")) if isinstance(cursors, dict) else None
            if not (isinstance(paging, dict) and paging.get("next") and after):
                return found
            query = {**query, "after": after}
        raise PlatformRefused(
            f"{self.platform} comments of one object run past {max_pages} pages",
            platform=self.platform,
            operation="comments",
            reason="tooManyPages",
        )

    def _comments_query(self) -> dict[str, str]:
        return {"fields": FACEBOOK_COMMENT_FIELDS, "filter": "stream", "limit": str(COMMENTS_PAGE_SIZE)}

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

    def _comments_query(self) -> dict[str, str]:
        return {"fields": INSTAGRAM_COMMENT_FIELDS, "limit": str(COMMENTS_PAGE_SIZE)}
