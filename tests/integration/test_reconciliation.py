"""Reconciliation on moto and the fake platform server: comments archived as the webhooks delivered them, then
changed on the platform with no webhook; a run records the deletion, the edit, the hide and the comment never
delivered exactly once, one account's platform error is a problem of the run while the others are reconciled, and
a run stopped by a storage failure is picked up by the next where it left off."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from infrastructure.local.fake_platforms import FakeComment, FakePlatforms
from infrastructure.local.provision import Provisioned
from shared import accounts_service, audit, catalogue, ingest, reconciliation, runs
from shared.domain.accounts import FINAL_CAPTURE_ATTEMPTS, CaptureState
from shared.domain.content import Actor, Author, Change, ContentEvent, ItemKind, ItemState, Platform
from shared.domain.runs import Run, RunState
from shared.errors import Unavailable
from shared.store.content_store import ContentStore
from shared.store.platforms import FacebookClient, InstagramClient, YouTubeClient
from tests.integration.accounts_support import DIRECTOR, active_account

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


class World:
    """Active accounts linked to the fake, comments archived as their webhooks delivered them, and the runs."""

    def __init__(self, fake: FakePlatforms) -> None:
        self.fake = fake
        self.tokens: dict[str, str] = {}
        self.hour_ago = int(time.time()) - 3600

    def account(self, platform: str = "facebook") -> tuple[str, str]:
        """An active account linked to a new platform id, its token (issued by the fake) in the vault."""
        platform_id = (
            f"UC{uuid.uuid4().hex[:22]}" if platform == "youtube" else str(uuid.uuid4().int % 10**15 + 10**15)
        )
        tokens = self.fake.issue_tokens(platform, platform_id)  # type: ignore[arg-type]
        account = active_account(platform, platform_id, tokens=tokens)
        self.tokens[account] = tokens[0]
        return account, platform_id

    def comment(
        self,
        platform: str,
        account_id: str,
        post_id: str,
        text: str,
        *,
        parent_id: str | None = None,
        delivered: bool = True,
        minute: int = 0,
    ) -> FakeComment:
        """A comment on the platform; ``delivered``: also archived, as its webhook (or poll) recorded it."""
        c = self.fake.seed_comment(
            platform,  # type: ignore[arg-type]
            account_id=account_id,
            post_id=post_id,
            parent_id=parent_id,
            text=text,
            created_time=self.hour_ago + 60 * minute,
        )
        if delivered:
            created = datetime.fromtimestamp(c.created_time, UTC)
            top_level = c.parent_id in ("", post_id)
            ingest.record(
                ContentEvent.create(
                    platform=platform,
                    account_id=account_id,
                    item_id=c.comment_id,
                    change=Change.ADDED,
                    occurred_at=created,
                    kind=ItemKind.COMMENT if top_level else ItemKind.REPLY,
                    parent_id=post_id if top_level else c.parent_id,
                    post_id=post_id,
                    author=Author(id=c.author_id, name=c.author_name),
                    author_is_account=False,
                    text=text,
                    created_at=created,
                ),
                datetime.now(UTC),
            )
        return c

    @staticmethod
    def item(platform: str, account_id: str, item_id: str) -> Any:
        stored = ContentStore().get(platform, account_id, item_id)
        assert stored is not None, item_id
        return stored.history

    @staticmethod
    def run() -> dict[str, Any]:
        return reconciliation.reconcile()

    @staticmethod
    def runs() -> list[Run]:
        return runs.runs_of(reconciliation.SWEEP).runs


@pytest.fixture
def world(moto_env: Provisioned, fake: FakePlatforms, monkeypatch: pytest.MonkeyPatch) -> World:
    audit.reset()
    ingest.reset()
    monkeypatch.setenv(catalogue.VAULT_PREFIX_ENV_VAR, f"steward/t{uuid.uuid4().hex[:8]}/accounts/")
    return World(fake)


def test_a_deletion_no_webhook_reported_is_recorded_exactly_once(world: World) -> None:
    # Given a Page with two comments on a recent post, both archived as their webhooks delivered them
    _, page = world.account()
    post = f"{page}_901097836652708"
    gone = world.comment("facebook", page, post, "Great game Friday!")
    kept = world.comment("facebook", page, post, "Go Tornados", minute=1)

    # When one is deleted on the platform and no webhook says so, and the schedule runs reconciliation
    world.fake.change_comment("facebook", gone.comment_id, state="removed")
    summary = world.run()

    # Then the deletion is recorded, by an unknown hand, at the reconciliation's (estimated) time
    assert summary["recorded"] == {"removed": 1}
    assert (summary["accounts"], summary["threads"]) == (1, 1)
    history = world.item("facebook", page, gone.comment_id)
    assert history.current.state is ItemState.REMOVED
    assert history.current.changed_by is Actor.UNKNOWN
    removal = history.events[-1]
    assert (removal.change, removal.time_estimated) == (Change.REMOVED, True)
    assert world.item("facebook", page, kept.comment_id).current.state is ItemState.VISIBLE
    assert audit.verify().ok

    # When it runs again: nothing new is recorded
    again = world.run()
    assert again["recorded"] == {}
    assert len(world.item("facebook", page, gone.comment_id).events) == 2
    records = world.runs()
    assert [r.state for r in records] == [RunState.SUCCEEDED, RunState.SUCCEEDED]
    assert [r.actions for r in records] == [0, 1]
    assert [r.seen for r in records] == [1, 1]  # the comments the platform listed
    assert all(r.cursor == {} for r in records)


def test_an_edit_a_hide_and_a_comment_never_delivered_are_captured(world: World) -> None:
    # Given archived comments on a recent post
    _, page = world.account()
    post = f"{page}_1201"
    edited = world.comment("facebook", page, post, "The bus leaves at 5")
    hidden = world.comment("facebook", page, post, "Something rude", minute=1)

    # When, with no webhook, one is edited, one hidden by the Page, and a reply arrives that was never delivered
    world.fake.change_comment("facebook", edited.comment_id, text="The bus leaves at 5:30")
    world.fake.change_comment("facebook", hidden.comment_id, state="hidden")
    missed = world.comment(
        "facebook", page, post, "Thanks!", parent_id=edited.comment_id, delivered=False, minute=2
    )
    summary = world.run()

    # Then each is recorded
    assert summary["recorded"] == {"added": 1, "edited": 1, "hidden": 1}
    assert world.item("facebook", page, edited.comment_id).current.text == "The bus leaves at 5:30"
    was_hidden = world.item("facebook", page, hidden.comment_id).current
    assert (was_hidden.state, was_hidden.changed_by) == (ItemState.HIDDEN, Actor.ACCOUNT)
    reply = world.item("facebook", page, missed.comment_id).current
    assert (reply.kind, reply.parent_id, reply.post_id, reply.text) == (
        ItemKind.REPLY,
        edited.comment_id,
        post,
        "Thanks!",
    )
    assert reply.created_at == datetime.fromtimestamp(missed.created_time, UTC)

    # And a second run records nothing
    assert world.run()["recorded"] == {}


def test_one_account_failing_does_not_stop_the_others_and_the_run_is_partial(world: World) -> None:
    # Given two Pages, the first one's token revoked, each with a comment deleted without a webhook
    broken_account, broken = world.account()
    _, healthy = world.account()
    lost = world.comment("facebook", broken, f"{broken}_1", "Hello")
    gone = world.comment("facebook", healthy, f"{healthy}_1", "Hello")
    world.fake.change_comment("facebook", lost.comment_id, state="removed")
    world.fake.change_comment("facebook", gone.comment_id, state="removed")
    world.fake.revoke(world.tokens[broken_account])

    # When the run sweeps
    summary = world.run()

    # Then the healthy Page is reconciled and the broken one is a problem of the run
    assert summary["recorded"] == {"removed": 1}
    assert world.item("facebook", healthy, gone.comment_id).current.state is ItemState.REMOVED
    assert world.item("facebook", broken, lost.comment_id).current.state is ItemState.VISIBLE
    (record,) = world.runs()
    assert record.state is RunState.PARTIAL
    (problem,) = record.problems
    assert problem.subject == f"account {broken_account} (facebook {broken})"
    assert "token" in problem.error.lower()
    assert not any(token in record.model_dump_json() for token in world.tokens.values())


def test_a_run_stopped_by_a_storage_failure_is_picked_up_where_it_left_off(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two Pages, each with a deletion no webhook reported (the newest account is swept first)
    _, first = world.account()
    _, second = world.account()
    a = world.comment("facebook", first, f"{first}_1", "One")
    b = world.comment("facebook", second, f"{second}_1", "Two")
    for c in (a, b):
        world.fake.change_comment("facebook", c.comment_id, state="removed")

    # When the archive fails on the second account swept
    real = ContentStore.thread

    def failing(self: Any, platform: Platform, account_id: str, root: str, limit: int | None = None) -> Any:
        if account_id == first:
            raise Unavailable("the content index could not be read")
        return real(self, platform, account_id, root, limit)

    monkeypatch.setattr(ContentStore, "thread", failing)
    with pytest.raises(Unavailable):
        world.run()
    (failed,) = world.runs()
    assert failed.state is RunState.FAILED
    assert failed.actions == 1
    # The newest account was reconciled before the failure: the cursor is its order key in the listing.
    assert list(failed.cursor) == [reconciliation.AFTER]

    # Then the next run resumes after the account already reconciled and finishes the other
    monkeypatch.setattr(ContentStore, "thread", real)
    resumed = world.run()
    assert resumed["resumed"] is True
    assert (resumed["accounts"], resumed["recorded"]) == (1, {"removed": 1})
    assert world.item("facebook", first, a.comment_id).current.state is ItemState.REMOVED
    assert world.runs()[0].cursor == {}


def test_instagram_and_youtube_deletions_are_recorded(world: World) -> None:
    # Given an Instagram account and a YouTube channel with archived comments and replies
    _, ig = world.account("instagram")
    _, channel = world.account("youtube")
    media = "17900000000000001"
    ig_top = world.comment("instagram", ig, media, "Nice photo")
    ig_reply = world.comment("instagram", ig, media, "Agreed", parent_id=ig_top.comment_id, minute=1)
    yt_top = world.comment("youtube", channel, "vid-band", "Great concert")
    yt_other = world.comment("youtube", channel, "vid-band", "Loved it", minute=1)

    # When a reply and a comment disappear and another is held for review on YouTube
    world.fake.change_comment("instagram", ig_reply.comment_id, state="removed")
    world.fake.change_comment("youtube", yt_top.comment_id, state="removed")
    world.fake.change_comment("youtube", yt_other.comment_id, state="hidden")
    summary = world.run()

    # Then the removals are recorded, the held comment is hidden (not removed)
    assert summary["recorded"] == {"hidden": 1, "removed": 2}
    assert world.item("instagram", ig, ig_reply.comment_id).current.state is ItemState.REMOVED
    assert world.item("instagram", ig, ig_top.comment_id).current.state is ItemState.VISIBLE
    assert world.item("youtube", channel, yt_top.comment_id).current.state is ItemState.REMOVED
    held = world.item("youtube", channel, yt_other.comment_id).current
    assert (held.state, held.changed_by) == (ItemState.HIDDEN, Actor.UNKNOWN)
    assert world.run()["recorded"] == {}


# --------------------------------------------------------------------------------------------- the read clients
def test_graph_comments_are_read_page_by_page_hidden_included_removed_left_out(fake: FakePlatforms) -> None:
    page, post = "1234567890321", "1234567890321_77"
    seeded = [
        fake.seed_comment(
            "facebook", account_id=page, post_id=post, text=f"c{n}", created_time=1_772_000_000 + n
        )
        for n in range(130)
    ]
    reply = fake.seed_comment(
        "facebook",
        account_id=page,
        post_id=post,
        parent_id=seeded[0].comment_id,
        text="r",
        created_time=1_772_001_000,
    )
    fake.change_comment("facebook", seeded[1].comment_id, state="hidden")
    fake.change_comment("facebook", seeded[2].comment_id, state="removed")
    client = FacebookClient()
    listed = client.comments(post, "local-token")
    assert len(listed) == 130  # 131 seeded, one removed; two pages of up to 100
    assert len(fake.calls("facebook.comments")) == 2
    by_id = {c.comment_id: c for c in listed}
    assert by_id[seeded[1].comment_id].hidden is True
    assert seeded[2].comment_id not in by_id
    assert by_id[seeded[0].comment_id].parent_id == post
    assert by_id[reply.comment_id].parent_id == seeded[0].comment_id
    assert by_id[seeded[0].comment_id].created_at == datetime.fromtimestamp(1_772_000_000, UTC)
    assert fake.calls("facebook.comments")[0].query["filter"] == "stream"

    media = "17900000000000002"
    top = fake.seed_comment("instagram", account_id="ig1", post_id=media, text="top", author_name="fan")
    fake.seed_comment("instagram", account_id="ig1", post_id=media, parent_id=top.comment_id, text="re")
    ig = InstagramClient().comments(media, "local-token")
    assert [(c.text, c.parent_id, c.author_name) for c in ig] == [
        ("top", media, "fan"),
        ("re", top.comment_id, ig[1].author_name),
    ]


def test_youtube_threads_of_one_video(fake: FakePlatforms) -> None:
    fake.seed_comment("youtube", account_id="UCa", post_id="vid-1", text="one")
    fake.seed_comment("youtube", account_id="UCa", post_id="vid-2", text="two")
    page = YouTubeClient().comment_threads("UCa", "local-token", video_id="vid-1")
    assert [t.top_level.text for t in page.threads] == ["one"]
    assert fake.calls("youtube.commentThreads.list")[0].query["videoId"] == "vid-1"


# --------------------------------------------------------------------------------------------- final capture
def test_a_dormant_account_is_reconciled_and_a_retired_one_gets_its_final_capture_once(world: World) -> None:
    # Given a Page with a recent thread and one from a month ago, every comment archived as delivered
    account, page = world.account()
    recent, old = f"{page}_2001", f"{page}_1001"
    kept = world.comment("facebook", page, old, "Congratulations, graduates", minute=-30 * 24 * 60)
    edited = world.comment("facebook", page, old, "Proud of you all", minute=-30 * 24 * 60 + 1)
    deleted = world.comment("facebook", page, recent, "See you Friday")

    # When the account is marked dormant and a recent comment is deleted with no webhook: it is still reconciled
    accounts_service.move(account, "dormant", DIRECTOR, reason="no posts since spring")
    world.fake.change_comment("facebook", deleted.comment_id, state="removed")
    assert world.run()["recorded"] == {"removed": 1}

    # When the month-old thread changes on the platform (an edit, and a reply never delivered), the live sweep
    # does not look that far back
    world.fake.change_comment("facebook", edited.comment_id, text="Proud of every one of you")
    late = world.comment("facebook", page, old, "Where is the video?", delivered=False, minute=5)
    assert world.run()["recorded"] == {}

    # When communications retires the account: its final capture waits for the next run
    retired = accounts_service.move(account, "retire", DIRECTOR, reason="the club has closed")
    assert retired.final_capture is not None
    assert retired.final_capture.state is CaptureState.PENDING

    # Then the run re-reads every archived thread of it, of any date, and records what the archive lacked
    summary = world.run()
    assert summary["final_captures"] == {"taken": [account]}
    assert summary["recorded"] == {"added": 1, "edited": 1}
    assert world.item("facebook", page, late.comment_id).current.text == "Where is the video?"
    assert world.item("facebook", page, edited.comment_id).current.text == "Proud of every one of you"
    assert world.item("facebook", page, kept.comment_id).current.state is ItemState.VISIBLE
    view = accounts_service.view(accounts_service.load(account).account)
    assert view.final_capture is not None
    assert (view.final_capture.state, view.final_capture.threads, view.final_capture.recorded) == (
        CaptureState.TAKEN,
        2,
        2,
    )
    taken = [e for e in audit.log().for_resource(f"account:{account}") if "final_capture" in e.action]
    assert [(e.action, e.actor) for e in taken] == [("account.final_capture_taken", "system:reconciliation")]
    assert audit.verify().ok

    # And only once: the next run neither re-reads it nor records anything
    again = world.run()
    assert (again["final_captures"], again["recorded"], again["accounts"]) == ({}, {}, 0)


def test_a_final_capture_that_cannot_read_the_platform_is_incomplete_after_its_attempts(world: World) -> None:
    # Given a Page retired with its token revoked
    account, page = world.account()
    world.comment("facebook", page, f"{page}_1", "Hello")
    world.fake.revoke(world.tokens[account])
    accounts_service.move(account, "retire", DIRECTOR, reason="abandoned since 2024")

    # When runs try its final capture: each failed attempt is a problem of the run, tried again by the next
    for attempt in range(1, FINAL_CAPTURE_ATTEMPTS):
        summary = world.run()
        assert summary["final_captures"] == {"failed": [account]}, attempt
        capture = accounts_service.load(account).account.final_capture
        assert capture is not None
        assert (capture.state, capture.attempts) == (CaptureState.PENDING, attempt)
        latest = world.runs()[0]
        assert latest.state is RunState.PARTIAL
        assert [p.subject for p in latest.problems] == [f"account {account} (facebook {page})"]

    # Then the last attempt gives up: incomplete, with why, audited; later runs leave it alone
    assert world.run()["final_captures"] == {"incomplete": [account]}
    capture = accounts_service.load(account).account.final_capture
    assert capture is not None
    assert capture.state is CaptureState.INCOMPLETE
    assert capture.error is not None
    assert "token" in capture.error.lower()
    assert not any(token in capture.error for token in world.tokens.values())
    actions = [
        e.action for e in audit.log().for_resource(f"account:{account}") if "final_capture" in e.action
    ]
    assert actions == ["account.final_capture_failed"] * (FINAL_CAPTURE_ATTEMPTS - 1) + [
        "account.final_capture_incomplete"
    ]
    assert world.run()["final_captures"] == {}


def test_a_retired_account_without_a_token_is_a_failed_attempt_of_a_partial_run(world: World) -> None:
    _, page = world.account()
    tokenless = active_account("facebook", page)  # the same page registered again, with nothing in the vault
    world.comment("facebook", page, f"{page}_1", "Hello")
    accounts_service.move(tokenless, "retire", DIRECTOR, reason="registered twice")

    assert world.run()["final_captures"] == {"failed": [tokenless]}
    (record,) = world.runs()
    assert record.state is RunState.PARTIAL
    (problem,) = record.problems
    assert problem.error == "final capture: there is no platform token to read its threads with"


def test_an_account_that_cannot_be_reread_is_recorded_incomplete_at_once(world: World) -> None:
    # Given an X account and an unlinked Page, both retired
    x_account = active_account("x", "1234567890", tokens=("x-token-0123456789", None))
    unlinked = active_account("facebook", "0", linked=False)
    for account in (x_account, unlinked):
        accounts_service.move(account, "retire", DIRECTOR, reason="merged into the district account")

    # When the run takes the final captures: neither can be re-read, and each says why
    summary = world.run()
    assert sorted(summary["final_captures"]["incomplete"]) == sorted([x_account, unlinked])
    errors = {
        a: accounts_service.load(a).account.final_capture.error  # type: ignore[union-attr]
        for a in (x_account, unlinked)
    }
    assert errors == {
        x_account: "x threads cannot be re-read",
        unlinked: "the account was never linked to its platform id",
    }
