"""HTTP clients for the platforms Steward moderates, and one facade so callers never branch on platform.

``Platforms().action(platform, operation, item_id, token)`` performs ``hide``, ``unhide`` or ``delete`` on one
item. Base URLs, the timeout and the number of attempts come from the settings (``STEWARD_META_GRAPH_URL``,
``STEWARD_X_API_URL``, ``STEWARD_YOUTUBE_API_URL``, ``STEWARD_PLATFORM_TIMEOUT_SECONDS``,
``STEWARD_PLATFORM_ATTEMPTS``); the local runtime points them at its fake platform server on loopback. The access
token is a per-call argument and only ever travels in the ``Authorization`` header.

How each operation maps onto each platform (``ActionResult.performed`` says what was actually done):

=============  ==========================  ============================  ==========================================
operation      Facebook / Instagram        X                             YouTube (``comments.setModerationStatus``)
=============  ==========================  ============================  ==========================================
hide           ``is_hidden`` / ``hide``    hide the reply                ``heldForReview``
unhide         ``=false``                  unhide the reply              ``published``
delete         ``DELETE /{comment-id}``    hide the reply (see below)    ``rejected``
=============  ==========================  ============================  ==========================================

- **X delete → hide.** No X API lets an account delete another account's reply; hiding it (v2 hide replies) is
  the strongest action available, and it is reversible. The result says ``performed="hide"`` so the case record
  does not claim a deletion that did not happen.
- **YouTube hide → heldForReview, unhide → published.** A hide in Steward must be reversible by a moderator's
  overturn. ``heldForReview`` takes the comment out of public view and keeps it, visible to the channel, in the
  review state the API documents as reversible by ``published``. ``rejected`` was not chosen for hide because
  YouTube documents it as "unfit for display" and it also hides every reply under the comment: other people's
  replies would disappear with it, which a viewpoint-neutral hide of one comment must not do.
- **YouTube delete → rejected.** The API cannot delete another user's comment (``comments.delete`` is for the
  caller's own comments); ``rejected`` is the removal the channel owner has. Steward never bans the author
  (``banAuthor`` stays false): blocking is a separate, reviewed decision under the policies.

Tokens: ``Platforms().refresh_token(platform, access_token=..., refresh_token=..., client=OAuthClient(...))``
gives an :class:`IssuedToken` (Facebook / Instagram: Meta's long-lived token exchange, no refresh token; X: the
refresh grant, which rotates the refresh token; YouTube: Google's refresh grant at ``STEWARD_GOOGLE_OAUTH_URL``).
``Platforms().check_token(platform, token)`` gives the platform id of the account the token acts as (the Page or
Instagram account, the X user, the YouTube channel); an invalid or revoked token is a :class:`PlatformRefused`.

Errors: :class:`PlatformError` (retryable, an ``Unavailable``) and :class:`PlatformRefused` (final); both are
:class:`PlatformFailure` and never contain the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from shared.errors import BadRequest
from shared.settings import Settings
from shared.store.platforms._http import PLATFORM_NAMES, ClientConfig, PlatformName, retry_after_seconds
from shared.store.platforms.errors import PlatformError, PlatformFailure, PlatformRefused
from shared.store.platforms.meta import FacebookClient, GraphComment, InstagramClient
from shared.store.platforms.oauth import IssuedToken, OAuthClient
from shared.store.platforms.x import XClient
from shared.store.platforms.youtube import (
    CommentThread,
    CommentThreadPage,
    ModerationStatus,
    YouTubeClient,
    YouTubeComment,
)

Operation = Literal["hide", "unhide", "delete"]
OPERATIONS: tuple[Operation, ...] = get_args(Operation)

YOUTUBE_STATUS: dict[Operation, ModerationStatus] = {
    "hide": "heldForReview",
    "unhide": "published",
    "delete": "rejected",
}

__all__ = [
    "OPERATIONS",
    "PLATFORM_NAMES",
    "YOUTUBE_STATUS",
    "ActionResult",
    "ClientConfig",
    "CommentThread",
    "CommentThreadPage",
    "FacebookClient",
    "GraphComment",
    "InstagramClient",
    "IssuedToken",
    "OAuthClient",
    "Operation",
    "PlatformError",
    "PlatformFailure",
    "PlatformName",
    "PlatformRefused",
    "Platforms",
    "XClient",
    "YouTubeClient",
    "YouTubeComment",
    "retry_after_seconds",
]


@dataclass(frozen=True)
class ActionResult:
    """What happened on the platform. ``performed`` differs from ``requested`` when the platform has no such
    operation (X delete → ``hide``); for YouTube it names the moderation status set."""

    platform: PlatformName
    requested: Operation
    performed: str
    item_id: str
    note: str | None = None


class Platforms:
    """One client per platform, made on first use from the settings unless given."""

    def __init__(
        self,
        *,
        facebook: FacebookClient | None = None,
        instagram: InstagramClient | None = None,
        x: XClient | None = None,
        youtube: YouTubeClient | None = None,
        settings: Settings | None = None,
    ) -> None:
        self._facebook = facebook
        self._instagram = instagram
        self._x = x
        self._youtube = youtube
        self._settings = settings

    @property
    def facebook(self) -> FacebookClient:
        if self._facebook is None:
            self._facebook = FacebookClient(ClientConfig.for_platform("facebook", self._settings))
        return self._facebook

    @property
    def instagram(self) -> InstagramClient:
        if self._instagram is None:
            self._instagram = InstagramClient(ClientConfig.for_platform("instagram", self._settings))
        return self._instagram

    @property
    def x(self) -> XClient:
        if self._x is None:
            self._x = XClient(ClientConfig.for_platform("x", self._settings))
        return self._x

    @property
    def youtube(self) -> YouTubeClient:
        if self._youtube is None:
            self._youtube = YouTubeClient(
                ClientConfig.for_platform("youtube", self._settings),
                oauth_config=ClientConfig.for_token_endpoint("youtube", self._settings),
            )
        return self._youtube

    def action(self, platform: str, operation: str, item_id: str, token: str) -> ActionResult:
        """Perform ``operation`` on ``item_id``; raises PlatformError (retry later) or PlatformRefused (final)."""
        if platform not in PLATFORM_NAMES:
            raise BadRequest(f"unknown platform {platform!r}: expected one of {', '.join(PLATFORM_NAMES)}")
        if operation not in OPERATIONS:
            raise BadRequest(f"unknown operation {operation!r}: expected one of {', '.join(OPERATIONS)}")
        name, op = platform, operation  # narrowed to the literal types by the checks above
        if name in ("facebook", "instagram"):
            graph = self.facebook if name == "facebook" else self.instagram
            if op == "delete":
                graph.delete(item_id, token)
            else:
                graph.set_hidden(item_id, op == "hide", token)
            return ActionResult(name, op, op, item_id)
        if name == "x":
            hidden = op != "unhide"
            self.x.set_hidden(item_id, hidden, token)
            note = (
                "X cannot delete another account's reply; it was hidden instead" if op == "delete" else None
            )
            return ActionResult(name, op, "hide" if hidden else "unhide", item_id, note)
        status = YOUTUBE_STATUS[op]
        self.youtube.set_moderation_status([item_id], status, token)
        return ActionResult(name, op, status, item_id)

    def refresh_token(
        self, platform: str, *, access_token: str, refresh_token: str | None, client: OAuthClient
    ) -> IssuedToken:
        """A fresh token for one account: Meta's long-lived exchange of ``access_token`` (Facebook, Instagram),
        or the refresh grant with ``refresh_token`` (X, YouTube; BadRequest when it is ``None``). Keep the
        result's ``refresh_token``: X rotates it. Raises PlatformRefused when the platform refuses (a revoked
        grant, a wrong client) and PlatformError when it could not answer."""
        name = self._token_platform(platform, "token refresh")
        if name in ("facebook", "instagram"):
            graph = self.facebook if name == "facebook" else self.instagram
            return graph.exchange_token(access_token, client)
        if name == "x":
            return self.x.refresh_token(refresh_token, client)
        return self.youtube.refresh_token(refresh_token, client)

    def check_token(self, platform: str, token: str) -> str:
        """The platform id of the account ``token`` acts as; PlatformRefused when the token is invalid or
        revoked, PlatformError when the platform could not answer."""
        name = self._token_platform(platform, "token check")
        if name in ("facebook", "instagram"):
            return (self.facebook if name == "facebook" else self.instagram).check_token(token)
        if name == "x":
            return self.x.check_token(token)
        return self.youtube.check_token(token)

    @staticmethod
    def _token_platform(platform: str, what: str) -> PlatformName:
        for name in PLATFORM_NAMES:
            if platform == name:
                return name
        raise BadRequest(
            f"the platform {platform!r} has no {what}: expected one of {', '.join(PLATFORM_NAMES)}"
        )
