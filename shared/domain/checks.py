"""The checks every domain module makes of its inputs: aware times, an actor, a role, and a pydantic error put into
words (field and rule, never the input: it may be a secret)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import ValidationError

from shared.catalogue import Role
from shared.errors import BadRequest, Forbidden

_ROLE_VALUES = frozenset(r.value for r in Role)


def aware(value: datetime | None) -> datetime | None:
    """A pydantic validator: UTC, or ValueError for a naive time."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return value.astimezone(UTC)


def need_time(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise BadRequest("times must be timezone-aware")
    return at.astimezone(UTC)


def need_actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise BadRequest("the actor is required")
    return actor


def roles_text(roles: Iterable[Role]) -> str:
    return " or ".join(f"'{r}'" for r in sorted(roles))


def need_role(roles: Iterable[Role | str], allowed: frozenset[Role], what: str) -> None:
    """Forbidden (403) naming the roles ``what`` needs unless one of ``roles`` is among them."""
    held = {Role(r) for r in roles if str(r) in _ROLE_VALUES}
    if not allowed & held:
        raise Forbidden(f"{what} needs the {roles_text(allowed)} role", needed=sorted(allowed))


def validation_message(error: ValidationError, whole: str = "value") -> str:
    """Each error as ``field: rule``; ``whole`` names an error of the model itself."""
    parts = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(p) for p in item["loc"]) or whole
        parts.append(f"{where}: {str(item['msg']).removeprefix('Value error, ')}")
    return "; ".join(parts)
