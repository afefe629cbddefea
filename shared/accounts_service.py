"""The official-account registry as a service: requests, approvals, lifecycle, stewards, disclosures and unofficial
pages. Called by ``functions.accounts_api``; typed in and out.

- **The rules** are the pure domain's (:mod:`shared.domain.accounts`): which approval comes next and who may give
  it, the legal lifecycle moves and their reasons, the two-admin rule, district-only stewards, the disclosures an
  account needs before it is active. A refused operation raises the domain's error (400, 403, 404 or 409 with a
  message) before anything is written.
- **Every change is audited** with the actor, the action (``account.<history action>``), ``account:<id>`` and the
  details of the change (statuses, reason, steward, item; never anything secret: the registry holds none). The
  account, its steward index items and the audit entry are written in one transaction, so neither exists without
  the other, and the write is conditional on the revision that was read (a concurrent change is a 409).
- **Search** goes through one index of the ``accounts`` table (steward, then school, then platform, then status;
  the other filters narrow it); with no filter, the status partitions are merged. Never a Scan. The cursor is
  opaque and only fits the filters it was made for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from heapq import merge
from itertools import islice
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared import audit, notices, paging
from shared.catalogue import Role
from shared.domain import accounts as domain
from shared.domain.accounts import (
    Account,
    AccountChange,
    AccountKind,
    AccountPlatform,
    AccountStatus,
    Approval,
    ChecklistEntry,
    DisclosureItem,
    FinalCapture,
    Steward,
    StewardRole,
)
from shared.errors import BadRequest, Conflict, InvalidParameter, NotFound
from shared.identity import Identity
from shared.observability import logger
from shared.store.account_store import (
    AccountStore,
    StoredAccount,
    platform_key,
    school_key,
    status_key,
    steward_key,
)

Move = Literal["reject", "activate", "dormant", "abandon", "retire"]


def store() -> AccountStore:
    # Not cached: binding is per settings (dynamo.bind remembers it), and tests reset the settings between runs.
    return AccountStore()


def _now() -> datetime:
    return datetime.now(UTC)


def resource(account_id: str) -> str:
    return f"account:{account_id}"


# --------------------------------------------------------------------------------------------- models
class AccountSummary(BaseModel):
    id: str
    platform: AccountPlatform
    handle: str
    school: str
    kind: AccountKind
    official: bool
    status: AccountStatus
    pending_approval: Role | None
    stewards: list[str]
    requested_by: str
    requested_at: datetime
    updated_at: datetime


class AccountPage(BaseModel):
    accounts: list[AccountSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; absent on the last page")


class AccountView(BaseModel):
    id: str
    platform: AccountPlatform
    handle: str
    school: str
    purpose: str
    audience: str
    kind: AccountKind
    official: bool
    status: AccountStatus
    requested_by: str
    requested_at: datetime
    updated_at: datetime
    approvals_required: list[Role]
    pending_approval: Role | None = Field(description="The role whose approval is awaited next, if any")
    approvals: list[Approval]
    stewards: list[Steward]
    admin_shortfall: int = Field(description="Admin stewards the account lacks under the two-admin rule")
    missing_disclosures: list[DisclosureItem] = Field(
        description="Required disclosures not yet confirmed (an official account cannot be active without them)"
    )
    not_official_statement: str | None = Field(
        description="For an unofficial page: what a link to it must say (AR 1114)"
    )
    platform_id: str | None = Field(description="The account's id on its platform, once linked")
    final_capture: FinalCapture | None = Field(
        description="For a retired official account: the last capture of its threads (pending, taken, incomplete)"
    )
    history: list[AccountChange]


class Checklist(BaseModel):
    account_id: str
    complete: bool
    missing: list[DisclosureItem]
    items: list[ChecklistEntry]


def _summary(account: Account) -> AccountSummary:
    return AccountSummary(
        id=account.id,
        platform=account.platform,
        handle=account.handle,
        school=account.school,
        kind=account.kind,
        official=account.official,
        status=account.status,
        pending_approval=account.pending_approval,
        stewards=list(account.steward_emails),
        requested_by=account.requested_by,
        requested_at=account.requested_at,
        updated_at=account.updated_at,
    )


def view(account: Account) -> AccountView:
    return AccountView(
        id=account.id,
        platform=account.platform,
        handle=account.handle,
        school=account.school,
        purpose=account.purpose,
        audience=account.audience,
        kind=account.kind,
        official=account.official,
        status=account.status,
        requested_by=account.requested_by,
        requested_at=account.requested_at,
        updated_at=account.updated_at,
        approvals_required=list(account.approval_roles_required),
        pending_approval=account.pending_approval,
        approvals=list(account.approvals),
        stewards=list(account.stewards),
        admin_shortfall=account.admin_shortfall,
        missing_disclosures=list(account.missing_disclosures()) if account.official else [],
        not_official_statement=account.not_official_statement,
        platform_id=account.platform_id,
        final_capture=account.final_capture,
        history=list(account.history),
    )


# --------------------------------------------------------------------------------------------- writing
def load(account_id: str) -> StoredAccount:
    return _load(account_id)


def _load(account_id: str) -> StoredAccount:
    stored = store().get(account_id)
    if stored is None:
        raise NotFound(f"no account {account_id}")
    return stored


def _audit_details(account: Account, change: AccountChange) -> dict[str, Any]:
    return {
        "platform": str(account.platform),
        "kind": str(account.kind),
        "school": account.school,
        **({"from_status": str(change.from_status)} if change.from_status else {}),
        "to_status": str(change.to_status),
        "roles": list(change.roles),
        **({"reason": change.reason} if change.reason else {}),
        **change.details,
    }


def _commit(who: Identity, after: Account, before: StoredAccount | None) -> Account:
    return commit_as(who.actor, after, before)


def commit_as(actor: str, after: Account, before: StoredAccount | None) -> Account:
    """Write ``after`` (over ``before`` as read) and its audit entry in one transaction, as ``actor`` (a person or
    a scheduled sweep); Conflict if the account changed meanwhile (nothing is written then)."""
    if before is not None and after is before.account:
        return after  # the domain had nothing to change (e.g. a steward given the role they have)
    change = after.history[-1]
    audit.append(
        actor,
        f"account.{change.action}",
        resource(after.id),
        _audit_details(after, change),
        also=[store().save_part(after, before)],
    )
    logger.info(
        "account changed",
        extra={"account_id": after.id, "action": change.action, "status": str(after.status)},
    )
    _notify(after, change)
    return after


def _notify(account: Account, change: AccountChange) -> None:
    """The change on ``account-notices``: who changed what, the status, and whose approval is awaited next (so the
    principal or the director can subscribe to what waits for them)."""
    waiting = account.pending_approval
    notices.send(
        f"account.{change.action}",
        f"{account.platform} account {account.handle}: {change.action.replace('_', ' ')}",
        account.id,
        school=account.school,
        platform=str(account.platform),
        handle=account.handle,
        status=str(account.status),
        by=change.actor,
        **({"reason": change.reason} if change.reason else {}),
        **({"awaiting_approval_of": str(waiting)} if waiting else {}),
        admin_shortfall=account.admin_shortfall,
        details=dict(change.details),
    )


def _create(who: Identity, account: Account) -> AccountView:
    existing = store().get(account.id)
    if existing is not None:
        raise Conflict(
            f"{account.platform} account {account.handle!r} is already on the register as {existing.account.id} "
            f"({existing.account.status})",
            account_id=existing.account.id,
            status=str(existing.account.status),
        )
    return view(_commit(who, account, None))


def request_account(
    who: Identity,
    *,
    platform: str,
    handle: str,
    school: str,
    purpose: str,
    audience: str,
    kind: str,
) -> AccountView:
    """A request for an official account by the caller, who must be district staff (their token's email)."""
    if not who.email:
        raise BadRequest("the caller's token carries no email; a request must name district staff")
    account = domain.request_account(
        platform=platform,
        handle=handle,
        school=school,
        purpose=purpose,
        audience=audience,
        kind=kind,
        requested_by=who.email,
        at=_now(),
    )
    return _create(who, account)


def record_unofficial(
    who: Identity, *, platform: str, handle: str, school: str, purpose: str, audience: str
) -> AccountView:
    account = domain.record_unofficial(
        platform=platform,
        handle=handle,
        school=school,
        purpose=purpose,
        audience=audience,
        actor=who.actor,
        roles=who.roles,
        at=_now(),
    )
    return _create(who, account)


def _change(
    account_id: str, who: Identity, change: Callable[..., Account], *args: Any, **kwargs: Any
) -> Account:
    """Apply one domain change as the caller, now, and commit it with its audit entry."""
    stored = _load(account_id)
    after = change(stored.account, *args, actor=who.actor, roles=who.roles, at=_now(), **kwargs)
    return _commit(who, after, stored)


MOVES: dict[str, Callable[..., Account]] = {
    "reject": Account.reject,
    "activate": Account.activate,
    "dormant": Account.mark_dormant,
    "abandon": Account.abandon,
    "retire": Account.retire,
}


def approve(account_id: str, who: Identity, note: str = "") -> AccountView:
    return view(_change(account_id, who, Account.approve, note=note))


def move(account_id: str, to: Move, who: Identity, reason: str = "") -> AccountView:
    return view(_change(account_id, who, MOVES[to], reason=reason))


def add_steward(
    account_id: str, who: Identity, email: str, role: StewardRole, reason: str = ""
) -> AccountView:
    return view(_change(account_id, who, Account.add_steward, email, role, reason=reason))


def change_steward_role(
    account_id: str, who: Identity, email: str, role: StewardRole, reason: str = ""
) -> AccountView:
    return view(_change(account_id, who, Account.change_steward_role, email, role, reason=reason))


def remove_steward(account_id: str, who: Identity, email: str, reason: str = "") -> AccountView:
    return view(_change(account_id, who, Account.remove_steward, email, reason=reason))


def confirm_disclosure(
    account_id: str, item: DisclosureItem, who: Identity, text: str | None = None
) -> Checklist:
    return checklist_of(_change(account_id, who, Account.confirm_disclosure, item, text=text))


# --------------------------------------------------------------------------------------------- reading
def link_platform(account_id: str, who: Identity, platform_id: str) -> AccountView:
    """Record the account's id on the platform (audited, notified like every change)."""
    return view(_change(account_id, who, Account.link_platform, platform_id))


def get_account(account_id: str) -> AccountView:
    return view(_load(account_id).account)


def checklist_of(account: Account) -> Checklist:
    if not account.official:
        raise Conflict(
            f"account {account.id} is an unofficial page: it displays no district disclosures. "
            f"{domain.POLICY_UNOFFICIAL}"
        )
    missing = account.missing_disclosures()
    return Checklist(
        account_id=account.id, complete=not missing, missing=list(missing), items=list(account.checklist())
    )


def checklist(account_id: str) -> Checklist:
    return checklist_of(_load(account_id).account)


def search(
    *,
    school: str | None = None,
    platform: AccountPlatform | None = None,
    status: AccountStatus | None = None,
    steward: str | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> AccountPage:
    """One page of the register, newest request first, through one index (see the module docstring)."""
    school = " ".join(school.split()) if school is not None else None
    if school == "":
        raise InvalidParameter("school: must not be blank")
    if steward is not None:
        steward = domain.normalize_email(steward)
        if "@" not in steward:
            raise InvalidParameter("steward: expected an email address")
    fingerprint = json.dumps(
        [school and school.casefold(), platform and str(platform), status and str(status), steward]
    )
    before = paging.read_cursor(cursor, fingerprint) if cursor else None
    accounts = store()
    page = min(limit + 1, 100)
    narrow: dict[str, Any] = {"before": before, "page_size": page}
    streams: list[Iterator[tuple[str, Account]]]
    if steward is not None:
        streams = [
            accounts.newest_first(
                "steward", steward_key(steward), school=school, platform=platform, status=status, **narrow
            )
        ]
    elif school is not None:
        streams = [
            accounts.newest_first("school", school_key(school), platform=platform, status=status, **narrow)
        ]
    elif platform is not None:
        streams = [accounts.newest_first("platform", platform_key(platform), status=status, **narrow)]
    elif status is not None:
        streams = [accounts.newest_first("status", status_key(status), **narrow)]
    else:
        streams = [accounts.newest_first("status", status_key(s), **narrow) for s in AccountStatus]
    ordered = merge(*streams, key=lambda pair: pair[0], reverse=True)
    found = list(islice(ordered, limit + 1))
    more = len(found) > limit
    found = found[:limit]
    return AccountPage(
        accounts=[_summary(a) for _, a in found],
        next_cursor=paging.cursor(found[-1][0], fingerprint) if more and found else None,
    )
