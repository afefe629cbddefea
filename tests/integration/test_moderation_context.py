"""The author's recent comments the repetition rule reads: the last day's, from the author index, however many
older comments the author has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infrastructure.local.provision import Provisioned
from shared import moderate
from shared.domain.content import Change, ContentEvent, apply_event
from shared.store.content_store import ContentStore

PAGE = "1234567890321"
AUTHOR = "77001"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
REPEATED = "Please fix the drop off line at the north entrance before winter"


def comment(item: str, text: str, at: datetime, author: str = AUTHOR) -> ContentEvent:
    fields: dict[str, Any] = {
        "platform": "facebook",
        "account_id": PAGE,
        "item_id": item,
        "change": Change.ADDED,
        "occurred_at": at,
        "kind": "comment",
        "text": text,
        "post_id": "post-1",
        "created_at": at,
        "author": {"id": author, "name": "A Parent"},
    }
    return ContentEvent.create(**fields)


def index(*events: ContentEvent) -> None:
    store = ContentStore()
    for event in events:
        store.save(apply_event(None, event).history, None)


@pytest.fixture
def older_comments(moto_env: Provisioned) -> None:
    """More comments by the author, all from last week, than the context reads (CONTEXT_LIMIT)."""
    week_ago = NOW - timedelta(days=7)
    index(
        *(
            comment(
                f"old-{n}", f"Old comment number {n} about the lunch menu", week_ago + timedelta(minutes=n)
            )
            for n in range(moderate.CONTEXT_LIMIT + 5)
        )
    )


@pytest.mark.usefixtures("older_comments")
def test_the_context_is_the_last_day_of_the_authors_comments_however_many_older_ones() -> None:
    index(
        comment("recent-1", REPEATED, NOW - timedelta(hours=3)),
        comment("recent-2", REPEATED + "!", NOW - timedelta(hours=1)),
        comment("other-author", REPEATED, NOW - timedelta(hours=2), author="77002"),
        comment("too-old", REPEATED, NOW - moderate.CONTEXT_WINDOW - timedelta(minutes=1)),
    )
    third = comment("recent-3", REPEATED, NOW)
    history = apply_event(None, third).history
    index(third)
    recent = moderate.RecentTexts(history)
    assert sorted(recent) == sorted([REPEATED, REPEATED + "!"])  # newest first from the index; not itself
    outcome = moderate.moderate_version(history, third, now=NOW)
    assert [case.rule_id for case in outcome.cases] == ["spam-repetition"]
    assert outcome.hidden == []  # a review, not a hide


@pytest.mark.usefixtures("older_comments")
def test_a_comment_repeated_only_last_week_opens_no_case() -> None:
    event = comment("new", "Old comment number 3 about the lunch menu", NOW)
    history = apply_event(None, event).history
    index(event)
    assert list(moderate.RecentTexts(history)) == []
    assert moderate.moderate_version(history, event, now=NOW).cases == []
