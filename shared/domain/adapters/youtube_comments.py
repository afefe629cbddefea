"""YouTube comments as polled: one ``commentThreads.list`` page (``youtube#commentThreadListResponse``), kept as
received by the poller (source ``youtube-poll``; YouTube has no comment push).

Judgement calls:

* The account is the channel the thread belongs to (the thread's ``snippet.channelId``, else its top-level
  comment's). A thread naming no channel is a :class:`~shared.domain.content.ChangeError`; its siblings count.
* A top-level comment is a ``comment`` on its video (``post_id`` and ``parent_id`` are the ``videoId``, as for a
  Facebook or Instagram top-level comment); each reply the page carries is a ``reply`` whose ``parent_id`` is
  its ``snippet.parentId`` (the top-level comment) and whose ``post_id`` is the video. A comment on the channel
  itself (no video) has neither.
* ``publishedAt`` is the creation time. An ``updatedAt`` later than ``publishedAt`` means the comment was edited:
  the page shows only the text after the edit, so it is one ``edited`` event at ``updatedAt`` (a first sighting
  of an edited comment then becomes its creation in the history, as for WebSub). Otherwise it is ``added`` at
  ``publishedAt``; without either time the receive time stands in (``time_estimated``).
* Text is ``textOriginal`` (what the author wrote), else ``textDisplay``. The author is ``authorChannelId.value``
  and ``authorDisplayName``; a comment by the channel itself is ``author_is_account``.
* The page lists published comments only; moderation states are Steward's own to record (a comment held for
  review simply stops being listed), so ``moderationStatus`` makes no event.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from shared.domain.adapters._common import (
    ChangeProblem,
    JsonObject,
    as_object,
    collect,
    json_type,
    opt_id,
    opt_str,
    opt_time,
    req_id,
)
from shared.domain.content import (
    Author,
    Change,
    ChangeError,
    ContentEvent,
    ItemKind,
    Outcome,
    ParsedEvent,
    Platform,
)
from shared.errors import BadRequest

SOURCE = "youtube-poll"
LIST_KIND = "youtube#commentThreadListResponse"
WATCH_URL = "https://www.youtube.com/watch"


def parse_youtube_comments(doc: Any, received_at: datetime) -> list[Outcome]:
    """One outcome per comment on the page: each thread's top-level comment, then its replies."""
    if not isinstance(doc, dict):
        raise BadRequest(f"YouTube comment page must be a JSON object, got {json_type(doc)}")
    kind = doc.get("kind")
    if kind is not None and kind != LIST_KIND:
        raise BadRequest(f"YouTube comment page is a {str(kind)[:64]!r}, not a {LIST_KIND}")
    items = doc.get("items")
    if not isinstance(items, list):
        raise BadRequest(f"YouTube comment page 'items' must be a list, got {json_type(items)}")
    outcomes: list[Outcome] = []
    for i, item in enumerate(items):
        location = f"items[{i}]"
        replies: list[Any] = []
        try:
            thread = as_object(item, location)
            snippet = as_object(thread.get("snippet"), f"{location}.snippet")
            top = as_object(snippet.get("topLevelComment"), f"{location}.snippet.topLevelComment")
            replies = _replies(thread, location)
        except ChangeProblem as exc:
            outcomes.append(ChangeError(location=location, message=str(exc), platform=Platform.YOUTUBE))
            continue
        video_id = opt_id(snippet.get("videoId"), f"{location}.snippet.videoId")
        channel_id = opt_id(snippet.get("channelId"), f"{location}.snippet.channelId")
        read = partial(_comment, top, channel_id, video_id, None, received_at, f"{location}.topLevelComment")
        collect(outcomes, f"{location}.topLevelComment", Platform.YOUTUBE, read)
        for j, reply in enumerate(replies):
            where = f"{location}.replies.comments[{j}]"
            collect(
                outcomes,
                where,
                Platform.YOUTUBE,
                partial(_comment, reply, channel_id, video_id, _id_of(top), received_at, where),
            )
    return outcomes


def _replies(thread: JsonObject, location: str) -> list[Any]:
    holder = thread.get("replies")
    if holder is None:
        return []
    comments = as_object(holder, f"{location}.replies").get("comments", [])
    if not isinstance(comments, list):
        raise ChangeProblem(f"{location}.replies.comments must be a list, got {json_type(comments)}")
    return comments


def _id_of(comment: JsonObject) -> str | None:
    value = comment.get("id")
    return value if isinstance(value, str) and value else None


def _comment(
    raw: Any,
    thread_channel: str | None,
    video_id: str | None,
    thread_top: str | None,
    received_at: datetime,
    location: str,
) -> Outcome:
    comment = as_object(raw, location)
    comment_id = req_id(comment.get("id"), f"{location}.id")
    where = f"{location}.snippet"
    snippet = as_object(comment.get("snippet"), where)
    channel_id = thread_channel or opt_id(snippet.get("channelId"), f"{where}.channelId")
    if channel_id is None:
        raise ChangeProblem(f"{location} names no channel (snippet.channelId)")
    video_id = video_id or opt_id(snippet.get("videoId"), f"{where}.videoId")
    parent_id = opt_id(snippet.get("parentId"), f"{where}.parentId")
    is_reply = thread_top is not None or parent_id is not None
    if is_reply and parent_id is None:
        parent_id = thread_top
    author_id: str | None = None
    author_ref = snippet.get("authorChannelId")
    if isinstance(author_ref, dict):
        author_id = opt_id(author_ref.get("value"), f"{where}.authorChannelId.value")
    elif author_ref is not None:
        author_id = opt_id(author_ref, f"{where}.authorChannelId")
    name = opt_str(snippet, "authorDisplayName", where)
    published = opt_time(snippet.get("publishedAt"), f"{where}.publishedAt")
    updated = opt_time(snippet.get("updatedAt"), f"{where}.updatedAt")
    occurred_at: datetime | None
    if published is not None and updated is not None and updated > published:
        change, occurred_at = Change.EDITED, updated
    else:
        change, occurred_at = Change.ADDED, published or updated
    text = opt_str(snippet, "textOriginal", where) or opt_str(snippet, "textDisplay", where)
    url = f"{WATCH_URL}?v={video_id}&lc={comment_id}" if video_id else None
    event = ContentEvent.create(
        platform=Platform.YOUTUBE,
        account_id=channel_id,
        item_id=comment_id,
        change=change,
        occurred_at=occurred_at or received_at,
        time_estimated=occurred_at is None,
        kind=ItemKind.REPLY if is_reply else ItemKind.COMMENT,
        parent_id=parent_id if is_reply else video_id,
        post_id=video_id,
        author=Author(id=author_id, name=name) if author_id or name else None,
        author_is_account=None if author_id is None else author_id == channel_id,
        text=text,
        created_at=published,
        url=url,
    )
    return ParsedEvent(location=location, event=event)
