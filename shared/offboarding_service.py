"""Offboarding a staff member (``POST /offboardings``): removed from every account's stewards, every credential they
could reach queued for rotation, the accounts left below two admins reported. Called by
``functions.accounts_api.offboarding_routes``; the rules are the pure domain's
(:func:`shared.domain.accounts.plan_offboarding`).

How it is written, and why not one transaction per account (on moto a transaction copies whole tables; in AWS it
costs twice the write units): about one write per account plus batched calls.

1. **Read** the accounts the person stewards (``by-steward`` index, ``STEWARD#<email>``) and the accounts whose
   credential they checked out (same index, ``CHECKOUT#<email>``, written by the checkout), plus the accounts an
   earlier offboarding of them changed (the offboarding record), in one consistent batch read with revisions.
2. **Audit first**: one ``staff.offboarded`` entry (resource ``staff:<email>``) per chunk of up to 50 changed
   accounts, naming for each the steward role removed and the revision the account will be written as, with the
   rotations requested. The entry is the decision; the account's new history entry carries the entry's locator
   (``details.audit``), which proves the decision took effect.
3. **Write** each changed account with one put conditional on the revision read. An account changed meanwhile is
   re-read and re-planned alone, and a follow-up entry (``supersedes`` the chunk's) records what is written
   instead, so every history locator points at an entry whose claim holds. Then the steward and checkout index
   items of the person are deleted in batch writes, and the offboarding record (the cumulative report) is put.
   The offboarding record (the planned removals and every rotation) is also put *before* the first account write,
   so that a failure part way leaves a repeated POST the rotations of the accounts already written.
4. **Rotations** go to the ``rotations`` queue, ten to a batch; then the notices (``staff.offboarded``, and one
   ``account.below_two_admins`` listing every account left short). A queue failure is a 503 after the account
   changes are written: they stand, and a repeated POST re-sends the rotations.

Idempotent: a repeated POST for the same person finds nothing to change, writes nothing (no entry, no notice) and
answers with the record's report (``changed: false``), the admin shortfalls recomputed from the accounts as they
are now, and re-sends every rotation request of the record with its original ``requested_at`` (the rotation worker
skips a kind already rotated since then). A person who stewards nothing and checked out nothing gets
``changed: false`` and empty lists, and nothing is written (an HR feed may offboard everyone who leaves).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared import audit, notices
from shared.domain import accounts as domain
from shared.domain.accounts import Account, AdminShortfall, OffboardingPlan, StewardRole
from shared.domain.checks import need_role
from shared.domain.credentials import CredentialKind, DueReason, RotationRequest
from shared.errors import BadRequest, Conflict, StewardError
from shared.identity import Identity
from shared.observability import logger
from shared.store import rotation_queue
from shared.store.account_store import (
    AccountStore,
    StoredAccount,
    checkout_key,
    steward_key,
)

ACTION = "staff.offboarded"
CHUNK = 50  # accounts per audit entry (about 8 KB of details)
WRITE_ATTEMPTS = 3  # for an account that changed between the read and the write
REASON_MIN, REASON_MAX = 3, 500
# Tokens first: they are refreshed automatically, the password needs a person (shared.domain.credentials).
KIND_ORDER = (CredentialKind.TOKEN, CredentialKind.PASSWORD)


def store() -> AccountStore:
    return AccountStore()


def _now() -> datetime:
    return datetime.now(UTC)


def resource(email: str) -> str:
    return f"staff:{email}"


# --------------------------------------------------------------------------------------------- models
class RemovedFrom(BaseModel):
    account_id: str
    role: StewardRole


class RotationQueued(BaseModel):
    account_id: str
    kinds: list[CredentialKind] = Field(
        description="Rotated in this order; a kind the credential lacks is skipped"
    )
    reason: str
    requested_at: datetime


class OffboardingReport(BaseModel):
    email: str
    offboarding_id: str = Field(description="The same for every POST about this person")
    changed: bool = Field(description="False when this POST found nothing left to change (a repeat)")
    removed_from: list[RemovedFrom] = Field(description="Every account the offboarding removed them from")
    below_minimum: list[AdminShortfall] = Field(
        description="Active accounts it left with fewer than two admins, as they are now: add an admin"
    )
    rotations: list[RotationQueued] = Field(description="The rotation requests queued by this POST")
    audit: list[str] = Field(description="Locators (chain:seq:id) of the staff.offboarded audit entries")
    at: datetime


class _Record(BaseModel):
    """What an offboarding did, kept under ``OFFBOARDING#<email>`` (cumulative over repeated POSTs)."""

    model_config = ConfigDict(extra="ignore")

    email: str
    offboarding_id: str
    first_at: datetime
    updated_at: datetime
    removed_from: list[RemovedFrom] = []
    rotations: list[RotationQueued] = []
    audit: list[str] = []


# --------------------------------------------------------------------------------------------- validation
def _check(who: Identity, email: str, reason: str) -> tuple[str, str]:
    need_role(who.roles, domain.STEWARD_ROLES, "offboarding a staff member")
    address = domain.district_email(email, domain.default_config(), what="staff member")
    reason = reason.strip()
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise BadRequest(
            f"a reason of {REASON_MIN} to {REASON_MAX} characters is required to offboard {address}"
        )
    return address, reason


# --------------------------------------------------------------------------------------------- helpers
def _with_locator(account: Account, locator: str) -> Account:
    """The account with its last history entry (the offboarding's) pointing at its audit entry."""
    change = account.history[-1]
    marked = change.model_copy(update={"details": {**change.details, "audit": locator}})
    return account.model_copy(update={"history": (*account.history[:-1], marked)})


def _removed_role(account: Account) -> str:
    return account.history[-1].details.get("steward_role", "")


def _account_claim(after: Account, revision: int) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "account_id": after.id,
        "steward_role": _removed_role(after),
        "revision": revision,
        "status": str(after.status),
    }
    if after.admin_shortfall:
        claim["admin_shortfall"] = after.admin_shortfall
        claim["admins_left"] = list(after.admin_emails)
    return claim


def _grouped(plan: OffboardingPlan) -> dict[str, tuple[list[CredentialKind], str]]:
    """The plan's rotations by account: kinds in :data:`KIND_ORDER`, the reasons joined."""
    kinds: dict[str, set[CredentialKind]] = {}
    reasons: dict[str, list[str]] = {}
    for r in plan.rotations:
        kinds.setdefault(r.account_id, set()).add(r.kind)
        if r.reason not in reasons.setdefault(r.account_id, []):
            reasons[r.account_id].append(r.reason)
    return {
        a: ([k for k in KIND_ORDER if k in held], "; ".join(reasons[a])) for a, held in sorted(kinds.items())
    }


def _merge_rotations(
    previous: Sequence[RotationQueued], plan: OffboardingPlan, at: datetime
) -> tuple[list[RotationQueued], list[RotationQueued]]:
    """(every rotation of the record and the plan, the ones the record did not hold yet)."""
    held = {r.account_id: r for r in previous}
    merged = dict(held)
    new: list[RotationQueued] = []
    for account_id, (kinds, reason) in _grouped(plan).items():
        old = held.get(account_id)
        if old is not None and set(kinds) <= set(old.kinds):
            continue
        union = set(kinds) | set(old.kinds if old else ())
        entry = RotationQueued(
            account_id=account_id,
            kinds=[k for k in KIND_ORDER if k in union],
            reason=reason if old is None else f"{old.reason}; {reason}",
            requested_at=at,
        )
        merged[account_id] = entry
        new.append(entry)
    return [merged[a] for a in sorted(merged)], new


# --------------------------------------------------------------------------------------------- the service
def offboard(who: Identity, email: str, reason: str) -> OffboardingReport:
    """Offboard ``email`` (see the module docstring). Raises the domain's errors before anything is written;
    Unavailable (503) when AWS fails (a repeated POST finishes the work)."""
    email, reason = _check(who, email, reason)
    at = _now()
    accounts = store()
    stewarded, checked_out = accounts.reach(email)
    raw = accounts.offboarding(email)
    record = _Record.model_validate_json(raw) if raw is not None else None
    earlier = [r.account_id for r in record.removed_from] if record else []
    stored = accounts.get_many({*stewarded, *checked_out, *earlier})
    plan = domain.plan_offboarding(
        email,
        [s.account for s in stored.values()],
        actor=who.actor,
        roles=who.roles,
        at=at,
        checkouts=[(a, k) for a in checked_out for k in KIND_ORDER],
        reason=reason,
    )
    rotations, new_rotations = _merge_rotations(record.rotations if record else [], plan, at)
    offboarding_id = record.offboarding_id if record else str(uuid.uuid4())

    def saved(removals: Sequence[RemovedFrom], locators: Sequence[str]) -> _Record:
        kept = {r.account_id: r for r in (record.removed_from if record else [])}
        kept.update({r.account_id: r for r in removals})
        updated = _Record(
            email=email,
            offboarding_id=offboarding_id,
            first_at=record.first_at if record else at,
            updated_at=at,
            removed_from=[kept[i] for i in sorted(kept)],
            rotations=rotations,
            audit=[*(record.audit if record else []), *locators],
        )
        accounts.save_offboarding(email, updated.model_dump_json())
        return updated

    if plan.changed or new_rotations:
        # The plan is saved before the first account is written: should a write fail part way, the accounts
        # already written no longer show the person, and a repeated POST re-sends their rotations from here.
        saved([RemovedFrom(account_id=r.account_id, role=r.role) for r in plan.removals], [])

    written, locators = _write(who, email, reason, offboarding_id, plan, stored, new_rotations)

    if written or new_rotations:
        accounts.delete_index_items(
            [(i, steward_key(email)) for i in sorted({*stewarded, *written})]
            + [(i, checkout_key(email)) for i in checked_out]
        )
        record = saved(
            [RemovedFrom(account_id=i, role=StewardRole(_removed_role(a))) for i, a in written.items()],
            locators,
        )

    current = {i: s.account for i, s in stored.items()} | written
    below = [
        _shortfall(current[r.account_id])
        for r in (record.removed_from if record else [])
        if r.account_id in current and current[r.account_id].admin_shortfall
    ]
    report = OffboardingReport(
        email=email,
        offboarding_id=offboarding_id,
        changed=bool(written or new_rotations),
        removed_from=list(record.removed_from) if record else [],
        below_minimum=below,
        rotations=rotations,
        audit=list(record.audit) if record else [],
        at=at,
    )
    logger.info(
        "staff offboarded",
        extra={
            "offboarding_id": offboarding_id,
            "changed": report.changed,
            "accounts_changed": len(written),
            "below_minimum": len(below),
            "rotations": len(rotations),
        },
    )

    failure: StewardError | None = None
    try:
        rotation_queue.send([_request(r, email, who) for r in rotations])
    except StewardError as exc:
        failure = exc
    if report.changed:
        _notify(report, written, queued=failure is None)
    if failure is not None:
        raise failure
    return report


def _entry(who: Identity, email: str, reason: str, offboarding_id: str, **details: Any) -> str:
    """One ``staff.offboarded`` audit entry for ``email``; returns its locator (kept in the accounts' history)."""
    entry = audit.append(
        who.actor,
        ACTION,
        resource(email),
        {"email": email, "reason": reason, "offboarding_id": offboarding_id, **details},
    )
    return audit.locator(entry)


def _write(
    who: Identity,
    email: str,
    reason: str,
    offboarding_id: str,
    plan: OffboardingPlan,
    stored: dict[str, StoredAccount],
    new_rotations: Sequence[RotationQueued],
) -> tuple[dict[str, Account], list[str]]:
    """Audit first, then each chunk's accounts (module docstring, 2 and 3): (accounts written, entry locators)."""
    written: dict[str, Account] = {}
    locators: list[str] = []
    changed = list(plan.accounts)
    changed_ids = {a.id for a in changed}
    chunks = [changed[i : i + CHUNK] for i in range(0, len(changed), CHUNK)]
    if not chunks and new_rotations:
        chunks = [[]]  # only rotations to request (a checkout of an account they did not steward)
    accounts = store()
    for n, chunk in enumerate(chunks):
        ids = {a.id for a in chunk}
        last = n == len(chunks) - 1
        listed = [
            r for r in new_rotations if r.account_id in ids or (last and r.account_id not in changed_ids)
        ]
        locator = _entry(
            who,
            email,
            reason,
            offboarding_id,
            accounts=[_account_claim(a, stored[a.id].revision + 1) for a in chunk],
            rotations=[
                {"account_id": r.account_id, "kinds": [str(k) for k in r.kinds], "reason": r.reason}
                for r in listed
            ],
        )
        locators.append(locator)
        for after in chunk:
            before = stored[after.id]
            marked = _with_locator(after, locator)
            if accounts.put(marked, before):
                written[after.id] = marked
            else:
                again = _rewrite(who, email, reason, offboarding_id, after.id, locator, locators)
                if again is not None:
                    written[after.id] = again

    return written, locators


def _rewrite(
    who: Identity,
    email: str,
    reason: str,
    offboarding_id: str,
    account_id: str,
    supersedes: str,
    locators: list[str],
) -> Account | None:
    """An account changed between the read and the write: re-read, re-plan it alone, and record with a follow-up
    entry what is written instead (None when the person is no longer its steward)."""
    accounts = store()
    for _ in range(WRITE_ATTEMPTS):
        fresh = accounts.get(account_id)
        plan = domain.plan_offboarding(
            email,
            [fresh.account] if fresh else [],
            actor=who.actor,
            roles=who.roles,
            at=_now(),
            reason=reason,
        )
        after = plan.accounts[0] if plan.accounts and fresh else None
        supersedes = _entry(
            who,
            email,
            reason,
            offboarding_id,
            supersedes=supersedes,
            account_id=account_id,
            outcome="rewritten" if after else "no_longer_a_steward",
            accounts=[_account_claim(after, fresh.revision + 1)] if after and fresh else [],
        )
        locators.append(supersedes)
        if after is None or fresh is None:
            return None
        marked = _with_locator(after, supersedes)
        if accounts.put(marked, fresh):
            return marked
    raise Conflict(f"account {account_id} kept changing during the offboarding of {email}; try again")


def _shortfall(account: Account) -> AdminShortfall:
    return AdminShortfall(
        account_id=account.id,
        school=account.school,
        platform=account.platform,
        admins_left=account.admin_emails,
        needed=account.admin_shortfall,
    )


def _request(rotation: RotationQueued, email: str, who: Identity) -> RotationRequest:
    return RotationRequest(
        account_id=rotation.account_id,
        kinds=tuple(rotation.kinds),
        reason=DueReason.OFFBOARDING,
        detail=f"offboarding of {email}",
        requested_by=who.actor,
        requested_at=rotation.requested_at,
    )


def _notify(report: OffboardingReport, written: dict[str, Account], *, queued: bool) -> None:
    """Best effort (shared.notices): the summary, then one notice listing the accounts left below two admins
    (one message, however many accounts: the director acts on the list)."""
    notices.send(
        "staff.offboarded",
        f"{report.email} offboarded from {len(written)} account(s)",
        email=report.email,
        offboarding_id=report.offboarding_id,
        accounts=[{"account_id": i, "role": _removed_role(a)} for i, a in sorted(written.items())],
        rotations=[
            {"account_id": r.account_id, "kinds": [str(k) for k in r.kinds]} for r in report.rotations
        ],
        rotations_queued=queued,
        below_minimum=[s.account_id for s in report.below_minimum],
    )
    short = [s for s in report.below_minimum if s.account_id in written]
    if short:
        notices.send(
            "account.below_two_admins",
            f"{len(short)} account(s) need an admin after the offboarding of {report.email}",
            accounts=[
                {
                    "account_id": s.account_id,
                    "school": s.school,
                    "platform": str(s.platform),
                    "admins_left": list(s.admins_left),
                    "needed": s.needed,
                }
                for s in short
            ],
            offboarded=report.email,
            offboarding_id=report.offboarding_id,
        )
