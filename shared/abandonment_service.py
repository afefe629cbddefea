"""The abandoned-account sweep and the retirement it proposes (Procedure 4007 (004); NIST SP 800-53 AC-2(3)).

Daily, for every active and dormant official account (read through the registry's status index, page by page, with
each page's credential records and latest own posts, which ingest notes, in one batch read each), the sweep
assesses it (:mod:`shared.domain.abandonment`); abandoned accounts, awaiting communications, are only counted. It warns (active →
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
from shared.catalogue import Role
from shared.domain import abandonment as domain
from shared.domain.abandonment import SWEEP, SWEEP_ACTOR, Finding, Step, SweepConfig
from shared.domain.accounts import Account, AccountPlatform, AccountStatus
from shared.domain.checks import need_role
from shared.domain.credentials import DueReason, RotationRequest, kinds_of
from shared.errors import StewardError
from shared.identity import Identity
from shared.store import rotation_queue
from shared.store.account_store import AccountStore, status_key
from shared.store.content_store import ContentStore
from shared.store.vault import Vault

PAGE = 100
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
    """Each linked account's latest own post: the activity records ingest keeps, for the page in one batch read."""
    keys = {a.id: (str(a.platform), str(a.platform_id)) for a in page if _linked(a)}
    noted = ContentStore().activity(list(keys.values()))
    return {
        account_id: datetime.fromisoformat(noted[key]) for account_id, key in keys.items() if key in noted
    }


def sweep(now: datetime | None = None) -> dict[str, Any]:
    """One run over every swept account; the run record's summary."""
    at = now or _now()

    def work(run: runs.Recorder) -> None:
        tally = _Tally(run, config(), at)
        for status in SWEPT_STATES:
            for page in _pages(status):
                if status is AccountStatus.ABANDONED:  # waiting for communications: nothing to read or assess
                    run.saw(len(page))
                    tally.count(Step.AWAITING_RETIREMENT, (), times=len(page))
                else:
                    tally.page([a for a in page if a.id not in tally.moved])
        run.cursor = {}
        run.summary = {"steps": tally.steps, "signals": tally.signals, "not_linked": tally.unlinked}

    return runs.execute(SWEEP, work, at)


class _Tally:
    """One run's assessment, page by page: each page's credentials and latest posts in one batch read each."""

    def __init__(self, run: runs.Recorder, settings: SweepConfig, at: datetime) -> None:
        self.run, self.settings, self.at = run, settings, at
        self.steps: dict[str, int] = {}
        self.signals: dict[str, int] = {}
        self.unlinked = 0
        # An account moved by this run is skipped if a later listing meets it again (dormant → active).
        self.moved: set[str] = set()

    def count(self, step: Step, signals: tuple[domain.Signal, ...], times: int = 1) -> None:
        self.steps[str(step)] = self.steps.get(str(step), 0) + times
        for signal in signals:
            self.signals[str(signal)] = self.signals.get(str(signal), 0) + 1

    def page(self, page: list[Account]) -> None:
        credentials = Vault().get_many([a.id for a in page])
        posts = _last_posts(page)
        for account in page:
            self.run.saw()
            self.unlinked += account.platform_id is None
            thresholds = self.settings.for_platform(account.platform)
            try:
                finding = domain.assess(
                    account,
                    credentials.get(account.id),
                    posts.get(account.id),
                    self.at,
                    thresholds,
                    posts_known=_linked(account),
                )
                step = domain.next_step(account, finding, self.at, thresholds)
                if step in MOVES:
                    _move(account.id, step, finding, self.at)
                    self.moved.add(account.id)
                    self.run.did()
            except StewardError as exc:
                self.run.problem(f"account:{account.id}", exc.message)
                continue
            self.count(step, finding.signals)


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
    queued for rotation (password and tokens, whichever it has). The rotation is queued first: a retry after a
    failure then finds the account still abandoned, and a rotation request handled twice rotates once."""
    stored = accounts_service.load(account_id)
    at = _now()
    after = stored.account.retire_abandoned(actor=who.actor, roles=who.roles, at=at, reason=reason)
    credential = Vault().get(account_id)
    kinds = kinds_of(credential.credential) if credential is not None else ()
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
    return accounts_service.view(accounts_service.commit_as(who.actor, after, stored))
