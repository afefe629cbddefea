"""What the engine takes besides the text, and what it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.domain.moderation.schema import Action, Category
from shared.domain.policies import Citation


@dataclass(frozen=True, slots=True)
class ModerationContext:
    """What the engine may know besides the comment itself.

    ``prior_texts`` are the same author's recent comments on the district's accounts (the caller chooses the
    window, e.g. the last 24 hours); they are used only to recognise repetition (spam), never their content.
    """

    prior_texts: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Match:
    """One reason, from the published rule set, to act on a comment.

    ``start``/``end`` index the original text (``text == original[start:end]``). ``sensitive`` matches (content
    involving minors) must never be copied into notifications; refer to the comment by id instead.
    """

    rule_id: str
    category: Category
    action: Action
    start: int
    end: int
    text: str
    confidence: float
    ruleset_version: str
    citations: tuple[Citation, ...]
    sensitive: bool = False

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end

    @property
    def citation(self) -> Citation:
        return self.citations[0]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "category": self.category.value,
            "action": self.action.value,
            "span": [self.start, self.end],
            "text": self.text,
            "confidence": self.confidence,
            "ruleset_version": self.ruleset_version,
            "citations": [c.model_dump() for c in self.citations],
            "sensitive": self.sensitive,
        }


def strongest_action(matches: Sequence[Match]) -> Action | None:
    """The most severe action among ``matches`` (critical > hide > review), or None when there are none."""
    return max((m.action for m in matches), key=lambda a: a.severity, default=None)
