"""Helpers every adapter shares: reading JSON safely, typed field access, times and ids.

Two failure levels: :class:`~shared.errors.BadRequest` for a delivery that is not what the platform sends at all
(not JSON, not an object, no ``entry`` list), and :class:`ChangeProblem` for one change that cannot be read,
which the adapter turns into a :class:`~shared.domain.content.ChangeError` so its siblings still count.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn

from pydantic import ValidationError

from shared.domain.content import ChangeError, Outcome, Platform
from shared.errors import BadRequest

JsonObject = dict[str, Any]


class ChangeProblem(ValueError):
    """One change (entry, tweet, feed entry) cannot be read."""


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"JSON constant {name} is not allowed")


def load_json(raw: bytes, what: str) -> Any:
    """Parse a JSON delivery; anything that is not strict UTF-8 JSON is a BadRequest naming the problem."""
    if not raw.strip():
        raise BadRequest(f"{what} delivery is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{what} delivery is not UTF-8 text (byte {exc.start})") from exc
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"{what} delivery is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise BadRequest(f"{what} delivery is nested too deeply to read") from exc
    except ValueError as exc:  # NaN/Infinity, integers longer than Python's digit limit
        raise BadRequest(f"{what} delivery is not JSON Steward can read: {exc}") from exc


def as_object(value: Any, where: str) -> JsonObject:
    if not isinstance(value, dict):
        raise ChangeProblem(f"{where} is not a JSON object (got {json_type(value)})")
    return value


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def opt_str(obj: JsonObject, key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ChangeProblem(f"{where}.{key} must be a string, got {json_type(value)}")
    return value


def opt_id(value: Any, where: str) -> str | None:
    """A platform id: a non-empty string, or an integer (Meta's legacy ``sender_id``, X's numeric ``id``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ChangeProblem(f"{where} must be a string or integer id, got {json_type(value)}")
    text = str(value).strip()
    if not text:
        raise ChangeProblem(f"{where} is an empty id")
    return text


def req_id(value: Any, where: str) -> str:
    text = opt_id(value, where)
    if text is None:
        raise ChangeProblem(f"{where} is missing")
    return text


def epoch(seconds: float, where: str) -> datetime:
    if not math.isfinite(seconds):
        raise ChangeProblem(f"{where} is not a finite time")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ChangeProblem(f"{where} is out of range: {seconds}") from exc


def opt_time(value: Any, where: str) -> datetime | None:
    """Unix seconds (number or digits) or an ISO 8601 time with an offset."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ChangeProblem(f"{where} must be a time, got boolean")
    if isinstance(value, int | float):
        return epoch(value, where)
    if isinstance(value, str):
        if value.isdigit():
            return epoch(int(value), where)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ChangeProblem(f"{where} is not a time: {value[:40]!r}") from exc
        if parsed.tzinfo is None:
            raise ChangeProblem(f"{where} has no UTC offset: {value[:40]!r}")
        return parsed.astimezone(UTC)
    raise ChangeProblem(f"{where} must be a time, got {json_type(value)}")


def collect(
    outcomes: list[Outcome], location: str, platform: Platform | None, build: Callable[[], Outcome]
) -> None:
    """Run one change's adapter; a problem reading it becomes a ChangeError for that change only."""
    try:
        outcomes.append(build())
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}" for err in exc.errors()
        )
        outcomes.append(ChangeError(location=location, message=problems, platform=platform))
    except ChangeProblem as exc:
        outcomes.append(ChangeError(location=location, message=str(exc), platform=platform))
