"""X (Twitter) reply moderation through the v2 API (``STEWARD_X_API_URL``).

``PUT /2/tweets/{id}/hidden`` with JSON ``{"hidden": true|false}`` and the district account's user token in
``Authorization: Bearer``; the answer is ``{"data": {"hidden": true|false}}``. Only replies in conversations the
account started can be hidden, and no API lets an account delete someone else's reply (see the facade for how
``delete`` is mapped). Errors come either as ``{"errors": [{"message", ...}]}`` or as a problem document
``{"title", "detail", "type", "status"}``; rate limits are 429 with ``x-rate-limit-reset``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.store.platforms._http import ClientConfig, ErrorInfo, HttpCore, item_segment, text_of
from shared.store.platforms.errors import PlatformRefused


def read_x_error(status: int, body: Any) -> ErrorInfo:
    if not isinstance(body, dict):
        return ErrorInfo(message=f"HTTP {status} without an error body")
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    message = text_of(body.get("detail")) or text_of(first.get("message")) or text_of(body.get("title"))
    reason = text_of(body.get("type")) or text_of(first.get("type")) or text_of(str(first.get("code") or ""))
    not_found = status == 404 or "resource-not-found" in (reason or "")
    return ErrorInfo(message=message or f"HTTP {status}", reason=reason, not_found=not_found)


class XClient:
    """Hide and unhide replies to the district's posts on X."""

    platform = "x"

    def __init__(
        self, config: ClientConfig | None = None, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.core = HttpCore("x", config or ClientConfig.for_platform("x"), read_x_error, sleep=sleep)

    def set_hidden(self, tweet_id: str, hidden: bool, token: str) -> None:
        operation = "hide" if hidden else "unhide"
        path = f"/2/tweets/{item_segment('x', tweet_id)}/hidden"
        answer = self.core.call(operation, "PUT", path, token=token, json_body={"hidden": hidden})
        data = answer.body.get("data") if isinstance(answer.body, dict) else None
        if not isinstance(data, dict) or data.get("hidden") is not hidden:
            raise PlatformRefused(
                f"x {operation} was not confirmed: the answer lacks data.hidden={str(hidden).lower()}",
                platform="x",
                operation=operation,
                http_status=answer.status,
                reason="unconfirmed",
            )

    def hide(self, tweet_id: str, token: str) -> None:
        self.set_hidden(tweet_id, True, token)

    def unhide(self, tweet_id: str, token: str) -> None:
        self.set_hidden(tweet_id, False, token)
