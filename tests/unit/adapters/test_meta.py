"""Meta (Facebook Page feed, Instagram) edge cases beyond the fixture table."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from shared.domain.adapters import parse
from shared.domain.content import ChangeError, ItemKind, ParsedEvent, Platform, SkippedEvent, SkipReason
from shared.errors import BadRequest
from tests.unit.adapters.support import RECEIVED, only_event, parse_fixture, raw

PAGE = "1029384756"


def comment_change(n: int, **overrides: Any) -> dict[str, Any]:
    value = {
        "item": "comment",
        "verb": "add",
        "comment_id": f"555_{n}",
        "post_id": f"{PAGE}_555",
        "parent_id": f"{PAGE}_555",
        "from": {"id": f"9{n}", "name": f"Parent {n}"},
        "created_time": 1761545557 + n,
        "message": f"comment number {n}",
    }
    value.update(overrides)
    return {"field": "feed", "value": value}


def delivery(*changes: Any, obj: str = "page") -> bytes:
    return json.dumps(
        {"object": obj, "entry": [{"id": PAGE, "time": 1761545600, "changes": list(changes)}]}
    ).encode()


def test_thai_escaped_and_utf8_forms_are_the_same_event() -> None:
    escaped = only_event("fb_feed_comment_add_7_thai_meta_escaped.DERIVED.json")
    utf8 = only_event("fb_feed_comment_add_7_thai_utf8.json")
    assert raw("fb_feed_comment_add_7_thai_meta_escaped.DERIVED.json") != raw(
        "fb_feed_comment_add_7_thai_utf8.json"
    )
    assert escaped.text == utf8.text == "สู้ๆๆๆ"
    assert escaped == utf8
    assert escaped.event_id == utf8.event_id


def test_legacy_sender_shape_and_current_from_shape_are_the_same_event() -> None:
    assert (
        only_event("fb_feed_comment_add_1.json").event_id == only_event("fb_feed_comment_add_2.json").event_id
    )
    # ... while a photo makes it different content
    assert (
        only_event("fb_feed_comment_add_3.json").event_id != only_event("fb_feed_comment_add_2.json").event_id
    )


def test_sticker_comment_without_message_is_kept_with_no_text() -> None:
    event = only_event("fb_feed_comment_add_6_sticker_no_message.json")
    assert event.text is None
    assert event.kind is ItemKind.COMMENT
    assert event.parent_id == event.post_id == "889083480945134_122103846645077607"


def test_reply_points_at_its_parent_comment_and_thread_root() -> None:
    event = only_event("fb_feed_comment_add_5_reply.json")
    assert event.kind is ItemKind.REPLY
    assert event.parent_id == "122131676912594941_542072878449250"
    assert event.post_id == "448242228374517_122131676912594941"


def test_a_batch_of_1000_changes_parses_fully_and_fast() -> None:
    body = delivery(*(comment_change(n) for n in range(1000)))
    started = time.perf_counter()
    result = parse("meta", body, RECEIVED)
    elapsed = time.perf_counter() - started
    assert len(result.events) == 1000
    assert result.errors == ()
    assert result.skipped == ()
    assert len({e.event_id for e in result.events}) == 1000
    assert [o.location for o in result.outcomes][:2] == ["entry[0].changes[0]", "entry[0].changes[1]"]
    assert result.events[999].text == "comment number 999"
    assert elapsed < 2.0


def test_a_bad_change_does_not_spoil_its_siblings() -> None:
    body = delivery(
        comment_change(1),
        comment_change(2, comment_id=None),  # no comment id
        "not an object",
        comment_change(3, created_time="yesterday"),
        comment_change(4, message={"not": "text"}),
        {"field": "feed"},  # no value
        comment_change(5, message="\ud800 lone surrogate"),
        comment_change(6, item="reaction"),
        comment_change(7),
    )
    result = parse("meta", body, RECEIVED)
    assert [e.item_id for e in result.events] == ["555_1", "555_7"]
    assert [s.reason for s in result.skipped] == [SkipReason.REACTION]
    errors = {e.location: e.message for e in result.errors}
    assert list(errors) == [f"entry[0].changes[{i}]" for i in (1, 2, 3, 4, 5, 6)]
    assert "comment_id is missing" in errors["entry[0].changes[1]"]
    assert "not a JSON object" in errors["entry[0].changes[2]"]
    assert "not a time" in errors["entry[0].changes[3]"]
    assert "message must be a string" in errors["entry[0].changes[4]"]
    assert "not a JSON object" in errors["entry[0].changes[5]"]
    assert "lone surrogate" in errors["entry[0].changes[6]"]
    assert all(e.platform is Platform.FACEBOOK for e in result.errors)


def test_a_bad_entry_does_not_spoil_the_other_entries() -> None:
    good = {"id": PAGE, "time": 1761545600, "changes": [comment_change(1)]}
    body = json.dumps(
        {"object": "page", "entry": [{"time": 1}, good, "x", {"id": PAGE, "changes": "no"}, {"id": PAGE}]}
    ).encode()
    result = parse("meta", body, RECEIVED)
    assert [e.item_id for e in result.events] == ["555_1"]
    assert [e.location for e in result.errors] == ["entry[0]", "entry[2]", "entry[3]", "entry[4]"]
    assert "entry[0].id is missing" in result.errors[0].message
    assert "has no 'changes' list" in result.errors[3].message


@pytest.mark.parametrize(
    ("item", "verb", "reason"),
    [
        ("reaction", "add", SkipReason.REACTION),
        ("like", "remove", SkipReason.REACTION),
        ("status", "edited", SkipReason.STATUS_UPDATE),
        ("event", "add", SkipReason.UNSUPPORTED_ITEM),
        ("rating", "add", SkipReason.UNSUPPORTED_ITEM),
        ("comment", "block", SkipReason.UNSUPPORTED_VERB),
        ("comment", "mute", SkipReason.UNSUPPORTED_VERB),
    ],
)
def test_not_content_is_skipped_with_a_reason(item: str, verb: str, reason: SkipReason) -> None:
    result = parse("meta", delivery(comment_change(1, item=item, verb=verb)), RECEIVED)
    (skip,) = result.outcomes
    assert isinstance(skip, SkippedEvent)
    assert skip.reason is reason
    assert result.skip_counts() == {reason: 1}


def test_messaging_entries_and_unknown_objects_are_skipped_not_errors() -> None:
    messaging = json.dumps({"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [{}]}]}).encode()
    (skip,) = parse("meta", messaging, RECEIVED).outcomes
    assert isinstance(skip, SkippedEvent)
    assert (skip.kind, skip.reason) == ("messaging", SkipReason.UNSUPPORTED_FIELD)

    other = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1"}, {"id": "2"}]}).encode()
    result = parse("meta", other, RECEIVED)
    assert [s.reason for s in result.skipped] == [SkipReason.UNSUPPORTED_OBJECT] * 2


def test_hide_unhide_remove_carry_who_acted() -> None:
    hidden = parse(
        "meta", delivery(comment_change(1, verb="hide", **{"from": {"id": PAGE}})), RECEIVED
    ).events[0]
    assert hidden.changed_by == "account"
    assert hidden.author is None
    by_other = parse("meta", delivery(comment_change(1, verb="remove")), RECEIVED).events[0]
    assert by_other.changed_by == "unknown"  # `from` is not the Page: the author or the Page removed it
    assert by_other.actor_id == "91"
    by_page = parse("meta", delivery(comment_change(1, verb="remove", **{"from": {"id": PAGE}})), RECEIVED)
    assert by_page.events[0].changed_by == "account"


def test_edit_time_is_the_entry_time_and_creation_time_is_kept() -> None:
    event = parse("meta", delivery(comment_change(1, verb="edited")), RECEIVED).events[0]
    assert event.occurred_at.timestamp() == 1761545600  # entry.time
    assert event.created_at is not None
    assert event.created_at.timestamp() == 1761545558


def test_missing_times_use_the_receive_time_and_keep_the_event_id_stable() -> None:
    body = json.dumps(
        {"object": "page", "entry": [{"id": PAGE, "changes": [comment_change(1, created_time=None)]}]}
    ).encode()
    first = parse("meta", body, RECEIVED).events[0]
    later = parse("meta", body, RECEIVED.replace(hour=18)).events[0]
    assert first.time_estimated
    assert first.occurred_at == RECEIVED
    assert first.event_id == later.event_id


def test_instagram_live_comment_and_reply() -> None:
    live = only_event("ig_live_comments_1.json")
    assert (live.platform, live.kind, live.surface, live.text) == (
        Platform.INSTAGRAM,
        ItemKind.COMMENT,
        "LIVE",
        "This is an example.",
    )
    reply = only_event("ig_comments_1.json")
    assert (reply.kind, reply.parent_id, reply.post_id) == (ItemKind.REPLY, "987654321", "76543987")


def test_instagram_fields_other_than_comments_are_skipped() -> None:
    body = json.dumps(
        {
            "object": "instagram",
            "entry": [{"id": "17841", "time": 1, "changes": [{"field": "story_insights"}]}],
        }
    ).encode()
    (skip,) = parse("meta", body, RECEIVED).skipped
    assert (skip.kind, skip.reason, skip.platform) == (
        "story_insights",
        SkipReason.UNSUPPORTED_FIELD,
        Platform.INSTAGRAM,
    )


def test_delivery_without_object() -> None:
    # The captured Instagram sample lost its `object`: the `comments` field tells, or the caller does.
    assert parse_fixture("ig_comments_3_reels_es.json").events[0].platform is Platform.INSTAGRAM
    assert (
        parse("instagram", raw("ig_comments_3_reels_es.json"), RECEIVED).events[0].platform
        is Platform.INSTAGRAM
    )
    ambiguous = json.dumps({"entry": [{"id": "1", "changes": [{"field": "parking"}]}]}).encode()
    with pytest.raises(BadRequest, match="no 'object'"):
        parse("meta", ambiguous, RECEIVED)


def test_object_must_match_the_platform_named_by_the_caller() -> None:
    with pytest.raises(BadRequest, match="object 'page' but was received as instagram"):
        parse("instagram", raw("fb_feed_comment_add_1.json"), RECEIVED)
    assert parse("facebook", raw("fb_feed_comment_add_1.json"), RECEIVED).events


def test_outcomes_are_typed() -> None:
    result = parse_fixture("fb_feed_comment_add_1.json")
    assert isinstance(result.outcomes[0], ParsedEvent)
    assert result.parsed[0].event == result.events[0]
    assert not any(isinstance(o, ChangeError) for o in result.outcomes)
