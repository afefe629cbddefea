"""Recognising the platform's echo of a moderation action Steward itself performed."""

from __future__ import annotations

from datetime import timedelta

from shared.domain.content import (
    Actor,
    Change,
    ItemState,
    PendingAction,
    Platform,
    SkippedEvent,
    SkipReason,
    apply_event,
    build_history,
    find_own_echo,
    steward_action_event,
)
from tests.unit.adapters.support import only_event

HIDE = only_event("fb_feed_comment_hide_1.json")  # a hide by the Page
COMMENT = HIDE.item_id


def action(
    change: Change = Change.HIDDEN, *, item_id: str = COMMENT, minutes: int = 0, action_id: str = "a1"
) -> PendingAction:
    return PendingAction(
        action_id=action_id,
        platform=Platform.FACEBOOK,
        account_id=HIDE.account_id,
        item_id=item_id,
        change=change,
        requested_at=HIDE.occurred_at + timedelta(minutes=minutes),
    )


def test_hide_echo_matches_the_pending_hide() -> None:
    mine = action(minutes=-1)
    assert find_own_echo(HIDE, [action(Change.REMOVED), mine, action(item_id="other")]) == mine
    skip = SkippedEvent.own_echo(HIDE, mine, "entry[0].changes[0]")
    assert (skip.reason, skip.item_id, skip.kind) == (SkipReason.OWN_ECHO, COMMENT, "comment:hidden")
    assert "a1" in skip.detail


def test_platform_second_resolution_is_allowed_for() -> None:
    assert find_own_echo(HIDE, [action(minutes=2)]) is not None  # requested "after" the echo's whole second
    assert find_own_echo(HIDE, [action(minutes=30)]) is None  # the hide happened before we asked: not ours


def test_the_earliest_matching_action_wins() -> None:
    early, late = action(minutes=-10, action_id="early"), action(minutes=-1, action_id="late")
    assert find_own_echo(HIDE, [late, early]) == early


def test_changes_by_the_author_or_other_changes_are_not_echoes() -> None:
    deletion = only_event("x_tweet_delete_events_1.json").model_copy(update={"changed_by": Actor.AUTHOR})
    x_action = PendingAction(
        action_id="x",
        platform=Platform.X,
        account_id=deletion.account_id,
        item_id=deletion.item_id,
        change=Change.REMOVED,
        requested_at=deletion.occurred_at,
    )
    assert find_own_echo(deletion, [x_action]) is None
    assert find_own_echo(only_event("fb_feed_comment_edited_1.json"), [action()]) is None
    assert find_own_echo(HIDE, []) is None


def test_recording_our_action_and_skipping_the_echo_gives_the_history_of_keeping_both() -> None:
    add = only_event("fb_feed_comment_edited_1.json")
    mine = action(minutes=-1)
    ours = steward_action_event(mine)
    assert (ours.origin, ours.changed_by, ours.change) == ("steward", Actor.ACCOUNT, Change.HIDDEN)
    assert find_own_echo(ours, [mine]) is None  # our own record is never taken for an echo

    skipped_echo = apply_event(apply_event(None, add).history, ours).history
    assert skipped_echo.current.state is ItemState.HIDDEN
    assert skipped_echo.versions[-1].origin == "steward"
    # Had the echo been applied as well, the repeated hide would make no further version.
    assert build_history([add, ours, HIDE]).versions == skipped_echo.versions
