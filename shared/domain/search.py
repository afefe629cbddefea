"""Searching the record (pure): the query a records officer asks, and whether an item's history answers it.

A keyword matches case- and accent-insensitively (Unicode NFKD, combining marks dropped, case folded) against the
text of **every** version, so a word edited away, or in a comment since removed, is still found. The keyword is
taken literally: regular-expression and wildcard characters match themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.domain.checks import aware
from shared.domain.content import Change, ItemHistory
from shared.domain.text import fold
from shared.errors import InvalidParameter

KEYWORD_MAX = 200


class ItemFilter(StrEnum):
    VISIBLE = "visible"
    HIDDEN = "hidden"
    REMOVED = "removed"
    EDITED = "edited"


class SearchQuery(BaseModel):
    """What to find. Exactly one of ``account`` (``platform:account_id``) or ``author`` (``platform:author_id``)
    names the index partition read; the date range, states and keyword narrow it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str | None = None
    author: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    states: tuple[ItemFilter, ...] = ()
    keyword: str | None = Field(default=None, max_length=KEYWORD_MAX)

    _check_times = field_validator("date_from", "date_to")(aware)

    @property
    def fingerprint(self) -> str:
        return self.model_dump_json()


def query(
    *,
    account: str | None,
    author: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
    states: tuple[ItemFilter, ...],
    keyword: str | None,
    max_span: timedelta,
) -> SearchQuery:
    """A checked query, or InvalidParameter (422) saying what is wrong."""
    if (account is None) == (author is None):
        raise InvalidParameter("a search names exactly one account (platform:account_id) or one author")
    for value, what in ((account, "account"), (author, "author")):
        if value is not None and (value.count(":") != 1 or not all(value.split(":"))):
            raise InvalidParameter(f"{what}: expected platform:id")
    for when, what in ((date_from, "date_from"), (date_to, "date_to")):
        if when is not None and when.tzinfo is None:
            raise InvalidParameter(f"{what}: a time needs its offset, e.g. 2026-03-01T00:00:00Z")
    if date_from is not None and date_to is not None:
        if date_from > date_to:
            raise InvalidParameter("date_from is after date_to")
        if date_to - date_from > max_span:
            raise InvalidParameter(f"the date range spans more than {max_span.days} days; search in parts")
    elif account is not None and (date_from is None or date_to is None):
        raise InvalidParameter("an account search needs date_from and date_to")
    text = normalize(keyword) if keyword else None
    if keyword is not None and not text:
        raise InvalidParameter("keyword: nothing to search for")
    return SearchQuery(
        account=account,
        author=author,
        date_from=date_from.astimezone(UTC) if date_from else None,
        date_to=date_to.astimezone(UTC) if date_to else None,
        states=tuple(sorted(set(states))),
        keyword=text,
    )


def normalize(text: str) -> str:
    """Case- and accent-insensitive form (:func:`shared.domain.text.fold`), spaces collapsed."""
    return " ".join(fold(text).split())


def matched_versions(history: ItemHistory, keyword: str) -> list[int]:
    """The versions whose text contains the (normalized) keyword."""
    return [v.version for v in history.versions if v.text and keyword in normalize(v.text)]


def states_of(history: ItemHistory) -> set[ItemFilter]:
    """What the item is now (visible, hidden, removed) and whether it was ever edited."""
    found = {ItemFilter(history.current.state.value)}
    if any(v.change is Change.EDITED for v in history.versions):
        found.add(ItemFilter.EDITED)
    return found


def answers(search: SearchQuery, history: ItemHistory) -> list[int] | None:
    """None if the item does not answer the query; else the versions the keyword matched (all, without one)."""
    if search.states and not states_of(history) & set(search.states):
        return None
    if search.keyword is None:
        return [v.version for v in history.versions]
    found = matched_versions(history, search.keyword)
    return found or None
