"""The moderator's side of moderation: the queue, a case with its archived evidence, the decisions (confirm,
overturn, escalate) and the removals report. Called by ``functions.moderation_api``; typed in and out.

- **Sensitive cases** (content sexualising minors, abuse disclosures): only ``communications`` may see them at
  all; to anyone else such a case does not exist (404, the same answer as an unknown id, so its existence is not
  confirmed either), and it is left out of the queue. Even to ``communications`` the evidence text (the match
  excerpts, the archived event, the item's current text) is never returned: the response says it is withheld and
  names the reporting contacts (003 AR 1114 III.A.3-4).
- **Decisions** need a reason and are audited with the actor, the reason and the rule. The case's new state and
  its audit entry are written in one transaction, so neither exists without the other.
- **Overturn** restores a comment Steward hid: a pending ``unhidden`` action is stored first (so the platform's
  echo is recognised as Steward's own), then the platform is asked to unhide it, then the decision is recorded and
  the unhide enters the item's history as Steward's event. If the platform fails, nothing changes: the case stays
  as it was, the failed attempt is audited and the caller gets 503.
- **The removals report** counts, per month the case was opened and per category, the cases opened, hidden,
  confirmed and overturned (their outcome today), from the cases table's ``by-category`` index (no Scan).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from heapq import merge
from itertools import islice
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared import audit, ingest, moderate, paging
from shared.catalogue import Role
from shared.domain.cases import (
    Case,
    CaseError,
    CaseMatch,
    CaseState,
    ReportingDuty,
    Transition,
    audit_details,
)
from shared.domain.cases import case_id as case_id_of
from shared.domain.content import (
    Change,
    ContentItem,
    ItemState,
    PendingAction,
    Platform,
    steward_action_event,
)
from shared.domain.moderation import Action, Category, Citation, engine
from shared.errors import Conflict, InvalidParameter, NotFound, Unavailable
from shared.identity import Identity
from shared.observability import logger
from shared.settings import get_settings
from shared.store import archive, notifier, tokens
from shared.store.case_store import StoredCase
from shared.store.platforms import PlatformFailure

# The queue by default: every case still awaiting a person (the domain's QUEUE_STATES: a hidden comment awaits a
# moderator's confirm or overturn too).
DEFAULT_STATES = frozenset({CaseState.OPEN, CaseState.ACTIONED, CaseState.ACTION_FAILED, CaseState.ESCALATED})
SENSITIVE_READERS = frozenset({Role.COMMUNICATIONS})
MAX_REPORT_MONTHS = 36
Decision = Literal["confirm", "overturn", "escalate"]
DECIDES: dict[str, CaseState] = {
    "confirm": CaseState.CONFIRMED,
    "overturn": CaseState.OVERTURNED,
    "escalate": CaseState.ESCALATED,
}
_ACCOUNT = re.compile(r"^(facebook|instagram|x|youtube):([^:\s]{1,128})$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------- models
class CaseSummary(BaseModel):
    case_id: str
    state: CaseState
    platform: Platform
    account_id: str
    item_id: str
    rule_id: str
    rule_title: str
    category: Category
    action: Action
    ruleset_version: str
    sensitive: bool
    opened_at: datetime
    updated_at: datetime


class CasePage(BaseModel):
    cases: list[CaseSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; absent on the last page")


class Withheld(BaseModel):
    withheld: Literal[True] = True
    reason: str
    contacts: list[dict[str, str]]


class ArchivedEvent(BaseModel):
    archive_key: str
    event: dict[str, Any] | None = Field(
        description="The event as archived (write-once), absent if unreadable"
    )


class ItemNow(BaseModel):
    platform: Platform
    account_id: str
    item_id: str
    state: ItemState
    text: str | None
    author_id: str | None
    author_name: str | None
    url: str | None
    versions: int


class Evidence(BaseModel):
    item: ItemNow | None = Field(description="The item as the index holds it now")
    flagged_version: ArchivedEvent | None = Field(
        description="The archived event that made the flagged version"
    )
    matches: list[CaseMatch]


class CaseView(BaseModel):
    case_id: str
    state: CaseState
    platform: Platform
    account_id: str
    item_id: str
    author_id: str | None
    rule_id: str
    rule_title: str
    category: Category
    action: Action
    ruleset_version: str
    citation: Citation
    sensitive: bool
    reporting: list[ReportingDuty]
    opened_at: datetime
    updated_at: datetime
    platform_performed: str | None
    transitions: list[Transition]
    evidence: Evidence | Withheld


class DecisionResult(BaseModel):
    case: CaseView
    platform: str | None = Field(
        description="What the platform was asked to do (overturn: unhide), if anything"
    )


class MonthCategory(BaseModel):
    month: str
    category: Category
    opened: int
    hidden: int
    confirmed: int
    overturned: int


class RemovalsReport(BaseModel):
    from_month: str = Field(alias="from")
    to_month: str = Field(alias="to")
    basis: str
    rows: list[MonthCategory]
    totals: dict[str, int]

    model_config = {"populate_by_name": True}


class PublishedRule(BaseModel):
    id: str
    title: str
    category: Category
    action: Action
    description: str
    sensitive: bool
    citations: list[Citation]


class PublishedRuleSet(BaseModel):
    name: str
    version: str
    published: str
    summary: str
    viewpoint_neutrality: str
    changes: list[str]
    notes: dict[str, str]
    rules: list[PublishedRule]


# --------------------------------------------------------------------------------------------- access
def _may_see(case: Case, who: Identity) -> bool:
    return not case.sensitive or bool(who.roles & SENSITIVE_READERS)


def _load(case_id: str, who: Identity) -> StoredCase:
    stored = moderate.cases().get(case_id)
    if stored is None or not _may_see(stored.case, who):
        raise NotFound(f"no case {case_id}")
    return stored


def _contacts(case: Case) -> list[dict[str, str]]:
    settings = get_settings()
    contacts = {
        ReportingDuty.LAW_ENFORCEMENT: settings.contact_law_enforcement,
        ReportingDuty.CHILD_PROTECTIVE_SERVICES: settings.contact_child_protective_services,
    }
    named = [{"duty": str(d), "contact": contacts[d]} for d in case.reporting]
    return [*named, {"duty": "communications_director", "contact": "the communications director"}]


# --------------------------------------------------------------------------------------------- queue
def parse_states(value: str | None) -> frozenset[CaseState]:
    if value is None or not value.strip():
        return DEFAULT_STATES
    states = set()
    for name in value.split(","):
        try:
            states.add(CaseState(name.strip()))
        except ValueError as exc:
            allowed = ", ".join(s.value for s in CaseState)
            raise InvalidParameter(
                f"state: unknown state {name.strip()!r}; expected one of {allowed}"
            ) from exc
    return frozenset(states)


def parse_account(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    found = _ACCOUNT.fullmatch(value)
    if found is None:
        raise InvalidParameter(
            "account: expected <platform>:<account id>, platform one of facebook, instagram, x, youtube"
        )
    return found.group(1), found.group(2)


def list_cases(
    who: Identity,
    *,
    state: str | None = None,
    account: str | None = None,
    category: Category | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> CasePage:
    """One page of the queue, newest first, from one index partition (account or category given) or a merge of
    the by-state partitions; the cursor is the last case's position, so pages never repeat or skip a case that
    stays put."""
    states = parse_states(state)
    owner = parse_account(account)
    fingerprint = "|".join([",".join(sorted(states)), account or "", category or ""])
    before = paging.read_cursor(cursor, fingerprint) if cursor else None
    store = moderate.cases()
    streams: list[Iterator[tuple[str, Case]]]
    page = min(limit + 1, 100)
    if owner is not None:
        key = f"ACCOUNT#{owner[0]}#{owner[1]}"
        streams = [
            store.newest_first(
                "account", key, before=before, states=states, category=category, page_size=page
            )
        ]
    elif category is not None:
        key = f"CATEGORY#{category}"
        streams = [store.newest_first("category", key, before=before, states=states, page_size=page)]
    else:
        streams = [
            store.newest_first("state", f"STATE#{s}", before=before, page_size=page) for s in sorted(states)
        ]
    ordered = merge(*streams, key=lambda pair: pair[0], reverse=True)
    visible = ((order, case) for order, case in ordered if _may_see(case, who))
    found = list(islice(visible, limit + 1))
    more = len(found) > limit
    found = found[:limit]
    return CasePage(
        cases=[_summary(case) for _, case in found],
        next_cursor=paging.cursor(found[-1][0], fingerprint) if more and found else None,
    )


def _summary(case: Case) -> CaseSummary:
    return CaseSummary(
        case_id=case.case_id,
        state=case.state,
        platform=case.platform,
        account_id=case.account_id,
        item_id=case.item_id,
        rule_id=case.rule_id,
        rule_title=case.rule_title,
        category=case.category,
        action=case.action,
        ruleset_version=case.ruleset_version,
        sensitive=case.sensitive,
        opened_at=case.opened_at,
        updated_at=case.updated_at,
    )


# --------------------------------------------------------------------------------------------- one case
def _archived(key: str) -> dict[str, Any] | None:
    """The archived event (the write-once archive is the evidence, not the index)."""
    return archive.read(key) if key else None


def _item(case: Case) -> ContentItem | None:
    stored = moderate.content().get(case.platform, case.account_id, case.item_id)
    return stored.history.current if stored else None


def _view(case: Case) -> CaseView:
    evidence: Evidence | Withheld
    if case.sensitive:
        evidence = Withheld(
            reason="Sensitive content: the text is not shown, copied or exported. Do not download, copy or "
            "print it; law enforcement gathers the evidence (003 AR 1114 III.A.4). Refer to it by case id.",
            contacts=_contacts(case),
        )
    else:
        stored = moderate.content().get(case.platform, case.account_id, case.item_id)
        now = stored.history.current if stored else None
        evidence = Evidence(
            item=ItemNow(
                platform=now.platform,
                account_id=now.account_id,
                item_id=now.item_id,
                state=now.state,
                text=now.text,
                author_id=now.author.id if now.author else None,
                author_name=now.author.name if now.author else None,
                url=now.url,
                versions=len(stored.history.versions) if stored else 0,
            )
            if now is not None
            else None,
            flagged_version=ArchivedEvent(archive_key=case.archive_key, event=_archived(case.archive_key))
            if case.archive_key
            else None,
            matches=list(case.matches),
        )
    return CaseView(
        case_id=case.case_id,
        state=case.state,
        platform=case.platform,
        account_id=case.account_id,
        item_id=case.item_id,
        author_id=case.author_id,
        rule_id=case.rule_id,
        rule_title=case.rule_title,
        category=case.category,
        action=case.action,
        ruleset_version=case.ruleset_version,
        citation=case.citation,
        sensitive=case.sensitive,
        reporting=list(case.reporting),
        opened_at=case.opened_at,
        updated_at=case.updated_at,
        platform_performed=case.platform_performed,
        transitions=list(case.transitions),
        evidence=evidence,
    )


def view_case(case_id: str, who: Identity) -> CaseView:
    return _view(_load(case_id, who).case)


# --------------------------------------------------------------------------------------------- decisions
def decide(case_id: str, decision: Decision, reason: str, who: Identity) -> DecisionResult:
    """Confirm, overturn or escalate a case (409 for a move the state machine refuses)."""
    stored = _load(case_id, who)
    to = DECIDES[decision]
    at = _now()
    case = stored.case
    try:
        decided = case.transition(to, actor=who.actor, at=at, reason=reason)
    except CaseError as exc:
        raise Conflict(str(exc), state=str(case.state)) from exc
    asked: str | None = None
    unhide: PendingAction | None = None
    if to is CaseState.ESCALATED:
        _notify_escalation(case, who, reason)
    if to is CaseState.OVERTURNED and _restorable(case):
        unhide = _restore(stored, who, reason)
        asked = "unhide"
        decided = case.transition(
            to,
            actor=who.actor,
            at=at,
            reason=reason,
            details={"restored": "unhide", "action_id": unhide.action_id},
            pending_action=unhide,
        )
    details = {
        **audit_details(decided),
        "reason": decided.transitions[-1].reason,
        "from_state": str(case.state),
        "to_state": str(to),
        **({"platform": asked, "action_id": unhide.action_id} if unhide else {}),
    }
    audit.append(
        who.actor,
        f"moderation.{to}",
        f"case:{case.case_id}",
        details,
        also=[moderate.cases().save_part(decided, stored.revision)],
    )
    if unhide is not None:
        # The restore enters the item's history as Steward's own event (its echo is then skipped on arrival).
        ingest.record(steward_action_event(unhide), _now())
    logger.info(
        "case decided", extra={"case_id": case.case_id, "decision": decision, "rule_id": case.rule_id}
    )
    return DecisionResult(case=_view(decided), platform=asked)


def _notify_escalation(case: Case, who: Identity, reason: str) -> None:
    """Tell the communications director a case waits for them (before the state changes, so a failed notice
    leaves the case as it was). The comment's text is never in a notice."""
    notifier.publish(
        f"Steward: moderation case escalated ({case.category})",
        {
            "kind": "case_escalated",
            "case_id": case.case_id,
            "platform": str(case.platform),
            "account_id": case.account_id,
            "item_id": case.item_id,
            "rule_id": case.rule_id,
            "category": str(case.category),
            "escalated_by": who.actor,
            "reason": reason.strip(),
        },
    )


def _restorable(case: Case) -> bool:
    """Overturning restores the comment only if Steward hid it (under this case or another rule's case on the same
    version), it is still hidden, and no other rule's case still justifies the hide: there is one case per
    matching rule, and overturning one must not undo the others."""
    item = _item(case)
    if item is None or item.state is not ItemState.HIDDEN:
        return False
    siblings = _siblings(case)
    if any(s.wants_hide and s.state is not CaseState.OVERTURNED for s in siblings):
        return False
    return case.platform_performed is not None or any(s.platform_performed is not None for s in siblings)


def _siblings(case: Case) -> list[Case]:
    """The cases other rules opened on the same version of the same item (case ids are deterministic)."""
    item_key = (case.platform, case.account_id, case.item_id)
    found = []
    for rule in engine.ruleset().rules:
        if rule.id != case.rule_id:
            sibling = moderate.cases().get(case_id_of(item_key, case.version_hash, rule.id))
            if sibling is not None:
                found.append(sibling.case)
    return found


def _restore(stored: StoredCase, who: Identity, reason: str) -> PendingAction:
    """Unhide the comment on the platform; on failure audit the attempt and raise Unavailable (nothing changed)."""
    case = stored.case
    token = tokens.token_for(case.platform, case.account_id)
    if token is None:
        _overturn_failed(case, who, reason, {"error": "no_token"})
        raise Unavailable(
            f"no access token is on file for {case.platform} account {case.account_id}; the case was not changed"
        )
    action = PendingAction(
        action_id=f"{case.case_id[:24]}-u{len(case.transitions)}",
        platform=case.platform,
        account_id=case.account_id,
        item_id=case.item_id,
        change=Change.UNHIDDEN,
        requested_at=_now(),
    )
    store = moderate.cases()
    store.add_pending(action, timedelta(seconds=get_settings().pending_action_seconds))
    try:
        moderate.platforms().action(case.platform, "unhide", case.item_id, token)
    except PlatformFailure as exc:
        store.remove_pending(action)
        _overturn_failed(
            case,
            who,
            reason,
            {"error": exc.code, "http_status": str(exc.http_status or ""), "attempts": str(exc.attempts)},
        )
        raise Unavailable(
            f"the platform did not restore the comment ({exc.message}); the case was not changed"
        ) from exc
    return action


def _overturn_failed(case: Case, who: Identity, reason: str, details: dict[str, str]) -> None:
    audit.append(
        who.actor,
        "moderation.overturn_failed",
        f"case:{case.case_id}",
        {**audit_details(case), "reason": reason.strip(), **details},
    )
    logger.warning("overturn failed; the case is unchanged", extra={"case_id": case.case_id, **details})


# --------------------------------------------------------------------------------------------- reports
def _month(value: str, name: str) -> tuple[int, int]:
    found = _MONTH.fullmatch(value)
    if found is None:
        raise InvalidParameter(f"{name}: expected a month as YYYY-MM, got {value!r}")
    return int(found.group(1)), int(found.group(2))


def removals(first: str, last: str) -> RemovalsReport:
    start, end = _month(first, "from"), _month(last, "to")
    if end < start:
        raise InvalidParameter("to: must not be before from")
    months = (end[0] - start[0]) * 12 + end[1] - start[1] + 1
    if months > MAX_REPORT_MONTHS:
        raise InvalidParameter(f"to: at most {MAX_REPORT_MONTHS} months in one report")
    counts: dict[tuple[str, Category], MonthCategory] = {}
    for category in Category:
        for case in moderate.cases().opened_between(category, first, last):
            month = case.opened_at.strftime("%Y-%m")
            row = counts.setdefault(
                (month, category),
                MonthCategory(month=month, category=category, opened=0, hidden=0, confirmed=0, overturned=0),
            )
            row.opened += 1
            row.hidden += any(t.to_state is CaseState.ACTIONED for t in case.transitions)
            row.confirmed += case.state is CaseState.CONFIRMED
            row.overturned += case.state is CaseState.OVERTURNED
    rows = sorted(counts.values(), key=lambda r: (r.month, r.category))
    totals = {
        name: sum(getattr(r, name) for r in rows) for name in ("opened", "hidden", "confirmed", "overturned")
    }
    return RemovalsReport(
        from_month=first,
        to_month=last,
        basis="Cases counted in the month they were opened (UTC), by the category of the rule that matched; "
        "hidden: the platform hid the comment; confirmed / overturned: a moderator's decision as it stands now.",
        rows=rows,
        totals=totals,
    )


# --------------------------------------------------------------------------------------------- rule set
def published_ruleset() -> PublishedRuleSet:
    rules = engine.ruleset()
    info = rules.ruleset
    return PublishedRuleSet(
        name=info.name,
        version=info.version,
        published=info.published,
        summary=info.summary,
        viewpoint_neutrality=info.viewpoint_neutrality,
        changes=list(info.changes),
        notes=dict(rules.notes),
        rules=[
            PublishedRule(
                id=r.id,
                title=r.title,
                category=r.category,
                action=r.action,
                description=r.description,
                sensitive=r.sensitive,
                citations=list(r.citations),
            )
            for r in rules.rules
        ],
    )
