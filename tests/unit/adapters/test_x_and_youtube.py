"""X Account Activity and YouTube WebSub edge cases beyond the fixture table."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.domain.adapters import parse
from shared.domain.content import Actor, Change, ItemKind, SkipReason
from shared.errors import BadRequest
from tests.unit.adapters.support import RECEIVED, only_event, raw

ACCOUNT = "777"


def tweet(n: int, **overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "created_at": "Thu Dec 19 11:27:49 +0000 2019",
        "id": 1207623566339919872 + n,
        "id_str": str(1207623566339919872 + n),
        "text": f"reply {n}",
        "truncated": False,
        "in_reply_to_status_id_str": "1205348660982083584",
        "in_reply_to_user_id_str": ACCOUNT,
        "user": {"id": 42, "id_str": "42", "name": "A Parent", "screen_name": "parent42"},
        "timestamp_ms": "1576754869433",
    }
    value.update(overrides)
    return value


def x_delivery(**arrays: Any) -> bytes:
    return json.dumps({"for_user_id": ACCOUNT, **arrays}).encode()


def test_extended_tweet_full_text_wins_over_truncated_text() -> None:
    event = only_event("x_tweet_create_events_2.json")
    assert event.text is not None
    assert event.text.endswith("no sea takimata sanctus est Lore")
    assert "\u2026" not in event.text  # the truncated text's ellipsis is gone
    assert len(event.text) > 140


def test_html_entities_in_tweet_text_are_turned_back_into_characters() -> None:
    body = x_delivery(tweet_create_events=[tweet(1, text="A &lt;b&gt; &amp;amp; B")])
    assert parse("x", body, RECEIVED).events[0].text == "A <b> &amp; B"


def test_x_delete_event_is_a_removal_by_the_author() -> None:
    event = only_event("x_tweet_delete_events_2.json")
    assert (event.change, event.item_id, event.changed_by) == (
        Change.REMOVED,
        "601430178305220608",
        Actor.ACCOUNT,
    )
    body = x_delivery(
        tweet_delete_events=[{"status": {"id": "99", "user_id": "42"}, "timestamp_ms": "1576754869433"}]
    )
    other = parse("x", body, RECEIVED).events[0]
    assert (other.changed_by, other.actor_id, other.kind) == (Actor.AUTHOR, "42", None)


def test_tweet_classification() -> None:
    body = x_delivery(
        tweet_create_events=[
            tweet(1),  # reply to the account's thread
            tweet(2, retweeted_status={"id_str": "1"}),
            tweet(3, in_reply_to_status_id_str=None, in_reply_to_user_id_str=None),  # mention elsewhere
            tweet(4, in_reply_to_status_id_str=None, in_reply_to_user_id_str=None, is_quote_status=True),
            tweet(5, in_reply_to_status_id_str=None),  # "@account ..." addressed to the account
            tweet(
                6, in_reply_to_status_id_str=None, user={"id_str": ACCOUNT, "name": "District"}
            ),  # own post
            tweet(7, id_str=None),  # the numeric id stands in
        ]
    )
    result = parse("x", body, RECEIVED)
    kinds = {e.item_id[-1]: e.kind for e in result.events}
    assert kinds == {"3": ItemKind.REPLY, "7": ItemKind.COMMENT, "8": ItemKind.POST, "9": ItemKind.REPLY}
    assert [(s.reason, s.detail) for s in result.skipped] == [
        (SkipReason.RETWEET, "a retweet"),
        (SkipReason.MENTION_ELSEWHERE, "a mention in someone else's tweet"),
        (SkipReason.MENTION_ELSEWHERE, "a quote tweet"),
    ]
    own = next(e for e in result.events if e.kind is ItemKind.POST)
    assert own.author_is_account is True
    assert own.post_id == own.item_id


def test_other_x_event_arrays_are_skipped_one_per_element() -> None:
    body = x_delivery(
        favorite_events=[{}, {}],
        follow_events=[{}],
        user_has_blocked=False,
        users={"1": {}},
        tweet_create_events=[tweet(1)],
    )
    result = parse("x", body, RECEIVED)
    assert len(result.events) == 1
    assert [(s.kind, s.location) for s in result.skipped] == [
        ("favorite_events", "favorite_events[0]"),
        ("favorite_events", "favorite_events[1]"),
        ("follow_events", "follow_events[0]"),
    ]
    assert set(result.skip_counts()) == {SkipReason.UNSUPPORTED_EVENT}


def test_a_bad_tweet_does_not_spoil_its_siblings() -> None:
    body = x_delivery(
        tweet_create_events=[tweet(1, user=None), tweet(2, timestamp_ms="soon"), 5, tweet(3)],
        tweet_delete_events=[{"status": {}}, {"status": {"id": "5"}, "timestamp_ms": 1576754869433}],
    )
    result = parse("x", body, RECEIVED)
    assert [e.item_id for e in result.events] == [str(1207623566339919875), "5"]
    assert [e.location for e in result.errors] == [
        "tweet_create_events[0]",
        "tweet_create_events[1]",
        "tweet_create_events[2]",
        "tweet_delete_events[0]",
    ]


def test_x_shape_problems_are_bad_requests() -> None:
    with pytest.raises(BadRequest, match="for_user_id is missing"):
        parse("x", json.dumps({"tweet_create_events": []}).encode(), RECEIVED)
    with pytest.raises(BadRequest, match="'tweet_create_events' must be a list"):
        parse("x", x_delivery(tweet_create_events={"id": 1}), RECEIVED)
    with pytest.raises(BadRequest, match="must be a JSON object"):
        parse("x", b"[1, 2]", RECEIVED)


# --------------------------------------------------------------------------------------------- YouTube
FEED = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns="http://www.w3.org/2005/Atom"
      xmlns:at="http://purl.org/atompub/tombstones/1.0">{body}</feed>"""


def test_youtube_deleted_entry_is_a_removal() -> None:
    event = only_event("yt_websub_deleted_1.xml")
    assert (event.change, event.item_id, event.account_id, event.kind) == (
        Change.REMOVED,
        "qX0wVo5GE6A",
        "UCLozjflf3i84bu_2jLTK2rA",
        ItemKind.VIDEO,
    )


def test_youtube_upload_and_title_edit_of_the_same_video_make_two_versions() -> None:
    upload = only_event("yt_websub_upload_1.xml")
    edited_xml = (
        raw("yt_websub_upload_1.xml")
        .replace(b"<title>SEX EDUCATION Season 3 Teaser (2021)</title>", b"<title>Renamed</title>")
        .replace(
            b"<updated>2021-07-19T15:40:45.613264165+00:00</updated>\n",
            b"<updated>2021-07-20T09:00:00+00:00</updated>\n",
        )
    )
    edit = parse("youtube", edited_xml, RECEIVED).events[0]
    assert (upload.change, edit.change) == (Change.ADDED, Change.EDITED)
    assert edit.created_at == upload.created_at
    assert edit.text == "Renamed"


def test_youtube_entry_problems_are_per_entry() -> None:
    body = FEED.format(
        body="<entry><title>no id</title></entry>"
        "<entry><yt:videoId>v1</yt:videoId><title>no channel</title></entry>"
        '<at:deleted-entry ref="tag:other" when="2020-05-01T16:58:14+00:00"/>'
        '<at:deleted-entry ref="yt:video:v2"/>'
        "<entry><id>yt:video:v3</id><author><uri>https://www.youtube.com/channel/UCx</uri></author>"
        "<published>2021-02-01T21:03:26+00:00</published></entry>"
    ).encode()
    result = parse("youtube", body, RECEIVED)
    assert [e.location for e in result.errors] == [
        "entry[0]",
        "entry[1]",
        "deleted-entry[0]",
        "deleted-entry[1]",
    ]
    assert "no yt:videoId" in result.errors[0].message
    assert "names no channel" in result.errors[1].message
    (event,) = result.events
    assert (event.item_id, event.account_id, event.text, event.change) == ("v3", "UCx", None, Change.ADDED)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE feed SYSTEM "http://example.invalid/x.dtd">
<feed xmlns="http://www.w3.org/2005/Atom"/>"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (BILLION_LAUGHS, "DOCTYPE or ENTITY declaration"),
        (EXTERNAL, "DOCTYPE or ENTITY declaration"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'><entry></feed>", "not well-formed XML"),
        (b'{"not": "xml"}', "not well-formed XML"),
        (b"<rss><channel/></rss>", "not an Atom feed"),
        (b"   ", "empty"),
        (b"<?xml version='1.0' encoding='UTF-16'?><feed/>", "must be UTF-8"),
        (b"<feed>\xff</feed>", "not UTF-8"),
    ],
)
def test_unsafe_or_malformed_xml_is_a_bad_request(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse("youtube", body, RECEIVED)
