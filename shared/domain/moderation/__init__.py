"""Viewpoint-neutral comment moderation on the published grounds of the board policies (pure domain code).

The rule set is the data file ``rules.toml`` beside this module: versioned, readable by non-programmers, each rule
with its policy citation. ``engine`` compiles it once and applies it::

    from shared.domain.moderation import engine
    engine.moderate("...", context=engine.ModerationContext(prior_texts=[...]))  # -> list[Match]
    engine.ruleset()  # -> RuleSet (version, principles, rules) for publication
"""

from __future__ import annotations

from shared.domain.moderation.model import Match, ModerationContext, strongest_action
from shared.domain.moderation.schema import Action, Category, Rule, RuleSet, RuleSetError
from shared.domain.policies import Citation

__all__ = [
    "Action",
    "Category",
    "Citation",
    "Match",
    "ModerationContext",
    "Rule",
    "RuleSet",
    "RuleSetError",
    "strongest_action",
]
