"""Token refresh and token checks end to end: the platform clients against the fake platform server.

The ``fake`` fixture points the settings (``STEWARD_GOOGLE_OAUTH_URL`` included) at the fake, so the facade is
built exactly as a function builds it. The fake issues tokens bound to accounts, rotates X's refresh tokens,
revokes on request and knows one OAuth client (``FAKE_CLIENT_ID`` / ``FAKE_CLIENT_SECRET``).
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime, timedelta

import pytest

from infrastructure.local.fake_platforms import FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakePlatforms, Platform
from shared.errors import Unavailable
from shared.store.platforms import (
    ClientConfig,
    FacebookClient,
    IssuedToken,
    OAuthClient,
    PlatformError,
    PlatformFailure,
    PlatformRefused,
    Platforms,
    XClient,
    YouTubeClient,
)

CLIENT = OAuthClient(FAKE_CLIENT_ID, FAKE_CLIENT_SECRET)
ACCOUNTS: dict[Platform, str] = {
    "facebook": "1234567890321",
    "instagram": "17841400000000001",
    "x": "930524282358325248",
    "youtube": "UCdistrictChannel0000001",
}
LIFETIMES = {"facebook": 60 * 86400, "instagram": 60 * 86400, "x": 2 * 3600, "youtube": 3600}


def assert_no_secret(exc: BaseException, *secrets: str | None) -> None:
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, PlatformFailure):
        texts.extend([repr(exc.body()), repr(vars(exc))])
    for text in texts:
        for secret in (*secrets, FAKE_CLIENT_SECRET):
            if secret:
                assert secret not in text


def refresh(platforms: Platforms, platform: str, access: str, refresh_token: str | None) -> IssuedToken:
    return platforms.refresh_token(platform, access_token=access, refresh_token=refresh_token, client=CLIENT)


def fast(url: str) -> ClientConfig:
    """A client config that gives up on a hung call quickly (the fixture's settings wait 10 s)."""
    return ClientConfig(url, timeout=0.3, attempts=2, backoff_base=0.001)


# --------------------------------------------------------------------------------------------- the happy path
@pytest.mark.parametrize("platform", list(ACCOUNTS))
def test_refresh_then_check_names_the_bound_account(fake: FakePlatforms, platform: Platform) -> None:
    # Given an account connected through the platform's consent flow
    access, refresh_token = fake.issue_tokens(platform, ACCOUNTS[platform])
    platforms = Platforms()
    before = datetime.now(UTC)

    # When its token is refreshed and the new one checked
    issued = refresh(platforms, platform, access, refresh_token)
    account = platforms.check_token(platform, issued.access_token)

    # Then the new token acts as the same account, and expires when the platform says
    assert account == ACCOUNTS[platform]
    assert issued.access_token not in (access, refresh_token)
    assert fake.token_account(issued.access_token) == (platform, ACCOUNTS[platform])
    assert issued.expires_at is not None
    lifetime = timedelta(seconds=LIFETIMES[platform])
    assert before + lifetime - timedelta(seconds=2) <= issued.expires_at <= datetime.now(UTC) + lifetime
    if platform in ("facebook", "instagram"):
        assert refresh_token is None
        assert issued.refresh_token is None
    elif platform == "x":
        assert issued.refresh_token not in (None, refresh_token)
    else:
        assert issued.refresh_token == refresh_token

    # And both calls are recorded under their names, with no token or secret kept
    [refreshed] = fake.calls("refresh_token")
    [checked] = fake.calls("check_token")
    assert refreshed.operation == f"{platform}.refresh_token"
    assert checked.operation == f"{platform}.check_token"
    assert (refreshed.status, checked.status) == (200, 200)
    assert checked.token_location == "header"
    assert refreshed.token_location == ("query" if platform in ("facebook", "instagram") else "form")
    for call in (refreshed, checked):
        recorded = repr(call.to_json())
        for secret in (access, refresh_token, issued.access_token, issued.refresh_token, FAKE_CLIENT_SECRET):
            if secret:
                assert secret not in recorded
    assert (refreshed.query.get("client_id") or refreshed.form.get("client_id")) == FAKE_CLIENT_ID


def test_the_settings_env_points_google_oauth_at_the_fake(fake: FakePlatforms) -> None:
    assert fake.settings_env()["STEWARD_GOOGLE_OAUTH_URL"] == fake.google_oauth_url
    assert fake.google_oauth_url == f"{fake.url}/google-oauth"
    assert Platforms().youtube.oauth_core.config.base_url == fake.google_oauth_url


def test_an_issued_token_moderates_and_a_refreshed_one_too(fake: FakePlatforms) -> None:
    comment = fake.seed_comment("facebook", account_id=ACCOUNTS["facebook"], post_id="1_2", text="hi")
    access, _ = fake.issue_tokens("facebook", ACCOUNTS["facebook"])
    platforms = Platforms()

    platforms.action("facebook", "hide", comment.comment_id, access)
    issued = refresh(platforms, "facebook", access, None)
    platforms.action("facebook", "unhide", comment.comment_id, issued.access_token)

    assert fake.comment("facebook", comment.comment_id).state == "visible"


# --------------------------------------------------------------------------------------------- refusals
def test_x_refuses_the_old_refresh_token_after_rotation(fake: FakePlatforms) -> None:
    access, first = fake.issue_tokens("x", ACCOUNTS["x"])
    platforms = Platforms()
    issued = refresh(platforms, "x", access, first)

    with pytest.raises(PlatformRefused) as raised:
        refresh(platforms, "x", access, first)

    assert (raised.value.http_status, raised.value.reason) == (400, "invalid_request")
    assert raised.value.attempts == 1
    assert_no_secret(raised.value, access, first, issued.access_token, issued.refresh_token)
    again = refresh(platforms, "x", issued.access_token, issued.refresh_token)  # the rotated one works
    assert platforms.check_token("x", again.access_token) == ACCOUNTS["x"]


@pytest.mark.parametrize("platform", list(ACCOUNTS))
def test_a_revoked_token_is_refused(fake: FakePlatforms, platform: Platform) -> None:
    access, refresh_token = fake.issue_tokens(platform, ACCOUNTS[platform])
    platforms = Platforms()
    assert platforms.check_token(platform, access) == ACCOUNTS[platform]

    fake.revoke(access)

    with pytest.raises(PlatformRefused) as check:
        platforms.check_token(platform, access)
    assert check.value.attempts == 1
    assert_no_secret(check.value, access, refresh_token)
    if refresh_token is not None:
        fake.revoke(refresh_token)
    with pytest.raises(PlatformRefused) as renewal:
        refresh(platforms, platform, access, refresh_token)
    assert_no_secret(renewal.value, access, refresh_token)
    if platform == "youtube":
        assert renewal.value.reason == "invalid_grant"
    if platform in ("facebook", "instagram"):
        assert check.value.reason == "OAuthException#190"
        assert renewal.value.reason == "OAuthException#190.463"


@pytest.mark.parametrize("platform", list(ACCOUNTS))
@pytest.mark.parametrize(
    "client",
    [OAuthClient(FAKE_CLIENT_ID, "not-the-secret"), OAuthClient("someone-else", FAKE_CLIENT_SECRET)],
    ids=["wrong-secret", "unknown-client"],
)
def test_a_wrong_client_is_refused_in_the_platforms_shape(
    fake: FakePlatforms, platform: Platform, client: OAuthClient
) -> None:
    access, refresh_token = fake.issue_tokens(platform, ACCOUNTS[platform])

    with pytest.raises(PlatformRefused) as raised:
        Platforms().refresh_token(platform, access_token=access, refresh_token=refresh_token, client=client)

    expected = {
        "facebook": ("OAuthException#1", "OAuthException#101"),
        "instagram": ("OAuthException#1", "OAuthException#101"),
        "x": ("unauthorized_client",),
        "youtube": ("invalid_client",),
    }[platform]
    assert raised.value.reason in expected
    assert len(fake.calls("refresh_token")) == 1  # final: not retried
    assert_no_secret(raised.value, access, refresh_token, client.client_secret)
    if refresh_token is not None:  # and the grant was not used up
        refresh(Platforms(), platform, access, refresh_token)


def test_a_token_from_another_platform_is_refused(fake: FakePlatforms) -> None:
    youtube_access, _ = fake.issue_tokens("youtube", ACCOUNTS["youtube"])
    with pytest.raises(PlatformRefused) as raised:
        Platforms().check_token("x", youtube_access)
    assert raised.value.http_status == 401


def test_tokens_the_fake_did_not_issue_keep_working_as_before(fake: FakePlatforms) -> None:
    fake.add_account("x", ACCOUNTS["x"], "Steward School District")
    platforms = Platforms()
    assert platforms.check_token("x", "any-token-the-fake-accepts") == ACCOUNTS["x"]
    assert platforms.check_token("facebook", "local-token-facebook-555") == "555"

    fake.revoke("any-token-the-fake-accepts")
    with pytest.raises(PlatformRefused):
        platforms.check_token("x", "any-token-the-fake-accepts")

    with FakePlatforms(tokens={"the-right-token"}) as strict:
        client = XClient(fast(strict.x_url))
        assert client.check_token("the-right-token")
        with pytest.raises(PlatformRefused):
            client.check_token("a-wrong-token")
        issued, _ = strict.issue_tokens("x", "42")
        assert client.check_token(issued) == "42"


# --------------------------------------------------------------------------------------------- faults
@pytest.mark.parametrize("platform", list(ACCOUNTS))
def test_faults_are_a_platform_error_then_the_retry_succeeds(fake: FakePlatforms, platform: Platform) -> None:
    access, refresh_token = fake.issue_tokens(platform, ACCOUNTS[platform])
    platforms = Platforms()  # two attempts (the fixture's STEWARD_PLATFORM_ATTEMPTS)
    fake.fail_next("refresh_token", 2, status=500)
    fake.rate_limit_next("check_token", 2, retry_after=0.01)

    with pytest.raises(PlatformError) as failed:
        refresh(platforms, platform, access, refresh_token)
    with pytest.raises(PlatformError) as limited:
        platforms.check_token(platform, access)

    assert isinstance(failed.value, Unavailable)
    assert (failed.value.http_status, failed.value.attempts) == (500, 2)
    assert limited.value.http_status == 429
    assert_no_secret(failed.value, access, refresh_token)
    assert_no_secret(limited.value, access, refresh_token)
    issued = refresh(platforms, platform, access, refresh_token)  # the refresh token was not used up
    assert platforms.check_token(platform, issued.access_token) == ACCOUNTS[platform]
    assert [c.status for c in fake.calls("refresh_token")] == [500, 500, 200]
    assert [c.status for c in fake.calls("check_token")] == [429, 429, 200]


def test_fault_answers_come_in_each_token_endpoints_shape(fake: FakePlatforms) -> None:
    access, refresh_token = fake.issue_tokens("youtube", ACCOUNTS["youtube"])
    fake.fail_next("youtube.refresh_token", 1, status=400, reason="invalid_grant", message="Bad Request")
    with pytest.raises(PlatformRefused) as google:
        refresh(Platforms(), "youtube", access, refresh_token)
    assert (google.value.reason, google.value.platform_message) == (
        "invalid_grant",
        "invalid_grant: Bad Request",
    )

    fb_access, _ = fake.issue_tokens("facebook", ACCOUNTS["facebook"])
    fake.fail_next(
        "facebook.refresh_token", 1, status=400, reason="190", message="Invalid OAuth access token."
    )
    with pytest.raises(PlatformRefused) as graph:
        refresh(Platforms(), "facebook", fb_access, None)
    assert graph.value.reason == "OAuthException#190"


def test_a_hung_refresh_times_out_then_succeeds_and_changes_nothing(fake: FakePlatforms) -> None:
    access, refresh_token = fake.issue_tokens("x", ACCOUNTS["x"])
    fake.hang_next("x.refresh_token", 1, seconds=2)
    fake.hang_next("youtube.check_token", 2, seconds=2)

    issued = XClient(fast(fake.x_url)).refresh_token(refresh_token, CLIENT)
    with pytest.raises(PlatformError) as hung:
        YouTubeClient(fast(fake.youtube_url)).check_token(access)

    assert [c.status for c in fake.calls("x.refresh_token")] == [None, 200]
    assert XClient(fast(fake.x_url)).check_token(issued.access_token) == ACCOUNTS["x"]
    assert "timed out" in str(hung.value)
    assert_no_secret(hung.value, access, refresh_token)


def test_graph_calls_with_a_token_the_fake_did_not_issue_are_named_graph(fake: FakePlatforms) -> None:
    client = FacebookClient(fast(fake.graph_url))
    client.exchange_token("local-token-instagram-17841400000000009", CLIENT)
    assert [c.operation for c in fake.calls("refresh_token")] == ["graph.refresh_token"]
