"""What a platform call raises when it does not succeed.

Two kinds, told apart by what the caller should do next:

- :class:`PlatformError` (an :class:`~shared.errors.Unavailable`): the platform was unreachable, too slow, rate
  limited or failing (429, 5xx, a transient Graph error, a timeout) on every attempt. Nothing is known to have
  changed; the caller may retry later (the case stays open).
- :class:`PlatformRefused`: the platform answered and said no (a 4xx other than 429: unknown or deleted item, bad
  token, missing permission, quota used up). Retrying the same call will not help.

Both carry the platform, the operation, the HTTP status (``None`` when no answer arrived), the platform's own error
message and reason code, and the number of attempts. None of them ever carries the access token: the client
redacts it from anything the platform sends back before it reaches an exception or a log line.
"""

from __future__ import annotations

from http import HTTPStatus

from shared.errors import StewardError, Unavailable


class PlatformFailure(StewardError):
    """Base of every platform call failure (catch this to handle both kinds)."""

    status = HTTPStatus.BAD_GATEWAY
    code = "platform_failure"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        operation: str,
        http_status: int | None = None,
        platform_message: str | None = None,
        reason: str | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
        not_found: bool = False,
    ) -> None:
        super().__init__(
            message,
            platform=platform,
            operation=operation,
            http_status=http_status,
            reason=reason,
            attempts=attempts,
        )
        self.platform = platform
        self.operation = operation
        self.http_status = http_status
        self.platform_message = platform_message
        self.reason = reason
        self.attempts = attempts
        self.retry_after = retry_after
        self.not_found = not_found

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(platform={self.platform!r}, operation={self.operation!r}, "
            f"http_status={self.http_status!r}, reason={self.reason!r}, attempts={self.attempts}, "
            f"message={self.message!r})"
        )


class PlatformError(PlatformFailure, Unavailable):
    """The platform could not be reached or kept failing; retry later. ``retry_after`` is the platform's own
    wait, in seconds, when it named one longer than the client was willing to sleep."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "platform_unavailable"
    retryable = True


class PlatformRefused(PlatformFailure):
    """The platform refused the call (4xx other than 429). ``not_found`` is set when it says the item does not
    exist (already deleted, or never was)."""

    status = HTTPStatus.BAD_GATEWAY
    code = "platform_refused"
    retryable = False
