"""Version history: the rules, and the property that any order and duplication of the same events converges."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.domain.adapters import parse
from shared.domain.content import (
    Actor,
    Change,
    ContentEvent,
    ItemHistory,
    ItemState,
    ItemVersion,
    apply_event,
    build_history,
)
from tests.unit.adapters.support import RECEIVED, parse_fixture, raw


# --------------------------------------------------------------------------------------------- event pools
def fixture_event(name: str) -> ContentEvent:
    (event,) = parse_fixture(name).events
    return event


def variant(
    verb: str, entry_time: int, *, message: str | None = "and the next one", **value: Any
) -> ContentEvent:
    """The real fb_feed_comment_add_1 delivery with another verb, time or message (same comment)."""
    doc = json.loads(raw("fb_feed_comment_add_1.json"))
    entry = doc["entry"][0]
    entry["time"] = entry_time
    change = entry["changes"][0]["value"]
    change["verb"] = verb
    if verb != "add":
        change["created_time"] = 1449135003
    if message is None:
        change.pop("message")
    else:
        change["message"] = message
    change.update(value)
    (event,) = parse("meta", json.dumps(doc).encode(), RECEIVED).events
    return event


T = 1449135003
ADD = fixture_event("fb_feed_comment_add_1.json")
SAME_COMMENT_POOL = [
    ADD,
    fixture_event("fb_feed_comment_add_3.json"),  # the same comment delivered again with a photo
    variant("edited", T + 60, message="and the next one, edited"),
    variant("edited", T + 120, message="and the next one, edited twice"),
    variant("edited", T + 180, message="and the next one, edited"),  # back to an earlier text
    variant("edited", T + 180, message="and the next one, edited", photo="https://example.invalid/p.jpg"),
    variant("hide", T + 200, message=None),
    variant("unhide", T + 200, message=None),  # same second as the hide
    variant("hide", T + 240, message=None),
    variant("hide", T + 241, message=None),  # a second hide: no new state
    variant("unhide", T + 300, message=None),
    variant("remove", T + 400, message=None),
    variant("unhide", T + 500, message=None),  # after removal: nothing
    variant("edited", T + 600, message="edited after removal"),
]
REAL_EDIT_POOL = [  # the real edited / hide / unhide deliveries of comment 900728623356296_900744590021366
    fixture_event("fb_feed_comment_edited_1.json"),
    fixture_event("fb_feed_comment_edited_2.json"),
    fixture_event("fb_feed_comment_hide_1.json"),
    fixture_event("fb_feed_comment_unhide_1.json"),
]


def _x_tweet_of_the_deleted_id() -> ContentEvent:
    """The tweet that x_tweet_delete_events_1 deletes, built from the real reply delivery."""
    doc = json.loads(raw("x_tweet_create_events_3_reply.json"))
    doc["for_user_id"] = "930524282358325248"
    tweet = doc["tweet_create_events"][0]
    tweet["id_str"], tweet["id"] = "1045405559317569537", 1045405559317569537
    tweet["timestamp_ms"] = "1432228100000"  # before the deletion
    (event,) = parse("x", json.dumps(doc).encode(), RECEIVED).events
    return event


def _youtube_tombstone_of_the_edited_video() -> ContentEvent:
    tombstone = raw("yt_websub_deleted_1.xml").replace(b"qX0wVo5GE6A", b"NqgaGLL508c")
    (event,) = parse("youtube", tombstone, RECEIVED).events
    return event


X_POOL = [fixture_event("x_tweet_delete_events_1.json"), _x_tweet_of_the_deleted_id()]
YT_POOL = [fixture_event("yt_websub_updated_1.xml"), _youtube_tombstone_of_the_edited_video()]


def estimated(at_hour: int) -> ContentEvent:
    """A change without a time in its payload, received at different times: one event id."""
    doc = {
        "object": "page",
        "entry": [
            {
                "id": "1234567890321",
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "hide",
                            "comment_id": "901097836652708_903438993085259",
                            "post_id": "1234567890321_901097836652708",
                        },
                    }
                ],
            }
        ],
    }
    (event,) = parse("meta", json.dumps(doc).encode(), RECEIVED.replace(hour=at_hour)).events
    return event


ESTIMATED_POOL = [estimated(13), estimated(9), estimated(20)]


def fold(events: Sequence[ContentEvent]) -> ItemHistory:
    history: ItemHistory | None = None
    for event in events:
        history = apply_event(history, event).history
    assert history is not None
    return history


def check_invariants(history: ItemHistory) -> None:
    assert [v.version for v in history.versions] == list(range(1, len(history.versions) + 1))
    assert len({v.content_hash for v in history.versions}) == len(history.versions)
    assert ItemHistory.model_validate(history.model_dump()) == history  # every hash and id re-verifies
    assert len({e.event_id for e in history.events}) == len(history.events)


# --------------------------------------------------------------------------------------------- the property
@st.composite
def shuffled_with_duplicates(
    draw: st.DrawFn, pool: list[ContentEvent]
) -> tuple[list[ContentEvent], list[ContentEvent]]:
    chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool) + 4))
    order = draw(st.permutations(chosen))
    extra = draw(st.lists(st.sampled_from(chosen), max_size=6))
    positions = draw(
        st.lists(st.integers(0, len(order) + len(extra)), min_size=len(extra), max_size=len(extra))
    )
    delivered = list(order)
    for event, pos in zip(extra, positions, strict=True):
        delivered.insert(pos, event)
    return chosen, delivered


@pytest.mark.parametrize(
    "pool",
    [SAME_COMMENT_POOL, REAL_EDIT_POOL, ESTIMATED_POOL + SAME_COMMENT_POOL[:3], X_POOL, YT_POOL],
    ids=["synthetic", "real-edits", "estimated-times", "x-delete", "youtube"],
)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_any_order_and_duplication_converges(pool: list[ContentEvent], data: st.DataObject) -> None:
    chosen, delivered = data.draw(shuffled_with_duplicates(pool))
    canonical = build_history(chosen)
    history = fold(delivered)
    assert history == canonical
    assert fold(list(reversed(delivered))) == canonical
    check_invariants(history)


@settings(max_examples=60, deadline=None)
@given(order=st.permutations(SAME_COMMENT_POOL))
def test_every_permutation_of_the_full_pool_ends_the_same(order: list[ContentEvent]) -> None:
    history = fold(order)
    current = history.current
    assert current.state is ItemState.REMOVED
    assert current.text == "edited after removal"
    assert current.changed_by is Actor.ACCOUNT  # the Page removed it (its own comment)
    assert [v.change for v in history.versions] == [
        Change.ADDED,  # "and the next one"
        Change.ADDED,  # the same comment again with a photo: new media, a new version
        Change.EDITED,  # edited
        Change.EDITED,  # edited twice
        Change.EDITED,  # back to "edited" (text history keeps the return)
        Change.EDITED,  # + photo
        Change.HIDDEN,  # T+200 hide; the unhide in the same second follows it
        Change.UNHIDDEN,
        Change.HIDDEN,  # T+240 (T+241 is a repeat)
        Change.UNHIDDEN,  # T+300
        Change.REMOVED,  # T+400 (the unhide at T+500 does nothing)
        Change.EDITED,  # recorded, still removed
    ]
    assert history == build_history(SAME_COMMENT_POOL)


# --------------------------------------------------------------------------------------------- the rules
def test_duplicate_is_no_change() -> None:
    first = apply_event(None, ADD)
    again = apply_event(
        first.history, fixture_event("fb_feed_comment_add_2.json")
    )  # legacy shape, same event
    assert first.changed
    assert not again.changed
    assert again.history is first.history
    assert again.new_versions == ()


def test_edit_before_add_creates_the_item_and_the_add_fills_creation_fields() -> None:
    edit = variant("edited", T + 60, message="edited text", created_time=None)
    first = apply_event(None, edit)
    assert first.history.current.text == "edited text"
    assert first.history.identity.created_at is None

    second = apply_event(first.history, ADD)
    history = second.history
    assert [(v.change, v.text) for v in history.versions] == [
        (Change.ADDED, "and the next one"),
        (Change.EDITED, "edited text"),
    ]
    assert history.current.created_at == ADD.created_at
    assert history.current.edited_at == edit.occurred_at
    assert second.identity_changed
    # The edit's version keeps its content hash (only its number moved): nothing to re-archive.
    assert [v.change for v in second.new_versions] == [Change.ADDED]
    assert second.superseded == ()
    assert [(v.version, v.content_hash) for v in second.renumbered] == [
        (2, first.history.versions[0].content_hash)
    ]


def test_remove_before_add() -> None:
    removal = variant("remove", T + 400, message=None)
    first = apply_event(None, removal)
    assert first.history.current.state is ItemState.REMOVED
    assert first.history.current.text is None

    second = apply_event(first.history, ADD)
    assert [(v.change, v.state, v.text) for v in second.history.versions] == [
        (Change.ADDED, ItemState.VISIBLE, "and the next one"),
        (Change.REMOVED, ItemState.REMOVED, "and the next one"),
    ]
    # The removal version now shows the text: the old one is superseded (it stays archived as what was known).
    assert [v.content_hash for v in second.superseded] == [first.history.versions[0].content_hash]


def test_hide_and_unhide_order_by_event_time_not_arrival() -> None:
    hide, unhide = variant("hide", T + 300, message=None), variant("unhide", T + 200, message=None)
    assert fold([ADD, hide, unhide]).current.state is ItemState.HIDDEN
    assert fold([ADD, unhide, hide]).current.state is ItemState.HIDDEN
    # In the same second, hide goes first (an item starts visible), so it ends visible.
    tie_hide, tie_unhide = variant("hide", T + 200, message=None), variant("unhide", T + 200, message=None)
    assert fold([ADD, tie_unhide, tie_hide]).current.state is ItemState.VISIBLE


def test_state_event_text_stands_in_until_the_content_is_known() -> None:
    hidden = fixture_event("fb_feed_comment_hide_1.json")
    alone = apply_event(None, hidden).history
    assert (alone.current.text, alone.current.state, alone.current.changed_by) == (
        "and the next one",
        ItemState.HIDDEN,
        Actor.ACCOUNT,
    )
    with_edit = fold(REAL_EDIT_POOL)
    assert with_edit.current.text == "Let's see the Webhooks in action :D"
    assert with_edit.versions[0].change is Change.EDITED
    # The two real edits share a second: the event id breaks the tie, the same way in any order.
    last_edit = max(REAL_EDIT_POOL[:2], key=lambda e: e.event_id)
    assert with_edit.current.media == last_edit.media
    assert [v.change for v in with_edit.versions] == [
        Change.EDITED,
        Change.EDITED,
        Change.HIDDEN,
        Change.UNHIDDEN,
    ]
    assert with_edit.current.state is ItemState.VISIBLE


def test_same_content_again_makes_no_version() -> None:
    history = fold([ADD, variant("edited", T + 60)])  # edited to the same text
    assert len(history.versions) == 1
    update = apply_event(history, variant("hide", T + 90, message=None))
    assert update.changed
    assert len(update.new_versions) == 1
    repeat = apply_event(update.history, variant("hide", T + 95, message=None))
    assert repeat.changed
    assert repeat.new_versions == ()


def test_estimated_time_keeps_the_earliest_copy() -> None:
    late, early = estimated(20), estimated(9)
    assert late.event_id == early.event_id
    first = apply_event(None, late)
    second = apply_event(first.history, early)
    assert second.changed
    assert second.history.events[0].occurred_at == early.occurred_at
    assert not apply_event(second.history, late).changed


def test_versions_and_events_are_tamper_evident() -> None:
    history = fold([ADD, variant("hide", T + 90, message=None)])
    version = history.versions[0].model_dump()
    version["text"] = "something else"
    with pytest.raises(ValidationError, match="content_hash does not match"):
        ItemVersion.model_validate(version)
    event = ADD.model_dump()
    event["text"] = "something else"
    with pytest.raises(ValidationError, match="event_id does not match"):
        ContentEvent.model_validate(event)


def test_version_hash_ignores_the_number() -> None:
    history = fold([ADD])
    version = history.versions[0]
    moved = ItemVersion.model_validate({**version.model_dump(), "version": 7})
    assert moved.content_hash == version.content_hash


def test_events_of_another_item_are_refused() -> None:
    history = fold([ADD])
    with pytest.raises(ValueError, match="applied to history of"):
        apply_event(history, REAL_EDIT_POOL[0])
    with pytest.raises(ValueError, match="different items"):
        build_history([ADD, REAL_EDIT_POOL[0]])
    with pytest.raises(ValueError, match="at least one event"):
        build_history([])


def test_x_and_youtube_histories() -> None:
    deletion, tweet = X_POOL
    deleted = fold([deletion])
    assert (deleted.current.state, deleted.current.changed_by) == (ItemState.REMOVED, Actor.ACCOUNT)
    assert deleted.current.kind is None  # a deletion does not say what it deleted
    both = fold([deletion, tweet])
    assert (both.current.kind, both.current.text, both.current.state) == (
        tweet.kind,
        "@ScruffyMcG This is only a test.",
        ItemState.REMOVED,
    )

    edit, removal = YT_POOL
    for order in ([edit, removal], [removal, edit, removal]):
        video = fold(order)
        assert [v.change for v in video.versions] == [Change.EDITED, Change.REMOVED]
        assert video.current.text == "This is a test (ignore me) - edit1"
        assert video.current.state is ItemState.REMOVED
        assert video.current.created_at == edit.created_at
        assert video.current.updated_at - removal.occurred_at == timedelta(0)
