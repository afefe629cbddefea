"""The polled YouTube comment adapter (source ``youtube-poll``): a commentThreads.list page → content events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from infrastructure.local.fake_platforms import FakePlatforms
from shared.domain.adapters import SOURCES, parse
from shared.domain.content import Change, ItemKind, Platform
from shared.errors import BadRequest

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CHANNEL = "UCdistrictChannel0000001"
VIDEO = "dQw4w9WgXcQ"


def comment(
    comment_id: str,
    text: str,
    *,
    published: str = "2026-02-27T10:00:00Z",
    updated: str | None = None,
    parent: str | None = None,
    author: str = "UCparent000000000000001",
    **extra: Any,
) -> dict[str, Any]:
    snippet: dict[str, Any] = {
        "channelId": CHANNEL,
        "videoId": VIDEO,
        "textDisplay": text,
        "textOriginal": text,
        "authorDisplayName": "A Parent",
        "authorChannelId": {"value": author},
        "moderationStatus": "published",
        "publishedAt": published,
        "updatedAt": updated or published,
        **extra,
    }
    if parent:
        snippet["parentId"] = parent
    return {"kind": "youtube#comment", "etag": "e", "id": comment_id, "snippet": snippet}


def thread(top: dict[str, Any], *replies: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = {
        "kind": "youtube#commentThread",
        "etag": "t",
        "id": top["id"],
        "snippet": {"channelId": CHANNEL, "videoId": VIDEO, "topLevelComment": top, "totalReplyCount": 0},
    }
    if replies:
        value["replies"] = {"comments": list(replies)}
    return value


def page(*threads: dict[str, Any], **extra: Any) -> bytes:
    body = {"kind": "youtube#commentThreadListResponse", "etag": "p", **extra, "items": list(threads)}
    return json.dumps(body).encode()


def test_a_top_level_comment_and_its_replies_become_comment_and_reply_events() -> None:
    # Given a thread with a parent's comment, a reply by another parent and a reply by the channel itself
    top = comment("UgzTop", "When is the band concert?")
    reply = comment("UgzTop.r1", "Friday at 7", published="2026-02-27T11:00:00Z", parent="UgzTop")
    own = comment("UgzTop.r2", "Friday, 7 pm, gym", published="2026-02-27T12:00:00Z", author=CHANNEL)
    # When the polled page is parsed
    result = parse("youtube-poll", page(thread(top, reply, own)), RECEIVED)
    # Then each comment is one event on the channel
    assert not result.errors
    assert not result.skipped
    first, second, third = result.events
    assert (first.platform, first.account_id, first.item_id) == (Platform.YOUTUBE, CHANNEL, "UgzTop")
    assert (first.kind, first.change, first.post_id, first.parent_id) == (
        ItemKind.COMMENT,
        Change.ADDED,
        VIDEO,
        VIDEO,
    )
    assert first.occurred_at == first.created_at == datetime(2026, 2, 27, 10, tzinfo=UTC)
    assert first.author is not None
    assert first.author.id == "UCparent000000000000001"
    assert first.author.name == "A Parent"
    assert first.author_is_account is False
    assert first.text == "When is the band concert?"
    assert first.url == f"https://www.youtube.com/watch?v={VIDEO}&lc=UgzTop"
    assert (second.kind, second.parent_id, second.post_id) == (ItemKind.REPLY, "UgzTop", VIDEO)
    # A reply without parentId in its snippet still hangs under the thread's top-level comment.
    assert (third.kind, third.parent_id, third.author_is_account) == (ItemKind.REPLY, "UgzTop", True)
    assert [p.location for p in result.parsed] == [
        "items[0].topLevelComment",
        "items[0].replies.comments[0]",
        "items[0].replies.comments[1]",
    ]


def test_an_updated_at_later_than_published_at_is_an_edit_at_that_time() -> None:
    edited = comment("UgzEdit", "fixed typo", updated="2026-02-28T09:30:00Z")
    (event,) = parse("youtube-poll", page(thread(edited)), RECEIVED).events
    assert event.change is Change.EDITED
    assert event.occurred_at == datetime(2026, 2, 28, 9, 30, tzinfo=UTC)
    assert event.created_at == datetime(2026, 2, 27, 10, tzinfo=UTC)


def test_the_same_comment_on_two_different_pages_is_the_same_event() -> None:
    # Pages overlap from one poll to the next: etags, page tokens and neighbours differ, the events do not.
    top = comment("UgzSame", "same words")
    once = parse("youtube-poll", page(thread(top)), RECEIVED).events
    again = parse(
        "youtube-poll",
        page(
            thread(comment("UgzNew", "newer", published="2026-02-28T10:00:00Z")),
            thread(top),
            nextPageToken="x",
        ),
        datetime(2026, 3, 2, tzinfo=UTC),
    ).events
    assert once[0].event_id == again[1].event_id


def test_a_thread_that_cannot_be_read_spoils_none_of_its_siblings() -> None:
    broken = {"kind": "youtube#commentThread", "id": "UgzBroken", "snippet": {"channelId": CHANNEL}}
    nameless = thread(comment("UgzNoChannel", "?"))
    del nameless["snippet"]["channelId"]
    del nameless["snippet"]["topLevelComment"]["snippet"]["channelId"]
    bad_time = thread(comment("UgzBadTime", "?", published="yesterday"))
    good = thread(comment("UgzGood", "fine"))
    result = parse("youtube-poll", page(broken, nameless, bad_time, good), RECEIVED)
    assert [e.item_id for e in result.events] == ["UgzGood"]
    assert [e.location for e in result.errors] == [
        "items[0]",
        "items[1].topLevelComment",
        "items[2].topLevelComment",
    ]
    assert "topLevelComment" in result.errors[0].message
    assert "names no channel" in result.errors[1].message


def test_missing_times_fall_back_to_the_receive_time_and_text_display_stands_in() -> None:
    bare = comment("UgzBare", "shown text")
    for key in ("publishedAt", "updatedAt", "textOriginal"):
        del bare["snippet"][key]
    (event,) = parse("youtube-poll", page(thread(bare)), RECEIVED).events
    assert event.time_estimated is True
    assert event.occurred_at == RECEIVED
    assert event.text == "shown text"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"<feed/>", "not JSON"),
        (b"[]", "JSON object"),
        (b'{"kind": "youtube#videoListResponse", "items": []}', "youtube#videoListResponse"),
        (b'{"items": {}}', "'items' must be a list"),
    ],
)
def test_what_is_not_a_comment_thread_page_is_a_bad_request(raw: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse("youtube-poll", raw, RECEIVED)


def test_youtube_poll_is_a_source_of_its_own() -> None:
    assert "youtube-poll" in SOURCES
    # The WebSub adapter does not read a comment page, and the comment adapter does not read a WebSub feed.
    with pytest.raises(BadRequest):
        parse("youtube", page(), RECEIVED)
    assert parse("youtube-poll", page(), RECEIVED).outcomes == ()


def test_the_page_the_fake_platform_answers_is_read_whole() -> None:
    # Given comments seeded on the fake YouTube (its commentThreads answer, built without a server)
    fake = FakePlatforms()
    top = fake.seed_comment(
        "youtube", account_id=CHANNEL, post_id=VIDEO, text="Go team!", created_time=1_772_000_000
    )
    fake.seed_comment(
        "youtube",
        account_id=CHANNEL,
        post_id=VIDEO,
        text="Yes!",
        parent_id=top.comment_id,
        created_time=1_772_000_100,
    )
    body = fake._threads_page({"part": "snippet,replies", "allThreadsRelatedToChannelId": CHANNEL})
    # When it is parsed as polled
    result = parse("youtube-poll", json.dumps(body).encode(), RECEIVED)
    # Then the comment and its reply are recorded on the channel
    assert not result.errors
    comment_event, reply_event = result.events
    assert (comment_event.item_id, comment_event.kind, comment_event.text) == (
        top.comment_id,
        ItemKind.COMMENT,
        "Go team!",
    )
    assert (reply_event.kind, reply_event.parent_id, reply_event.account_id) == (
        ItemKind.REPLY,
        top.comment_id,
        CHANNEL,
    )
    assert comment_event.occurred_at == datetime.fromtimestamp(1_772_000_000, UTC)
