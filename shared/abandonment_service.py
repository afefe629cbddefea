"""The abandoned-account sweep and the retirement it proposes (Procedure 4007 (004); NIST SP 800-53 AC-2(3)).

Daily, for every active, dormant and abandoned official account (read through the registry's status index, page by
page, with each page's credential records in one batch read), the sweep looks up the account's latest post (one
Query of the content index by author) and assesses it (:mod:`shared.domain.abandonment`). It warns (active →
dormant), escalates after the grace period (dormant → abandoned, retirement proposed to communications) or
reactivates an account whose signals cleared; each step is one audited account change with its notice on
``account-notices``. One account's failure is a problem of the run, never the end of the sweep. The run is
recorded (``shared.runs``): what it saw and did, per step and per signal.

``communications`` confirms a retirement (``POST /accounts/{id}/retirement``): the account is retired with every
steward removed, and its credential is queued for rotation so that no former steward keeps a login.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from shared import accounts_service, audit, runs
from shared.api import Identity
from shared.catalogue import Role
from shared.domain import abandonment as domain
from shared.domain.abandonment import SWEEP, SWEEP_ACTOR, Finding, Step, SweepConfig
from shared.domain.accounts import Account, AccountPlatform, AccountStatus
from shared.domain.checks import need_role
from shared.domain.credentials import Credential, CredentialKind, DueReason, RotationRequest
from shared.errors import StewardError
from shared.store import rotation_queue
from shared.store.account_store import AccountStore, status_key
from shared.store.content_store import ContentStore
from shared.store.vault import Vault

PAGE = 100
# An account moved by this run is skipped if a later listing meets it again (reactivated: dormant → active).
SWEPT_STATES = (AccountStatus.ABANDONED, AccountStatus.DORMANT, AccountStatus.ACTIVE)
MOVES: dict[Step, tuple[AccountStatus, str]] = {
    Step.WARN: (AccountStatus.DORMANT, domain.WARNED),
    Step.ABANDON: (AccountStatus.ABANDONED, domain.ABANDONED),
    Step.REACTIVATE: (AccountStatus.ACTIVE, domain.REACTIVATED),
}
CONFIG_RESOURCE = f"sweep:{SWEEP}"
THRESHOLD_SETTERS = frozenset({Role.COMMUNICATIONS})


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------- thresholds
def config() -> SweepConfig:
    stored = AccountStore().config(SWEEP)
    return SweepConfig.model_validate_json(stored) if stored else SweepConfig()


def set_config(who: Identity, data: dict[str, Any]) -> SweepConfig:
    """Replace the thresholds (communications); refused whole when any value is wrong; audited."""
    need_role(who.roles, THRESHOLD_SETTERS, "setting the abandoned-account thresholds")
    checked = domain.parse_config(data, actor=who.actor, at=_now())
    audit.append(
        who.actor, "sweep.thresholds_set", CONFIG_RESOURCE, checked.model_dump(mode="json", exclude_none=True)
    )
    AccountStore().save_config(SWEEP, checked.model_dump_json())
    return checked


# --------------------------------------------------------------------------------------------- the sweep
def _pages(status: AccountStatus) -> Iterator[list[Account]]:
    found = (
        account for _, account in AccountStore().newest_first("status", status_key(status), page_size=PAGE)
    )
    while page := list(islice(found, PAGE)):
        yield [a for a in page if a.official]


def _linked(account: Account) -> bool:
    return account.platform_id is not None and account.platform is not AccountPlatform.OTHER


def _last_posts(page: list[Account]) -> dict[str, datetime]:
    """Each linked account's latest own post: the page's activity records in one batch read; for an
    account without one (content recorded before activity was noted), one Query of the content index by author."""
    content = ContentStore()
    keys = {a.id: (str(a.platform), str(a.platform_id)) for a in page if _linked(a)}
    noted = content.activity(list(keys.values()))
    found: dict[str, datetime] = {}
    for account_id, key in keys.items():
        at = noted.get(key) or content.latest_by_author(*key)
        if at:
            found[account_id] = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return found


def sweep(now: datetime | None = None) -> dict[str, Any]:
    """One run over every swept account; the run record's summary."""
    at = now or _now()
    settings = config()
    with runs.recorded(SWEEP, at) as run:
        steps: dict[str, int] = {}
        signals: dict[str, int] = {}
        unlinked = 0
        moved: set[str] = set()
        for status in SWEPT_STATES:
            for page in _pages(status):
                credentials = Vault().get_many([a.id for a in page])
                posts = _last_posts(page)
                for account in page:
                    if account.id in moved:
                        continue
                    run.saw()
                    unlinked += account.platform_id is None
                    try:
                        finding = domain.assess(
                            account,
                            credentials.get(account.id),
                            posts.get(account.id),
                            at,
                            settings.for_platform(account.platform),
                            posts_known=_linked(account),
                        )
                        step = domain.next_step(account, finding, at, settings.for_platform(account.platform))
                        if step in MOVES:
                            _move(account.id, step, finding, at)
                            moved.add(account.id)
                            run.did()
                    except StewardError as exc:
                        run.problem(f"account:{account.id}", exc.message)
                        continue
                    steps[str(step)] = steps.get(str(step), 0) + 1
                    for signal in finding.signals:
                        signals[str(signal)] = signals.get(str(signal), 0) + 1
        run.cursor = {}
        run.summary = {"steps": steps, "signals": signals, "not_linked": unlinked}
    return {"run": run.run.id, **run.summary}


def _move(account_id: str, step: Step, finding: Finding, at: datetime) -> None:
    """One sweep step on one account, re-read so that a change made since the listing is not overwritten."""
    stored = accounts_service.load(account_id)
    to, action = MOVES[step]
    reason = finding.reason or "the signals of abandonment have cleared"
    if step is Step.ABANDON:
        reason += "; retirement proposed: communications confirms it with POST /accounts/{id}/retirement"
    after = stored.account.swept(to, action, actor=SWEEP_ACTOR, at=at, reason=reason)
    accounts_service.commit_as(SWEEP_ACTOR, after, stored)


# --------------------------------------------------------------------------------------------- retirement
def retire(account_id: str, who: Identity, reason: str) -> accounts_service.AccountView:
    """communications confirms the retirement of an abandoned account: retired, stewards removed, credential
    queued for rotation (password and tokens, whichever it has)."""
    stored = accounts_service.load(account_id)
    at = _now()
    after = stored.account.retire_abandoned(actor=who.actor, roles=who.roles, at=at, reason=reason)
    retired = accounts_service.commit_as(who.actor, after, stored)
    credential = Vault().get(account_id)
    if credential is not None:
        kinds = _kinds(credential.credential)
        if kinds:
            rotation_queue.send(
                [
                    RotationRequest(
                        account_id=account_id,
                        kinds=kinds,
                        reason=DueReason.RETIREMENT,
                        detail=f"account retired by {who.actor}",
                        requested_by=who.actor,
                        requested_at=at,
                    )
                ]
            )
    return accounts_service.view(retired)


def _kinds(credential: Credential) -> tuple[CredentialKind, ...]:
    return tuple(
        kind
        for kind, has in (
            (CredentialKind.TOKEN, credential.has_tokens),
            (CredentialKind.PASSWORD, credential.has_password),
        )
        if has
    )
