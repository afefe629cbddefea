"""Redaction on export (pure): which personal details to hide, where they are, and the marker that replaces them.

Redaction is optional per export. Phone numbers, emails, US street addresses and names from a supplied list (e.g.
students whose parents opted out of directory information) are replaced by a visible marker citing the exemption,
and each replacement is logged (item, field, span, category, exemption) for the bag. Spans index the **original**
text, which is never changed: the archive keeps the original, the export carries the redacted copy.

Names match case- and accent-insensitively (Unicode NFKD, combining marks dropped, case folded) on word
boundaries, and any run of whitespace in a name matches any run in the text. Matches that overlap are merged into
one span, labelled with the category of the one that starts first (the longer, on a tie).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.text import fold, fold_with_origin
from shared.errors import BadRequest

NAMES_MAX = 500
NAME_MIN_CHARS = 2
NAME_MAX_CHARS = 100


class Category(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"
    NAME = "name"


_PUBLIC_RECORDS = "RCW 42.56.230(1); FERPA 20 U.S.C. 1232g"
DEFAULT_EXEMPTIONS: Mapping[Category, str] = {
    Category.PHONE: _PUBLIC_RECORDS,
    Category.EMAIL: _PUBLIC_RECORDS,
    Category.ADDRESS: _PUBLIC_RECORDS,
    Category.NAME: "FERPA 20 U.S.C. 1232g (directory information opt-out)",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RedactionRules(_Frozen):
    """What an export redacts. Build it with :func:`rules`, which checks it."""

    categories: tuple[Category, ...]
    names: tuple[str, ...] = ()
    exemptions: dict[Category, str] = Field(default_factory=lambda: dict(DEFAULT_EXEMPTIONS))


class Redaction(_Frozen):
    """One log entry: ``text[start:end]`` of the original field was replaced by a marker citing ``exemption``."""

    item: str
    field: str
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    category: Category
    exemption: str


def rules(
    categories: Iterable[str], names: Iterable[str] = (), exemptions: Mapping[str, str] | None = None
) -> RedactionRules:
    """Checked rules, or BadRequest saying what is wrong."""
    chosen: set[Category] = set()
    for value in categories:
        try:
            chosen.add(Category(value))
        except ValueError:
            known = ", ".join(c.value for c in Category)
            raise BadRequest(f"unknown redaction category {value!r}; expected one of {known}") from None
    listed: list[str] = []
    for raw in names:
        name = " ".join(raw.split())
        if not NAME_MIN_CHARS <= len(name) <= NAME_MAX_CHARS:
            raise BadRequest(f"each name must be {NAME_MIN_CHARS} to {NAME_MAX_CHARS} characters: {name!r}")
        if not re.search(r"\w", fold(name)):
            raise BadRequest(f"name has no letters or digits to match: {name!r}")
        if name not in listed:
            listed.append(name)
    if Category.NAME in chosen and not listed:
        raise BadRequest("redacting names needs a list of names")
    if listed and Category.NAME not in chosen:
        raise BadRequest("names were supplied but the 'name' category is not selected")
    if len(listed) > NAMES_MAX:
        raise BadRequest(f"at most {NAMES_MAX} names may be redacted; got {len(listed)}")
    table = dict(DEFAULT_EXEMPTIONS)
    for key, text in (exemptions or {}).items():
        try:
            category = Category(key)
        except ValueError:
            raise BadRequest(f"exemption for unknown redaction category {key!r}") from None
        if not text.strip():
            raise BadRequest(f"the exemption for {category.value} is empty")
        table[category] = text.strip()
    return RedactionRules(
        categories=tuple(c for c in Category if c in chosen), names=tuple(listed), exemptions=table
    )


def marker(category: Category, exemption: str) -> str:
    """The visible text that replaces a redacted span, e.g. ``[REDACTED phone — RCW 42.56.230(1)]``."""
    return f"[REDACTED {category.value} — {exemption}]"


def redact(text: str, rules: RedactionRules, *, item: str, field: str) -> tuple[str, list[Redaction]]:
    """The redacted text and its log (non-overlapping spans of the original, earliest first)."""
    found: list[tuple[int, int, Category]] = []
    for category in rules.categories:
        if category is Category.NAME:
            found.extend((s, e, category) for s, e in _name_spans(text, rules.names))
        else:
            found.extend((m.start(), m.end(), category) for m in _PATTERNS[category].finditer(text))
    found.sort(key=lambda f: (f[0], f[0] - f[1]))
    merged: list[tuple[int, int, Category]] = []
    for start, end, category in found:
        if merged and start < merged[-1][1]:
            prev = merged[-1]
            merged[-1] = (prev[0], max(prev[1], end), prev[2])
        else:
            merged.append((start, end, category))
    log = [
        Redaction(item=item, field=field, start=s, end=e, category=c, exemption=rules.exemptions[c])
        for s, e, c in merged
    ]
    parts: list[str] = []
    at = 0
    for entry in log:
        parts.append(text[at : entry.start])
        parts.append(marker(entry.category, entry.exemption))
        at = entry.end
    parts.append(text[at:])
    return "".join(parts), log


# ------------------------------------------------------------------------------------------------ patterns
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d[-.])"  # not inside a longer number or word
    r"(?:\+?1[\s.-]?)?"  # optional country code
    r"(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[\s.-]?)"  # area code
    r"[2-9]\d{2}[\s.-]?\d{4}"  # exchange and line
    r"(?!\w|[-.]\d)"
)
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_SUFFIX = r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl)"
_ADDRESS = re.compile(
    r"(?<![\w.,-])\d{1,6}[A-Za-z]?"  # house number, e.g. 123 or 123B
    r"(?:\s+(?:[NSEW]|NE|NW|SE|SW)\.?)?"  # optional leading direction
    r"(?:\s+(?:[A-Z][\w'.-]*|\d+(?:st|nd|rd|th)))"
    r"{1,4}"  # street name: capitalized words or ordinals
    rf"\s+{_SUFFIX}(?!\w)\.?"
    r"(?:\s+(?:NE|NW|SE|SW|[NSEW])(?!\w)\.?)?"  # optional trailing direction
    r"(?:,?\s+(?i:apt|apartment|unit|suite|ste)\.?\s*#?\s*\w+|,?\s+#\s*\w+)?"  # optional unit
    r"(?:,\s*[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,2},?\s+[A-Z]{2}(?:\s+\d{5}(?:-\d{4})?)?(?!\w))?"  # city, ST zip
)
_PATTERNS: Mapping[Category, re.Pattern[str]] = {
    Category.PHONE: _PHONE,
    Category.EMAIL: _EMAIL,
    Category.ADDRESS: _ADDRESS,
}


@lru_cache(maxsize=32)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = sorted(
        {r"\s+".join(re.escape(word) for word in fold(name).split()) for name in names},
        key=len,
        reverse=True,
    )
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def _name_spans(text: str, names: tuple[str, ...]) -> list[tuple[int, int]]:
    if not names:
        return []
    folded, origin = fold_with_origin(text)
    spans: list[tuple[int, int]] = []
    for m in _names_pattern(names).finditer(folded):
        start, end = origin[m.start()], origin[m.end() - 1] + 1
        while end < len(text) and unicodedata.combining(text[end]):  # keep a trailing accent with its letter
            end += 1
        spans.append((start, end))
    return spans
