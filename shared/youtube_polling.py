"""YouTube comment polling: YouTube pushes no comments, so every live (active, dormant or abandoned), linked YouTube
account's channel is read through ``commentThreads.list`` (newest first) and each new page is fed to the
processor exactly as a webhook delivery is: kept byte for byte in the intake bucket (source ``youtube-poll``)
with its pointer on the intake queue.

    with runs.recorded("youtube-poll") as run: ...    # one run record per sweep (shared.runs)

* **Where a channel got to** is its cursor (``RunStore().cursor("youtube-poll", <channel id>)``): the
  ``publishedAt`` of the newest top-level comment captured, with the ids of the threads published in that same
  second. A walk reads pages from the newest until a page reaches a thread older than the cursor (or the last
  page); a page is stored only if it holds a thread the cursor does not cover, so a run with nothing new stores
  nothing. The cursor moves only after every page of the walk is stored and queued.
* **Stop and resume.** A walk cut short (``quotaExceeded``, the page budget, an error) leaves the next page's
  token and the newest comment it saw in the run's ``cursor``; the next run continues there first (a page token
  YouTube no longer accepts starts the walk over from the top), then reads what is newer. ``quotaExceeded`` stops
  the whole run cleanly: the summary says so, the channels not reached are listed, and no cursor moves.
* **One channel's failure** (any other platform error, an unreadable credential) is a problem of the run, which
  ends ``partial``; the sweep goes on. An intake (S3/SQS) failure stops the run (``failed``), since no channel
  could be stored; the cursors have not moved, so the next run picks up where it was.
* Accounts not linked to a channel (no ``platform_id``) or without a token in the vault are counted and listed in
  the summary; they are not errors.
* Counts: ``seen`` is every comment (top-level and reply) on the pages read; ``actions`` the comments captured
  (those of threads newer than the cursor). Overlapping pages are harmless: events are content-addressed and the
  processor collapses duplicates.

The token is read from the vault (AWSCURRENT) for each run and goes only into the platform call; it is never
logged, stored in a cursor or put in a problem. A page whose bytes contain it is not stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from shared import linked_accounts, runs
from shared.domain.accounts import Account, AccountPlatform
from shared.domain.adapters.youtube_comments import SOURCE
from shared.domain.content import format_time
from shared.errors import BadRequest
from shared.observability import logger, metrics
from shared.store import intake
from shared.store.platforms import CommentThread, CommentThreadPage, PlatformFailure, Platforms
from shared.store.run_store import RunStore

SWEEP = "youtube-poll"
QUOTA_EXCEEDED = "quotaExceeded"
INVALID_PAGE_TOKEN = "invalidPageToken"  # noqa: S105 (a Google error reason, not a secret)
CONTENT_TYPE = "application/json"
# Pages one channel may read in one run (one quota unit each): a channel with a long backlog is read over several
# runs, resuming from its page token, and cannot use up the day's quota or the function's time alone.
PAGES_PER_CHANNEL = 50


class QuotaExceeded(Exception):
    """YouTube's daily quota is used up: the run stops, to resume from the cursors after the reset."""

    def __init__(self, channel_id: str) -> None:
        super().__init__(channel_id)
        self.channel_id = channel_id


# --------------------------------------------------------------------------------------------- cursors
@dataclass(frozen=True)
class Mark:
    """The newest top-level comment time captured on a channel, and the threads published in that second."""

    published_at: datetime
    ids: frozenset[str]

    def covers(self, thread: CommentThread) -> bool:
        """Whether the thread was captured already (older than the mark, or one of its ids)."""
        at = published(thread)
        if at is None:
            return False
        return at < self.published_at or (at == self.published_at and thread.thread_id in self.ids)

    def older(self, thread: CommentThread) -> bool:
        at = published(thread)
        return at is not None and at < self.published_at

    def to_json(self) -> dict[str, Any]:
        return {"published_at": format_time(self.published_at), "ids": sorted(self.ids)}

    @classmethod
    def from_json(cls, value: Any) -> Mark | None:
        if not isinstance(value, dict):
            return None
        try:
            at = datetime.fromisoformat(str(value["published_at"]).replace("Z", "+00:00"))
            return cls(at.astimezone(UTC), frozenset(str(i) for i in value.get("ids", ())))
        except (KeyError, TypeError, ValueError):
            return None


def published(thread: CommentThread) -> datetime | None:
    """The thread's top-level ``publishedAt`` (None when absent or without an offset: such a thread is always
    stored, and never moves or stops at a cursor)."""
    at = thread.top_level.published_at
    return at if at is not None and at.tzinfo is not None else None


def newest(mark: Mark | None, threads: list[CommentThread]) -> Mark | None:
    """``mark`` moved to the newest of ``threads`` (threads without a time are left out)."""
    for thread in threads:
        at = published(thread)
        if at is None:
            continue
        if mark is None or at > mark.published_at:
            mark = Mark(at, frozenset({thread.thread_id}))
        elif at == mark.published_at:
            mark = Mark(at, mark.ids | {thread.thread_id})
    return mark


@dataclass(frozen=True)
class Resume:
    """A walk cut short: the next page to read, and the newest comment the walk has captured so far."""

    page_token: str
    seen: Mark | None

    def to_text(self) -> str:
        return json.dumps(
            {"page_token": self.page_token, "newest": self.seen.to_json() if self.seen else None},
            sort_keys=True,
        )

    @classmethod
    def from_text(cls, text: str | None) -> Resume | None:
        try:
            value = json.loads(text) if text else None
        except ValueError:
            return None
        if not isinstance(value, dict) or not isinstance(value.get("page_token"), str):
            return None
        return cls(value["page_token"], Mark.from_json(value.get("newest")))


def _cursor(channel_id: str) -> Mark | None:
    text = RunStore().cursor(SWEEP, channel_id)
    try:
        return Mark.from_json(json.loads(text)) if text else None
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------- the sweep
@dataclass(frozen=True)
class Channel:
    account_id: str
    channel_id: str
    token: str = field(repr=False)


@dataclass
class Tally:
    channels: int = 0
    pages_read: int = 0
    pages_stored: int = 0
    comments_captured: int = 0
    skipped: dict[str, list[str]] = field(
        default_factory=lambda: {"no_platform_id": [], "no_token": [], "same_channel": []}
    )
    unfinished: list[str] = field(default_factory=list)  # channels with pages left for the next run
    not_reached: list[str] = field(default_factory=list)  # accounts a quota stop left for the next run


def poll(
    *,
    platforms: Platforms | None = None,
    pages_per_channel: int = PAGES_PER_CHANNEL,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One run of the sweep over every live YouTube account; returns the run's summary (with its id)."""
    return runs.execute(
        SWEEP, lambda run: _Sweep(run, platforms or Platforms(), pages_per_channel).visit_all(), now
    )


class _Sweep:
    def __init__(self, run: runs.Recorder, platforms: Platforms, pages_per_channel: int) -> None:
        self.run = run
        self.platforms = platforms
        self.pages_per_channel = pages_per_channel
        self.tally = Tally()

    def _summarize(self, quota_stop: QuotaExceeded | None) -> None:
        t = self.tally
        self.run.summary = {
            "channels": t.channels,
            "pages_read": t.pages_read,
            "pages_stored": t.pages_stored,
            "comments_captured": t.comments_captured,
            **linked_accounts.skip_summary(t.skipped),
            "unfinished_channels": t.unfinished,
            "quota_exceeded": quota_stop is not None,
        }
        if quota_stop is not None:
            self.run.summary["stopped_at_channel"] = quota_stop.channel_id
            self.run.summary["not_reached"] = t.not_reached

    def visit_all(self) -> None:
        visited: set[str] = set()
        accounts = (account for _, account in linked_accounts.live(AccountPlatform.YOUTUBE))
        try:
            for account in accounts:
                channel = self._channel(account, visited)
                if channel is not None:
                    visited.add(channel.channel_id)
                    self._poll_channel(channel)
        except QuotaExceeded as stop:
            self.tally.not_reached = [a.id for a in accounts]
            logger.warning(
                "youtube quota exceeded: the run stops and the next one resumes",
                extra={"channel": stop.channel_id, "not_reached": len(self.tally.not_reached)},
            )
            metrics.add_metric(name="YouTubeQuotaExceeded", unit=MetricUnit.Count, value=1)
            self._summarize(stop)
            return
        # Every live channel was visited: resume entries of channels no longer polled are dropped.
        for key in [k for k in self.run.cursor if k not in visited]:
            del self.run.cursor[key]
        self._summarize(None)

    def _channel(self, account: Account, visited: set[str]) -> Channel | None:
        if account.platform_id and account.platform_id in visited:
            self.tally.skipped["same_channel"].append(account.id)
            return None
        found = linked_accounts.token(account, self.run, self.tally.skipped)
        if found is None or account.platform_id is None:
            return None
        return Channel(account.id, account.platform_id, found)

    # ----------------------------------------------------------------------------------------- one channel
    def _poll_channel(self, channel: Channel) -> None:
        self.tally.channels += 1
        subject = f"account {channel.account_id} (channel {channel.channel_id})"
        budget = [self.pages_per_channel]
        try:
            resume = Resume.from_text(self.run.cursor.get(channel.channel_id))
            if resume is not None:
                try:
                    self._walk(channel, resume.page_token, resume.seen, budget)
                except PlatformFailure as exc:
                    if exc.reason != INVALID_PAGE_TOKEN:
                        raise
                    logger.info("youtube page token expired: the walk starts over", extra=_where(channel))
                    self.run.cursor.pop(channel.channel_id, None)
                    self._walk(channel, None, None, budget)
            if channel.channel_id not in self.run.cursor:
                self._walk(channel, None, None, budget)  # what is newer than the cursor
        except PlatformFailure as exc:
            if exc.reason == QUOTA_EXCEEDED:
                raise QuotaExceeded(channel.channel_id) from None
            self.run.problem(subject, exc.message)
        except BadRequest as exc:  # a token the client will not send (malformed)
            self.run.problem(subject, exc.message)
        if channel.channel_id in self.run.cursor:
            self.tally.unfinished.append(channel.channel_id)

    def _walk(self, channel: Channel, page_token: str | None, seen: Mark | None, budget: list[int]) -> None:
        """Read pages from ``page_token`` (None: the newest) until one reaches the channel's cursor or the last
        page; store each page holding new threads, then move the cursor."""
        mark = _cursor(channel.channel_id)
        while True:
            if budget[0] <= 0:  # the rest waits for the next run (a fresh walk has nothing to resume yet)
                if page_token:
                    self.run.cursor[channel.channel_id] = Resume(page_token, seen).to_text()
                return
            budget[0] -= 1
            page = self.platforms.youtube.comment_threads(
                channel.channel_id, channel.token, page_token=page_token
            )
            self.tally.pages_read += 1
            self.run.saw(sum(1 + len(t.replies) for t in page.threads))
            fresh = [t for t in page.threads if mark is None or not mark.covers(t)]
            if fresh:
                self._store(channel, page)
                self.tally.comments_captured += sum(1 + len(t.replies) for t in fresh)
                self.run.did(sum(1 + len(t.replies) for t in fresh))
                seen = newest(seen, fresh)
            reached = mark is not None and any(mark.older(t) for t in page.threads)
            if reached or not page.next_page_token:
                break
            page_token = page.next_page_token
            self.run.cursor[channel.channel_id] = Resume(page_token, seen).to_text()
            self.run.checkpoint()
        if seen is not None and (moved := _later(mark, seen)) != mark:
            RunStore().set_cursor(SWEEP, channel.channel_id, json.dumps(moved.to_json(), sort_keys=True))
        self.run.cursor.pop(channel.channel_id, None)
        self.run.checkpoint()

    def _store(self, channel: Channel, page: CommentThreadPage) -> None:
        body = page.received
        if not body or channel.token.encode() in body:
            raise PlatformFailure(
                "youtube commentThreads.list answered with a page that cannot be kept as received",
                platform="youtube",
                operation="commentThreads.list",
                reason="unkeepable",
            )
        request_id = f"{self.run.run.id}:{channel.channel_id}:{self.tally.pages_read}"
        pointer = intake.store(SOURCE, body, datetime.now(UTC), request_id, CONTENT_TYPE)
        intake.enqueue(pointer)
        self.tally.pages_stored += 1
        metrics.add_metric(name="YouTubePagesStored", unit=MetricUnit.Count, value=1)
        logger.info("youtube comment page stored", extra={**_where(channel), "key": pointer.key})


def _later(mark: Mark | None, seen: Mark) -> Mark:
    if mark is None or seen.published_at > mark.published_at:
        return seen
    if seen.published_at == mark.published_at:
        return Mark(mark.published_at, mark.ids | seen.ids)
    return mark


def _where(channel: Channel) -> dict[str, str]:
    return {"account_id": channel.account_id, "channel": channel.channel_id}
