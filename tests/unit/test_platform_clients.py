"""The platform clients against the fake platform server on loopback (an honest fake, not a mock).

Unit tests block the network (``tests/unit/conftest.py``); this module narrows that to loopback only, so the
clients' real HTTP code runs against ``infrastructure.local.fake_platforms`` on 127.0.0.1 and nothing else.
"""

from __future__ import annotations

import logging
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infrastructure.local.fake_platforms import FakePlatforms
from shared.errors import BadRequest, Unavailable
from shared.settings import Settings
from shared.store.platforms import (
    ClientConfig,
    FacebookClient,
    InstagramClient,
    PlatformError,
    PlatformFailure,
    PlatformRefused,
    Platforms,
    XClient,
    YouTubeClient,
    retry_after_seconds,
)

TOKEN = "EAAB-page-token-Zx9-never-log-me"
PAGE = "1234567890321"
IG_ACCOUNT = "17841400000000001"
X_USER = "930524282358325248"
CHANNEL = "UCdistrictChannel0000001"

pytestmark = pytest.mark.usefixtures("loopback_only")  # tests/unit/conftest.py


@pytest.fixture
def fake() -> Iterator[FakePlatforms]:
    with FakePlatforms(meta_app_secret="test-app-secret") as server:
        yield server


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every record the Steward logger emits, with all its fields, as text."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.getMessage()} {record.__dict__!r}")

    handler = Collect(level=logging.DEBUG)
    target = logging.getLogger("steward")
    target.addHandler(handler)
    yield lines
    target.removeHandler(handler)


Sleeps = list[float]


def config(url: str, **overrides: Any) -> ClientConfig:
    values: dict[str, Any] = {"base_url": url, "timeout": 0.5, "attempts": 3, "backoff_base": 0.001}
    values.update(overrides)
    return ClientConfig(**values)


def recorder() -> tuple[Sleeps, Callable[[float], None]]:
    sleeps: Sleeps = []
    return sleeps, sleeps.append


def facebook_comment(fake: FakePlatforms, text: str = "a comment") -> str:
    return fake.seed_comment(
        "facebook", account_id=PAGE, post_id=f"{PAGE}_901097836652708", text=text
    ).comment_id


def x_reply(fake: FakePlatforms) -> str:
    return fake.seed_comment(
        "x", account_id=X_USER, post_id="1045405559317569537", text="@district hi"
    ).comment_id


def assert_token_absent(exc: BaseException, logs: list[str] | None = None) -> None:
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, PlatformFailure):
        texts.append(repr(exc.body()))
        texts.append(repr(vars(exc)))
    texts.extend(logs or [])
    for text in texts:
        assert TOKEN not in text


# --------------------------------------------------------------------------------------------- request shapes
def test_facebook_hide_unhide_delete_send_the_graph_requests(fake: FakePlatforms) -> None:
    # Given a comment on the Page
    comment_id = facebook_comment(fake)
    client = FacebookClient(config(fake.graph_url))

    # When it is hidden, unhidden and deleted
    client.hide(comment_id, TOKEN)
    assert fake.comment("facebook", comment_id).state == "hidden"
    client.unhide(comment_id, TOKEN)
    assert fake.comment("facebook", comment_id).state == "visible"
    client.delete(comment_id, TOKEN)

    # Then each is the Graph call, with the token in the Authorization header only
    assert fake.comment("facebook", comment_id).state == "removed"
    calls = fake.calls()
    assert [(c.method, c.path, c.form, c.query) for c in calls] == [
        ("POST", f"/graph/v21.0/{comment_id}", {"is_hidden": "true"}, {}),
        ("POST", f"/graph/v21.0/{comment_id}", {"is_hidden": "false"}, {}),
        ("DELETE", f"/graph/v21.0/{comment_id}", {}, {}),
    ]
    assert [c.operation for c in calls] == ["facebook.hide", "facebook.unhide", "facebook.delete"]
    assert all(c.token_location == "header" and c.status == 200 for c in calls)


def test_instagram_uses_the_hide_field(fake: FakePlatforms) -> None:
    comment_id = fake.seed_comment(
        "instagram", account_id=IG_ACCOUNT, post_id="17893439049281758", text="hola"
    ).comment_id
    client = InstagramClient(config(fake.graph_url))

    client.hide(comment_id, TOKEN)
    client.unhide(comment_id, TOKEN)
    client.delete(comment_id, TOKEN)

    assert [(c.method, c.form, c.operation) for c in fake.calls()] == [
        ("POST", {"hide": "true"}, "instagram.hide"),
        ("POST", {"hide": "false"}, "instagram.unhide"),
        ("DELETE", {}, "instagram.delete"),
    ]
    assert fake.comment("instagram", comment_id).state == "removed"
    assert all(c.token_location == "header" for c in fake.calls())


def test_x_hides_and_unhides_a_reply(fake: FakePlatforms) -> None:
    tweet_id = x_reply(fake)
    client = XClient(config(fake.x_url))

    client.hide(tweet_id, TOKEN)
    assert fake.comment("x", tweet_id).state == "hidden"
    client.unhide(tweet_id, TOKEN)

    assert [(c.method, c.path, c.json_body, c.token_location) for c in fake.calls()] == [
        ("PUT", f"/x/2/tweets/{tweet_id}/hidden", {"hidden": True}, "header"),
        ("PUT", f"/x/2/tweets/{tweet_id}/hidden", {"hidden": False}, "header"),
    ]
    assert fake.comment("x", tweet_id).state == "visible"


def test_youtube_set_moderation_status_batches_50_ids_a_call(fake: FakePlatforms) -> None:
    ids = [
        fake.seed_comment("youtube", account_id=CHANNEL, post_id="video1", text=f"c{i}").comment_id
        for i in range(120)
    ]
    client = YouTubeClient(config(fake.youtube_url))

    client.set_moderation_status(ids, "heldForReview", TOKEN)

    calls = fake.calls()
    assert [c.path for c in calls] == ["/youtube/v3/comments/setModerationStatus"] * 3
    assert [len(c.query["id"].split(",")) for c in calls] == [50, 50, 20]
    assert {c.query["moderationStatus"] for c in calls} == {"heldForReview"}
    assert all(c.method == "POST" and c.status == 204 and c.token_location == "header" for c in calls)
    assert {fake.comment("youtube", i).state for i in ids} == {"hidden"}
    with pytest.raises(BadRequest):
        client.set_moderation_status(ids[:1], "published", TOKEN, ban_author=True)


def test_youtube_comment_threads_page_through_the_channel_newest_first(fake: FakePlatforms) -> None:
    # Given 250 threads on the channel (one with replies) and one on another channel
    tops = [
        fake.seed_comment(
            "youtube",
            account_id=CHANNEL,
            post_id=f"video{i % 3}",
            text=f"t{i}",
            created_time=1_700_000_000 + i,
        )
        for i in range(250)
    ]
    fake.seed_comment(
        "youtube", account_id=CHANNEL, post_id="video0", text="reply", parent_id=tops[0].comment_id
    )
    fake.seed_comment("youtube", account_id="UCsomeoneElse000000000", post_id="v", text="elsewhere")
    client = YouTubeClient(config(fake.youtube_url))

    # When every page is read
    pages = list(client.iter_comment_threads(CHANNEL, TOKEN))

    # Then 100 + 100 + 50 threads, newest first, each exactly once, the last page without a next token
    assert [len(p.threads) for p in pages] == [100, 100, 50]
    assert [p.next_page_token is None for p in pages] == [False, False, True]
    texts = [t.top_level.text for p in pages for t in p.threads]
    assert texts == [f"t{i}" for i in reversed(range(250))]
    oldest = pages[-1].threads[-1]
    assert oldest.total_reply_count == 1
    assert [r.text for r in oldest.replies] == ["reply"]
    assert oldest.replies[0].parent_id == tops[0].comment_id
    assert oldest.top_level.published_at is not None
    assert oldest.top_level.author_channel_id
    calls = fake.calls()
    assert calls[0].query == {
        "part": "snippet,replies",
        "allThreadsRelatedToChannelId": CHANNEL,
        "order": "time",
        "maxResults": "100",
    }
    assert calls[1].query["pageToken"] == pages[0].next_page_token
    assert all(c.method == "GET" and c.token_location == "header" for c in calls)


def test_youtube_paging_resumes_from_a_stored_token_without_skipping_or_repeating(
    fake: FakePlatforms,
) -> None:
    for i in range(5):
        fake.seed_comment("youtube", account_id=CHANNEL, post_id="v", text=f"t{i}", created_time=1000 + i)
    client = YouTubeClient(config(fake.youtube_url))
    first = client.comment_threads(CHANNEL, TOKEN, max_results=2)

    # A new comment arrives between pages: it is at the top next time, not in the middle of this walk
    fake.seed_comment("youtube", account_id=CHANNEL, post_id="v", text="new", created_time=2000)
    rest = list(client.iter_comment_threads(CHANNEL, TOKEN, page_token=first.next_page_token, max_results=2))

    seen = [t.top_level.text for page in [first, *rest] for t in page.threads]
    assert seen == ["t4", "t3", "t2", "t1", "t0"]


def test_hidden_youtube_threads_leave_the_default_listing(fake: FakePlatforms) -> None:
    comment = fake.seed_comment("youtube", account_id=CHANNEL, post_id="v", text="held")
    client = YouTubeClient(config(fake.youtube_url))
    client.set_moderation_status([comment.comment_id], "heldForReview", TOKEN)

    assert client.comment_threads(CHANNEL, TOKEN).threads == ()
    held = client.comment_threads(CHANNEL, TOKEN, moderation_status="heldForReview")
    assert [t.top_level.moderation_status for t in held.threads] == ["heldForReview"]


# --------------------------------------------------------------------------------------------- retries
def test_429_is_retried_waiting_what_retry_after_says(fake: FakePlatforms) -> None:
    comment_id = facebook_comment(fake)
    fake.rate_limit_next("facebook.hide", 2, retry_after=0.05)
    sleeps, sleep = recorder()

    FacebookClient(config(fake.graph_url), sleep=sleep).hide(comment_id, TOKEN)

    assert sleeps == [0.05, 0.05]
    assert [c.status for c in fake.calls()] == [429, 429, 200]
    assert fake.comment("facebook", comment_id).state == "hidden"


def test_retry_after_is_really_slept(fake: FakePlatforms) -> None:
    tweet_id = x_reply(fake)
    fake.rate_limit_next("x.hide", 1, retry_after=0.2)

    started = time.monotonic()
    XClient(config(fake.x_url)).hide(tweet_id, TOKEN)

    assert time.monotonic() - started >= 0.2
    assert [c.status for c in fake.calls()] == [429, 200]


def test_a_wait_longer_than_the_client_allows_fails_at_once_with_retry_after(fake: FakePlatforms) -> None:
    comment_id = facebook_comment(fake)
    fake.rate_limit_next("facebook.hide", 1, retry_after=120)
    sleeps, sleep = recorder()

    with pytest.raises(PlatformError) as raised:
        FacebookClient(config(fake.graph_url, max_retry_after=30), sleep=sleep).hide(comment_id, TOKEN)

    assert raised.value.retry_after == 120
    assert raised.value.http_status == 429
    assert sleeps == []
    assert len(fake.calls()) == 1


def test_5xx_exhausted_is_a_platform_error_without_the_token(
    fake: FakePlatforms, log_lines: list[str]
) -> None:
    comment_id = facebook_comment(fake)
    fake.fail_next("facebook.*", 3, status=500)
    sleeps, sleep = recorder()

    with pytest.raises(PlatformError) as raised:
        FacebookClient(config(fake.graph_url), sleep=sleep).hide(comment_id, TOKEN)

    error = raised.value
    assert isinstance(error, Unavailable)
    assert (error.platform, error.operation, error.http_status, error.attempts) == (
        "facebook",
        "hide",
        500,
        3,
    )
    assert error.platform_message == "An unexpected error has occurred."
    assert "HTTP 500" in str(error)
    assert len(fake.calls()) == 3
    assert len(sleeps) == 2
    assert all(0 <= s <= 0.002 for s in sleeps)
    assert len(log_lines) == 2
    assert all("platform call will be retried" in line for line in log_lines)
    assert_token_absent(error, log_lines)
    assert fake.comment("facebook", comment_id).state == "visible"


def test_transient_graph_error_codes_are_retried(fake: FakePlatforms) -> None:
    # Graph throttles with code 4 (often HTTP 400, not 429)
    comment_id = facebook_comment(fake)
    fake.fail_next(
        "facebook.hide", 1, status=400, reason="4", message="(#4) Application request limit reached"
    )
    FacebookClient(config(fake.graph_url), sleep=recorder()[1]).hide(comment_id, TOKEN)
    assert [c.status for c in fake.calls()] == [400, 200]


def test_4xx_is_refused_and_not_retried(fake: FakePlatforms, log_lines: list[str]) -> None:
    sleeps, sleep = recorder()

    with pytest.raises(PlatformRefused) as raised:
        FacebookClient(config(fake.graph_url), sleep=sleep).delete("901097836652708_1", TOKEN)

    error = raised.value
    assert not isinstance(error, Unavailable)
    assert (error.http_status, error.attempts, error.not_found) == (400, 1, True)
    assert error.reason == "GraphMethodException#100.33"
    assert "does not exist" in (error.platform_message or "")
    assert len(fake.calls()) == 1
    assert sleeps == []
    assert log_lines == []
    assert_token_absent(error, log_lines)


def test_x_and_youtube_refusals_carry_their_messages(fake: FakePlatforms) -> None:
    with pytest.raises(PlatformRefused) as x_refusal:
        XClient(config(fake.x_url)).hide("1", TOKEN)
    assert x_refusal.value.http_status == 404
    assert x_refusal.value.not_found
    assert "Could not find tweet" in str(x_refusal.value)

    root = fake.seed_comment(
        "x", account_id=X_USER, post_id="55", comment_id="55", parent_id="", text="our post"
    )
    with pytest.raises(PlatformRefused) as not_a_reply:
        XClient(config(fake.x_url)).hide(root.comment_id, TOKEN)
    assert not_a_reply.value.http_status == 403

    with pytest.raises(PlatformRefused) as yt_refusal:
        YouTubeClient(config(fake.youtube_url)).set_moderation_status(["UgzMissing"], "rejected", TOKEN)
    assert (yt_refusal.value.http_status, yt_refusal.value.reason) == (404, "commentNotFound")
    assert yt_refusal.value.not_found


def test_youtube_quota_exceeded_is_final_so_a_poller_can_stop(fake: FakePlatforms) -> None:
    fake.fail_next("youtube.commentThreads.list", 1, status=403, reason="quotaExceeded")

    with pytest.raises(PlatformRefused) as raised:
        YouTubeClient(config(fake.youtube_url)).comment_threads(CHANNEL, TOKEN)

    assert raised.value.reason == "quotaExceeded"
    assert len(fake.calls()) == 1


def test_timeouts_are_retried_then_succeed(fake: FakePlatforms) -> None:
    tweet_id = x_reply(fake)
    fake.hang_next("x.hide", 2, seconds=3)

    XClient(config(fake.x_url, timeout=0.2), sleep=recorder()[1]).hide(tweet_id, TOKEN)

    assert [c.status for c in fake.calls()] == [None, None, 200]
    assert fake.comment("x", tweet_id).state == "hidden"


def test_timeouts_exhausted_are_a_platform_error(fake: FakePlatforms, log_lines: list[str]) -> None:
    comment = fake.seed_comment("youtube", account_id=CHANNEL, post_id="v", text="x")
    fake.hang_next("youtube.setModerationStatus", 3, seconds=3)

    with pytest.raises(PlatformError) as raised:
        YouTubeClient(config(fake.youtube_url, timeout=0.2), sleep=recorder()[1]).set_moderation_status(
            [comment.comment_id], "rejected", TOKEN
        )

    assert raised.value.http_status is None
    assert raised.value.attempts == 3
    assert "timed out" in str(raised.value)
    assert len(fake.calls()) == 3
    assert fake.comment("youtube", comment.comment_id).state == "visible"  # a hung call changed nothing
    assert_token_absent(raised.value, log_lines)


def test_a_refused_connection_is_retried_then_a_platform_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = FacebookClient(config(f"http://127.0.0.1:{closed_port}/graph/v21.0"), sleep=recorder()[1])

    with pytest.raises(PlatformError) as raised:
        client.hide("1_2", TOKEN)

    assert raised.value.attempts == 3
    assert "connection failed" in str(raised.value)
    assert_token_absent(raised.value)


# --------------------------------------------------------------------------------------------- the token
def test_a_token_the_platform_echoes_back_is_redacted(fake: FakePlatforms) -> None:
    comment_id = facebook_comment(fake)
    fake.fail_next("facebook.hide", 1, status=400, reason="190", message=f"Malformed access token {TOKEN}")

    with pytest.raises(PlatformRefused) as raised:
        FacebookClient(config(fake.graph_url)).hide(comment_id, TOKEN)

    assert "Malformed access token [redacted]" in str(raised.value)
    assert_token_absent(raised.value)


def test_an_invalid_token_is_refused_without_being_repeated() -> None:
    with FakePlatforms(tokens={"the-right-token"}) as fake:
        comment_id = facebook_comment(fake)
        with pytest.raises(PlatformRefused) as raised:
            FacebookClient(config(fake.graph_url)).hide(comment_id, TOKEN)
    assert raised.value.reason == "OAuthException#190"
    assert_token_absent(raised.value)


def test_a_malformed_token_never_reaches_a_header_or_an_error(fake: FakePlatforms) -> None:
    bad = TOKEN + "\r\nX-Injected: 1"
    with pytest.raises(BadRequest) as raised:
        FacebookClient(config(fake.graph_url)).hide("1_2", bad)
    assert TOKEN not in str(raised.value)
    assert TOKEN not in repr(raised.value)
    assert fake.calls() == []


def test_an_item_id_cannot_change_the_path(fake: FakePlatforms) -> None:
    with pytest.raises(BadRequest):
        FacebookClient(config(fake.graph_url)).delete("../me/feed", TOKEN)
    assert fake.calls() == []


# --------------------------------------------------------------------------------------------- the facade
def test_the_facade_maps_operations_onto_each_platform(fake: FakePlatforms) -> None:
    fb = facebook_comment(fake)
    tweet = x_reply(fake)
    yt = fake.seed_comment("youtube", account_id=CHANNEL, post_id="v", text="x").comment_id
    settings = Settings(
        region="us-east-1",
        meta_graph_url=fake.graph_url,
        x_api_url=fake.x_url,
        youtube_api_url=fake.youtube_url,
        platform_timeout_seconds=2,
        platform_attempts=2,
    )
    platforms = Platforms(settings=settings)

    assert platforms.action("facebook", "hide", fb, TOKEN).performed == "hide"
    x_delete = platforms.action("x", "delete", tweet, TOKEN)
    assert (x_delete.performed, fake.comment("x", tweet).state) == ("hide", "hidden")
    assert x_delete.note
    assert "cannot delete" in x_delete.note
    assert platforms.action("youtube", "hide", yt, TOKEN).performed == "heldForReview"
    assert fake.comment("youtube", yt).state == "hidden"
    assert platforms.action("youtube", "unhide", yt, TOKEN).performed == "published"
    assert platforms.action("youtube", "delete", yt, TOKEN).performed == "rejected"
    assert fake.comment("youtube", yt).state == "removed"
    assert platforms.action("facebook", "delete", fb, TOKEN).performed == "delete"
    assert platforms.facebook.core.config == ClientConfig(fake.graph_url, timeout=2.0, attempts=2)

    with pytest.raises(BadRequest):
        platforms.action("myspace", "hide", fb, TOKEN)
    with pytest.raises(BadRequest):
        platforms.action("facebook", "ban", fb, TOKEN)


# --------------------------------------------------------------------------------------------- pure helpers
def test_retry_after_reads_seconds_dates_and_x_reset() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds({"retry-after": "3"}, now) == 3.0
    assert retry_after_seconds({"retry-after": "Tue, 14 Nov 2023 22:13:30 GMT"}, now) == pytest.approx(10.0)
    assert retry_after_seconds({"x-rate-limit-reset": str(int(now) + 7)}, now) == 7.0
    assert retry_after_seconds({}, now) is None
    assert retry_after_seconds({"retry-after": "soon"}, now) is None
