"""Every real delivery in tests/fixtures/webhooks parses to the expected normalized events or skips.

The table names, for each fixture file, what each of its changes must become. A fixture added to the folder
without an expectation here fails ``test_every_fixture_has_an_expectation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.domain.content import (
    Actor,
    Change,
    ItemKind,
    MediaRef,
    ParsedEvent,
    Platform,
    SkippedEvent,
    SkipReason,
)
from tests.unit.adapters.support import fixture_files, parse_fixture

FB_PHOTO = (
    "https://scontent-fra3-1.xx.fbcdn.net/v/t31.0-8/16715996_472849323104563_2289972788116415727_o.jpg"
    "?oh=7e0959913ff772d51e17b6d2bdebf44f&oe=593B77BB"
)


@dataclass(frozen=True)
class Ev:
    location: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Skip:
    location: str
    reason: SkipReason
    kind: str
    item_id: str | None = None


def at(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


PAGE = "1234567890321"
FB_COMMENT_SHARED = {
    "platform": Platform.FACEBOOK,
    "account_id": PAGE,
    "item_id": "901097836652708_903438993085259",
    "change": Change.ADDED,
    "kind": ItemKind.COMMENT,
    "parent_id": "1234567890321_901097836652708",
    "post_id": "1234567890321_901097836652708",
    "author": {"id": PAGE, "name": "Tester", "handle": None},
    "author_is_account": True,  # the Page commenting on its own post: kept, marked
    "text": "and the next one",
    "created_at": at(2015, 12, 3, 9, 30, 3),
    "occurred_at": at(2015, 12, 3, 9, 30, 3),
}
THAI = {
    "platform": Platform.FACEBOOK,
    "account_id": "889083480945134",
    "item_id": "122103846645077607_1490822195371767",
    "change": Change.ADDED,
    "kind": ItemKind.COMMENT,
    "author": {"id": "25617669544483307", "name": "Kiriyah Rz", "handle": None},
    "author_is_account": False,
    "text": "\u0e2a\u0e39\u0e49\u0e46\u0e46\u0e46",
}
EDITED = {
    "platform": Platform.FACEBOOK,
    "account_id": PAGE,
    "item_id": "900728623356296_900744590021366",
    "change": Change.EDITED,
    "kind": ItemKind.COMMENT,
    "parent_id": "1234567890321_900728623356296",
    "text": "Let's see the Webhooks in action :D",
    "occurred_at": at(2015, 11, 26, 16, 35, 37),
}
HIDE = {
    "platform": Platform.FACEBOOK,
    "item_id": "900728623356296_900744590021366",
    "kind": ItemKind.COMMENT,
    "changed_by": Actor.ACCOUNT,
    "actor_id": PAGE,
    "author": None,  # `from` on a state change is not taken as the author
    "text": "and the next one",
    "occurred_at": at(2016, 7, 7, 12, 29, 22),
}
IG_COMMENT = {
    "platform": Platform.INSTAGRAM,
    "account_id": "0",
    "item_id": "123456789",
    "change": Change.ADDED,
}
YT_UPLOAD_1 = {
    "platform": Platform.YOUTUBE,
    "account_id": "UCzNWVDZQ55bjq8uILZ7_wyQ",
    "item_id": "KXjiJpsl3d8",
    "change": Change.ADDED,
    "kind": ItemKind.VIDEO,
    "post_id": "KXjiJpsl3d8",
    "author": {"id": "UCzNWVDZQ55bjq8uILZ7_wyQ", "name": "FRESH Movie Trailers", "handle": None},
    "author_is_account": True,
    "text": "SEX EDUCATION Season 3 Teaser (2021)",
    "occurred_at": at(2021, 7, 19, 15, 40, 30),
    "created_at": at(2021, 7, 19, 15, 40, 30),
    "url": "https://www.youtube.com/watch?v=KXjiJpsl3d8",
}

EXPECTED: dict[str, list[Ev | Skip]] = {
    "fb_batch_two_entries_1.json": [
        Skip("entry[0].changes[0]", SkipReason.UNSUPPORTED_FIELD, "parking"),
        Skip("entry[1].changes[0]", SkipReason.UNSUPPORTED_FIELD, "payment_options"),
    ],
    "fb_feed_comment_add_1.json": [Ev("entry[0].changes[0]", {**FB_COMMENT_SHARED, "media": ()})],
    # Legacy shape: numeric sender_id and sender_name normalize to the same author.
    "fb_feed_comment_add_2.json": [Ev("entry[0].changes[0]", {**FB_COMMENT_SHARED, "media": ()})],
    "fb_feed_comment_add_3.json": [
        Ev("entry[0].changes[0]", {**FB_COMMENT_SHARED, "media": (MediaRef(kind="photo", url=FB_PHOTO),)})
    ],
    "fb_feed_comment_add_4.json": [
        Ev(
            "entry[0].changes[0]",
            {
                **FB_COMMENT_SHARED,
                "media": (MediaRef(kind="video", url="https://example.fbcdn.net/video.mp4"),),
            },
        )
    ],
    "fb_feed_comment_add_5_reply.json": [
        Ev(
            "entry[0].changes[0]",
            {
                "account_id": "448242228374517",
                "item_id": "122131676912594941_1213590066982748",
                "kind": ItemKind.REPLY,
                "parent_id": "122131676912594941_542072878449250",  # a comment, not the post
                "post_id": "448242228374517_122131676912594941",
                "author": {"id": "448242228374517", "name": "SuperTester", "handle": None},
                "text": "meow 2",
                "occurred_at": at(2025, 3, 22, 18, 20, 4),
            },
        )
    ],
    "fb_feed_comment_add_6_sticker_no_message.json": [
        Ev(
            "entry[0].changes[0]",
            {
                "item_id": "122103846645077607_1354207589618104",
                "kind": ItemKind.COMMENT,
                "text": None,
                "media": (),
                "author": {"id": "25617669544483307", "name": "Kiriyah Rz", "handle": None},
                "author_is_account": False,
            },
        )
    ],
    "fb_feed_comment_add_7_thai_meta_escaped.DERIVED.json": [Ev("entry[0].changes[0]", THAI)],
    "fb_feed_comment_add_7_thai_utf8.json": [Ev("entry[0].changes[0]", THAI)],
    "fb_feed_comment_edited_1.json": [Ev("entry[0].changes[0]", {**EDITED, "media": ()})],
    "fb_feed_comment_edited_2.json": [
        Ev("entry[0].changes[0]", {**EDITED, "media": (MediaRef(kind="photo", url=FB_PHOTO),)})
    ],
    "fb_feed_comment_hide_1.json": [Ev("entry[0].changes[0]", {**HIDE, "change": Change.HIDDEN})],
    "fb_feed_comment_unhide_1.json": [Ev("entry[0].changes[0]", {**HIDE, "change": Change.UNHIDDEN})],
    "fb_feed_comment_remove_1.json": [
        Ev(
            "entry[0].changes[0]",
            {
                "item_id": "905578656204626_905579239537901",
                "change": Change.REMOVED,
                "kind": ItemKind.COMMENT,
                "text": None,
                "changed_by": Actor.ACCOUNT,  # `from` is the Page
                "actor_id": PAGE,
                "occurred_at": at(2016, 1, 6, 19, 6, 22),  # no created_time: the entry time
                "created_at": None,
            },
        )
    ],
    "fb_feed_post_add_docs_array_wrapper.json": [
        Ev(
            "[0].entry[0].changes[0]",
            {
                "account_id": "{page-id}",
                "item_id": "{page-post-id}",
                "kind": ItemKind.POST,
                "post_id": "{page-post-id}",
                "parent_id": None,
                "author": {"id": "{user-id}", "name": "Cinderella Hoover", "handle": None},
                "author_is_account": False,
                "text": "It's Thursday and I want to eat cake.",
            },
        )
    ],
    "fb_feed_post_hide_1.json": [
        Ev(
            "entry[0].changes[0]",
            {
                "item_id": "1234567890321_7293787835232",
                "kind": ItemKind.POST,
                "change": Change.HIDDEN,
                "changed_by": Actor.ACCOUNT,
                "actor_id": "8423678347823",  # a JSON number in the payload
                "text": "Let's check this",
                "occurred_at": at(2016, 7, 7, 11, 20, 9),
            },
        )
    ],
    "fb_feed_reaction_add_on_comment_1.json": [
        Skip("entry[0].changes[0]", SkipReason.REACTION, "feed:reaction", "1234567890321_1264545546974600")
    ],
    "fb_feed_status_add_1.json": [
        Skip("entry[0].changes[0]", SkipReason.STATUS_UPDATE, "feed:status", "1234567890321_930145403745849")
    ],
    "fb_mention_comment_add_1.json": [
        Skip("entry[0].changes[0]", SkipReason.MENTION_ELSEWHERE, "mention", "7363534231324_3754798971271444")
    ],
    "ig_comments_1.json": [
        Ev(
            "entry[0].changes[0]",
            {
                **IG_COMMENT,
                "kind": ItemKind.REPLY,
                "parent_id": "987654321",
                "post_id": "76543987",
                "author": {"id": "1234536447", "name": None, "handle": "testuser"},
                "author_is_account": False,
                "text": "This is an example.",
                "surface": "FEED",
                "occurred_at": at(2018, 2, 23, 15, 21, 47),
            },
        )
    ],
    "ig_comments_2.json": [
        Ev(
            "entry[0].changes[0]",
            {
                **IG_COMMENT,
                "kind": ItemKind.COMMENT,
                "author": None,
                "post_id": None,
                "text": "This is an example.",
            },
        )
    ],
    "ig_comments_3_reels_es.json": [
        Ev(
            "entry[0].changes[0]",
            {
                "platform": Platform.INSTAGRAM,  # no `object`: the `comments` field tells
                "account_id": "17841478854980502",
                "item_id": "18057496505389779",
                "kind": ItemKind.COMMENT,
                "parent_id": "17893439049281758",
                "post_id": "17893439049281758",
                "author": {"id": "2978593885678283", "name": None, "handle": "lean396"},
                "text": "Hola, \u00bfcu\u00e1nto cuesta?",
                "surface": "REELS",
            },
        )
    ],
    "ig_live_comments_1.json": [
        Ev(
            "entry[0].changes[0]",
            {**IG_COMMENT, "kind": ItemKind.COMMENT, "surface": "LIVE", "text": "This is an example."},
        )
    ],
    "ig_mentions_1.json": [
        Skip("entry[0].changes[0]", SkipReason.MENTION_ELSEWHERE, "mentions", "17887498072083520")
    ],
    "x_tweet_create_events_1.json": [
        Ev(
            "tweet_create_events[0]",
            {
                "platform": Platform.X,
                "account_id": "123",
                "item_id": "1063212927510081536",
                "change": Change.ADDED,
                "kind": ItemKind.POST,  # the account's own tweet
                "post_id": "1063212927510081536",
                "author": {"id": "123", "name": "Zammad HQ", "handle": "zammadhq"},
                "author_is_account": True,
                "text": "Hey @medenhofer !  #hello1234 https://t.co/f1kffFlwpN",
                "media": (
                    MediaRef(
                        kind="photo",
                        url="https://pbs.twimg.com/media/DsFKfJRWkAAFEbo.jpg",
                        id="1063212885961248768",
                    ),
                ),
                "created_at": at(2018, 11, 15, 23, 31, 30),
                "occurred_at": datetime(2018, 11, 15, 23, 31, 30, 116000, tzinfo=UTC),
            },
        )
    ],
    "x_tweet_create_events_3_reply.json": [
        Ev(
            "tweet_create_events[0]",
            {
                "account_id": "2975699229",
                "item_id": "1207623566339919872",
                "kind": ItemKind.REPLY,
                "parent_id": "1205348660982083584",
                "post_id": None,
                "author": {"id": "1205290247124217856", "name": "pennbrooke", "handle": "pennbrooke1"},
                "author_is_account": False,
                "text": "@ScruffyMcG This is only a test.",
            },
        )
    ],
    "x_tweet_create_events_2.json": [
        Ev(
            "tweet_create_events[0]",
            {
                "account_id": "123",
                "item_id": "1065035365336141825",
                "kind": ItemKind.COMMENT,  # "@znuny ..." addressed to the account, not a reply to a status
                "parent_id": None,
                "author": {"id": "219826253", "name": "Martin Edenhofer", "handle": "medenhofer"},
                "author_is_account": False,
            },
        )
    ],
    "x_tweet_delete_events_1.json": [
        Ev(
            "tweet_delete_events[0]",
            {
                "platform": Platform.X,
                "account_id": "930524282358325248",
                "item_id": "1045405559317569537",
                "change": Change.REMOVED,
                "kind": None,
                "changed_by": Actor.ACCOUNT,  # the account deleted its own tweet
                "occurred_at": datetime(2015, 5, 21, 17, 9, 15, 593000, tzinfo=UTC),
            },
        )
    ],
    "x_tweet_delete_events_2.json": [
        Ev(
            "tweet_delete_events[0]",
            {"account_id": "3198576760", "item_id": "601430178305220608", "change": Change.REMOVED},
        )
    ],
    "yt_websub_deleted_1.xml": [
        Ev(
            "deleted-entry[0]",
            {
                "platform": Platform.YOUTUBE,
                "account_id": "UCLozjflf3i84bu_2jLTK2rA",  # only in at:by/uri
                "item_id": "qX0wVo5GE6A",
                "change": Change.REMOVED,
                "kind": ItemKind.VIDEO,
                "changed_by": Actor.UNKNOWN,
                "occurred_at": at(2020, 5, 1, 16, 58, 14),
            },
        )
    ],
    "yt_websub_docs_example.xml": [
        Ev(
            "entry[0]",
            {
                "account_id": "CHANNEL_ID",
                "item_id": "VIDEO_ID",
                "change": Change.EDITED,  # updated three days after published
                "text": "Video title",
                "created_at": at(2015, 3, 6, 21, 40, 57),
                "occurred_at": datetime(2015, 3, 9, 19, 5, 24, 552394, tzinfo=UTC),
            },
        )
    ],
    "yt_websub_updated_1.xml": [
        Ev(
            "entry[0]",
            {
                "account_id": "UCLozjflf3i84bu_2jLTK2rA",
                "item_id": "NqgaGLL508c",
                "change": Change.EDITED,
                "text": "This is a test (ignore me) - edit1",
                "author": {"id": "UCLozjflf3i84bu_2jLTK2rA", "name": "BluABK~", "handle": None},
            },
        )
    ],
    "yt_websub_upload_1.xml": [
        Ev(
            "entry[0]",
            {**YT_UPLOAD_1, "media": (MediaRef(kind="video", url=YT_UPLOAD_1["url"], id="KXjiJpsl3d8"),)},
        )
    ],
    "yt_websub_upload_2.xml": [
        Ev(
            "entry[0]",
            {
                "account_id": "UCKo6tYPZhWxgwU3prL2stfg",
                "item_id": "DVtEeotlw-o",
                "change": Change.ADDED,  # updated 19 s after published: an upload
                "text": "Ein weiterer Test",
            },
        )
    ],
}


def test_every_fixture_has_an_expectation() -> None:
    on_disk = {p.name for p in fixture_files()}
    assert on_disk, "no fixtures found: is shared/ beside the clone?"
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses_as_expected(name: str) -> None:
    # Given a real delivery / When it is parsed
    result = parse_fixture(name)

    # Then each change has exactly the expected outcome, in delivery order, and nothing failed
    assert result.errors == ()
    expected = EXPECTED[name]
    assert len(result.outcomes) == len(expected)
    for outcome, want in zip(result.outcomes, expected, strict=True):
        assert outcome.location == want.location
        if isinstance(want, Skip):
            assert isinstance(outcome, SkippedEvent), outcome
            assert (outcome.reason, outcome.kind, outcome.item_id) == (want.reason, want.kind, want.item_id)
            assert outcome.detail
        else:
            assert isinstance(outcome, ParsedEvent), outcome
            dumped = outcome.event.model_dump()
            for field, value in want.fields.items():
                got = getattr(outcome.event, field) if field == "media" else dumped[field]
                assert got == value, f"{name}: {field} is {got!r}, expected {value!r}"
            assert len(outcome.event.event_id) == 64


def test_parsing_is_deterministic() -> None:
    for path in fixture_files():
        first, second = parse_fixture(path.name), parse_fixture(path.name)
        assert first.outcomes == second.outcomes
