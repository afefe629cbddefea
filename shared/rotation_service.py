"""Credential rotation as a service: Secrets Manager's four steps, the assisted password flow, the queued worker and
the rotation schedule. Called by ``functions.rotation`` (the rotation function Secrets Manager invokes, the queue
worker and the schedule) and ``functions.accounts_api`` (the people's side of the assisted flow).

**The steps** (:func:`run_step`) are the same code whoever drives them. Each one first does its Secrets Manager
work, then records the step on the credential record with its audit entry (one transaction); a step already done
changes nothing, so a step that failed anywhere is simply run again:

- ``createSecret``: the pending values are written as AWSPENDING under the rotation's version id. A token rotation
  refreshes the token through the platform (``oauth-clients`` holds the district's OAuth clients); a password
  rotation generates a 20+ character password. A version already written (a retry) is reused, never regenerated.
- ``setSecret``: a token is already set (the platform issued it); a password is set by a person, so the step
  waits for ``confirm`` (the rotation function reports that as a failed step, Secrets Manager's way of waiting).
- ``testSecret``: the pending token must act as the account on the platform (the platform id it answers with must
  be the account's ``platform_id`` when one is linked); the pending password must be new and conform to the policy
  (no platform offers a password check: the person's confirmation is the real test).
- ``finishSecret``: AWSCURRENT moves to the pending version (Secrets Manager moves AWSPREVIOUS to the old one).

Until ``finishSecret`` moves the label, AWSCURRENT is the old version and keeps working: a failure at any step
leaves it so. A failure is recorded on the rotation (step, time, error without any value), audited and notified,
and the rotation is resumable (``resume``, the queue's retry, or the schedule picking it up).

**Who drives what.** Password steps need no platform, so the API runs them at once: start → ``createSecret``;
``confirm`` → ``setSecret``, ``testSecret``, ``finishSecret``. Token steps call the platform, so they run in the
rotation function, from the ``rotations`` queue. Offboarding, compromise reports and the schedule put
:class:`~shared.domain.credentials.RotationRequest` messages on that queue; the worker raises the flags and
rotates what is due, tokens first, then opens the password rotation and tells IT the new password is ready.
A request handled twice (redelivered, or re-sent by a repeated offboarding) rotates nothing again: a kind rotated
since its ``requested_at`` is not flagged again. A request that can never succeed (a token that must be reconnected,
a platform without token refresh) is recorded on the credential and reported as refused, without failing the other
requests of its message; only a service that could not be reached fails the message, for the queue to retry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from shared import catalogue, notices
from shared.domain import credentials as domain
from shared.domain.accounts import Account
from shared.domain.content import format_time
from shared.domain.credentials import (
    Credential,
    CredentialKind,
    CredentialValues,
    DueReason,
    PlatformTokens,
    RotationRequest,
    RotationStep,
)
from shared.errors import BadRequest, ConfigurationError, Conflict, NotFound, StewardError, Unavailable
from shared.identity import Identity
from shared.observability import logger
from shared.store import rotation_queue
from shared.store.account_store import AccountStore
from shared.store.platforms import ClientConfig, OAuthClient, PlatformFailure, PlatformRefused, Platforms
from shared.store.secrets import secret_fields
from shared.store.vault import CURRENT, PENDING, StoredCredential, Vault, new_version_id, prefix
from shared.vault_service import CredentialView, commit, district_domains, view

WORKER = "system:credential-rotation"
# A token rotation calls the platform twice: the refresh (createSecret) and the check of the new token (testSecret).
PLATFORM_CALLS_PER_ROTATION = 2
SECRETS_MANAGER = "system:secretsmanager"
OAUTH_CLIENTS = "oauth-clients"
_OAUTH_FIELDS = {
    "facebook": ("meta_app_id", "meta_app_secret"),
    "instagram": ("meta_app_id", "meta_app_secret"),
    "x": ("x_client_id", "x_client_secret"),
    "youtube": ("google_client_id", "google_client_secret"),
}


def _now() -> datetime:
    return datetime.now(UTC)


def _vault() -> Vault:
    return Vault()


# --------------------------------------------------------------------------------------------- records
def _account(account_id: str) -> Account:
    found = AccountStore().get(account_id)
    if found is None:
        raise NotFound(f"no account {account_id}")
    return found.account


def _load(account_id: str) -> tuple[Account, StoredCredential]:
    """The account (read once: the steps take it from here) and its credential record."""
    account = _account(account_id)
    stored = _vault().get(account_id)
    if stored is None:
        raise NotFound(f"account {account_id} has no credential in the vault")
    return account, stored


def _save(actor: str, before: StoredCredential, after: Credential) -> StoredCredential:
    """Commit ``after`` with its audit entry (the event's details and the rotation's state, never a value);
    nothing if the domain changed nothing."""
    if after is before.credential:
        return before
    summary = domain.audit_details(after)
    details = {
        **after.history[-1].details,
        "rotation": summary["rotation"],
        "rotation_due": summary["rotation_due"],
    }
    return commit(actor, after, before, details)


def _notify(event: str, subject: str, credential: Credential, **details: Any) -> None:
    """A notice on ``account-notices`` (best effort) naming the credential and its rotation, never a value."""
    notices.send(
        f"credential.{event}",
        subject,
        credential.account_id,
        login_email=credential.login_email,
        rotation=domain.audit_details(credential)["rotation"],
        **details,
    )


# --------------------------------------------------------------------------------------------- the platform
def _oauth_client(platform: str) -> OAuthClient:
    fields = _OAUTH_FIELDS.get(platform)
    if fields is None:
        raise BadRequest(f"{platform} accounts have no token refresh")
    values = secret_fields(OAUTH_CLIENTS)
    client_id, client_secret = values[fields[0]], values[fields[1]]  # declared fields: never empty
    if catalogue.SECRET_PLACEHOLDER in (client_id, client_secret):
        raise Conflict(f"the district's {platform} OAuth client is not configured (secret {OAUTH_CLIENTS})")
    return OAuthClient(client_id=client_id, client_secret=client_secret)


def _refreshed(account: Account, current: CredentialValues) -> PlatformTokens:
    if current.tokens is None:
        raise BadRequest("this credential has no platform tokens to refresh")
    platform = str(account.platform)
    refresh = current.tokens.refresh_token
    issued = Platforms().refresh_token(
        platform,
        access_token=current.tokens.page_access_token.get_secret_value(),
        refresh_token=None if refresh is None else refresh.get_secret_value(),
        client=_oauth_client(platform),
    )
    return PlatformTokens(
        page_access_token=issued.access_token,  # pydantic makes the SecretStr
        refresh_token=issued.refresh_token,
        expires_at=issued.expires_at,
    )


# --------------------------------------------------------------------------------------------- the steps
def _read_current(credential: Credential) -> CredentialValues:
    version_id, values = _vault().read(
        credential.secret_id, account_id=credential.account_id, district_domains=district_domains()
    )
    if version_id != credential.current_version:
        raise Conflict(
            "the vault's current version is not the one on record; a change is in progress, try again"
        )
    return values


def _read_pending(credential: Credential, version_id: str) -> CredentialValues | None:
    return _vault().read_version(
        credential.secret_id, version_id=version_id, district_domains=district_domains()
    )


def _create(stored: StoredCredential, version_id: str, actor: str, account: Account) -> StoredCredential:
    credential = stored.credential
    rotation = domain.current_rotation(credential, version_id)
    if rotation.phase is not domain.RotationPhase.STARTED:
        return stored  # done already
    pending = _read_pending(credential, version_id)
    if pending is None:
        current = _read_current(credential)
        fresh: PlatformTokens | str = (
            domain.generate_password()
            if rotation.kind is CredentialKind.PASSWORD
            else _refreshed(account, current)
        )
        pending = domain.pending_values(current, rotation.kind, new=fresh)
        _vault().put_pending(credential.secret_id, pending, version_id=version_id)
    after = domain.create_pending(credential, version_id=version_id, pending=pending, actor=actor, at=_now())
    return _save(actor, stored, after)


def _check_token(account: Account, pending: CredentialValues) -> None:
    """The pending token acts as this account: the platform id it answers with is the account's linked one."""
    if pending.tokens is None:
        raise Conflict("the pending version has no tokens")
    acts_as = Platforms().check_token(
        str(account.platform), pending.tokens.page_access_token.get_secret_value()
    )
    if account.platform_id is not None and acts_as != account.platform_id:
        raise Conflict(
            f"the pending token acts as {account.platform} account {acts_as}, not as this account's "
            f"{account.platform_id}: the tokens belong to another account; reconnect the account",
            acts_as=acts_as,
            platform_id=account.platform_id,
        )


def _test(stored: StoredCredential, version_id: str, actor: str, account: Account) -> StoredCredential:
    credential = stored.credential
    rotation = domain.current_rotation(credential, version_id)
    if rotation.phase is domain.RotationPhase.TESTED:
        return stored
    pending = _read_pending(credential, version_id)
    if pending is None:
        raise Conflict(f"the vault holds no pending version {version_id}; run createSecret again")
    if rotation.phase is domain.RotationPhase.SET:
        if rotation.kind is CredentialKind.TOKEN:
            _check_token(account, pending)
        else:
            domain.check_pending_password(_read_current(credential), pending)
    after = domain.complete_step(credential, RotationStep.TEST, version_id=version_id, actor=actor, at=_now())
    return _save(actor, stored, after)


def _finish(stored: StoredCredential, version_id: str, actor: str, _account: Account) -> StoredCredential:
    credential = stored.credential
    if credential.rotation is None and credential.current_version == version_id:
        return stored
    if domain.current_rotation(credential, version_id).phase is domain.RotationPhase.TESTED:
        _vault().promote(
            credential.secret_id, version_id=version_id, current_version=credential.current_version
        )
    return _save(actor, stored, domain.finish(credential, version_id=version_id, actor=actor, at=_now()))


def _set(stored: StoredCredential, version_id: str, actor: str, _account: Account) -> StoredCredential:
    after = domain.complete_step(
        stored.credential, RotationStep.SET, version_id=version_id, actor=actor, at=_now()
    )
    return _save(actor, stored, after)


_STEPS = {
    RotationStep.CREATE: _create,
    RotationStep.SET: _set,
    RotationStep.TEST: _test,
    RotationStep.FINISH: _finish,
}


def run_step(
    stored: StoredCredential, step: RotationStep, version_id: str, actor: str, account: Account
) -> StoredCredential:
    """Run one step and announce it; on failure record it (no value in the message), notify, and raise again."""
    rotation = stored.credential.rotation
    try:
        done = _STEPS[step](stored, version_id, actor, account)
    except (StewardError, PlatformFailure) as exc:
        if isinstance(exc, Conflict) and step is RotationStep.SET:
            raise  # a password waiting for its confirmation is not a failure
        _failed(stored, step, version_id, actor, exc)
        raise
    if done is not stored and rotation is not None:
        _announce(done.credential, step, rotation.kind, version_id)
    return done


def _announce(credential: Credential, step: RotationStep, kind: CredentialKind, version_id: str) -> None:
    account = credential.account_id
    if step is RotationStep.FINISH:
        _notify(
            "rotation_finished",
            f"{kind} of account {account} rotated",
            credential,
            step=str(step),
            credential_kind=str(kind),
            version_id=version_id,
        )
    elif step is RotationStep.CREATE and kind is CredentialKind.PASSWORD:
        _notify(
            "handover_ready",
            f"a new password for account {account} is ready for hand-over",
            credential,
            step=str(step),
        )
    else:
        _notify(
            "rotation_step", f"{step} done for the {kind} of account {account}", credential, step=str(step)
        )


def _failed(
    stored: StoredCredential, step: RotationStep, version_id: str, actor: str, exc: Exception
) -> None:
    message = str(getattr(exc, "message", "") or exc.__class__.__name__)
    try:
        fresh = _vault().get(stored.credential.account_id) or stored
        if fresh.credential.rotation is None or fresh.credential.rotation.version_id != version_id:
            return
        after = domain.record_failure(
            fresh.credential, step, version_id=version_id, message=message, actor=actor, at=_now()
        )
        saved = _save(actor, fresh, after)
        _notify(
            "rotation_step_failed",
            f"rotation step {step} failed",
            saved.credential,
            step=str(step),
            error=message[:300],
        )
    except StewardError:
        logger.exception("the failed rotation step could not be recorded", extra={"step": str(step)})


# --------------------------------------------------------------------------------------------- driving
def _advance_open(stored: StoredCredential, actor: str, account: Account) -> StoredCredential:
    """Run the automatic steps of the open rotation until it finishes or waits for a person."""
    for _ in range(6):
        rotation = stored.credential.rotation
        if rotation is None:
            return stored
        step = rotation.next_step
        if not isinstance(step, RotationStep):
            return stored  # waits for hand-over or confirmation
        if step is RotationStep.SET and rotation.kind is CredentialKind.PASSWORD:
            return stored
        stored = run_step(stored, step, rotation.version_id, actor, account)
    return stored


def _open(stored: StoredCredential, kind: CredentialKind, actor: str, reason: str) -> StoredCredential:
    after = domain.start_rotation(
        stored.credential, kind, version_id=new_version_id(), actor=actor, at=_now(), reason=reason
    )
    saved = _save(actor, stored, after)
    _notify(
        "rotation_started",
        f"{kind} rotation of account {after.account_id} started",
        saved.credential,
        reason=reason,
    )
    return saved


def _reason_of(credential: Credential, kind: CredentialKind) -> str:
    for flag in credential.due:
        if flag.kind is kind:
            return flag.detail
    return f"the {kind} is due"


def advance(
    stored: StoredCredential, actor: str, account: Account, now: datetime | None = None
) -> StoredCredential:
    """Rotate what is due, one kind at a time: drive the open rotation, then open the next due kind (tokens first;
    a password rotation stops at its hand-over, for a person)."""
    for _ in range(3):
        stored = _advance_open(stored, actor, account)
        if stored.credential.rotation is not None:
            return stored
        kinds = domain.kinds_due(stored.credential, now or _now())
        if not kinds:
            return stored
        stored = _open(stored, kinds[0], actor, _reason_of(stored.credential, kinds[0]))
    return stored


def handle_request(request: RotationRequest) -> str:
    """The worker: raise the request's flags, then rotate what is due. Returns what happened (for the log).

    Handling the same request again changes nothing more: a kind rotated since ``requested_at`` is not flagged
    again. A request that cannot succeed is refused (the failed step is recorded on the credential and notified);
    only Unavailable (and a deployment's ConfigurationError) propagates, for the queue to retry the message."""
    stored = _vault().get(request.account_id)
    if stored is None:
        return "no credential"
    found = AccountStore().get(request.account_id)
    if found is None:
        return "no account"
    try:
        if request.reason is not DueReason.REQUESTED:
            after = domain.raise_flags(
                stored.credential,
                request.kinds,
                request.reason,
                request.detail,
                actor=WORKER,
                at=_now(),
                since=request.requested_at,
            )
            stored = _save(WORKER, stored, after)
        # The schedule decided what is due at its own time (never later than now in production).
        stored = advance(stored, WORKER, found.account, max(_now(), request.requested_at))
    except PlatformRefused:
        return "refused by the platform"  # recorded and notified; a person must re-authorise the account
    except (Unavailable, ConfigurationError):
        raise  # the queue retries the message
    except StewardError as exc:
        return f"refused: {exc.message}"  # recorded and notified by the step; retrying cannot help
    rotation = stored.credential.rotation
    return "rotated" if rotation is None else f"waiting for {rotation.next_step}"


def request_budget_seconds() -> float:
    """How long one token rotation can take when the platform times out: a refresh and a check of the new token,
    each tried as often as the settings allow (the timeout and attempts are the same for every platform)."""
    return PLATFORM_CALLS_PER_ROTATION * ClientConfig.for_platform("facebook").longest_call_seconds()


def handle_requests(requests: Sequence[RotationRequest], seconds_left: Callable[[], float]) -> list[str]:
    """Handle one queued message's requests in order while a whole rotation still fits in ``seconds_left()``; the
    rest go back on the queue as a new message (the same requests: handling one again changes nothing more).

    A slow platform can make one rotation last over a minute, so a message of requests may not fit in one
    invocation; the first request always runs (an invocation starts with its whole timeout, which is longer than
    the budget), so every message makes progress without using up its receives and reaching the dead-letter
    queue."""
    outcomes: list[str] = []
    budget = request_budget_seconds()
    for done, request in enumerate(requests):
        if done and seconds_left() < budget:
            rest = requests[done:]
            rotation_queue.send(rest)
            logger.info("rotation requests re-queued: out of time", extra={"requests": len(rest)})
            outcomes.append(f"{len(rest)} re-queued: out of time")
            break
        outcome = handle_request(request)
        logger.info("rotation request handled", extra={"account_id": request.account_id, "outcome": outcome})
        outcomes.append(outcome)
    return outcomes


def sweep(now: datetime | None = None) -> dict[str, int]:
    """The rotation schedule: queue every credential with something due now (tokens about to expire, flags past
    their grace, failed token rotations to resume)."""
    at = now or _now()
    requests = []
    due = 0
    for credential in _vault().due(at):
        due += 1
        kinds = domain.kinds_due(credential, at) or (
            [credential.rotation.kind] if credential.rotation is not None else []
        )
        if not kinds:
            continue
        reasons = domain.due_reasons(credential, at)
        requests.append(
            RotationRequest(
                account_id=credential.account_id,
                kinds=tuple(kinds),
                reason=reasons[0].reason if reasons else DueReason.REQUESTED,
                detail=reasons[0].detail if reasons else "resume the rotation in progress",
                requested_by=WORKER,
                requested_at=at,
            )
        )
    if requests:
        rotation_queue.send(requests)
    return {"due": due, "queued": len(requests)}


# --------------------------------------------------------------------------------------------- Secrets Manager
def secretsmanager_step(event: dict[str, Any]) -> str:
    """The rotation function's contract with Secrets Manager: ``{"Step", "SecretId", "ClientRequestToken"}``."""
    try:
        step = RotationStep(str(event["Step"]))
        secret_id, version_id = str(event["SecretId"]), str(event["ClientRequestToken"])
    except (KeyError, ValueError):
        raise BadRequest(
            "not a Secrets Manager rotation event (Step, SecretId, ClientRequestToken)"
        ) from None
    name, versions = _vault().stages(secret_id)
    # Secrets Manager labels the new version AWSPENDING (without a value) before it calls createSecret; that step
    # writes the value, and may also create the version itself (when driven by hand).
    stages = versions.get(version_id, [] if step is RotationStep.CREATE else None)
    if stages is None:
        raise BadRequest(f"version {version_id} is not a version of the secret")
    if CURRENT in stages:
        return "already current"
    if stages and PENDING not in stages:
        raise BadRequest(f"version {version_id} is not AWSPENDING")
    account_id = name.removeprefix(prefix())
    account, stored = _load(account_id)
    if stored.credential.rotation is None and step is RotationStep.CREATE:
        # Started by Secrets Manager (rotate-secret): only tokens rotate without a person.
        stored = _save(
            SECRETS_MANAGER,
            stored,
            domain.start_rotation(
                stored.credential,
                CredentialKind.TOKEN,
                version_id=version_id,
                actor=SECRETS_MANAGER,
                at=_now(),
                reason="rotation started by Secrets Manager",
            ),
        )
    run_step(stored, step, version_id, SECRETS_MANAGER, account)
    return f"{step} done"


# --------------------------------------------------------------------------------------------- the API side
def start(account_id: str, who: Identity, kind: CredentialKind, reason: str) -> CredentialView:
    """Open a rotation (409 if one is in progress). A password's createSecret runs now (the new password waits for
    its hand-over); a token rotation is handed to the rotation function."""
    account, loaded = _load(account_id)
    stored = _open(loaded, kind, who.actor, reason)
    if kind is CredentialKind.PASSWORD:
        stored = _advance_open(stored, who.actor, account)
    else:
        _queue(stored.credential, (kind,), DueReason.REQUESTED, reason, who.actor)
    return view(stored.credential)


def _queue(
    credential: Credential, kinds: Iterable[CredentialKind], reason: DueReason, detail: str, actor: str
) -> None:
    rotation_queue.send(
        [
            RotationRequest(
                account_id=credential.account_id,
                kinds=tuple(kinds),
                reason=reason,
                detail=detail[:500],
                requested_by=actor,
                requested_at=_now(),
            )
        ]
    )


def hand_over(account_id: str, version_id: str, who: Identity) -> dict[str, Any]:
    """The new password, once, to the IT person who sets it on the platform (audited without the value)."""
    _, stored = _load(account_id)
    credential = stored.credential
    domain.current_rotation(credential, version_id)
    pending = _read_pending(credential, version_id)
    if pending is None:
        raise Conflict("the new password is not ready yet (createSecret has not run); resume the rotation")
    after, given = domain.hand_over(
        credential, pending, version_id=version_id, actor=who.actor, roles=who.roles, at=_now()
    )
    saved = _save(who.actor, stored, after)
    _notify(
        "password_handed_over",
        f"new password of account {account_id} handed over to {who.actor}",
        saved.credential,
        to=who.actor,
        at=format_time(given.at),
    )
    return given.response()


def confirm(account_id: str, version_id: str, who: Identity, note: str) -> CredentialView:
    """The password is set on the platform: setSecret is done; testSecret and finishSecret run now."""
    account, stored = _load(account_id)
    after = domain.confirm_set(
        stored.credential, version_id=version_id, actor=who.actor, roles=who.roles, at=_now(), note=note
    )
    saved = _save(who.actor, stored, after)
    if saved is not stored and after.rotation is not None:
        _announce(saved.credential, RotationStep.SET, after.rotation.kind, version_id)
    return view(_advance_open(saved, who.actor, account).credential)


def cancel(account_id: str, version_id: str, who: Identity, reason: str) -> CredentialView:
    """Drop the pending version; AWSCURRENT never moved, so the current values stay in use."""
    _, stored = _load(account_id)
    secret_id = stored.credential.secret_id
    after = domain.cancel_rotation(
        stored.credential, version_id=version_id, actor=who.actor, roles=who.roles, at=_now(), reason=reason
    )
    saved = _save(who.actor, stored, after)
    try:
        _vault().drop_pending(secret_id, version_id=version_id)
    except StewardError:
        # The record is closed; a stale AWSPENDING label moves to the next rotation's version when it is written.
        logger.exception("the cancelled pending version kept its label", extra={"account_id": account_id})
    _notify(
        "rotation_cancelled",
        f"rotation of account {account_id} cancelled",
        saved.credential,
        version_id=version_id,
        reason=reason,
    )
    return view(saved.credential)


def resume(account_id: str, version_id: str, who: Identity) -> CredentialView:
    """Run a failed rotation's next steps again: a password's here, a token's in the rotation function."""
    account, stored = _load(account_id)
    rotation = domain.current_rotation(stored.credential, version_id)
    if rotation.kind is CredentialKind.TOKEN:
        _queue(stored.credential, (rotation.kind,), DueReason.REQUESTED, "resume", who.actor)
        return view(stored.credential)
    return view(_advance_open(stored, who.actor, account).credential)


def report_compromise(account_id: str, who: Identity, reason: str) -> CredentialView:
    """Every kind is due at once: flagged now (audited), rotated by the rotation function, tokens first."""
    _, stored = _load(account_id)
    after = domain.report_compromise(stored.credential, actor=who.actor, at=_now(), reason=reason)
    saved = _save(who.actor, stored, after)
    _notify(
        "compromise_reported",
        f"credential of account {account_id} reported compromised",
        saved.credential,
        reason=reason,
    )
    _queue(
        saved.credential,
        (CredentialKind.TOKEN, CredentialKind.PASSWORD),
        DueReason.COMPROMISE,
        f"compromise reported by {who.actor}",
        who.actor,
    )
    return view(saved.credential)
