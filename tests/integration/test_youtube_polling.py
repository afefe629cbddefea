"""YouTube comment polling on moto and the fake platform server: active channels are read through the schedule,
the pages go through intake to the processor, every comment is recorded exactly once across runs, a quota stop
resumes where it left off, and one channel's failure leaves the others polled (the run ends partial)."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import boto3
import pytest

from infrastructure.local import scheduler
from infrastructure.local.fake_platforms import FakePlatforms
from infrastructure.local.lambdas import Lambdas
from infrastructure.local.provision import Provisioned
from shared import audit, catalogue, runs, vault_service, youtube_polling
from shared.domain.content import Platform
from shared.domain.runs import Run, RunState
from shared.store.content_store import ContentStore
from shared.store.run_store import RunStore
from tests.conftest import REGION
from tests.integration.accounts_support import DOMAIN, TECH, active_account
from tests.integration.conftest import QueueWorker

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

START = 1_772_000_000  # comment times on the fake (epoch seconds, February 2026)


class Polling:
    """The poller run by its schedule, the processor draining the intake queue, and what they left behind."""

    def __init__(self, env: Provisioned, fake: FakePlatforms) -> None:
        self.env = env
        self.fake = fake
        self.lambdas = Lambdas(REGION)
        self.processor = QueueWorker(env, "processor")
        self.s3 = boto3.client("s3", region_name=REGION)
        self.tokens: dict[str, str] = {}

    def channel(self, *, linked: bool = True, credential: bool = True) -> tuple[str, str]:
        """An active YouTube account linked to a new channel, its token (issued by the fake) in the vault:
        (account id, channel id)."""
        channel = f"UC{uuid.uuid4().hex[:22]}"
        tokens = self.fake.issue_tokens("youtube", channel) if credential else None
        account = active_account("youtube", channel, linked=linked, tokens=tokens)
        if tokens is not None:
            self.tokens[account] = tokens[0]
        return account, channel

    def seed(self, channel: str, count: int, *, at: int = START, replies: int = 0) -> list[str]:
        """``count`` top-level comments a minute apart from ``at`` (the first ``replies`` get one reply each)."""
        ids = []
        for n in range(count):
            top = self.fake.seed_comment(
                "youtube",
                account_id=channel,
                post_id="vid-band-concert",
                text=f"Comment {n} on the band concert",
                created_time=at + 60 * n,
            )
            ids.append(top.comment_id)
            if n < replies:
                reply = self.fake.seed_comment(
                    "youtube",
                    account_id=channel,
                    post_id="vid-band-concert",
                    parent_id=top.comment_id,
                    text=f"Thanks for comment {n}",
                    created_time=at + 60 * n + 30,
                )
                ids.append(reply.comment_id)
        return ids

    def run(self) -> dict[str, Any]:
        """One scheduled run (the EventBridge event of the catalogue's schedule), then the processor drained."""
        summary = scheduler.run_now("youtube-poll", self.lambdas.invoke, REGION)
        self.processor.work()
        return dict(summary)

    def recorded(self, channel: str) -> dict[str, int]:
        """Each recorded item of the channel and the number of events in its history."""
        store = ContentStore()
        items = store.account_items(Platform.YOUTUBE, channel)
        out = {}
        for item in items:
            stored = store.get("youtube", channel, item.item_id)
            assert stored is not None
            out[item.item_id] = len(stored.history.event_ids)
        return out

    def intake_keys(self) -> list[str]:
        bucket = self.env.env[catalogue.bucket("intake").env_var]
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def runs(self) -> list[Run]:
        return runs.runs_of(youtube_polling.SWEEP).runs


@pytest.fixture
def polling(moto_env: Provisioned, fake: FakePlatforms, monkeypatch: pytest.MonkeyPatch) -> Polling:
    audit.reset()
    monkeypatch.setenv(catalogue.VAULT_PREFIX_ENV_VAR, f"steward/t{uuid.uuid4().hex[:8]}/accounts/")
    return Polling(moto_env, fake)


def test_new_comments_are_captured_exactly_once_across_runs(polling: Polling) -> None:
    # Given an active channel with three comments, two of them answered
    _, channel = polling.channel()
    first = polling.seed(channel, 3, replies=2)

    # When the schedule runs the poller
    summary = polling.run()

    # Then the page is kept in intake as received, and every comment is archived and indexed once
    assert (summary["channels"], summary["pages_stored"], summary["comments_captured"]) == (1, 1, 5)
    assert polling.recorded(channel) == dict.fromkeys(first, 1)
    (key,) = polling.intake_keys()
    assert key.startswith("deliveries/youtube-poll/")
    assert key.endswith(".json")
    stored = json.loads(
        polling.s3.get_object(Bucket=polling.env.env["STEWARD_BUCKET_INTAKE"], Key=key)["Body"].read()
    )
    assert stored["kind"] == "youtube#commentThreadListResponse"
    assert audit.verify().ok

    # When it runs again with nothing new: the page is read, nothing is stored
    again = polling.run()
    assert (again["pages_read"], again["pages_stored"], again["comments_captured"]) == (1, 0, 0)
    assert len(polling.intake_keys()) == 1

    # When one more comment arrives: only it is added
    (newer,) = polling.seed(channel, 1, at=START + 3600)
    third = polling.run()
    assert (third["pages_stored"], third["comments_captured"]) == (1, 1)
    assert polling.recorded(channel) == dict.fromkeys([*first, newer], 1)

    # And the run records say so, newest first
    records = polling.runs()
    assert [r.state for r in records] == [RunState.SUCCEEDED] * 3
    assert [r.actions for r in records] == [1, 0, 5]
    assert [r.seen for r in records] == [6, 5, 5]  # every comment on the pages read
    assert all(r.cursor == {} for r in records)
    assert json.loads(RunStore().cursor(youtube_polling.SWEEP, channel) or "{}")["ids"] == [newer]


def test_a_quota_stop_keeps_the_cursors_and_the_next_run_resumes_where_it_left_off(polling: Polling) -> None:
    # Given two channels, the first (newest account) with a backlog of more than one page of 100 threads
    _, quiet = polling.channel()
    _, busy = polling.channel()
    backlog = polling.seed(busy, 130)
    later = polling.seed(quiet, 2)

    # When a run may read only one page per channel, the busy channel's walk stops after its first page
    cut = youtube_polling.poll(pages_per_channel=1)
    polling.processor.work()
    assert cut["unfinished_channels"] == [busy]
    assert cut["comments_captured"] == 100 + 2
    (cut_run, *_) = polling.runs()
    assert set(cut_run.cursor) == {busy}  # the next page's token, kept with the run
    assert len(polling.recorded(busy)) == 100

    # When YouTube's daily quota runs out on the next run's first call
    polling.fake.fail_next("youtube.commentThreads.list", status=403, reason="quotaExceeded")
    stopped = polling.run()

    # Then the run stops cleanly: nothing stored, the other channel not reached, every cursor where it was
    assert stopped["quota_exceeded"] is True
    assert stopped["stopped_at_channel"] == busy
    assert stopped["pages_stored"] == 0
    assert len(stopped["not_reached"]) == 1
    (stop_run, _) = polling.runs()
    assert stop_run.state is RunState.SUCCEEDED
    assert stop_run.cursor == cut_run.cursor
    assert RunStore().cursor(youtube_polling.SWEEP, busy) is None  # the walk never finished: no cursor yet

    # When the quota is back: the walk resumes at the next page, then reads what is newer
    (fresh,) = polling.seed(busy, 1, at=START + 24 * 3600)
    resumed = polling.run()
    assert resumed["quota_exceeded"] is False
    assert resumed["comments_captured"] == 30 + 1
    assert resumed["unfinished_channels"] == []
    assert polling.recorded(busy) == dict.fromkeys([*backlog, fresh], 1)
    assert polling.recorded(quiet) == dict.fromkeys(later, 1)
    assert polling.runs()[0].cursor == {}
    # Pages read: the first run 2 (busy's first page, quiet), the stopped run 1 (refused), the last run 3 (busy's
    # second page, its newest page for what is newer, quiet): no page of the backlog was read twice.
    assert Counter(c.operation for c in polling.fake.calls())["youtube.commentThreads.list"] == 6


def test_one_channel_failing_does_not_stop_the_others_and_the_run_is_partial(polling: Polling) -> None:
    # Given a channel whose token was revoked, a healthy one, and accounts not ready to poll
    broken_account, broken = polling.channel()
    _, healthy = polling.channel()
    unlinked, _ = polling.channel(linked=False)
    tokenless, _ = polling.channel(credential=False)
    polling.seed(broken, 2)
    captured = polling.seed(healthy, 2, replies=1)
    polling.fake.revoke(polling.tokens[broken_account])

    # When the schedule runs
    summary = polling.run()

    # Then the healthy channel is captured, the broken one is a problem of the run, the others are listed
    assert polling.recorded(healthy) == dict.fromkeys(captured, 1)
    assert polling.recorded(broken) == {}
    assert summary["skipped_accounts"] == {"no_platform_id": [unlinked], "no_token": [tokenless]}
    assert summary["skipped"] == 2
    (record,) = polling.runs()
    assert record.state is RunState.PARTIAL
    assert record.errors == 1
    (problem,) = record.problems
    assert problem.subject == f"account {broken_account} (channel {broken})"
    assert "401" in problem.error
    assert record.actions == 3
    # No token reaches the run record.
    assert not any(token in record.model_dump_json() for token in polling.tokens.values())

    # When the platform error is gone, the next run captures the channel it missed
    polling.fake.clear_faults()
    access, _ = polling.fake.issue_tokens("youtube", broken)
    vault_service.store(
        broken_account,
        TECH,
        {"login_email": f"youtube.fixed@{DOMAIN}", "tokens": {"page_access_token": access}},
    )
    assert polling.run()["comments_captured"] == 2
    assert len(polling.recorded(broken)) == 2
    assert polling.runs()[0].state is RunState.SUCCEEDED
