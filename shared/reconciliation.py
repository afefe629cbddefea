"""Reconciliation (scheduled): re-read the recent threads of every live, linked account on its platform and
record what the webhooks missed: deletions, edits, hides and comments never delivered; and take the final capture
of each account retired since the last run.

    with runs.recorded("reconciliation") as run: ...    # one run record per sweep (shared.runs)

* **Which accounts.** Live ones (active, dormant, abandoned: their pages are still up), through
  :func:`shared.linked_accounts.live`.
* **Which threads.** An account's items created in the last :data:`WINDOW_DAYS` days, read through the content
  table's by-account index (never a Scan); their thread roots (post, media or video) are the threads re-read. Each
  thread's archived items come from the by-thread index, its comments from the platform: Facebook and Instagram
  ``GET /{post-or-media-id}/comments`` (hidden comments included), YouTube ``commentThreads?videoId=`` (published,
  then ``heldForReview``). X is not reconciled yet (its reply search needs a paid API tier).
* **What is recorded** is :func:`shared.domain.reconcile.compare`'s events, each through
  :func:`shared.ingest.record` (archived under Object Lock, audited on its item, indexed): the events are made by the
  comparison, not delivered by a platform, so there is no delivery to keep in intake. They are not moderated:
  a comment reconciliation captures late is in the archive and in search, for people to review.
* **Idempotent.** A removal or an estimated-time edit leaves its time out of its event id, and once recorded the
  archive agrees with the platform, so a second run records nothing.
* **One account's failure** (a platform error, an unreadable credential) is a problem of the run, which ends
  ``partial``; the sweep goes on. A missing post (deleted with its comments) is counted, not judged: the post's own
  deletion is the platform's webhook's to report. A storage failure stops the run (``failed``); the accounts already
  reconciled are in its cursor, and the next run picks up after them.
* **Final capture.** A retired official account waits for its final capture (``Account.final_capture``): after
  the live accounts, the run re-reads every thread the archive holds of it, of any date, once, and records the
  capture as taken (audited on the account, notified) with the threads read and the changes recorded. An attempt
  that fails (no token, a platform error) is a problem of the run and is tried again by the next run; after
  ``FINAL_CAPTURE_ATTEMPTS`` attempts, or at once for an account that cannot be re-read (never linked, or on X),
  the capture is recorded as incomplete, with why: the archive keeps what the webhooks and polls delivered.
* Counts: ``seen`` is every comment the platform listed; ``actions`` every event recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from shared import accounts_service, ingest, linked_accounts, runs, vault_service
from shared.domain.accounts import Account, CaptureState
from shared.domain.content import Actor, Author, ContentItem, Platform, format_time
from shared.domain.reconcile import Listing, Seen, compare
from shared.errors import BadRequest, Conflict, StewardError
from shared.observability import logger, metrics
from shared.store.content_store import ContentStore
from shared.store.platforms import (
    CommentThread,
    PlatformFailure,
    PlatformRefused,
    Platforms,
    YouTubeComment,
)

SWEEP = "reconciliation"
ACTOR = f"system:{SWEEP}"
WINDOW_DAYS = 14  # threads with an item created this many days back are re-read
RECONCILED = (Platform.FACEBOOK, Platform.INSTAGRAM, Platform.YOUTUBE)
AFTER = "after"  # the run cursor's key: the order key of the last account reconciled (the listing resumes after it)
YOUTUBE_PAGES_PER_VIDEO = 20


@dataclass
class Tally:
    accounts: int = 0
    threads: int = 0
    threads_gone: int = 0
    recorded: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(
        default_factory=lambda: {"no_platform_id": [], "no_token": [], "not_reconciled": []}
    )
    final_captures: dict[str, list[str]] = field(
        default_factory=lambda: {"taken": [], "failed": [], "incomplete": []}
    )


def reconcile(
    *, platforms: Platforms | None = None, now: datetime | None = None, window_days: int = WINDOW_DAYS
) -> dict[str, Any]:
    """One run of the sweep over every live account; returns the run's summary (with its id)."""
    at = now or datetime.now(UTC)
    return runs.execute(
        SWEEP, lambda run: _Sweep(run, platforms or Platforms(), at, window_days).visit_all(), at
    )


class _Sweep:
    def __init__(self, run: runs.Recorder, platforms: Platforms, now: datetime, window_days: int) -> None:
        self.run = run
        self.platforms = platforms
        self.now = now
        self.since = format_time(now - timedelta(days=window_days))
        self.tally = Tally()
        self.resumed_after = run.resume.get(AFTER)

    def visit_all(self) -> None:
        for order, account in linked_accounts.live(after=self.resumed_after):
            self._visit(account)
            self.run.cursor = {AFTER: order}
            self.run.checkpoint()
        self.run.cursor = {}  # every account visited: nothing to resume
        for retired in linked_accounts.awaiting_final_capture():
            try:
                self._final_capture(retired)
            except Conflict as exc:  # the account changed under the run: the next run takes it
                self.run.problem(_subject(retired), f"final capture: {exc.message}")
        t = self.tally
        self.run.summary = {
            "accounts": t.accounts,
            "threads": t.threads,
            "threads_gone": t.threads_gone,
            "recorded": dict(sorted(t.recorded.items())),
            "window_days_since": self.since,
            "resumed": self.resumed_after is not None,
            **linked_accounts.skip_summary(t.skipped),
            "final_captures": {k: v for k, v in t.final_captures.items() if v},
        }

    def _visit(self, account: Account) -> None:
        if str(account.platform) not in {str(p) for p in RECONCILED}:
            self.tally.skipped["not_reconciled"].append(account.id)
            return
        platform = Platform(str(account.platform))
        roots = self._threads(platform, account.platform_id, self.since) if account.platform_id else []
        if account.platform_id and not roots:
            return  # nothing recent to re-read (and no secret read for it)
        token = linked_accounts.token(account, self.run, self.tally.skipped)
        if token is None or account.platform_id is None:
            return
        self.tally.accounts += 1
        try:
            self._reread(platform, account.platform_id, roots, token)
        except (PlatformFailure, BadRequest) as exc:  # BadRequest: a token or id the client will not send
            self.run.problem(_subject(account), exc.message)

    def _threads(self, platform: Platform, account_id: str, since: str | None) -> list[str]:
        """The roots (post, media or video) of the account's archived threads with an item created since
        ``since`` (of any date when None)."""
        roots: dict[str, None] = {}
        for stored in ContentStore().in_account(str(platform), account_id, date_from=since):
            item = stored.history.current
            roots[item.post_id or item.parent_id or item.item_id] = None
        return list(roots)

    def _reread(self, platform: Platform, account_id: str, roots: list[str], token: str) -> int:
        """Re-read the threads; the number of changes recorded."""
        recorded = self.run.run.actions
        for root in roots:
            self._thread(platform, account_id, root, token)
        return self.run.run.actions - recorded

    def _final_capture(self, account: Account) -> None:
        if str(account.platform) not in {str(p) for p in RECONCILED}:
            self._capture_failed(account, f"{account.platform} threads cannot be re-read", final=True)
            return
        if account.platform_id is None:
            self._capture_failed(account, "the account was never linked to its platform id", final=True)
            return
        platform = Platform(str(account.platform))
        roots = self._threads(platform, account.platform_id, None)
        recorded, error = 0, None
        if roots:
            token, error = _capture_token(account)
            try:
                recorded = self._reread(platform, account.platform_id, roots, token) if token else 0
            except (PlatformFailure, BadRequest) as exc:
                error = exc.message
        if error is not None:
            self._capture_failed(account, error)
            return
        stored = accounts_service.load(account.id)
        taken = stored.account.final_capture_taken(
            actor=ACTOR, at=self.now, threads=len(roots), recorded=recorded
        )
        accounts_service.commit_as(ACTOR, taken, stored)
        self.tally.final_captures["taken"].append(account.id)

    def _capture_failed(self, account: Account, error: str, *, final: bool = False) -> None:
        """Record a failed attempt (a problem of the run, tried again next run) or, when ``final``, a capture the
        platform cannot give."""
        if not final:
            self.run.problem(_subject(account), f"final capture: {error}")
        stored = accounts_service.load(account.id)
        after = stored.account.final_capture_failed(actor=ACTOR, at=self.now, error=error, final=final)
        accounts_service.commit_as(ACTOR, after, stored)
        state = after.final_capture.state if after.final_capture else None
        self.tally.final_captures["failed" if state is CaptureState.PENDING else "incomplete"].append(
            account.id
        )

    def _thread(self, platform: Platform, account_id: str, root: str, token: str) -> None:
        try:
            listing = self._listing(platform, account_id, root, token)
        except PlatformFailure as exc:
            if not exc.not_found:
                raise
            self.tally.threads_gone += 1
            logger.info("reconciliation: thread gone", extra={"platform": str(platform), "post_id": root})
            return
        self.tally.threads += 1
        self.run.saw(len(listing.comments))
        archived: list[ContentItem] = ContentStore().thread(platform, account_id, root)
        for event in compare(platform, account_id, archived, listing, self.now):
            if ingest.record(event, self.now):
                self.run.did()
                self.tally.recorded[str(event.change)] = self.tally.recorded.get(str(event.change), 0) + 1
                metrics.add_metric(name="ReconciledChanges", unit=MetricUnit.Count, value=1)
                logger.info(
                    "reconciliation recorded a missed change",
                    extra={"platform": str(platform), "item_id": event.item_id, "change": str(event.change)},
                )

    def _listing(self, platform: Platform, account_id: str, root: str, token: str) -> Listing:
        if platform is Platform.YOUTUBE:
            return _youtube_listing(self.platforms, account_id, root, token)
        graph = self.platforms.facebook if platform is Platform.FACEBOOK else self.platforms.instagram
        comments = tuple(
            Seen(
                item_id=c.comment_id,
                post_id=root,
                parent_id=c.parent_id,
                text=c.text,
                author=Author(id=c.author_id, name=c.author_name) if c.author_id or c.author_name else None,
                created_at=c.created_at,
                hidden=c.hidden,
                hidden_by=Actor.ACCOUNT,  # on Facebook and Instagram only the account hides a comment
            )
            for c in graph.comments(root, token)
        )
        return Listing(root, comments)


def _youtube_listing(platforms: Platforms, channel_id: str, video_id: str, token: str) -> Listing:
    """The video's threads: published ones, then those held for review (hidden, by YouTube's filters or the
    channel: the API does not say which)."""
    seen: list[Seen] = []
    partial: set[str] = set()
    for hidden in (False, True):
        page_token: str | None = None
        for _ in range(YOUTUBE_PAGES_PER_VIDEO):
            page = platforms.youtube.comment_threads(
                channel_id,
                token,
                page_token=page_token,
                video_id=video_id,
                moderation_status="heldForReview" if hidden else None,
            )
            for thread in page.threads:
                seen.extend(_youtube_thread(thread, video_id, hidden))
                if thread.total_reply_count > len(thread.replies):
                    partial.add(thread.top_level.comment_id)
            page_token = page.next_page_token
            if not page_token:
                break
        else:
            raise PlatformRefused(
                f"youtube comments of video {video_id} run past {YOUTUBE_PAGES_PER_VIDEO} pages",
                platform="youtube",
                operation="commentThreads.list",
                reason="tooManyPages",
            )
    return Listing(video_id, tuple(seen), frozenset(partial))


def _youtube_thread(thread: CommentThread, video_id: str, hidden: bool) -> Iterator[Seen]:
    top = thread.top_level
    yield _youtube_seen(top, video_id, video_id, hidden)
    for reply in thread.replies:
        yield _youtube_seen(reply, video_id, reply.parent_id or top.comment_id, hidden)


def _youtube_seen(c: YouTubeComment, video_id: str, parent_id: str, hidden: bool) -> Seen:
    edited = c.updated_at if c.updated_at and c.published_at and c.updated_at > c.published_at else None
    return Seen(
        item_id=c.comment_id,
        post_id=video_id,
        parent_id=parent_id,
        text=c.text,
        author=Author(id=c.author_channel_id, name=c.author_display_name)
        if c.author_channel_id or c.author_display_name
        else None,
        created_at=c.published_at,
        edited_at=edited,
        hidden=hidden,
    )


def _subject(account: Account) -> str:
    return f"account {account.id} ({account.platform} {account.platform_id})"


def _capture_token(account: Account) -> tuple[str | None, str | None]:
    """(the retired account's platform token, None) or (None, why there is none to use)."""
    try:
        found = vault_service.platform_token(account.id)
    except StewardError as exc:
        return None, f"its token could not be read: {exc.message}"
    if found is None:
        return None, "there is no platform token to read its threads with"
    return found, None
