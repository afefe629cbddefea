"""Moderation after ingest: run the published rule set on each new version of a comment, open a case per matching
rule, and act as the rule says.

Called by :func:`shared.ingest.record` once an event is archived and indexed (so the evidence exists before
anything acts on it), for every recorded event including redeliveries: cases are idempotent (their id is the item,
the version and the rule), so a redelivery finds the case it opened and only finishes what an interrupted attempt
left undone (a hide never attempted, a notice never sent).

- ``hide``: hidden on the platform now, through :class:`~shared.store.platforms.Platforms` with the account's token.
- ``review``: the case waits in the queue; nothing happens to the comment.
- ``critical``: hidden now, and the communications director is notified over SNS with the reporting contacts the
  policy names (never the text of a sensitive match).

A platform call that still fails after the client's retries, or an account without a token, leaves the case
``action_failed`` (open, listed, audited); it never fails the delivery. Before each hide a
:class:`~shared.domain.content.PendingAction` is stored, so the platform's echo of it is recognised by
:func:`own_echo` and skipped instead of being recorded as a change made by "the account"; the hide itself enters
the item's history as Steward's own event (:func:`~shared.domain.content.steward_action_event`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import overload

from aws_lambda_powertools.metrics import MetricUnit

from shared import audit
from shared.domain.cases import (
    Case,
    CaseState,
    ReportingDuty,
    audit_details,
    incident_notice,
    open_cases,
)
from shared.domain.content import (
    CONTENT_CHANGES,
    STATE_CHANGES,
    Change,
    ContentEvent,
    ItemHistory,
    ItemKind,
    ItemState,
    PendingAction,
    find_own_echo,
    format_time,
)
from shared.domain.moderation import Action, ModerationContext, engine
from shared.errors import Conflict
from shared.observability import logger, metrics
from shared.settings import get_settings
from shared.store import archive, notifier, tokens
from shared.store.case_store import CaseStore, StoredCase
from shared.store.content_store import ContentStore
from shared.store.platforms import PlatformFailure, Platforms

ACTOR = "system:moderation"
MODERATED_KINDS = frozenset({ItemKind.COMMENT, ItemKind.REPLY})
CONTEXT_WINDOW = timedelta(hours=24)
CONTEXT_LIMIT = 200
MAX_ATTEMPTS = 5


@lru_cache(maxsize=1)
def cases() -> CaseStore:
    return CaseStore()


@lru_cache(maxsize=1)
def content() -> ContentStore:
    return ContentStore()


@lru_cache(maxsize=1)
def platforms() -> Platforms:
    return Platforms()


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Outcome:
    """What moderating one version did. ``hidden`` are the actions whose events the caller records."""

    cases: list[Case] = field(default_factory=list)
    hidden: list[PendingAction] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- context
class RecentTexts(Sequence[str]):
    """The author's other recent comments, read from the content store's author index only when the engine
    actually looks at them (the repetition detector reads them only for comments long enough to count).

    Truthy whenever there is an author to ask about, before anything is read: the detector's emptiness check
    then costs no query, and iterating an author with no other comments simply yields nothing."""

    def __init__(self, history: ItemHistory) -> None:
        self._history = history
        self._texts: list[str] | None = None

    def _load(self) -> list[str]:
        if self._texts is None:
            identity = self._history.identity
            author = identity.author.id if identity.author else None
            texts: list[str] = []
            if author:
                since = (identity.created_at or self._history.versions[0].effective_at) - CONTEXT_WINDOW
                recent = content().author_recent(identity.platform, author, format_time(since), CONTEXT_LIMIT)
                texts = [item.text for item in recent if item.item_id != identity.item_id and item.text]
            self._texts = texts
        return self._texts

    def __bool__(self) -> bool:
        identity = self._history.identity
        return bool(identity.author and identity.author.id) if self._texts is None else bool(self._texts)

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._load()[index]


# --------------------------------------------------------------------------------------------- moderate
def moderate_version(history: ItemHistory, event: ContentEvent, now: datetime | None = None) -> Outcome:
    """Moderate the version ``event`` made (if it is new text of someone else's comment or reply) and act."""
    outcome = Outcome()
    identity = history.identity
    if event.origin != "platform" or event.change not in CONTENT_CHANGES:
        return outcome
    if identity.kind not in MODERATED_KINDS or identity.author_is_account:
        return outcome  # posts and videos are the account's own publications; its own comments are records
    version = next((v for v in history.versions if v.event_id == event.event_id), None)
    if version is None or not version.text:
        return outcome  # the event changed nothing visible (or a sticker without text)
    matches = engine.moderate(version.text, ModerationContext(prior_texts=RecentTexts(history)))
    if not matches:
        return outcome
    at = now or _now()
    titles = {rule.id: rule.title for rule in engine.ruleset().rules}
    for fresh in open_cases(
        item_key=history.key,
        author_id=identity.author.id if identity.author else None,
        event_id=event.event_id,
        version_hash=version.content_hash,
        archive_key=archive.event_key(event),
        matches=matches,
        now=at,
        rule_titles=titles,
    ):
        stored = _open(fresh)
        stored = _act(stored, version.state, outcome)
        outcome.cases.append(stored.case)
    return outcome


def _open(fresh: Case) -> StoredCase:
    """The stored case, opened now (and audited) unless an earlier delivery opened it."""
    store = cases()
    held = store.get(fresh.case_id)
    if held is not None:
        return held
    try:
        revision = store.save(fresh, None)
    except Conflict:
        held = store.get(fresh.case_id)
        if held is None:
            raise
        return held
    audit.append(ACTOR, "moderation.case_opened", f"case:{fresh.case_id}", audit_details(fresh))
    metrics.add_metric(name=f"CaseOpened_{fresh.action}", unit=MetricUnit.Count, value=1)
    logger.info(
        "case opened",
        extra={"case_id": fresh.case_id, "rule_id": fresh.rule_id, "policy_action": str(fresh.action)},
    )
    return StoredCase(fresh, revision)


def _save(stored: StoredCase, case: Case) -> StoredCase:
    return StoredCase(case, cases().save(case, stored.revision))


def _act(stored: StoredCase, item_state: ItemState, outcome: Outcome) -> StoredCase:
    case = stored.case
    untried = case.state is CaseState.OPEN and case.action_attempts == 0
    if case.wants_hide and untried and item_state is ItemState.VISIBLE:
        stored = _hide(stored, outcome)
    if case.action is Action.CRITICAL and stored.case.notified_at is None:
        stored = _notify(stored)
    return stored


def _hide(stored: StoredCase, outcome: Outcome) -> StoredCase:
    case = stored.case
    resource = f"case:{case.case_id}"
    attempt = case.action_attempts + 1
    token = tokens.token_for(case.platform, case.account_id)
    if token is None:
        reason = f"no access token is on file for {case.platform} account {case.account_id}"
        return _failed(stored, reason, {"error": "no_token"}, attempt)
    action = PendingAction(
        action_id=f"{case.case_id[:24]}-{attempt}",
        platform=case.platform,
        account_id=case.account_id,
        item_id=case.item_id,
        change=Change.HIDDEN,
        requested_at=_now(),
    )
    # Stored before the call: the platform may send its echo before it answers.
    cases().add_pending(action, timedelta(seconds=get_settings().pending_action_seconds))
    try:
        result = platforms().action(case.platform, "hide", case.item_id, token)
    except PlatformFailure as exc:
        cases().remove_pending(action)
        details = {
            "error": exc.code,
            "http_status": str(exc.http_status or ""),
            "reason": exc.reason or "",
            "attempts": str(exc.attempts),
        }
        return _failed(stored, f"the platform did not hide the comment: {exc.message}", details, attempt)
    at = _now()
    done = case.transition(
        CaseState.ACTIONED,
        actor=ACTOR,
        at=at,
        reason=f"hidden under rule {case.rule_id} ({case.citation.document} {case.citation.section})".strip(),
        details={"performed": result.performed, "action_id": action.action_id},
        platform_operation="hide",
        platform_performed=result.performed,
        action_attempts=attempt,
        pending_action=action,
    )
    stored = _save(stored, done)
    audit.append(
        ACTOR,
        "moderation.hidden",
        resource,
        {**audit_details(done), "performed": result.performed, "action_id": action.action_id},
    )
    metrics.add_metric(name="CommentsHidden", unit=MetricUnit.Count, value=1)
    logger.info("comment hidden", extra={"case_id": case.case_id, "rule_id": case.rule_id})
    outcome.hidden.append(action)
    return stored


def _failed(stored: StoredCase, reason: str, details: dict[str, str], attempt: int) -> StoredCase:
    case = stored.case
    failed = case.transition(
        CaseState.ACTION_FAILED,
        actor=ACTOR,
        at=_now(),
        reason=reason,
        details=details,
        platform_operation="hide",
        action_attempts=attempt,
    )
    stored = _save(stored, failed)
    audit.append(
        ACTOR, "moderation.hide_failed", f"case:{case.case_id}", {**audit_details(failed), **details}
    )
    metrics.add_metric(name="HideFailed", unit=MetricUnit.Count, value=1)
    logger.warning("hide failed; the case stays open", extra={"case_id": case.case_id, **details})
    return stored


def _notify(stored: StoredCase) -> StoredCase:
    """Notify the communications director (an SNS failure raises Unavailable: the delivery is retried and the
    redelivery finds the case not yet notified)."""
    case = stored.case
    settings = get_settings()
    contacts = {
        ReportingDuty.LAW_ENFORCEMENT: settings.contact_law_enforcement,
        ReportingDuty.CHILD_PROTECTIVE_SERVICES: settings.contact_child_protective_services,
    }
    subject, message = incident_notice(case, contacts=contacts, organization=settings.organization)
    message_id = notifier.publish(subject, message)
    stored = _save(stored, case.with_changes(_now(), notified_at=_now()))
    audit.append(
        ACTOR,
        "moderation.incident_notified",
        f"case:{case.case_id}",
        {
            **audit_details(case),
            "topic": notifier.TOPIC,
            "message_id": message_id,
            "report_to": [str(d) for d in case.reporting],
        },
    )
    metrics.add_metric(name="IncidentsNotified", unit=MetricUnit.Count, value=1)
    logger.info("critical incident notified", extra={"case_id": case.case_id, "category": str(case.category)})
    return stored


# --------------------------------------------------------------------------------------------- echoes
def own_echo(event: ContentEvent, now: datetime | None = None) -> PendingAction | None:
    """The pending Steward action ``event`` is the platform's echo of, if any (marked as echoed, so a redelivery
    of the same echo is recognised too, while a later hide by someone else is not)."""
    if event.origin != "platform" or event.change not in STATE_CHANGES:
        return None
    held = cases().pending(*event.key, now or _now())
    candidates = [action for action, echo in held if echo is None or echo == event.event_id]
    match = find_own_echo(event, candidates)
    if match is not None:
        cases().mark_echoed(match, event.event_id)
        logger.info(
            "own echo skipped",
            extra={"action_id": match.action_id, "item_id": event.item_id, "change": str(event.change)},
        )
    return match


def reset() -> None:
    cases.cache_clear()
    content.cache_clear()
    platforms.cache_clear()
