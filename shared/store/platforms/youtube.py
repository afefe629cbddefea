"""YouTube comment moderation and comment polling through the Data API v3 (``STEWARD_YOUTUBE_API_URL``).

- ``POST /comments/setModerationStatus?id=a,b,c&moderationStatus=heldForReview|published|rejected`` (up to 50
  ids a call; ``banAuthor=true`` only with ``rejected``); 204 No Content on success.
- ``GET /commentThreads?part=snippet,replies&allThreadsRelatedToChannelId=C&order=time&maxResults=100
  &pageToken=P``: newest threads first, a page at a time, ``nextPageToken`` while more remain. Without a
  ``moderationStatus`` filter only published threads are listed (the API's default). With ``video_id`` the
  threads of one video (``videoId=V``) instead of the whole channel's.

The channel owner's OAuth token goes in ``Authorization: Bearer``. Google errors are
``{"error": {"code", "message", "errors": [{"reason", "domain", "message"}]}}``; ``rateLimitExceeded``,
``userRateLimitExceeded``, ``backendError`` and ``internalError`` are retried, ``quotaExceeded`` (the daily quota)
is not: it comes back as a :class:`PlatformRefused` with ``reason == "quotaExceeded"`` so a poller can stop and
resume tomorrow from its cursor.

Tokens: :meth:`YouTubeClient.refresh_token` is Google's ``POST {STEWARD_GOOGLE_OAUTH_URL}/token`` (form
``grant_type=refresh_token``, ``refresh_token``, ``client_id``, ``client_secret``) → ``{"access_token",
"expires_in", "scope", "token_type"}``, usually without a new refresh token (the one passed in is kept); a revoked
or expired grant is ``400 {"error": "invalid_grant"}`` (final). :meth:`YouTubeClient.check_token` is
``GET /channels?part=id&mine=true`` → ``{"items": [{"id"}]}``; no item means the token reaches no channel.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from shared.errors import BadRequest
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

ModerationStatus = Literal["heldForReview", "published", "rejected"]
MODERATION_STATUSES: tuple[ModerationStatus, ...] = ("heldForReview", "published", "rejected")
MAX_IDS_PER_CALL = 50
MAX_RESULTS = 100
TRANSIENT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"})
NOT_FOUND_REASONS = frozenset({"commentNotFound", "channelNotFound", "videoNotFound", "notFound"})


def read_google_error(status: int, body: Any) -> ErrorInfo:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = body.get("_text") if isinstance(body, dict) else None
        return ErrorInfo(message=str(text or f"HTTP {status} without a Google error body"))
    details = error.get("errors")
    first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
    reason = text_of(first.get("reason"))
    return ErrorInfo(
        message=text_of(error.get("message")) or text_of(first.get("message")) or f"HTTP {status}",
        reason=reason,
        transient=reason in TRANSIENT_REASONS,
        not_found=status == 404 or reason in NOT_FOUND_REASONS,
    )


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class YouTubeComment:
    """One comment as ``commentThreads.list`` returns it; ``raw`` is the API's own object (keep it as evidence)."""

    comment_id: str
    channel_id: str | None
    video_id: str | None
    parent_id: str | None
    author_channel_id: str | None
    author_display_name: str | None
    text: str
    published_at: datetime | None
    updated_at: datetime | None
    moderation_status: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, item: dict[str, Any], video_id: str | None = None) -> YouTubeComment:
        snippet = item.get("snippet") if isinstance(item.get("snippet"), dict) else {}
        assert isinstance(snippet, dict)
        author = snippet.get("authorChannelId")
        return cls(
            comment_id=str(item.get("id", "")),
            channel_id=text_of(snippet.get("channelId")),
            video_id=text_of(snippet.get("videoId")) or video_id,
            parent_id=text_of(snippet.get("parentId")),
            author_channel_id=text_of(author.get("value")) if isinstance(author, dict) else None,
            author_display_name=text_of(snippet.get("authorDisplayName")),
            text=str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""),
            published_at=_time(snippet.get("publishedAt")),
            updated_at=_time(snippet.get("updatedAt")),
            moderation_status=text_of(snippet.get("moderationStatus")),
            raw=item,
        )


@dataclass(frozen=True)
class CommentThread:
    thread_id: str
    channel_id: str | None
    video_id: str | None
    top_level: YouTubeComment
    replies: tuple[YouTubeComment, ...]
    total_reply_count: int
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class CommentThreadPage:
    threads: tuple[CommentThread, ...]
    next_page_token: str | None
    total_results: int | None
    raw: dict[str, Any] = field(repr=False, compare=False)
    # The answer's bytes exactly as received (``comment_threads`` fills it): what a poller keeps as evidence.
    received: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def parse(cls, body: Any, received: bytes = b"") -> CommentThreadPage:
        if not isinstance(body, dict) or not isinstance(body.get("items", []), list):
            raise ValueError("not a commentThreadListResponse")
        threads = []
        for item in body.get("items", []):
            snippet = item.get("snippet") if isinstance(item, dict) else None
            top = snippet.get("topLevelComment") if isinstance(snippet, dict) else None
            if not isinstance(top, dict):
                raise ValueError("a comment thread without snippet.topLevelComment")
            assert isinstance(snippet, dict)
            video_id = text_of(snippet.get("videoId"))
            replies_obj = item.get("replies")
            reply_items = replies_obj.get("comments", []) if isinstance(replies_obj, dict) else []
            threads.append(
                CommentThread(
                    thread_id=str(item.get("id", "")),
                    channel_id=text_of(snippet.get("channelId")),
                    video_id=video_id,
                    top_level=YouTubeComment.parse(top, video_id),
                    replies=tuple(
                        YouTubeComment.parse(r, video_id) for r in reply_items if isinstance(r, dict)
                    ),
                    total_reply_count=int(snippet.get("totalReplyCount") or 0),
                    raw=item,
                )
            )
        info = body.get("pageInfo")
        total = info.get("totalResults") if isinstance(info, dict) else None
        return cls(
            threads=tuple(threads),
            next_page_token=text_of(body.get("nextPageToken")),
            total_results=total if isinstance(total, int) else None,
            raw=body,
            received=received,
        )


class YouTubeClient:
    """Set comments' moderation status and page through a channel's comment threads."""

    platform = "youtube"

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        oauth_config: ClientConfig | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.core = HttpCore(
            "youtube", config or ClientConfig.for_platform("youtube"), read_google_error, sleep=sleep
        )
        self._oauth_config = oauth_config
        self._oauth_core: HttpCore | None = None
        self._sleep = sleep

    @property
    def oauth_core(self) -> HttpCore:
        """Google's token endpoint (``oauth_config``, else ``STEWARD_GOOGLE_OAUTH_URL``), made on first use."""
        if self._oauth_core is None:
            config = self._oauth_config or ClientConfig.for_token_endpoint("youtube")
            self._oauth_core = HttpCore(
                "youtube", config, read_oauth_error(read_google_error), sleep=self._sleep
            )
        return self._oauth_core

    def refresh_token(self, refresh_token: str | None, client: OAuthClient) -> IssuedToken:
        """A new access token; the refresh token stays the one passed in unless Google sends a new one."""
        current = required_refresh_token("youtube", refresh_token)
        checked_client("youtube", client)
        answer = self.oauth_core.call(
            "refresh_token",
            "POST",
            "/token",
            token=None,
            form={
                "grant_type": "refresh_token",
                "refresh_token": current,
                "client_id": client.client_id,
                "client_secret": client.client_secret,
            },
            secrets=(current, client.client_secret),
        )
        return issued_token("youtube", answer, refresh_token=current)

    def check_token(self, token: str) -> str:
        """The id of the channel ``token`` acts for; PlatformRefused when the token is invalid or revoked (401)
        or reaches no channel."""
        answer = self.core.call(
            "check_token", "GET", "/channels", token=token, query={"part": "id", "mine": "true"}
        )
        items = answer.body.get("items") if isinstance(answer.body, dict) else None
        if isinstance(items, list) and not items:
            raise PlatformRefused(
                "youtube check_token was refused: the token reaches no channel",
                platform="youtube",
                operation="check_token",
                http_status=answer.status,
                reason="noChannel",
            )
        first = items[0] if isinstance(items, list) and isinstance(items[0], dict) else {}
        return account_id("youtube", answer, first.get("id"))

    def set_moderation_status(
        self, comment_ids: Sequence[str], status: ModerationStatus, token: str, *, ban_author: bool = False
    ) -> None:
        """Set ``status`` on every id, 50 a call (a failing chunk raises; earlier chunks stay applied)."""
        if status not in MODERATION_STATUSES:
            raise BadRequest(f"moderation status must be one of {', '.join(MODERATION_STATUSES)}")
        if ban_author and status != "rejected":
            raise BadRequest("banAuthor is only allowed with the rejected status")
        ids = list(dict.fromkeys(comment_ids))
        if not ids:
            raise BadRequest("no comment ids to moderate")
        for comment_id in ids:
            item_segment("youtube", comment_id)
        for start in range(0, len(ids), MAX_IDS_PER_CALL):
            query = {"id": ",".join(ids[start : start + MAX_IDS_PER_CALL]), "moderationStatus": status}
            if ban_author:
                query["banAuthor"] = "true"
            self.core.call(
                "setModerationStatus", "POST", "/comments/setModerationStatus", token=token, query=query
            )

    def comment_threads(
        self,
        channel_id: str,
        token: str,
        *,
        page_token: str | None = None,
        max_results: int = MAX_RESULTS,
        moderation_status: Literal["published", "heldForReview", "likelySpam"] | None = None,
        video_id: str | None = None,
    ) -> CommentThreadPage:
        """One page of the threads on the channel and its videos (only ``video_id``'s when given), newest
        first."""
        if not channel_id and not video_id:
            raise BadRequest("a channel id is required")
        if not 1 <= max_results <= MAX_RESULTS:
            raise BadRequest(f"max_results must be between 1 and {MAX_RESULTS}")
        query = {
            "part": "snippet,replies",
            **({"videoId": video_id} if video_id else {"allThreadsRelatedToChannelId": channel_id}),
            "order": "time",
            "maxResults": str(max_results),
        }
        if moderation_status:
            query["moderationStatus"] = moderation_status
        if page_token:
            query["pageToken"] = page_token
        answer = self.core.call("commentThreads.list", "GET", "/commentThreads", token=token, query=query)
        try:
            return CommentThreadPage.parse(answer.body, answer.raw)
        except (ValueError, TypeError, AttributeError) as exc:
            raise PlatformRefused(
                f"youtube commentThreads.list answered with an unreadable page: {exc}",
                platform="youtube",
                operation="commentThreads.list",
                http_status=answer.status,
                reason="unreadable",
            ) from None

    def iter_comment_threads(
        self,
        channel_id: str,
        token: str,
        *,
        page_token: str | None = None,
        max_pages: int | None = None,
        max_results: int = MAX_RESULTS,
    ) -> Iterator[CommentThreadPage]:
        """Pages from ``page_token`` until the last (or ``max_pages``); each page names the token of the next, so
        a caller that stops (quota, time) can store it and resume there."""
        pages = 0
        token_for_page = page_token
        while max_pages is None or pages < max_pages:
            page = self.comment_threads(channel_id, token, page_token=token_for_page, max_results=max_results)
            pages += 1
            yield page
            if not page.next_page_token:
                return
            token_for_page = page.next_page_token
