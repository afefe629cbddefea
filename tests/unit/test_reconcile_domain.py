"""The pure comparison of a thread as the platform lists it with the archive's view of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.content import (
    Actor,
    Author,
    Change,
    ContentEvent,
    ContentItem,
    ItemKind,
    Platform,
    build_history,
)
from shared.domain.reconcile import Listing, Seen, compare

PAGE = "1234567890321"
POST = f"{PAGE}_77"
CREATED = datetime(2026, 2, 25, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 2, 26, 12, 0, tzinfo=UTC)


def archived(
    item_id: str,
    text: str = "hello",
    *,
    kind: ItemKind = ItemKind.COMMENT,
    parent_id: str = POST,
    state: Change | None = None,
) -> ContentItem:
    events = [
        ContentEvent.create(
            platform=Platform.FACEBOOK,
            account_id=PAGE,
            item_id=item_id,
            change=Change.ADDED,
            occurred_at=CREATED,
            kind=kind,
            parent_id=parent_id,
            post_id=POST,
            text=text,
            created_at=CREATED,
        )
    ]
    if state is not None:
        events.append(
            ContentEvent.create(
                platform=Platform.FACEBOOK,
                account_id=PAGE,
                item_id=item_id,
                change=state,
                occurred_at=CREATED + timedelta(minutes=5),
                changed_by=Actor.ACCOUNT,
            )
        )
    return build_history(events).current


def seen(item_id: str, text: str = "hello", *, parent_id: str = POST, hidden: bool = False) -> Seen:
    return Seen(
        item_id=item_id,
        post_id=POST,
        parent_id=parent_id,
        text=text,
        author=Author(id="u1", name="Pat"),
        created_at=CREATED,
        hidden=hidden,
        hidden_by=Actor.ACCOUNT,
    )


def run(
    items: list[ContentItem], listed: list[Seen], partial: frozenset[str] = frozenset()
) -> list[ContentEvent]:
    return compare(Platform.FACEBOOK, PAGE, items, Listing(POST, tuple(listed), partial), NOW)


def test_nothing_changed_gives_nothing() -> None:
    assert run([archived("c1")], [seen("c1")]) == []


def test_a_comment_missing_on_the_platform_is_removed_by_an_unknown_hand_at_an_estimated_time() -> None:
    (event,) = run([archived("c1")], [])
    assert (event.change, event.changed_by, event.time_estimated, event.occurred_at) == (
        Change.REMOVED,
        Actor.UNKNOWN,
        True,
        NOW,
    )
    # The time is left out of the id: a later run makes the same event.
    (later,) = compare(Platform.FACEBOOK, PAGE, [archived("c1")], Listing(POST, ()), NOW + timedelta(hours=1))
    assert later.event_id == event.event_id


def test_removed_items_and_the_post_itself_are_not_judged() -> None:
    items = [archived("c1", state=Change.REMOVED), archived(POST, kind=ItemKind.POST, parent_id=POST)]
    assert run(items, []) == []


def test_a_hidden_comment_that_disappears_is_removed() -> None:
    (event,) = run([archived("c1", state=Change.HIDDEN)], [])
    assert event.change is Change.REMOVED


def test_replies_under_a_partially_listed_parent_are_not_judged() -> None:
    reply = archived("r1", kind=ItemKind.REPLY, parent_id="c1")
    assert run([archived("c1"), reply], [seen("c1")], frozenset({"c1"})) == []
    (event,) = run([archived("c1"), reply], [seen("c1")])
    assert (event.item_id, event.change) == ("r1", Change.REMOVED)


def test_a_changed_text_is_an_edit_and_whitespace_or_normalization_is_not() -> None:
    (event,) = run([archived("c1", "old")], [seen("c1", "new")])
    assert (event.change, event.text, event.time_estimated, event.changed_by) == (
        Change.EDITED,
        "new",
        True,
        None,
    )
    assert run([archived("c1", "caf\u00e9")], [seen("c1", "cafe\u0301 ")]) == []


def test_an_edit_at_a_time_the_platform_gives_keeps_it() -> None:
    at = CREATED + timedelta(hours=2)
    listed = Seen(item_id="c1", post_id=POST, parent_id=POST, text="new", edited_at=at)
    (event,) = run([archived("c1", "old")], [listed])
    assert (event.occurred_at, event.time_estimated) == (at, False)


def test_hides_and_unhides_follow_the_platform_with_its_actor() -> None:
    (hid,) = run([archived("c1")], [seen("c1", hidden=True)])
    assert (hid.change, hid.changed_by) == (Change.HIDDEN, Actor.ACCOUNT)
    (unhid,) = run([archived("c1", state=Change.HIDDEN)], [seen("c1")])
    assert unhid.change is Change.UNHIDDEN


def test_a_comment_the_archive_lacks_is_added_with_the_platform_time() -> None:
    added, hidden = run([], [seen("c2", "late", parent_id="c1", hidden=True)])
    assert (added.change, added.kind, added.parent_id, added.post_id, added.text, added.occurred_at) == (
        Change.ADDED,
        ItemKind.REPLY,
        "c1",
        POST,
        "late",
        CREATED,
    )
    assert added.time_estimated is False
    assert added.author_is_account is False
    assert hidden.change is Change.HIDDEN
    (top,) = run([], [seen("c3")])
    assert top.kind is ItemKind.COMMENT
