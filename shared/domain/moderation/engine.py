"""The moderation engine: the published rule set compiled once, applied to one comment at a time.

    from shared.domain.moderation import engine
    matches = engine.moderate(text, context=engine.ModerationContext(prior_texts=recent))
    engine.ruleset().version

How a comment is examined (see ``normalize`` for the views):

1. **Words and stems** (word lists: profanity, slurs, explicit terms). Whole views are canonicalised with a few
   C-level regex passes (separators inside words removed, repeated letters collapsed) and their tokens checked
   against one set; only a comment that may hold a listed word is then walked token by token to find the exact
   token, check the allowlist and map the span back. Words match whole tokens only, which is what keeps
   "Scunthorpe", "class" and "Sussex" clean; *stems* (for words no English word contains) match inside tokens,
   so "motherf*ckers" and "bullsh1t" are found. Spaced-out words ("f u c k", "s.h.i.t") are joined first.
2. **Phrases and patterns**: every phrase and pattern of every rule in one alternation, matched over the leet view
   in one pass (rules with ``case_sensitive`` in a second one over the cased view); a marker group at the end of
   each branch tells which rule matched. Critical rules come first, so they win a tie at the same position.
3. **Detectors** (phone numbers, emails, street addresses, repetition), each with a cheap precondition.

The result is deterministic: the same text, context and rule set give the same matches in the same order.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any, NamedTuple

from shared.domain.moderation.detectors import DETECTORS, OPTIONS, Detector
from shared.domain.moderation.model import Match, ModerationContext, strongest_action
from shared.domain.moderation.normalize import (
    COLLAPSE_ALL_RE,
    COLLAPSE_LONG_RE,
    RUN_OF_THREE_RE,
    WORD_SEPARATORS_GATE_RE,
    WORD_SEPARATORS_RE,
    Folded,
    fold,
    leet_letters,
    skeleton,
    tokens,
    word_variants,
)
from shared.domain.moderation.schema import Rule, RuleSet, RuleSetError, parse_ruleset, phrase_words

__all__ = [
    "Match",
    "ModerationContext",
    "Moderator",
    "RuleSetError",
    "compile_ruleset",
    "default_moderator",
    "moderate",
    "ruleset",
    "strongest_action",
]

RULES_FILE = "rules.toml"
OBFUSCATION_FACTOR = 0.9  # confidence is scaled by this when the text had to be de-obfuscated to match

_TOKEN_RE = re.compile(r"[a-z0-9*]+(?:[.\-_~^]+[a-z*][a-z0-9*]*)*")
_BLOB_TOKEN_RE = re.compile(r"[a-z0-9*]+")
_MASKED_RE = re.compile(r"[a-z]\*+[a-z*]")
# Three or more single letters (or leet characters) separated by spaces or punctuation: "f u c k", "s.h.1.t".
_SPACED_RE = re.compile(
    r"(?<![a-z0-9@$*])(?:[a-z0-9@$!*][ .\-_,/\\|:;+~]{1,3}){2,}[a-z0-9@$!*](?![a-z0-9@$*])"
)
_LETTERISH_RE = re.compile(r"[a-z0-9@$!*]")
_LETTERS_RE = re.compile(r"[a-z]")
_DIGIT_RE = re.compile(r"[0-9]")
DIGIT_ANCHOR = "#digit"
# Words too common to be a phrase's anchor when a rarer slot exists.
_COMMON = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "at",
        "be",
        "can",
        "do",
        "dont",
        "for",
        "go",
        "has",
        "have",
        "he",
        "her",
        "him",
        "i",
        "i'm",
        "im",
        "if",
        "in",
        "is",
        "it",
        "just",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "that",
        "the",
        "them",
        "they",
        "this",
        "to",
        "u",
        "we",
        "were",
        "will",
        "with",
        "ya",
        "yes",
        "you",
        "your",
        "school",
        "schools",
        "board",
        "district",
        "kids",
        "kid",
        "students",
        "student",
        "teacher",
        "teachers",
        "class",
        "parents",
        "child",
        "children",
        "staff",
        "meeting",
        "principal",
        "superintendent",
    ]
)


class _Unit(NamedTuple):
    regex: re.Pattern[str]
    rule: int
    cased: bool


class _Hit(NamedTuple):
    rule: int
    start: int  # folded coordinates
    end: int
    confidence: float


class Moderator:
    """A compiled rule set. Immutable after construction; safe to share across invocations."""

    def __init__(self, rules: RuleSet) -> None:
        self.ruleset = rules
        self.version = rules.version
        self._rules = rules.rules
        self._words: dict[str, int] = {}
        self._stems: dict[str, int] = {}
        self._allow = frozenset(skeleton(w) for w in rules.allowlist.words)
        self._detectors: list[tuple[int, Detector, Mapping[str, Any]]] = []
        # Phrases and patterns are compiled into *units*, one regex each, tried only when one of the unit's
        # anchor words is among the comment's words (a set intersection), so a comment pays only for the few
        # units it could match.
        self._units: list[_Unit] = []
        # anchor token -> [(other tokens that must also be present, unit)]
        self._anchors: dict[bytes, list[tuple[frozenset[bytes], int]]] = {}
        self._prefix_anchors: dict[str, list[int]] = {}
        self._digit_units: list[int] = []
        self._always: list[int] = []
        order = sorted(range(len(self._rules)), key=lambda i: -self._rules[i].action.severity)
        for index in order:
            rule = self._rules[index]
            for word in rule.words:
                self._words.setdefault(skeleton(word), index)
            for stem in rule.stems:
                self._stems.setdefault(skeleton(stem), index)
            for phrase in rule.phrases:
                regex = r"(?<![a-z0-9])" + _phrase_regex(phrase)
                self._add_unit(regex, index, rule.case_sensitive, _phrase_anchors(phrase))
            if rule.patterns:
                patterns = rule.patterns
                regex = patterns[0] if len(patterns) == 1 else "|".join(f"(?:{p})" for p in patterns)
                self._add_unit(regex, index, rule.case_sensitive, rule.anchors or None)
            if rule.detector is not None:
                _check_options(rule, index)
                self._detectors.append((index, DETECTORS[rule.detector], rule.options))
        self._detectors.sort(key=lambda d: d[0])
        self._anchor_keys = frozenset(self._anchors)
        stems = sorted(self._stems, key=lambda s: (-len(s), s))
        self._stem_list = tuple(stems)
        self._stem_re = re.compile("|".join(map(re.escape, stems))) if stems else None
        self._word_keys = frozenset(w.encode() for w in self._words)

    def _add_unit(self, regex: str, index: int, cased: bool, anchors: Iterable[str] | None) -> None:
        unit = len(self._units)
        self._units.append(_Unit(re.compile(regex), index, cased))
        if anchors is None:
            self._always.append(unit)
            return
        for anchor in anchors:
            if anchor == DIGIT_ANCHOR:
                self._digit_units.append(unit)
            elif anchor.endswith("*"):  # a prefix: tested as a substring of the leet view (a superset)
                self._prefix_anchors.setdefault(fold(anchor[:-1]).leet, []).append(unit)
            else:
                first, *others = anchor.split("+")
                rest = frozenset(t.encode() for o in others for t in _anchor_tokens(o))
                for token in _anchor_tokens(first):
                    self._anchors.setdefault(token.encode(), []).append((rest, unit))

    # ------------------------------------------------------------------------------------------- public
    def moderate(self, text: str, context: ModerationContext | None = None) -> list[Match]:
        """Every match of the rule set in ``text``, ordered by position (then rule order)."""
        folded = fold(text)
        context = context or _NO_CONTEXT
        hits: list[_Hit] = []
        leet_tokens = tokens(folded.leet)
        if self._word_keys or self._stem_list:
            self._word_hits(folded, leet_tokens, hits)
        if self._units:
            self._unit_hits(folded, leet_tokens, hits)
        for index, detector, options in self._detectors:
            for start, end, confidence in detector(folded, context, options):
                hits.append(_Hit(index, start, end, confidence))
        return self._matches(folded, hits)

    # ------------------------------------------------------------------------------------------- words
    def _word_hits(self, folded: Folded, leet_tokens: list[bytes], hits: list[_Hit]) -> None:
        """Prefilter on whole views (C-level passes and one set test); walk the tokens only on a candidate."""
        leet = folded.leet
        joined = WORD_SEPARATORS_RE.sub(r"\1", leet) if WORD_SEPARATORS_GATE_RE.search(leet) else leet
        views = [joined.replace("l", "i")]
        if RUN_OF_THREE_RE.search(joined) is not None:  # letters repeated for emphasis: fuuuck, asssss
            views.append(COLLAPSE_ALL_RE.sub("", views[0]))
            views.append(COLLAPSE_LONG_RE.sub("", views[0]))
        blob = " ".join(views) if len(views) > 1 else views[0]
        candidate = not self._word_keys.isdisjoint(tokens(blob))
        if not candidate:
            candidate = any(map(blob.__contains__, self._stem_list))
        if not candidate and "*" in joined:
            candidate = _MASKED_RE.search(joined) is not None
        if candidate:
            for m in _TOKEN_RE.finditer(leet):
                found = self._lookup(m.group())
                if found is not None:
                    index, confidence = found
                    hits.append(_Hit(index, m.start(), m.end(), confidence))
        lengths = list(map(len, leet_tokens))
        if lengths.count(1) >= 3 and _three_in_a_row(lengths):  # maybe a spaced-out word: f u c k
            for m in _SPACED_RE.finditer(folded.lower):
                self._spaced(m, hits)

    def _lookup(self, token: str) -> tuple[int, float] | None:
        """The rule a token of the leet view belongs to, and the confidence (before obfuscation scaling)."""
        if _LETTERS_RE.search(token) is None:
            return None
        variants = word_variants(token)
        if variants[0] in self._allow or (len(variants) > 2 and variants[1] in self._allow):
            return None  # allowlisted as written, or with emphasis repeats trimmed (not fully collapsed)
        for variant in variants:
            index = self._words.get(variant)
            if index is not None:
                return index, self._rules[index].confidence
        if self._stem_re is not None:
            for variant in variants:
                m = self._stem_re.search(variant)
                if m is not None:
                    return self._stems[m.group()], self._rules[self._stems[m.group()]].confidence
        if "*" in variants[0]:
            return self._masked(variants[0])
        return None

    def _masked(self, token: str) -> tuple[int, float] | None:
        """``f*ck``, ``sh**``-style masking: ``*`` stands for one letter; first and last letters must be shown and
        at least half the letters too. Matches whole listed words, or stems inside the token."""
        letters = sum(c != "*" for c in token)
        if letters < 2 or letters * 2 < len(token) or token[0] == "*":
            return None
        for word, index in self._words.items():
            if len(word) == len(token) and token[-1] != "*" and _wild_equal(token, word):
                return index, self._rules[index].confidence * 0.9
        for stem, index in self._stems.items():
            for i in range(len(token) - len(stem) + 1):
                window = token[i : i + len(stem)]
                if window[0] != "*" and window[-1] != "*" and _wild_equal(window, stem):
                    return index, self._rules[index].confidence * 0.9
        return None

    def _spaced(self, m: re.Match[str], hits: list[_Hit]) -> None:
        run = m.group()
        positions = [m.start() + p.start() for p in _LETTERISH_RE.finditer(run)]
        letters = leet_letters("".join(c for c in run if _LETTERISH_RE.match(c)))
        # The whole run, or the run without a leading/trailing one-letter word ("a f u c k i n g ...").
        candidates = [(0, len(letters))]
        if letters[0] in "ai":
            candidates.append((1, len(letters)))
        if letters[-1] in "ai":
            candidates.append((0, len(letters) - 1))
        for lo, hi in candidates:
            if hi - lo < 3:
                continue
            found = self._lookup(letters[lo:hi])
            if found is not None:
                index, confidence = found
                hits.append(_Hit(index, positions[lo], positions[hi - 1] + 1, confidence))
                return

    # ------------------------------------------------------------------------------------------- phrases
    def _unit_hits(self, folded: Folded, leet_tokens: list[bytes], hits: list[_Hit]) -> None:
        leet = folded.leet
        present = self._anchor_keys.intersection(leet_tokens)
        units = set(self._always) if self._always else set()
        if present:
            words = set(leet_tokens)
            for anchor in present:
                for others, unit_id in self._anchors[anchor]:
                    if others <= words:
                        units.add(unit_id)
        for prefix, unit_ids in self._prefix_anchors.items():
            if prefix in leet:
                units.update(unit_ids)
        if self._digit_units and _DIGIT_RE.search(leet) is not None:
            units.update(self._digit_units)
        for unit_id in sorted(units):
            unit = self._units[unit_id]
            confidence = self._rules[unit.rule].confidence
            for m in unit.regex.finditer(folded.cased if unit.cased else leet):
                hits.append(_Hit(unit.rule, m.start(), m.end(), confidence))

    # ------------------------------------------------------------------------------------------- output
    def _matches(self, folded: Folded, hits: list[_Hit]) -> list[Match]:
        if not hits:
            return []
        hits.sort(key=lambda h: (h.start, h.end, h.rule))
        out: list[Match] = []
        seen: list[tuple[int, int, int]] = []
        original = folded.original
        for hit in hits:
            if any(r == hit.rule and s < hit.end and hit.start < e for r, s, e in seen):
                continue  # the same rule over an overlapping span: keep the first
            seen.append((hit.rule, hit.start, hit.end))
            start, end = folded.span(hit.start, hit.end)
            rule = self._rules[hit.rule]
            matched = original[start:end]
            confidence = hit.confidence
            if rule.detector is None and _obfuscated(matched, folded, hit):
                confidence *= OBFUSCATION_FACTOR
            out.append(
                Match(
                    rule_id=rule.id,
                    category=rule.category,
                    action=rule.action,
                    start=start,
                    end=end,
                    text=matched,
                    confidence=round(confidence, 3),
                    ruleset_version=self.version,
                    citations=rule.citations,
                    sensitive=rule.sensitive,
                )
            )
        return out


_NO_CONTEXT = ModerationContext()


def _obfuscated(matched: str, folded: Folded, hit: _Hit) -> bool:
    """True when the matched text differs from a plain lower-case spelling of what was matched."""
    plain = folded.lower[hit.start : hit.end]
    return (
        matched.lower() != plain
        or plain != folded.leet[hit.start : hit.end]
        or _SPACED_RE.fullmatch(plain) is not None
    )


def _three_in_a_row(lengths: list[int]) -> bool:
    run = 0
    for n in lengths:
        run = run + 1 if n == 1 else 0
        if run == 3:
            return True
    return False


def _wild_equal(masked: str, word: str) -> bool:
    return all(a in (b, "*") for a, b in zip(masked, word, strict=True))


def _anchor_tokens(text: str) -> set[str]:
    """The tokens that show a phrase word is present: ``i'll`` shows as ``ill`` or as ``i`` + ``ll``."""
    first = fold(text.split(maxsplit=1)[0]).leet
    parts = _BLOB_TOKEN_RE.findall(first)
    joined = "".join(parts)
    return {joined, parts[0]} if parts else set()


def _phrase_anchors(phrase: str) -> list[str] | None:
    """The alternatives of the phrase's rarest slot (None: no slot can serve, always try the phrase)."""
    best: tuple[int, int] | None = None
    chosen: list[str] | None = None
    for word in phrase_words(phrase):
        if word == "..." or word.endswith("*"):
            continue
        options = word[1:-1].split("|") if word.startswith("{") else [word]
        firsts = [o.split()[0] for o in options]
        score = (sum(f in _COMMON for f in firsts), -min(len(f) for f in firsts))
        if best is None or score < best:
            best, chosen = score, options
    return chosen


_PHRASE_GAP = r"(?:[\W_]+[a-z0-9'\-]+){0,3}"


def _phrase_word(word: str) -> str:
    star = word.endswith("*")
    word = word.removesuffix("*")
    if word.startswith("{"):
        options = [_phrase_word_plain(w) for w in word[1:-1].split("|")]
        body = "(?:" + "|".join(options) + ")"
    else:
        body = _phrase_word_plain(word)
    return body + (r"[a-z0-9]*" if star else r"(?![a-z0-9])")


def _phrase_word_plain(word: str) -> str:
    """A word of a phrase, read like comment text (``sub4sub`` as ``subasub``): apostrophes optional (i'll,
    ill), a hyphen optional or any separator."""
    parts = []
    for ch in fold(word).leet:
        if ch == "'":
            parts.append("'?")
        elif ch == "-":
            parts.append(r"[\W_]?")
        elif ch == " ":
            parts.append(r"[\W_]+")
        else:
            parts.append(re.escape(ch))
    return "".join(parts)


def _phrase_regex(phrase: str) -> str:
    """Compile the rule file's phrase syntax (words, ``{a|b}``, ``word*``, ``...``) to a regular expression."""
    out: list[str] = []
    gap = False
    for word in phrase_words(phrase):
        if word == "...":
            gap = True
            continue
        if out:
            out.append(_PHRASE_GAP + r"[\W_]+" if gap else r"[\W_]+")
        out.append(_phrase_word(word))
        gap = False
    return "".join(out)


def _check_options(rule: Rule, index: int) -> None:
    assert rule.detector is not None
    allowed = OPTIONS[rule.detector]
    for key, value in rule.options.items():
        if key not in allowed:
            raise RuleSetError(
                f"rule {rule.id!r} (rules[{index}]): detector {rule.detector!r} has no option {key!r}; "
                f"known: {', '.join(sorted(allowed)) or 'none'}",
                rule=rule.id,
                index=index,
            )
        if not isinstance(value, allowed[key]) or isinstance(value, bool):
            raise RuleSetError(
                f"rule {rule.id!r} (rules[{index}]): option {key!r} has the wrong type",
                rule=rule.id,
                index=index,
            )


# ----------------------------------------------------------------------------------------------- module API
def load_ruleset(text: str | None = None, source: str = RULES_FILE) -> RuleSet:
    """Parse a rule file (the packaged one by default)."""
    if text is None:
        text = resources.files(__package__).joinpath(RULES_FILE).read_text(encoding="utf-8")
    return parse_ruleset(text, source)


def compile_ruleset(rules: RuleSet | str) -> Moderator:
    """A moderator for a rule set (or the text of a rule file)."""
    return Moderator(parse_ruleset(rules) if isinstance(rules, str) else rules)


@functools.cache
def default_moderator() -> Moderator:
    """The packaged rule set, loaded and compiled once per process (``default_moderator.cache_clear()`` in
    tests)."""
    return Moderator(load_ruleset())


def ruleset() -> RuleSet:
    """The published rule set in force: version, principles, allowlist and every rule (for the public API)."""
    return default_moderator().ruleset


def moderate(text: str, context: ModerationContext | None = None) -> list[Match]:
    """Moderate one comment with the packaged rule set."""
    return default_moderator().moderate(text, context)


def moderate_many(texts: Iterable[str]) -> list[list[Match]]:
    moderator = default_moderator()
    return [moderator.moderate(t) for t in texts]
