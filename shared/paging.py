"""Opaque cursors for listings read from an index: the last position returned, bound to the filters it was made
for, so a cursor replayed with other filters is refused rather than silently skipping items."""

from __future__ import annotations

import base64
import binascii
import json

from shared.errors import InvalidParameter


def cursor(order: str, fingerprint: str) -> str:
    raw = json.dumps({"o": order, "f": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(value: str, fingerprint: str) -> str:
    """The position a cursor holds; InvalidParameter (422) if it is not ours or was made for other filters."""
    try:
        data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        order, made_for = data["o"], data["f"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidParameter("cursor: not a cursor this API returned") from exc
    if not isinstance(order, str) or made_for != fingerprint:
        raise InvalidParameter("cursor: it belongs to a listing with other filters")
    return order
