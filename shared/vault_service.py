"""The credential vault as a service: store, read redacted, check out. Called by ``functions.accounts_api``.

- **Store** (``it``, ``communications``): the values are validated by
  :func:`~shared.domain.credentials.parse_values` (the login email must be a district address; an error names the
  field and the rule, never a value), written as the new AWSCURRENT version of the account's secret, and the
  credential record (no secret value) with its audit entry is written in one transaction. If that transaction
  fails, AWSCURRENT is moved back to the version the record names, so the record and the secret never disagree.
  A store while a rotation is in progress is a 409 (it would race the rotation's AWSPENDING version).
- **Read** (``it``, ``communications``, ``records``): the record's redacted view; the secret is not read.
- **Checkout** (``it``, ``communications``, a reason required): the AWSCURRENT values, checked against the record's
  version, are returned once; the record (checkout count, rotation due after use) and the audit entry (the
  :meth:`~shared.domain.credentials.Checkout.audit_details`, redacted) are written in one transaction *before*
  the values leave, then the notice (no value) goes to the ``incidents`` topic. A notice that cannot be sent fails
  the request (503) without the values: a checkout nobody was told about is not handed out.

Secret values are never logged, audited, put in an error or returned anywhere but the checkout response.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from shared import audit
from shared.domain import accounts as accounts_domain
from shared.domain import credentials as domain
from shared.domain.content import format_time
from shared.domain.credentials import Credential, CredentialEvent, CredentialValues
from shared.errors import Conflict, NotFound, StewardError
from shared.identity import Identity
from shared.observability import logger
from shared.store import notifier
from shared.store.account_store import AccountStore
from shared.store.audit_log import TransactionPart
from shared.store.vault import StoredCredential, Vault, new_version_id, secret_name

NOTICE_KIND = "credential_checkout"


def vault() -> Vault:
    return Vault()


def _now() -> datetime:
    return datetime.now(UTC)


def resource(account_id: str) -> str:
    return f"account:{account_id}"


def district_domains() -> frozenset[str]:
    return accounts_domain.default_config().email_domains


def platform_token(account_id: str) -> str | None:
    """The account's current platform access token (AWSCURRENT), for a sweep that reads the platform as the
    account (never logged, never returned by the API); None when the vault holds no credential or no token."""
    keeper = Vault()
    stored = keeper.get(account_id)
    if stored is None:
        return None
    _, values = keeper.read(
        stored.credential.secret_id, account_id=account_id, district_domains=district_domains()
    )
    if values.tokens is None:
        return None
    return values.tokens.page_access_token.get_secret_value()


class CredentialView(BaseModel):
    """What the API says about a credential outside a checkout: which parts exist, never a value."""

    account_id: str
    secret_id: str
    login_email: str
    current_version: str
    previous_version: str | None
    has_password: bool
    has_mfa: bool
    has_tokens: bool
    token_expires_at: datetime | None
    password_changed_at: datetime | None
    tokens_refreshed_at: datetime | None
    rotation_due: bool = Field(
        description="True when a checkout, compromise or offboarding asks for a rotation"
    )
    due: list[dict[str, str]] = Field(description="Why a rotation is due, by kind")
    rotation_in_progress: bool
    rotation: dict[str, Any] | None = Field(
        description="The rotation in progress: kind, pending version id, phase, next step (a Secrets Manager step, "
        "hand_over or confirm_set), who started it, attempts and the last failure"
    )
    checkouts: int
    created_at: datetime
    updated_at: datetime
    history: list[CredentialEvent]


class CheckoutView(BaseModel):
    account_id: str
    version_id: str
    checked_out_at: str
    values: dict[str, Any] = Field(description="The credential's values, returned this once")


def view(credential: Credential) -> CredentialView:
    return CredentialView(
        account_id=credential.account_id,
        secret_id=credential.secret_id,
        login_email=credential.login_email,
        current_version=credential.current_version,
        previous_version=credential.previous_version,
        has_password=credential.has_password,
        has_mfa=credential.has_mfa,
        has_tokens=credential.has_tokens,
        token_expires_at=credential.token_expires_at,
        password_changed_at=credential.password_changed_at,
        tokens_refreshed_at=credential.tokens_refreshed_at,
        rotation_due=credential.rotation_due,
        due=[{"kind": str(f.kind), "reason": str(f.reason), "detail": f.detail} for f in credential.due],
        rotation_in_progress=credential.rotation is not None,
        rotation=domain.audit_details(credential)["rotation"],
        checkouts=credential.checkouts,
        created_at=credential.created_at,
        updated_at=credential.updated_at,
        history=list(credential.history),
    )


def _account(account_id: str) -> None:
    if AccountStore().get(account_id) is None:
        raise NotFound(f"no account {account_id}")


def _credential(account_id: str) -> StoredCredential:
    _account(account_id)
    stored = vault().get(account_id)
    if stored is None:
        raise NotFound(f"account {account_id} has no credential in the vault")
    return stored


def commit(
    actor: str,
    after: Credential,
    before: StoredCredential | None,
    details: dict[str, Any],
    also: Sequence[TransactionPart] = (),
) -> StoredCredential:
    """Write the credential record ``after`` (over ``before`` as read) and its audit entry in one transaction:
    action ``credential.<its last event>``, the event's reason added to ``details``. Returns the record as stored."""
    event = after.history[-1]
    audit.append(
        actor,
        f"credential.{event.action}",
        resource(after.account_id),
        {**details, **({"reason": event.reason} if event.reason else {})},
        also=[vault().save_part(after, before), *also],
    )
    logger.info(
        "credential changed",
        extra={"account_id": after.account_id, "action": event.action, "version_id": after.current_version},
    )
    return StoredCredential(after, (before.revision if before else 0) + 1)


def _replaced(old: Credential, fresh: Credential, who: Identity, at: datetime) -> Credential:
    """The record after new values replaced the current ones: the new version's facts, the old history, count and
    due flags (a replacement by hand is not a rotation: what asked for one still does)."""
    event = CredentialEvent(
        action="replaced",
        actor=who.actor,
        at=at,
        details={"version_id": fresh.current_version, "previous_version": old.current_version},
    )
    return fresh.model_copy(
        update={
            "previous_version": old.current_version,
            "password_changed_at": fresh.password_changed_at if fresh.has_password else None,
            "due": old.due,
            "checkouts": old.checkouts,
            "created_at": old.created_at,
            "history": (*old.history, event),
        }
    )


def store(account_id: str, who: Identity, data: dict[str, Any]) -> CredentialView:
    """Store or replace the account's credential values (validated), returning the redacted view."""
    _account(account_id)
    values: CredentialValues = domain.parse_values(data, district_domains=district_domains())
    keeper = vault()
    before = keeper.get(account_id)
    if before is not None and before.credential.rotation is not None:
        rotation = before.credential.rotation
        raise Conflict(
            f"a rotation of the {rotation.kind} is in progress since {format_time(rotation.started_at)} by "
            f"{rotation.started_by}; finish or cancel it before replacing the credential"
        )
    at, version_id = _now(), new_version_id()
    secret_id = before.credential.secret_id if before is not None else secret_name(account_id)
    keeper.store(secret_id, values, version_id=version_id, account_id=account_id)
    fresh = domain.new_credential(
        account_id=account_id,
        secret_id=secret_id,
        values=values,
        version_id=version_id,
        actor=who.actor,
        at=at,
    )
    after = fresh if before is None else _replaced(before.credential, fresh, who, at)
    try:
        commit(who.actor, after, before, {**domain.audit_details(after), "values": values.redacted()})
    except StewardError:
        _undo(account_id, secret_id, version_id)
        raise
    return view(after)


def _undo(account_id: str, secret_id: str, version_id: str) -> None:
    """The record was not written: AWSCURRENT goes back to the version the record (if any) names."""
    now = vault().get(account_id)
    if now is None or now.credential.current_version == version_id:
        return
    try:
        vault().make_current(secret_id, version_id=now.credential.current_version, instead_of=version_id)
    except StewardError:
        logger.exception("the vault could not restore the current version", extra={"account_id": account_id})


def get(account_id: str) -> CredentialView:
    return view(_credential(account_id).credential)


def checkout(account_id: str, who: Identity, reason: str) -> CheckoutView:
    """The AWSCURRENT values once (audited, notified, rotation flagged), or an error and no value."""
    before = _credential(account_id)
    credential = before.credential
    version_id, values = vault().read(
        credential.secret_id, account_id=account_id, district_domains=district_domains()
    )
    if version_id != credential.current_version:
        raise Conflict(
            f"the vault's current version of account {account_id} is not the one on record; "
            "a store or rotation is in progress, try again"
        )
    after, given = domain.checkout(
        credential, values, actor=who.actor, roles=who.roles, reason=reason, at=_now()
    )
    # Who checked it out is found again when they are offboarded (shared.offboarding_service).
    reach = [AccountStore().reach_part(account_id, who.email, given.at)] if who.email else []
    commit(who.actor, after, before, given.audit_details(), also=reach)
    notifier.publish(
        f"Steward: credential of account {account_id} checked out",
        {
            "kind": NOTICE_KIND,
            "category": "credential",
            "account_id": account_id,
            "login_email": credential.login_email,
            "version_id": given.version_id,
            "by": given.by,
            "at": format_time(given.at),
            "reason": given.reason,
            "rotation_due": [str(f.kind) for f in after.due],
        },
    )
    return CheckoutView.model_validate(given.response())
