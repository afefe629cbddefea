"""The published rule set: its schema, and loading it from TOML with errors that name the rule at fault."""

from __future__ import annotations

import re
import tomllib
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.domain import policies
from shared.domain.policies import Citation
from shared.errors import ConfigurationError


class RuleSetError(ConfigurationError):
    """The rule file is malformed. The message names the rule (id and position) and the field at fault."""

    code = "ruleset_invalid"


class Action(StrEnum):
    """What a match asks for. ``critical`` also hides, and notifies the communications director."""

    REVIEW = "review"
    HIDE = "hide"
    CRITICAL = "critical"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Action.REVIEW: 1, Action.HIDE: 2, Action.CRITICAL: 3}


class Category(StrEnum):
    OBSCENE_PROFANE_SEXUAL = "obscene_profane_sexual"
    SEXUAL_CONTENT_MINORS = "sexual_content_minors"
    THREATS_INCITEMENT = "threats_incitement"
    HARASSMENT_DISCRIMINATION = "harassment_bullying_discrimination"
    PRIVATE_INFORMATION = "private_information"
    ILLEGAL_ACTIVITY = "illegal_activity"
    COMMERCIAL_SPAM = "commercial_spam"
    POLITICAL_CAMPAIGNING = "political_campaigning"
    COPYRIGHT_TRADEMARK = "copyright_trademark"
    OFF_TOPIC = "off_topic"
    SAFETY_DISCLOSURE = "safety_disclosure"


DETECTORS = frozenset({"phone_number", "email_address", "street_address", "repetition"})

_ID_RE = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
# ``{a|b}`` alternatives, ``*`` word continuation, ``...`` up to three words in between; letters, digits, ' and -.
_PHRASE_SPLIT_RE = re.compile(r"\{[^}]*\}\*?|[^\s{}]+|[{}]")
_PHRASE_WORD_RE = re.compile(r"^(?:\.\.\.|\{[a-z0-9' \-]+(?:\|[a-z0-9' \-]+)+\}\*?|[a-z0-9'\-]+\*?)$")


def phrase_words(phrase: str) -> list[str]:
    """The words of a phrase; an ``{a|b c}`` group counts as one word even when it holds spaces."""
    return _PHRASE_SPLIT_RE.findall(phrase)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Rule(_Model):
    id: str = Field(pattern=_ID_RE, max_length=64)
    title: str = Field(min_length=3)
    category: Category
    action: Action
    description: str = Field(min_length=10)
    citations: tuple[Citation, ...] = Field(min_length=1)
    confidence: float = Field(default=0.9, gt=0, le=1)
    sensitive: bool = Field(
        default=False, description="the matched text must never be copied into notifications (003 III.A.4)"
    )
    words: tuple[str, ...] = ()
    stems: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    anchors: tuple[str, ...] = Field(
        default=(),
        description="for patterns: words one of which must be present for them to be tried (word* = prefix, "
        "a+b = both words, #digit = any digit); empty: always tried",
    )
    case_sensitive: bool = False
    detector: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()

    @field_validator("words", "stems")
    @classmethod
    def _plain_words(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for w in values:
            if not re.fullmatch(r"[a-z][a-z0-9]{1,39}", w):
                raise ValueError(f"{w!r} is not a single lower-case word (letters a-z, digits; 2 to 40)")
        return values

    @field_validator("phrases")
    @classmethod
    def _phrase_syntax(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for phrase in values:
            words = phrase_words(phrase)
            if not words or not all(_PHRASE_WORD_RE.match(w) for w in words):
                raise ValueError(
                    f"phrase {phrase!r}: use lower-case words, {{a|b}} alternatives, word* or ... only"
                )
            if words[0] == "..." or words[-1] == "...":
                raise ValueError(f"phrase {phrase!r} must not start or end with ...")
        return values

    @field_validator("patterns")
    @classmethod
    def _regex(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for p in values:
            try:
                compiled = re.compile(p)
            except re.error as exc:
                raise ValueError(f"pattern {p!r} is not a valid regular expression: {exc}") from exc
            if compiled.groups:
                raise ValueError(f"pattern {p!r} has a capturing group; write (?:...) instead")
            if compiled.match(""):
                raise ValueError(f"pattern {p!r} matches empty text")
        return values

    @model_validator(mode="after")
    def _has_one_source(self) -> Rule:
        textual = bool(self.words or self.stems or self.phrases or self.patterns)
        if self.detector is None and not textual:
            raise ValueError("a rule needs words, stems, phrases, patterns or a detector")
        if self.detector is not None:
            if textual:
                raise ValueError("a rule uses either a detector or words/stems/phrases/patterns, not both")
            if self.detector not in DETECTORS:
                raise ValueError(f"unknown detector {self.detector!r}; known: {', '.join(sorted(DETECTORS))}")
        if self.case_sensitive and (self.words or self.stems):
            raise ValueError("case_sensitive applies to phrases and patterns only")
        if self.anchors and not self.patterns:
            raise ValueError("anchors are for patterns (phrases find their own)")
        for anchor in self.anchors:
            if not re.fullmatch(r"[a-z0-9]+\*?|#digit|[a-z0-9]+(?:\+[a-z0-9]+)+", anchor):
                raise ValueError(f"anchor {anchor!r} must be a lower-case word, word*, word+word or #digit")
        if self.options and self.detector is None:
            raise ValueError("options are for detectors")
        return self


class RuleSetInfo(_Model):
    name: str = Field(min_length=3)
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    published: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    summary: str = Field(min_length=10)
    viewpoint_neutrality: str = Field(min_length=10)
    changes: tuple[str, ...] = ()


class Allowlist(_Model):
    description: str = Field(min_length=10)
    words: tuple[str, ...] = ()

    @field_validator("words")
    @classmethod
    def _lower(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for w in values:
            if not re.fullmatch(r"[a-z]{2,40}", w):
                raise ValueError(f"allowlist word {w!r} is not a lower-case word of letters a-z")
        return values


class RuleSet(_Model):
    ruleset: RuleSetInfo
    notes: dict[str, str] = Field(default_factory=dict)
    allowlist: Allowlist
    rules: tuple[Rule, ...] = Field(min_length=1)

    @property
    def version(self) -> str:
        return self.ruleset.version

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'rule'}: {err['msg']}" for err in exc.errors()
    )


def parse_ruleset(text: str, source: str = "rules.toml") -> RuleSet:
    """Parse and validate a rule file. Raises :class:`RuleSetError` naming the rule and field at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"{source} is not valid TOML: {exc}", source=source) from exc
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RuleSetError(f"{source} has no [[rules]]", source=source)
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_rules):
        rule_id = raw.get("id") if isinstance(raw, dict) else None
        label = f"rule {rule_id!r} (rules[{index}])" if rule_id else f"rules[{index}] (no id)"
        where = {"source": source, "rule": rule_id, "index": index}
        try:
            rule = Rule.model_validate(raw)
        except ValidationError as exc:
            raise RuleSetError(f"{source}: {label} is invalid: {_describe(exc)}", **where) from exc
        for citation in rule.citations:
            try:
                citation.check()
            except policies.PolicyError as exc:
                raise RuleSetError(
                    f"{source}: {label} has a citation that does not resolve: {exc}", **where
                ) from exc
        if rule.id in seen:
            raise RuleSetError(f"{source}: {label} repeats the id of rules[{seen[rule.id]}]", **where)
        seen[rule.id] = index
        rules.append(rule)
    try:
        return RuleSet.model_validate({**data, "rules": rules})
    except ValidationError as exc:
        raise RuleSetError(f"{source} is invalid: {_describe(exc)}", source=source) from exc
