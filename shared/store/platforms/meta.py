"""Facebook Page and Instagram comment moderation through the Graph API (``STEWARD_META_GRAPH_URL``).

- Facebook: ``POST /{comment-id}`` with form field ``is_hidden=true|false``; ``DELETE /{comment-id}``.
- Instagram: ``POST /{ig-comment-id}`` with form field ``hide=true|false``; ``DELETE /{ig-comment-id}``.

Both answer ``{"success": true}``. The Page (or Instagram account) token goes in ``Authorization: Bearer``, which
the Graph API accepts in place of the ``access_token`` parameter, so it is never in a URL. Graph errors are
``{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}``; throttling comes back as
codes 4, 17, 32, 613 (often with HTTP 400/403, not 429) and service trouble as codes 1 and 2, so those and anything
marked ``is_transient`` are retried. Code 100 with subcode 33 (or HTTP 404) means the object does not exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.store.platforms._http import ClientConfig, ErrorInfo, HttpCore, PlatformName, item_segment
from shared.store.platforms.errors import PlatformRefused

# Graph error codes that mean "try again later": unknown/temporary service errors and the rate limits.
TRANSIENT_GRAPH_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})


def read_graph_error(status: int, body: Any) -> ErrorInfo:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = body.get("_text") if isinstance(body, dict) else None
        return ErrorInfo(message=str(text or f"HTTP {status} without a Graph error body"))
    code = error.get("code")
    subcode = error.get("error_subcode")
    kind = error.get("type")
    reason = f"{kind or 'GraphError'}#{code}" + (f".{subcode}" if subcode is not None else "")
    transient = bool(error.get("is_transient")) or code in TRANSIENT_GRAPH_CODES
    not_found = status == 404 or (code == 100 and subcode == 33)
    return ErrorInfo(
        message=str(error.get("message") or "no message"),
        reason=reason,
        transient=transient,
        not_found=not_found,
    )


class _GraphCommentClient:
    platform: PlatformName
    hide_field: str

    def __init__(
        self, config: ClientConfig | None = None, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.core = HttpCore(
            self.platform, config or ClientConfig.for_platform(self.platform), read_graph_error, sleep=sleep
        )

    def set_hidden(self, comment_id: str, hidden: bool, token: str) -> None:
        operation = "hide" if hidden else "unhide"
        path = "/" + item_segment(self.platform, comment_id)
        answer = self.core.call(
            operation, "POST", path, token=token, form={self.hide_field: "true" if hidden else "false"}
        )
        self._confirm(operation, answer.body, answer.status)

    def hide(self, comment_id: str, token: str) -> None:
        self.set_hidden(comment_id, True, token)

    def unhide(self, comment_id: str, token: str) -> None:
        self.set_hidden(comment_id, False, token)

    def delete(self, comment_id: str, token: str) -> None:
        path = "/" + item_segment(self.platform, comment_id)
        answer = self.core.call("delete", "DELETE", path, token=token)
        self._confirm("delete", answer.body, answer.status)

    def _confirm(self, operation: str, body: Any, status: int) -> None:
        if isinstance(body, dict) and body.get("success") is True:
            return
        raise PlatformRefused(
            f"{self.platform} {operation} was not confirmed: the answer lacks success=true",
            platform=self.platform,
            operation=operation,
            http_status=status,
            reason="unconfirmed",
        )


class FacebookClient(_GraphCommentClient):
    """Hide, unhide and delete comments on the district's Facebook Pages."""

    platform: PlatformName = "facebook"
    hide_field = "is_hidden"


class InstagramClient(_GraphCommentClient):
    """Hide, unhide and delete comments on the district's Instagram professional accounts."""

    platform: PlatformName = "instagram"
    hide_field = "hide"
