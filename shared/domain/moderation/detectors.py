"""Named detectors: rules that need more than a word list or a phrase (structure, validation, history).

Each detector returns hits as ``(start, end, confidence)`` in folded coordinates (see ``normalize``). Options come
from the rule's ``options`` table in the rule file and are checked when the rule set is compiled.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from shared.domain.moderation.model import ModerationContext
from shared.domain.moderation.normalize import COLLAPSE_ALL_RE, Folded, fold

Hit = tuple[int, int, float]
Detector = Callable[[Folded, ModerationContext, Mapping[str, Any]], list[Hit]]

# ------------------------------------------------------------------------------------------------ phone
# NANP numbers. Dashes, dots or nothing between groups, or a parenthesised area code; space-separated groups only
# after a cue word (otherwise "300 500 1000 students" would be a phone number). Seven-digit local numbers need a
# dash or a dot ("555-1234"; "350 2024" is not a number).
_PHONE_RE = re.compile(
    r"(?<![\w$#.,/\-])(?:\+?1[\s.\-]?)?(?:\(\s*[2-9]\d\d\s*\)[\s.\-]?|[2-9]\d\d[.\-]?)[2-9]\d\d[.\-]?\d{4}"
    r"(?![\w/]|[.,\-]\d)"
    r"|(?:call|text|phone|cell|number|reach|contact|tel|whatsapp|#)[^\d\n]{0,12}"
    r"(?P<spaced>(?:\+?1\s)?[2-9]\d\d\s[2-9]\d\d\s\d{4})(?![\w/]|[.,\-]\d)"
    r"|(?<![\w$#.,/\-])[2-9]\d\d[.\-]\d{4}(?![\w/\-]|[.,]\d)"
)


def _digit_count(text: str) -> int:
    raw = text.encode()
    return len(raw) - len(raw.translate(None, b"0123456789"))


def phone_number(folded: Folded, context: ModerationContext, options: Mapping[str, Any]) -> list[Hit]:
    text = folded.lower
    hits: list[Hit] = []
    if _digit_count(text) < 7:
        return hits
    public = {_digits(n)[-10:] for n in options.get("public_numbers", ())}
    for m in _PHONE_RE.finditer(text):
        start, end = m.span("spaced") if m.group("spaced") else m.span()
        digits = _digits(text[start:end])
        if digits[-10:] in public or digits[-7:] in public:
            continue
        formatted = any(not c.isdigit() for c in text[start:end])
        hits.append((start, end, 0.9 if formatted else 0.7))
    return hits


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


# ------------------------------------------------------------------------------------------------ email
_EMAIL_RE = re.compile(
    r"(?<![\w.+\-])[a-z0-9][a-z0-9._%+\-]*@(?P<domain>[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9\-]+)*\.[a-z]{2,24})"
    r"(?![a-z0-9\-])"
)
# "jane.doe at gmail dot com", "jane (at) gmail (dot) com"
_EMAIL_SPELLED_RE = re.compile(
    r"(?<![\w.+\-])[a-z0-9][a-z0-9._%+\-]*\s*(?:\(at\)|\[at\]|\{at\}|\s+at\s+)\s*"
    r"(?P<domain>[a-z0-9\-]+\s*(?:(?:\.|\(dot\)|\[dot\]|\{dot\}|\s+dot\s+)\s*[a-z0-9\-]+\s*)*"
    r"(?:\.|\(dot\)|\[dot\]|\{dot\}|\s+dot\s+)\s*(?:com|net|org|edu|gov|us|io|me|info|co))(?![a-z0-9])"
)
_DOMAIN_NOISE_RE = re.compile(r"\s+|\(dot\)|\[dot\]|\{dot\}|\bdot\b")


def email_address(folded: Folded, context: ModerationContext, options: Mapping[str, Any]) -> list[Hit]:
    text = folded.lower
    public = tuple(d.lower() for d in options.get("public_domains", ()))
    hits: list[Hit] = []
    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            if not _is_public(m.group("domain"), public):
                hits.append((*m.span(), 0.95))
    if "dot" in text:
        for m in _EMAIL_SPELLED_RE.finditer(text):
            domain = _DOMAIN_NOISE_RE.sub(lambda d: "." if "dot" in d.group() else "", m.group("domain"))
            if not _is_public(domain.replace("..", "."), public):
                hits.append((*m.span(), 0.8))
    return hits


def _is_public(domain: str, public: tuple[str, ...]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in public)


# ------------------------------------------------------------------------------------------------ street address
_SUFFIX = (
    r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|court|ct|way|place|pl|circle|cir|"
    r"terrace|ter|parkway|pkwy|highway|hwy|trail|trl|loop|pike)"
)
# House number, optional direction, one to three capitalised name words (or an ordinal: 5th), a street suffix.
_ADDRESS_RE = re.compile(
    r"(?<![\w#$.,])\d{1,6}(?:-?[A-Za-z])?\s+(?:(?:[NSEW]\.?|North|South|East|West|NORTH|SOUTH|EAST|WEST)\s+)?"
    r"(?:(?:[A-Z][A-Za-z'\-]*|\d{1,3}(?:st|nd|rd|th))\.?\s+){1,3}" + _SUFFIX + r"\b\.?"
)
# The same in any case, but only right after words that say it is where someone lives.
_HOME_ADDRESS_RE = re.compile(
    r"\b(?:live|lives|living|lived|stays?|staying|address|house|home|apartment|apt|moved\s+to)\b[^.!?\n\d]{0,30}?"
    r"(?P<address>\d{1,6}(?:-?[a-z])?\s+(?:(?:[nsew]\.?|north|south|east|west)\s+)?"
    r"(?:(?:[a-z][a-z'\-]*|\d{1,3}(?:st|nd|rd|th))\.?\s+){1,3}" + _SUFFIX.replace("(?i:", "(?:") + r"\b\.?)"
)
_HOME_WORD_RE = re.compile(
    r"\b(?:live|lives|living|lived|stays?|staying|address|house|home|apartment|apt|moved)\b"
)
_CUE_RE = re.compile(
    r"\b(?:live|lives|living|lived|stays?|staying|address|house|home|apartment|apt|moved\s+to)\b[^.!?\n\d]{0,30}$"
)


def street_address(folded: Folded, context: ModerationContext, options: Mapping[str, Any]) -> list[Hit]:
    """``options.cue``: "required" reports addresses said to be where someone lives; "absent" reports the
    other street addresses (a school's or a business's address is usually public: review, not hide)."""
    if _DIGIT_RE.search(folded.cased) is None:
        return []
    wanted = options.get("cue", "absent") == "required"
    return [
        (s, e, 0.85 if wanted else 0.6)
        for s, e, has_cue in _addresses(folded.cased, folded.lower)
        if has_cue == wanted
    ]


_DIGIT_RE = re.compile(r"[0-9]")


@functools.lru_cache(maxsize=16)
def _addresses(cased: str, lower: str) -> tuple[tuple[int, int, bool], ...]:
    """Every street address with whether it is said to be a home (cached: two rules ask for the same text)."""
    spans: dict[tuple[int, int], bool] = {}
    for m in _ADDRESS_RE.finditer(cased):
        spans[m.span()] = _CUE_RE.search(lower, max(0, m.start() - 40), m.start()) is not None
    if _HOME_WORD_RE.search(lower) is not None:
        for m in _HOME_ADDRESS_RE.finditer(lower):
            span = m.span("address")
            if not any(s <= span[0] < e for s, e in spans):
                spans[span] = True
    return tuple((s, e, cue) for (s, e), cue in sorted(spans.items()))


# ------------------------------------------------------------------------------------------------ repetition
_KEY_RE = re.compile(r"[a-z0-9]+")


def _key(text: str) -> frozenset[str]:
    return frozenset(_KEY_RE.findall(COLLAPSE_ALL_RE.sub("", fold(text).leet)))


def repetition(folded: Folded, context: ModerationContext, options: Mapping[str, Any]) -> list[Hit]:
    """The same (or nearly the same) comment posted again and again by one author.

    Content-blind: only the similarity of the author's own comments counts. Short comments ("Thank you!",
    "Go Tigers!") are never repetition, since people rightly say them on many posts.
    """
    if not context.prior_texts:
        return []
    words = _key(folded.original)
    if len(words) < int(options.get("min_words", 4)):
        return []
    threshold = float(options.get("similarity", 0.8))
    similar = 0
    exact = 0
    for prior in context.prior_texts:
        other = _key(prior)
        if not other:
            continue
        score = len(words & other) / len(words | other)
        if score >= threshold:
            similar += 1
            exact += score == 1.0
    if similar + 1 < int(options.get("min_occurrences", 3)):
        return []
    text = folded.lower
    start, end = len(text) - len(text.lstrip()), len(text.rstrip())
    return [(start, end, 0.9 if exact == similar else 0.75)]


DETECTORS: dict[str, Detector] = {
    "phone_number": phone_number,
    "email_address": email_address,
    "street_address": street_address,
    "repetition": repetition,
}

OPTIONS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "phone_number": {"public_numbers": list},
    "email_address": {"public_domains": list},
    "street_address": {"cue": str},
    "repetition": {"min_words": int, "min_occurrences": int, "similarity": (int, float)},
}
