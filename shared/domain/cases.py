"""Moderation cases: what a rule match on one version of a comment opens, and how it is decided (pure domain).

A :class:`Case` is one rule of the published rule set matching one version of one item. Its id is SHA-256 over the
item key, the version's content hash and the rule id, so processing the same version again (a redelivery, a
replay, a retry after a crash) finds the case it already opened instead of opening another.

The policy action comes from the rule (``rules.toml``): ``hide`` (hidden at once, a moderator reviews),
``review`` (nothing happens until a moderator decides), ``critical`` (hidden at once and the communications
director is notified with the reporting contacts AR 1114 names in 003 III.A.3).

States and transitions (every transition keeps who, why and when)::

    open ──(platform action done)──────────► actioned
    open ──(platform action failed)────────► action_failed ──(retried, done)──► actioned
    open | actioned | action_failed | escalated ──(moderator, reason)──► confirmed | overturned
    open | actioned | action_failed ──(moderator, reason)──► escalated

``confirmed`` and ``overturned`` are final. ``action_failed`` is not: the case stays open in the queue, visible,
until the action is retried or a person decides. A human decision (any actor not ``system:...``) needs a reason.

Sensitive matches (content sexualising minors, abuse disclosures) are never copied: a case of a sensitive rule keeps
the span and rule but no excerpt, and its notice carries no comment text (003 III.A.4: "Do not download or print
images of minors or any content that may be considered child pornography").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.domain.checks import aware as _utc
from shared.domain.content import PendingAction, Platform, format_time, sha256_hex
from shared.domain.moderation import Action, Category, Citation, Match, RuleSet

SYSTEM_PREFIX = "system:"


EXCERPT_MAX = 280


class CaseState(StrEnum):
    OPEN = "open"
    ACTIONED = "actioned"
    ACTION_FAILED = "action_failed"
    CONFIRMED = "confirmed"
    OVERTURNED = "overturned"
    ESCALATED = "escalated"


FINAL_STATES = frozenset({CaseState.CONFIRMED, CaseState.OVERTURNED})
# States a case is "open" in: listed in the queue, awaiting a person.
QUEUE_STATES = frozenset({CaseState.OPEN, CaseState.ACTION_FAILED, CaseState.ESCALATED, CaseState.ACTIONED})

ALLOWED: dict[CaseState, frozenset[CaseState]] = {
    CaseState.OPEN: frozenset(
        {
            CaseState.ACTIONED,
            CaseState.ACTION_FAILED,
            CaseState.CONFIRMED,
            CaseState.OVERTURNED,
            CaseState.ESCALATED,
        }
    ),
    CaseState.ACTION_FAILED: frozenset(
        {CaseState.ACTIONED, CaseState.CONFIRMED, CaseState.OVERTURNED, CaseState.ESCALATED}
    ),
    CaseState.ACTIONED: frozenset({CaseState.CONFIRMED, CaseState.OVERTURNED, CaseState.ESCALATED}),
    CaseState.ESCALATED: frozenset({CaseState.CONFIRMED, CaseState.OVERTURNED}),
    CaseState.CONFIRMED: frozenset(),
    CaseState.OVERTURNED: frozenset(),
}
HUMAN_DECISIONS = frozenset({CaseState.CONFIRMED, CaseState.OVERTURNED, CaseState.ESCALATED})
SYSTEM_OUTCOMES = frozenset({CaseState.ACTIONED, CaseState.ACTION_FAILED})


class ReportingDuty(StrEnum):
    """Who a critical incident is reported to, as 003 AR 1114 III.A.3 names them."""

    LAW_ENFORCEMENT = "law_enforcement"  # a. threats; b. sexualized images of minors
    CHILD_PROTECTIVE_SERVICES = "child_protective_services"  # c. suspected child abuse or neglect


# By rule first (a category may hold rules with different duties), then by category.
DUTIES_BY_RULE: Mapping[str, tuple[ReportingDuty, ...]] = {
    "abuse-disclosure": (ReportingDuty.CHILD_PROTECTIVE_SERVICES,),
    "self-harm": (),  # no agency is named for it; the director is notified so a person responds
}
DUTIES_BY_CATEGORY: Mapping[Category, tuple[ReportingDuty, ...]] = {
    Category.THREATS_INCITEMENT: (ReportingDuty.LAW_ENFORCEMENT,),
    Category.SEXUAL_CONTENT_MINORS: (ReportingDuty.LAW_ENFORCEMENT,),
    Category.SAFETY_DISCLOSURE: (ReportingDuty.CHILD_PROTECTIVE_SERVICES,),
}


def reporting_duties(rule_id: str, category: Category, action: Action) -> tuple[ReportingDuty, ...]:
    """The agencies a critical case of this rule is reported to (none for hide and review)."""
    if action is not Action.CRITICAL:
        return ()
    if rule_id in DUTIES_BY_RULE:
        return DUTIES_BY_RULE[rule_id]
    return DUTIES_BY_CATEGORY.get(category, ())


def category_policy(ruleset: RuleSet) -> dict[Category, frozenset[Action]]:
    """Per category, the actions its published rules take (e.g. threats: critical; private info: hide, review)."""
    policy: dict[Category, set[Action]] = {}
    for rule in ruleset.rules:
        policy.setdefault(rule.category, set()).add(rule.action)
    return {category: frozenset(actions) for category, actions in policy.items()}


class CaseError(ValueError):
    """A transition the state machine does not allow, or a human decision without a reason."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaseMatch(_Frozen):
    """One place the rule matched. ``excerpt`` is the matched text, kept only for rules that are not sensitive."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    confidence: float = Field(ge=0, le=1)
    excerpt: str | None = None

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


class Transition(_Frozen):
    from_state: CaseState | None
    to_state: CaseState
    actor: str = Field(min_length=1)
    at: datetime
    reason: str = ""
    details: dict[str, str] = Field(default_factory=dict)

    _check_times = field_validator("at")(_utc)


class Case(_Frozen):
    case_id: str = Field(pattern=r"^[0-9a-f]{64}$")
    platform: Platform
    account_id: str
    item_id: str
    author_id: str | None = None
    event_id: str  # the event that made the matched version
    version_hash: str  # the matched version's content hash (the archive names the version by it)
    archive_key: str = ""
    rule_id: str
    rule_title: str = ""
    category: Category
    action: Action
    ruleset_version: str
    citation: Citation
    sensitive: bool = False
    matches: tuple[CaseMatch, ...] = Field(min_length=1)
    reporting: tuple[ReportingDuty, ...] = ()
    state: CaseState = CaseState.OPEN
    opened_at: datetime
    updated_at: datetime
    transitions: tuple[Transition, ...] = ()
    # What Steward asked the platform to do and what it did (``performed`` may differ: X delete -> hide).
    platform_operation: str | None = None
    platform_performed: str | None = None
    action_attempts: int = 0
    pending_action: PendingAction | None = None
    notified_at: datetime | None = None

    _check_times = field_validator("opened_at", "updated_at", "notified_at")(_utc)

    @property
    def item_key(self) -> tuple[Platform, str, str]:
        return (self.platform, self.account_id, self.item_id)

    @property
    def wants_hide(self) -> bool:
        return self.action in (Action.HIDE, Action.CRITICAL)

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    def transition(
        self,
        to: CaseState,
        *,
        actor: str,
        at: datetime,
        reason: str = "",
        details: Mapping[str, str] | None = None,
        **changes: Any,
    ) -> Case:
        """The case after moving to ``to``; raises CaseError for a move the state machine does not allow."""
        if to not in ALLOWED[self.state]:
            raise CaseError(f"case {self.case_id[:12]} cannot go from {self.state} to {to}")
        human = not actor.startswith(SYSTEM_PREFIX)
        if to in HUMAN_DECISIONS and human and not reason.strip():
            raise CaseError(f"a reason is required to mark a case {to}")
        if to in SYSTEM_OUTCOMES and human:
            raise CaseError(f"{to} records a platform action's outcome; only the system sets it")
        step = Transition(
            from_state=self.state,
            to_state=to,
            actor=actor,
            at=at,
            reason=reason.strip(),
            details=dict(details or {}),
        )
        return self.model_copy(
            update={"state": to, "updated_at": at, "transitions": (*self.transitions, step), **changes}
        )

    def with_changes(self, at: datetime, **changes: Any) -> Case:
        """The case with bookkeeping fields changed (no state change)."""
        return self.model_copy(update={"updated_at": at, **changes})


def case_id(item_key: Sequence[str], version_hash: str, rule_id: str) -> str:
    """Deterministic: the same rule on the same version of the same item is always the same case."""
    return sha256_hex({"item": [str(k) for k in item_key], "version": version_hash, "rule": rule_id})


def open_cases(
    *,
    item_key: tuple[Platform, str, str],
    author_id: str | None,
    event_id: str,
    version_hash: str,
    archive_key: str,
    matches: Iterable[Match],
    now: datetime,
    rule_titles: Mapping[str, str] | None = None,
) -> list[Case]:
    """One case per matching rule (a rule matching twice is one case with two spans), in rule order of first match."""
    by_rule: dict[str, list[Match]] = {}
    for match in matches:
        by_rule.setdefault(match.rule_id, []).append(match)
    cases = []
    for rule_id, found in by_rule.items():
        first = found[0]
        cases.append(
            Case(
                case_id=case_id(item_key, version_hash, rule_id),
                platform=item_key[0],
                account_id=item_key[1],
                item_id=item_key[2],
                author_id=author_id,
                event_id=event_id,
                version_hash=version_hash,
                archive_key=archive_key,
                rule_id=rule_id,
                rule_title=(rule_titles or {}).get(rule_id, ""),
                category=first.category,
                action=first.action,
                ruleset_version=first.ruleset_version,
                citation=first.citation,
                sensitive=any(m.sensitive for m in found),
                matches=tuple(
                    CaseMatch(
                        start=m.start,
                        end=m.end,
                        confidence=m.confidence,
                        excerpt=None if m.sensitive else m.text[:EXCERPT_MAX],
                    )
                    for m in found
                ),
                reporting=reporting_duties(rule_id, first.category, first.action),
                opened_at=now,
                updated_at=now,
                transitions=(
                    Transition(
                        from_state=None,
                        to_state=CaseState.OPEN,
                        actor="system:moderation",
                        at=now,
                        reason=f"rule {rule_id} of rule set {first.ruleset_version} matched",
                    ),
                ),
            )
        )
    return cases


def audit_details(case: Case) -> dict[str, Any]:
    """What an audit entry of a case names: the rule that justified the action (never the comment's text)."""
    return {
        "case_id": case.case_id,
        "item": f"{case.platform}:{case.account_id}:{case.item_id}",
        "event_id": case.event_id,
        "version_hash": case.version_hash,
        "archive_key": case.archive_key,
        "rule_id": case.rule_id,
        "category": str(case.category),
        "policy_action": str(case.action),
        "ruleset_version": case.ruleset_version,
        "citation": case.citation.model_dump(),
        "sensitive": case.sensitive,
    }


def incident_notice(
    case: Case, *, contacts: Mapping[ReportingDuty, str], organization: str
) -> tuple[str, dict[str, Any]]:
    """(subject, message) for the communications director. Never the text of a sensitive match."""
    what = case.rule_title or case.rule_id
    subject = f"[{organization}] Critical moderation incident: {what}"[:100]
    message: dict[str, Any] = {
        "kind": "steward.critical_incident",
        "case_id": case.case_id,
        "category": str(case.category),
        "rule_id": case.rule_id,
        "ruleset_version": case.ruleset_version,
        "citation": case.citation.model_dump(),
        "platform": str(case.platform),
        "account_id": case.account_id,
        "item_id": case.item_id,
        "opened_at": format_time(case.opened_at),
        "state": str(case.state),
        "hidden_on_platform": case.state is CaseState.ACTIONED,
        "report_to": [{"duty": str(d), "contact": contacts.get(d, "")} for d in case.reporting],
        "sensitive": case.sensitive,
    }
    if case.sensitive:
        message["handling"] = (
            "Sensitive content: the text is not included. Do not download, copy or print it; law enforcement "
            "gathers the evidence (003 AR 1114 III.A.4). Refer to the comment by its case id."
        )
    else:
        message["excerpts"] = [m.excerpt for m in case.matches if m.excerpt]
    return subject, message
