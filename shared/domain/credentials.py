"""Account credentials: their shape, checkout, rotation and the rotation policy (pure domain, no AWS).

One Secrets Manager secret per official account holds its :class:`CredentialValues`: the login email (a district
address), the password, the MFA seed and recovery codes, and the platform tokens. Everything else Steward knows
about the credential is the :class:`Credential` record, which holds **no secret value** and can be listed, logged
and audited freely. Secret values are ``SecretStr`` so that ``repr``, ``str`` and ``model_dump`` mask them; they
leave as plain text only through :meth:`CredentialValues.to_secret_string` (the Secrets Manager payload),
:meth:`Checkout.response` and :meth:`HandOver.response` (the two places the API returns them, once).

Rotation follows Secrets Manager's four steps. Labels: ``AWSCURRENT`` is the version in use, ``AWSPENDING`` the
version being rotated in, ``AWSPREVIOUS`` the one before the current. :attr:`Credential.current_version` stays
the ``AWSCURRENT`` version until ``finishSecret``; a failure at any step leaves it valid and the rotation
resumable (the failed step is simply run again, and every step is idempotent for the same version)::

    token (automatic)                           password (assisted)
    ─────────────────                           ───────────────────
    start ──► started                           start ──► started
    createSecret: refresh through the platform  createSecret: generate a 20+ character password
      → AWSPENDING ──► created                    → AWSPENDING ──► created
                                                hand_over (to ``it``, exactly once) ──► handed_over
    setSecret: the platform issued the token    setSecret: wait for a person's confirmation that the
      (nothing to wait for) ──► set               password was set on the platform ──► set
    testSecret: the pending token works ──► tested     testSecret ──► tested
    finishSecret: AWSCURRENT moves to the pending version, the old one becomes AWSPREVIOUS (rotation closed)

    cancel (a password started | created | handed_over, a token started): AWSPENDING is dropped, AWSCURRENT never
    moved: the current values are restored. After a password's ``set`` the platform already uses the new values,
    and after a token's ``created`` the platform already issued new tokens (X rotates the refresh token then), so
    the rotation can only go forward.

Why the token refresh happens in ``createSecret``: a Secrets Manager version is immutable (putting a different
value under the same ``ClientRequestToken`` fails), so the refreshed token must be known when ``AWSPENDING`` is
written. ``setSecret`` then only records that the platform holds it (the platform issued it).

One rotation at a time per credential (one ``AWSPENDING`` per secret): a second start is a 409 naming who started
the first and when.

Policy (NIST SP 800-63B rev. 4, SP 800-53 AC-2(k)): passwords are never changed on a schedule; they are rotated
when checked out (rotate after use), when compromise is reported and when a person who could reach them leaves.
Tokens are refreshed before they expire (a configurable margin) and on the same events.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import string
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from shared.catalogue import Role
from shared.domain.checks import aware as _utc
from shared.domain.checks import validation_message
from shared.domain.content import format_time
from shared.errors import BadRequest, Conflict, Forbidden

# ── values ────────────────────────────────────────────────────────────────────────────────────────────────────

PASSWORD_MIN_STORED = 15  # NIST SP 800-63B rev. 4: at least 15 characters for a password used alone
PASSWORD_MIN_GENERATED = 20  # what Steward generates (the issue asks for 20+)
PASSWORD_DEFAULT_LENGTH = 24
PASSWORD_MAX = 256  # NIST: allow at least 64
MFA_SEED_MIN_CHARS = 16  # 80 bits of base32, the shortest seed authenticator apps commonly issue
RECOVERY_CODES_MAX = 32
TOKEN_MAX = 4096
REASON_MIN, REASON_MAX = 3, 500

CHECKOUT_ROLES = frozenset({Role.IT, Role.COMMUNICATIONS})
HANDOVER_ROLES = frozenset({Role.IT})

_EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@([a-z0-9-]+(?:\.[a-z0-9-]+)+)$")
_BASE32 = re.compile(r"^[A-Z2-7]+=*$")
_TOKEN = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces


def _reveal(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlatformTokens(_Frozen):
    """What the platform issued: a page access token, a refresh token when it has one, and their expiry."""

    page_access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_at: datetime | None = None  # None: the platform says the token does not expire

    @field_validator("page_access_token", "refresh_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if not 8 <= len(raw) <= TOKEN_MAX or not _TOKEN.match(raw):
            raise ValueError(f"a token must be 8 to {TOKEN_MAX} printable characters without spaces")
        return value

    _check_times = field_validator("expires_at")(_utc)


class CredentialValues(_Frozen):
    """The secret payload of one account (what one Secrets Manager version holds).

    Validate with :func:`parse_values` (or pass ``context={"district_domains": ...}``): the login email must be on
    one of the district's domains. Error messages name the field and the rule, never the value.
    """

    login_email: str
    password: SecretStr | None = None
    mfa_seed: SecretStr | None = None  # base32 (RFC 4648), stored upper case without spaces
    recovery_codes: tuple[SecretStr, ...] = ()
    tokens: PlatformTokens | None = None

    @field_validator("login_email")
    @classmethod
    def _district_email(cls, value: str, info: ValidationInfo) -> str:
        email = value.strip().lower()
        found = _EMAIL.match(email)
        if not found or len(email) > 254:
            raise ValueError("the login email is not an email address")
        domains = (info.context or {}).get("district_domains")
        if domains is None:
            raise ValueError("the district's email domains are not configured")
        allowed = {d.strip().lower().lstrip("@") for d in domains}
        if found.group(1) not in allowed:
            raise ValueError(
                "the login email must be a district address (" + ", ".join(sorted(allowed)) + ")"
            )
        return email

    @field_validator("password")
    @classmethod
    def _password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if not PASSWORD_MIN_STORED <= len(raw) <= PASSWORD_MAX:
            raise ValueError(f"a password must be {PASSWORD_MIN_STORED} to {PASSWORD_MAX} characters long")
        if any(unicodedata.category(ch).startswith("C") for ch in raw):
            raise ValueError("a password must not contain control, format or unassigned characters")
        return value

    @field_validator("mfa_seed")
    @classmethod
    def _mfa_seed(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        seed = "".join(value.get_secret_value().split()).upper()
        if not _BASE32.match(seed) or len(seed.rstrip("=")) < MFA_SEED_MIN_CHARS:
            raise ValueError(f"the MFA seed must be base32 of at least {MFA_SEED_MIN_CHARS} characters")
        try:
            base64.b32decode(seed + "=" * (-len(seed) % 8))
        except (binascii.Error, ValueError):
            raise ValueError("the MFA seed is not valid base32") from None
        return SecretStr(seed)

    @field_validator("recovery_codes")
    @classmethod
    def _recovery_codes(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        codes = tuple(code.get_secret_value().strip() for code in value)
        if len(codes) > RECOVERY_CODES_MAX:
            raise ValueError(f"at most {RECOVERY_CODES_MAX} recovery codes")
        if any(not 6 <= len(code) <= 64 or not _TOKEN.match(code.replace(" ", "-")) for code in codes):
            raise ValueError("a recovery code must be 6 to 64 printable characters")
        if len(set(codes)) != len(codes):
            raise ValueError("recovery codes must be distinct")
        return tuple(SecretStr(code) for code in codes)

    def redacted(self) -> dict[str, Any]:
        """What a listing, an audit entry or a log line may say about these values: which parts exist, never them."""
        return {
            "login_email": self.login_email,
            "password_set": self.password is not None,
            "mfa_configured": self.mfa_seed is not None,
            "recovery_codes": len(self.recovery_codes),
            "tokens": None
            if self.tokens is None
            else {
                "page_access_token_set": True,
                "refresh_token_set": self.tokens.refresh_token is not None,
                "expires_at": None if self.tokens.expires_at is None else format_time(self.tokens.expires_at),
            },
        }

    def revealed(self) -> dict[str, Any]:
        """The plain values (for the Secrets Manager payload and the one-time responses only)."""
        return {
            "login_email": self.login_email,
            "password": _reveal(self.password),
            "mfa_seed": _reveal(self.mfa_seed),
            "recovery_codes": [code.get_secret_value() for code in self.recovery_codes],
            "tokens": None
            if self.tokens is None
            else {
                "page_access_token": self.tokens.page_access_token.get_secret_value(),
                "refresh_token": _reveal(self.tokens.refresh_token),
                "expires_at": None if self.tokens.expires_at is None else format_time(self.tokens.expires_at),
            },
        }

    def to_secret_string(self) -> str:
        """The ``SecretString`` of a Secrets Manager version."""
        return json.dumps(self.revealed(), sort_keys=True, separators=(",", ":"))

    def with_password(self, password: str) -> CredentialValues:
        """These values with a new password (validated)."""
        return _revalidate(self, password=password)

    def with_tokens(self, tokens: PlatformTokens) -> CredentialValues:
        return self.model_copy(update={"tokens": tokens})


def _revalidate(values: CredentialValues, **changes: Any) -> CredentialValues:
    data = {**values.revealed(), **changes}
    domain = values.login_email.rsplit("@", 1)[1]
    return parse_values(data, district_domains=[domain])


def _validation_message(error: ValidationError) -> str:
    """Field and rule of each error; never ``input`` (it would carry the secret)."""
    return validation_message(error, "credential")


def parse_values(data: Mapping[str, Any], *, district_domains: Collection[str]) -> CredentialValues:
    """Validated values, or BadRequest with a message that names fields and rules but no value."""
    if not district_domains:
        raise BadRequest("the district's email domains are not configured")
    try:
        return CredentialValues.model_validate(
            dict(data), context={"district_domains": tuple(district_domains)}
        )
    except ValidationError as error:
        raise BadRequest(f"invalid credential: {_validation_message(error)}") from None


def from_secret_string(text: str, *, district_domains: Collection[str]) -> CredentialValues:
    """Values from a Secrets Manager ``SecretString``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise BadRequest("invalid credential: the secret is not JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("invalid credential: the secret is not a JSON object")
    return parse_values(data, district_domains=district_domains)


def secret_strings(values: CredentialValues) -> list[str]:
    """Every secret string in ``values`` (what a log-capture test searches for). The login email is not one."""
    found = [_reveal(values.password), _reveal(values.mfa_seed)]
    found += [code.get_secret_value() for code in values.recovery_codes]
    if values.tokens is not None:
        found += [values.tokens.page_access_token.get_secret_value(), _reveal(values.tokens.refresh_token)]
    return [value for value in found if value]


# ── password generation ───────────────────────────────────────────────────────────────────────────────────────

# No look-alikes (0 O o, 1 l I, 5 S, 2 Z, 8 B) and no symbols that break shells, URLs, CSV or quoting.
AMBIGUOUS = frozenset("0Oo1lI5S2Z8B|`'\"\\ ")
UPPER = "".join(c for c in string.ascii_uppercase if c not in AMBIGUOUS)
LOWER = "".join(c for c in string.ascii_lowercase if c not in AMBIGUOUS)
DIGITS = "".join(c for c in string.digits if c not in AMBIGUOUS)
SYMBOLS = "!#$%*+-=?@^_~"
CLASSES = (UPPER, LOWER, DIGITS, SYMBOLS)
ALPHABET = "".join(CLASSES)


def generate_password(length: int = PASSWORD_DEFAULT_LENGTH) -> str:
    """A password from the operating system's CSPRNG with at least one upper, lower, digit and symbol."""
    if not PASSWORD_MIN_GENERATED <= length <= 128:
        raise BadRequest(f"a generated password has {PASSWORD_MIN_GENERATED} to 128 characters")
    chars = [secrets.choice(group) for group in CLASSES]
    chars += [secrets.choice(ALPHABET) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


# ── the credential record and its rotation ────────────────────────────────────────────────────────────────────


class CredentialKind(StrEnum):
    TOKEN = "token"  # noqa: S105 (a kind, not a secret) — automatic: refreshed through the platform
    PASSWORD = "password"  # noqa: S105 (a kind, not a secret) — assisted: a person sets it on the platform


class RotationStep(StrEnum):
    """Secrets Manager's rotation steps (the ``Step`` of the rotation function's event)."""

    CREATE = "createSecret"
    SET = "setSecret"
    TEST = "testSecret"
    FINISH = "finishSecret"


class RotationPhase(StrEnum):
    STARTED = "started"  # the rotation is open; AWSPENDING not written yet
    CREATED = "created"  # createSecret done: AWSPENDING holds the new values
    HANDED_OVER = "handed_over"  # password: the new password was shown once to ``it``
    SET = "set"  # setSecret done: the platform uses the new values
    TESTED = "tested"  # testSecret done


# The phase each step needs, and the phase it leaves.
_ORDER = (
    RotationPhase.STARTED,
    RotationPhase.CREATED,
    RotationPhase.HANDED_OVER,
    RotationPhase.SET,
    RotationPhase.TESTED,
)
STEP_DONE: Mapping[RotationStep, RotationPhase] = {
    RotationStep.CREATE: RotationPhase.CREATED,
    RotationStep.SET: RotationPhase.SET,
    RotationStep.TEST: RotationPhase.TESTED,
}
# What can still be cancelled, by kind. A password's new value is only used once a person sets it on the platform
# (setSecret). A token's createSecret already had the platform issue new tokens (X rotates the refresh token
# then, invalidating the current one), so after it the token rotation can only go forward.
CANCELLABLE: Mapping[CredentialKind, frozenset[RotationPhase]] = {
    CredentialKind.PASSWORD: frozenset(
        {RotationPhase.STARTED, RotationPhase.CREATED, RotationPhase.HANDED_OVER}
    ),
    CredentialKind.TOKEN: frozenset({RotationPhase.STARTED}),
}


def _rank(phase: RotationPhase) -> int:
    return _ORDER.index(phase)


class DueReason(StrEnum):
    CHECKOUT = "checkout"
    COMPROMISE = "compromise"
    OFFBOARDING = "offboarding"
    TOKEN_EXPIRING = "token_expiring"  # noqa: S105 (a reason, not a secret)
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 (a reason, not a secret)
    RETIREMENT = "retirement"  # the account was retired: its logins change so no former steward keeps them
    REQUESTED = "requested"  # a person started the rotation through the API (no flag is raised for it)


class DueFlag(_Frozen):
    """Why a kind of credential must be rotated, raised by an event (checkout, compromise, offboarding)."""

    kind: CredentialKind
    reason: DueReason
    detail: str  # e.g. "checked out by it@district.org"
    flagged_by: str = Field(min_length=1)
    flagged_at: datetime

    _check_times = field_validator("flagged_at")(_utc)


class Due(_Frozen):
    """One answer of the policy: this kind is due, for this reason."""

    kind: CredentialKind
    reason: DueReason
    detail: str


class RotationFailure(_Frozen):
    step: RotationStep
    at: datetime
    message: str = Field(max_length=500)  # an error code or message with no secret value in it

    _check_times = field_validator("at")(_utc)


class CredentialEvent(_Frozen):
    """One change to a credential: who, when, why (the audit trail's source; no secret value)."""

    action: str
    actor: str = Field(min_length=1)
    at: datetime
    reason: str = ""
    details: dict[str, str] = Field(default_factory=dict)

    _check_times = field_validator("at")(_utc)


class Rotation(_Frozen):
    kind: CredentialKind
    version_id: str = Field(min_length=1)  # the AWSPENDING version (Secrets Manager's ClientRequestToken)
    phase: RotationPhase = RotationPhase.STARTED
    started_by: str = Field(min_length=1)
    started_at: datetime
    reason: str
    pending_token_expires_at: datetime | None = None
    handed_over_to: str | None = None
    handed_over_at: datetime | None = None
    set_confirmed_by: str | None = None
    set_confirmed_at: datetime | None = None
    attempts: int = 0  # failures so far
    last_failure: RotationFailure | None = None

    _check_times = field_validator(
        "started_at", "handed_over_at", "set_confirmed_at", "pending_token_expires_at"
    )(_utc)

    @property
    def next_step(self) -> RotationStep | str:
        """What the rotation waits for: a Secrets Manager step, or ``hand_over`` / ``confirm_set`` (a person)."""
        if self.phase is RotationPhase.STARTED:
            return RotationStep.CREATE
        if self.phase is RotationPhase.CREATED:
            return "hand_over" if self.kind is CredentialKind.PASSWORD else RotationStep.SET
        if self.phase is RotationPhase.HANDED_OVER:
            return "confirm_set"
        if self.phase is RotationPhase.SET:
            return RotationStep.TEST
        return RotationStep.FINISH


class Credential(_Frozen):
    """What Steward keeps about an account's credential besides the secret: no secret value at all."""

    account_id: str = Field(min_length=1)
    secret_id: str = Field(min_length=1)  # the Secrets Manager secret's name or ARN
    login_email: str
    current_version: str = Field(min_length=1)  # AWSCURRENT
    previous_version: str | None = None  # AWSPREVIOUS
    has_password: bool = False
    has_mfa: bool = False
    has_tokens: bool = False
    token_expires_at: datetime | None = None
    password_changed_at: datetime | None = None
    tokens_refreshed_at: datetime | None = None
    rotation: Rotation | None = None
    due: tuple[DueFlag, ...] = ()
    checkouts: int = 0
    created_at: datetime
    updated_at: datetime
    history: tuple[CredentialEvent, ...] = ()

    _check_times = field_validator(
        "token_expires_at", "password_changed_at", "tokens_refreshed_at", "created_at", "updated_at"
    )(_utc)

    @property
    def rotation_due(self) -> bool:
        return bool(self.due)

    def _event(
        self,
        action: str,
        *,
        actor: str,
        at: datetime,
        reason: str = "",
        details: Mapping[str, str] | None = None,
        **changes: Any,
    ) -> Credential:
        event = CredentialEvent(action=action, actor=actor, at=at, reason=reason, details=dict(details or {}))
        return self.model_copy(update={"updated_at": at, "history": (*self.history, event), **changes})


def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise BadRequest(f"{what} needs a reason of {REASON_MIN} to {REASON_MAX} characters")
    return text


def _roles(roles: Iterable[str]) -> frozenset[str]:
    return frozenset(str(r) for r in roles)


def new_credential(
    *, account_id: str, secret_id: str, values: CredentialValues, version_id: str, actor: str, at: datetime
) -> Credential:
    """The record of a credential first stored (its values are AWSCURRENT under ``version_id``)."""
    tokens = values.tokens
    credential = Credential(
        account_id=account_id,
        secret_id=secret_id,
        login_email=values.login_email,
        current_version=version_id,
        has_password=values.password is not None,
        has_mfa=values.mfa_seed is not None,
        has_tokens=tokens is not None,
        token_expires_at=None if tokens is None else tokens.expires_at,
        password_changed_at=at if values.password is not None else None,
        tokens_refreshed_at=at if tokens is not None else None,
        created_at=at,
        updated_at=at,
    )
    return credential._event("stored", actor=actor, at=at, details={"version_id": version_id})


def _in_progress(rotation: Rotation) -> Conflict:
    return Conflict(
        f"a rotation is already in progress since {format_time(rotation.started_at)} by {rotation.started_by}",
        kind=str(rotation.kind),
        phase=str(rotation.phase),
        version_id=rotation.version_id,
    )


def start_rotation(
    credential: Credential,
    kind: CredentialKind,
    *,
    version_id: str,
    actor: str,
    at: datetime,
    reason: str,
) -> Credential:
    """Open a rotation of ``kind`` (the pending version will be ``version_id``). One at a time: else Conflict.

    Starting again with the same kind and version id is a retry and changes nothing.
    """
    current = credential.rotation
    if current is not None:
        if current.kind is kind and current.version_id == version_id:
            return credential
        raise _in_progress(current)
    if kind is CredentialKind.TOKEN and not credential.has_tokens:
        raise BadRequest("this credential has no platform tokens to refresh")
    if version_id in (credential.current_version, credential.previous_version):
        raise BadRequest("the pending version must be a new version id")
    text = _reason(reason, "a rotation")
    rotation = Rotation(kind=kind, version_id=version_id, started_by=actor, started_at=at, reason=text)
    return credential._event(
        "rotation_started",
        actor=actor,
        at=at,
        reason=text,
        details={"kind": str(kind), "version_id": version_id},
        rotation=rotation,
    )


def current_rotation(credential: Credential, version_id: str) -> Rotation:
    """The rotation in progress for ``version_id``, or Conflict (none, or one for another version)."""
    rotation = credential.rotation
    if rotation is None:
        raise Conflict("no rotation is in progress for this credential")
    if rotation.version_id != version_id:
        raise Conflict(
            f"the rotation in progress is for version {rotation.version_id}, not {version_id}",
            version_id=rotation.version_id,
        )
    return rotation


def _refuse_order(rotation: Rotation, wanted: str) -> Conflict:
    return Conflict(
        f"cannot {wanted} now: the {rotation.kind} rotation is {rotation.phase} and waits for {rotation.next_step}",
        phase=str(rotation.phase),
        next_step=str(rotation.next_step),
    )


def pending_values(
    current: CredentialValues, kind: CredentialKind, *, new: PlatformTokens | str
) -> CredentialValues:
    """The AWSPENDING values: the current ones with a new password or refreshed tokens (everything else kept)."""
    if kind is CredentialKind.PASSWORD:
        if not isinstance(new, str):
            raise BadRequest("a password rotation needs a new password")
        if len(new) < PASSWORD_MIN_GENERATED:
            raise BadRequest(f"a rotated password has at least {PASSWORD_MIN_GENERATED} characters")
        if current.password is not None and current.password.get_secret_value() == new:
            raise BadRequest("the new password must differ from the current one")
        return current.with_password(new)
    if not isinstance(new, PlatformTokens):
        raise BadRequest("a token rotation needs the refreshed tokens")
    return current.with_tokens(new)


def create_pending(
    credential: Credential, *, version_id: str, pending: CredentialValues, actor: str, at: datetime
) -> Credential:
    """createSecret is done: ``pending`` was written as AWSPENDING under ``version_id``. Idempotent."""
    rotation = current_rotation(credential, version_id)
    if _rank(rotation.phase) >= _rank(RotationPhase.CREATED):
        return credential  # a retry of a step already done
    if pending.login_email != credential.login_email:
        raise BadRequest("a rotation cannot change the login email")
    if rotation.kind is CredentialKind.PASSWORD and pending.password is None:
        raise BadRequest("a password rotation needs a pending password")
    if rotation.kind is CredentialKind.TOKEN and pending.tokens is None:
        raise BadRequest("a token rotation needs pending tokens")
    expires = pending.tokens.expires_at if pending.tokens is not None else None
    updated = rotation.model_copy(
        update={"phase": RotationPhase.CREATED, "pending_token_expires_at": expires, "last_failure": None}
    )
    return credential._event(
        "rotation_step",
        actor=actor,
        at=at,
        details={"step": str(RotationStep.CREATE), "version_id": version_id, "label": "AWSPENDING"},
        rotation=updated,
    )


class HandOver(BaseModel):
    """The pending password, for the one ``it`` person who sets it on the platform. Not part of any stored state."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    version_id: str
    login_email: str
    password: SecretStr
    to: str
    at: datetime

    def response(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "version_id": self.version_id,
            "login_email": self.login_email,
            "password": self.password.get_secret_value(),
            "handed_over_at": format_time(self.at),
        }


def hand_over(
    credential: Credential,
    pending: CredentialValues,
    *,
    version_id: str,
    actor: str,
    roles: Iterable[str],
    at: datetime,
) -> tuple[Credential, HandOver]:
    """Give the pending password to ``it``, exactly once (a second hand-over is a Conflict)."""
    if not _roles(roles) & HANDOVER_ROLES:
        raise Forbidden("only it may receive a new password")
    rotation = current_rotation(credential, version_id)
    if rotation.kind is not CredentialKind.PASSWORD:
        raise Conflict("only a password rotation hands a value over")
    if rotation.handed_over_at is not None:
        raise Conflict(
            f"the new password was already handed over to {rotation.handed_over_to} at "
            f"{format_time(rotation.handed_over_at)}; cancel the rotation to start again"
        )
    if rotation.phase is not RotationPhase.CREATED:
        raise _refuse_order(rotation, "hand the password over")
    if pending.password is None:
        raise BadRequest("the pending version has no password")
    updated = rotation.model_copy(
        update={"phase": RotationPhase.HANDED_OVER, "handed_over_to": actor, "handed_over_at": at}
    )
    changed = credential._event(
        "password_handed_over", actor=actor, at=at, details={"version_id": version_id}, rotation=updated
    )
    given = HandOver(
        account_id=credential.account_id,
        version_id=version_id,
        login_email=credential.login_email,
        password=pending.password,
        to=actor,
        at=at,
    )
    return changed, given


def confirm_set(
    credential: Credential,
    *,
    version_id: str,
    actor: str,
    roles: Iterable[str],
    at: datetime,
    note: str = "",
) -> Credential:
    """A person confirms the handed-over password is now set on the platform: setSecret of a password is done."""
    if not _roles(roles) & HANDOVER_ROLES:
        raise Forbidden("only it may confirm a password was set on the platform")
    rotation = current_rotation(credential, version_id)
    if rotation.kind is not CredentialKind.PASSWORD:
        raise Conflict("only a password rotation waits for a confirmation")
    if _rank(rotation.phase) >= _rank(RotationPhase.SET):
        return credential
    if rotation.phase is not RotationPhase.HANDED_OVER:
        raise _refuse_order(rotation, "confirm the password was set")
    updated = rotation.model_copy(
        update={
            "phase": RotationPhase.SET,
            "set_confirmed_by": actor,
            "set_confirmed_at": at,
            "last_failure": None,
        }
    )
    return credential._event(
        "rotation_step",
        actor=actor,
        at=at,
        reason=note.strip(),
        details={"step": str(RotationStep.SET), "version_id": version_id, "confirmed": "set on the platform"},
        rotation=updated,
    )


def complete_step(
    credential: Credential, step: RotationStep, *, version_id: str, actor: str, at: datetime
) -> Credential:
    """The rotation function finished ``step`` (setSecret, testSecret or finishSecret). Idempotent: a step already
    done changes nothing; a step out of order is a Conflict (and leaves AWSCURRENT as it is).

    A password's setSecret completes only through :func:`confirm_set`; before that it is a Conflict saying the
    rotation awaits the confirmation (the rotation function fails the step, and it is retried later).
    """
    if step is RotationStep.CREATE:
        raise BadRequest("createSecret completes through create_pending (it needs the pending values)")
    if step is RotationStep.FINISH:
        return finish(credential, version_id=version_id, actor=actor, at=at)
    rotation = current_rotation(credential, version_id)
    done = STEP_DONE[step]
    if _rank(rotation.phase) >= _rank(done):
        return credential
    if step is RotationStep.SET:
        if rotation.kind is CredentialKind.PASSWORD:
            raise _refuse_order(rotation, "finish setSecret")
        ready = rotation.phase is RotationPhase.CREATED
    else:
        ready = rotation.phase is RotationPhase.SET
    if not ready:
        raise _refuse_order(rotation, f"run {step}")
    updated = rotation.model_copy(update={"phase": done, "last_failure": None})
    return credential._event(
        "rotation_step",
        actor=actor,
        at=at,
        details={"step": str(step), "version_id": version_id},
        rotation=updated,
    )


def finish(credential: Credential, *, version_id: str, actor: str, at: datetime) -> Credential:
    """finishSecret: AWSCURRENT moves to the pending version, the old current becomes AWSPREVIOUS, the rotation
    closes and the due flags of its kind are cleared. A retry after the move changes nothing."""
    if credential.rotation is None and credential.current_version == version_id:
        return credential  # already finished
    rotation = current_rotation(credential, version_id)
    if rotation.phase is not RotationPhase.TESTED:
        raise _refuse_order(rotation, "run finishSecret")
    changes: dict[str, Any] = {
        "current_version": version_id,
        "previous_version": credential.current_version,
        "rotation": None,
        "due": tuple(flag for flag in credential.due if flag.kind is not rotation.kind),
    }
    if rotation.kind is CredentialKind.PASSWORD:
        changes["password_changed_at"] = at
        changes["has_password"] = True
    else:
        changes["tokens_refreshed_at"] = at
        changes["token_expires_at"] = rotation.pending_token_expires_at
    return credential._event(
        "rotation_finished",
        actor=actor,
        at=at,
        reason=rotation.reason,
        details={
            "step": str(RotationStep.FINISH),
            "kind": str(rotation.kind),
            "version_id": version_id,
            "previous_version": credential.current_version,
        },
        **changes,
    )


def record_failure(
    credential: Credential, step: RotationStep, *, version_id: str, message: str, actor: str, at: datetime
) -> Credential:
    """A step failed (Secrets Manager, the platform): the phase stays, AWSCURRENT stays, the step can be rerun."""
    rotation = current_rotation(credential, version_id)
    failure = RotationFailure(step=step, at=at, message=message.strip()[:500])
    updated = rotation.model_copy(update={"attempts": rotation.attempts + 1, "last_failure": failure})
    return credential._event(
        "rotation_step_failed",
        actor=actor,
        at=at,
        details={"step": str(step), "version_id": version_id, "error": failure.message},
        rotation=updated,
    )


def cancel_rotation(
    credential: Credential, *, version_id: str, actor: str, roles: Iterable[str], at: datetime, reason: str
) -> Credential:
    """Drop the pending version: AWSCURRENT never moved, so the current values are what remains.

    Refused once the platform uses the new values (a password after setSecret) or issued them (a token after
    createSecret: the platform may have invalidated the current ones): then the rotation can only go forward.
    """
    if not _roles(roles) & CHECKOUT_ROLES:
        raise Forbidden("only it or communications may cancel a rotation")
    text = _reason(reason, "cancelling a rotation")
    rotation = current_rotation(credential, version_id)
    if rotation.phase not in CANCELLABLE[rotation.kind]:
        if rotation.kind is CredentialKind.TOKEN:
            raise Conflict(
                f"the platform already issued the new token (the rotation is {rotation.phase}) and may have "
                "invalidated the current one; finish or resume the rotation instead of cancelling it",
                phase=str(rotation.phase),
            )
        raise Conflict(
            f"the platform already uses the new {rotation.kind} (the rotation is {rotation.phase}); "
            "finish the rotation instead of cancelling it"
        )
    return credential._event(
        "rotation_cancelled",
        actor=actor,
        at=at,
        reason=text,
        details={
            "kind": str(rotation.kind),
            "version_id": version_id,
            "restored": credential.current_version,
        },
        rotation=None,
    )


# ── checkout ──────────────────────────────────────────────────────────────────────────────────────────────────


class Checkout(BaseModel):
    """The values returned by one checkout: a separate object, never stored, masked in ``repr`` and dumps."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    version_id: str
    by: str
    at: datetime
    reason: str
    values: CredentialValues

    def response(self) -> dict[str, Any]:
        """The API response body: the only place a checkout's values are in plain text."""
        return {
            "account_id": self.account_id,
            "version_id": self.version_id,
            "checked_out_at": format_time(self.at),
            "values": self.values.revealed(),
        }

    def audit_details(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "version_id": self.version_id,
            "by": self.by,
            "reason": self.reason,
            "values": self.values.redacted(),
        }


def _flag(
    credential: Credential,
    kinds: Iterable[CredentialKind],
    reason: DueReason,
    detail: str,
    actor: str,
    at: datetime,
) -> tuple[DueFlag, ...]:
    """The credential's flags with ``(kind, reason, detail)`` added once (raising the same flag again is a no-op)."""
    flags = list(credential.due)
    for kind in kinds:
        if not any(f.kind is kind and f.reason is reason and f.detail == detail for f in flags):
            flags.append(DueFlag(kind=kind, reason=reason, detail=detail, flagged_by=actor, flagged_at=at))
    return tuple(flags)


def _kinds(credential: Credential) -> list[CredentialKind]:
    kinds = [CredentialKind.PASSWORD] if credential.has_password else []
    return [*kinds, CredentialKind.TOKEN] if credential.has_tokens else kinds


def kinds_of(credential: Credential) -> tuple[CredentialKind, ...]:
    """The kinds the credential holds, in the order a rotation request rotates them: tokens first (automatic,
    quick), then the password (waits for a person)."""
    return tuple(k for k in (CredentialKind.TOKEN, CredentialKind.PASSWORD) if k in _kinds(credential))


def checkout(
    credential: Credential,
    values: CredentialValues,
    *,
    actor: str,
    roles: Iterable[str],
    reason: str,
    at: datetime,
) -> tuple[Credential, Checkout]:
    """Return the AWSCURRENT values once, to ``it`` or ``communications`` with a reason, and flag the credential
    for rotation after use (NIST SP 800-63B)."""
    if not _roles(roles) & CHECKOUT_ROLES:
        raise Forbidden("only it or communications may check out a credential")
    text = _reason(reason, "a checkout")
    if values.login_email != credential.login_email:
        raise Conflict("the stored values do not belong to this credential")
    detail = f"checked out by {actor} at {format_time(at)}"
    changed = credential._event(
        "checked_out",
        actor=actor,
        at=at,
        reason=text,
        details={"version_id": credential.current_version},
        checkouts=credential.checkouts + 1,
        due=_flag(credential, _kinds(credential), DueReason.CHECKOUT, detail, actor, at),
    )
    given = Checkout(
        account_id=credential.account_id,
        version_id=credential.current_version,
        by=actor,
        at=at,
        reason=text,
        values=values,
    )
    return changed, given


def report_compromise(credential: Credential, *, actor: str, at: datetime, reason: str) -> Credential:
    """Someone reports the credential may be known to others: every kind is due at once."""
    text = _reason(reason, "a compromise report")
    return credential._event(
        "compromise_reported",
        actor=actor,
        at=at,
        reason=text,
        due=_flag(
            credential, _kinds(credential), DueReason.COMPROMISE, f"compromise reported by {actor}", actor, at
        ),
    )


def flag_offboarding(credential: Credential, *, staff: str, actor: str, at: datetime) -> Credential:
    """A person who could reach the credential left (AC-2(k)): every kind is due. Idempotent per person."""
    detail = f"offboarding of {staff}"
    flags = _flag(credential, _kinds(credential), DueReason.OFFBOARDING, detail, actor, at)
    if flags == credential.due:
        return credential
    return credential._event("offboarding_flagged", actor=actor, at=at, reason=detail, due=flags)


# ── policy ────────────────────────────────────────────────────────────────────────────────────────────────────


class RotationPolicy(_Frozen):
    """Per kind, when rotation is due. Passwords have no maximum age on purpose (NIST SP 800-63B rev. 4)."""

    token_refresh_margin: timedelta = Field(default=timedelta(days=7), gt=timedelta(0))
    # Rotate after use (NIST SP 800-63B), but not under the feet of the person who checked it out to use it.
    checkout_grace: timedelta = Field(default=timedelta(hours=8), ge=timedelta(0))


def flag_due_at(flag: DueFlag, policy: RotationPolicy | None = None) -> datetime:
    """When a flag's rotation is due: a checkout after its grace period, a compromise or offboarding at once."""
    if flag.reason is DueReason.CHECKOUT:
        return flag.flagged_at + (policy or RotationPolicy()).checkout_grace
    return flag.flagged_at


def next_due_at(credential: Credential, policy: RotationPolicy | None = None) -> datetime | None:
    """The earliest time something about the credential is due (a flag, or the token's refresh time): what the
    rotation schedule looks up. None: nothing will ever be due until an event raises a flag."""
    times = [flag_due_at(flag, policy) for flag in credential.due]
    refresh = next_token_refresh(credential, policy)
    if refresh is not None:
        times.append(refresh)
    return min(times) if times else None


def kinds_due(
    credential: Credential, now: datetime, policy: RotationPolicy | None = None
) -> list[CredentialKind]:
    """The kinds to rotate now, tokens first (automatic, quick), then the password (waits for a person)."""
    rules = policy or RotationPolicy()
    ready = {f.kind for f in credential.due if flag_due_at(f, rules) <= now}
    expiry = (DueReason.TOKEN_EXPIRING, DueReason.TOKEN_EXPIRED)
    ready |= {d.kind for d in due_reasons(credential, now, rules) if d.reason in expiry}
    return [
        k for k in (CredentialKind.TOKEN, CredentialKind.PASSWORD) if k in ready and k in _kinds(credential)
    ]


def rotated_at(credential: Credential, kind: CredentialKind) -> datetime | None:
    """When ``kind`` last changed (rotated, or stored anew); None when the credential never had it."""
    return (
        credential.password_changed_at if kind is CredentialKind.PASSWORD else credential.tokens_refreshed_at
    )


def raise_flags(
    credential: Credential,
    kinds: Iterable[CredentialKind],
    reason: DueReason,
    detail: str,
    *,
    actor: str,
    at: datetime,
    since: datetime | None = None,
) -> Credential:
    """Flag the kinds the credential has as due for ``reason`` (raising the same flag twice changes nothing).

    With ``since`` (when the flags were asked for, e.g. a queued request's ``requested_at``), the flags date from
    then, and a kind already rotated at or after it is not flagged again: a redelivered or re-sent request changes
    nothing more. ``at`` is when the change is recorded."""
    have = [k for k in kinds if k in _kinds(credential)]
    if since is not None:
        have = [k for k in have if (done := rotated_at(credential, k)) is None or done < since]
    flags = _flag(credential, have, reason, detail, actor, at if since is None else since)
    if flags == credential.due:
        return credential
    return credential._event("rotation_flagged", actor=actor, at=at, reason=detail, due=flags)


def check_pending_password(current: CredentialValues, pending: CredentialValues) -> None:
    """testSecret of a password: the pending version holds a new, policy-conforming password for the same login.
    (No platform offers a password check, so the person's confirmation is the test that it works.)"""
    if pending.login_email != current.login_email:
        raise Conflict("the pending version is for another login")
    if pending.password is None or len(pending.password.get_secret_value()) < PASSWORD_MIN_GENERATED:
        raise Conflict(f"the pending version has no password of {PASSWORD_MIN_GENERATED}+ characters")
    if (
        current.password is not None
        and current.password.get_secret_value() == pending.password.get_secret_value()
    ):
        raise Conflict("the pending password is the current one")


def due_reasons(credential: Credential, now: datetime, policy: RotationPolicy | None = None) -> list[Due]:
    """Every reason the credential must be rotated now, by kind (empty: nothing is due)."""
    rules = policy or RotationPolicy()
    found = [Due(kind=flag.kind, reason=flag.reason, detail=flag.detail) for flag in credential.due]
    expires = credential.token_expires_at
    if credential.has_tokens and expires is not None:
        if now >= expires:
            found.append(
                Due(
                    kind=CredentialKind.TOKEN,
                    reason=DueReason.TOKEN_EXPIRED,
                    detail=f"expired {format_time(expires)}",
                )
            )
        elif now >= expires - rules.token_refresh_margin:
            found.append(
                Due(
                    kind=CredentialKind.TOKEN,
                    reason=DueReason.TOKEN_EXPIRING,
                    detail=f"expires {format_time(expires)}, within {rules.token_refresh_margin}",
                )
            )
    return found


def is_due(
    credential: Credential, kind: CredentialKind, now: datetime, policy: RotationPolicy | None = None
) -> bool:
    return any(d.kind is kind for d in due_reasons(credential, now, policy))


def next_token_refresh(credential: Credential, policy: RotationPolicy | None = None) -> datetime | None:
    """When the token must be refreshed at the latest (for a schedule); None when it does not expire."""
    if not credential.has_tokens or credential.token_expires_at is None:
        return None
    return credential.token_expires_at - (policy or RotationPolicy()).token_refresh_margin


# ── audit ─────────────────────────────────────────────────────────────────────────────────────────────────────


def audit_details(credential: Credential) -> dict[str, Any]:
    """What an audit entry or a listing names about a credential (no secret value; it holds none)."""
    rotation = credential.rotation
    return {
        "account_id": credential.account_id,
        "secret_id": credential.secret_id,
        "login_email": credential.login_email,
        "current_version": credential.current_version,
        "previous_version": credential.previous_version,
        "has_password": credential.has_password,
        "has_mfa": credential.has_mfa,
        "has_tokens": credential.has_tokens,
        "token_expires_at": None
        if credential.token_expires_at is None
        else format_time(credential.token_expires_at),
        "rotation_due": [
            {"kind": str(f.kind), "reason": str(f.reason), "detail": f.detail} for f in credential.due
        ],
        "rotation": None
        if rotation is None
        else {
            "kind": str(rotation.kind),
            "version_id": rotation.version_id,
            "phase": str(rotation.phase),
            "next_step": str(rotation.next_step),
            "started_by": rotation.started_by,
            "started_at": format_time(rotation.started_at),
            "handed_over_to": rotation.handed_over_to,
            "attempts": rotation.attempts,
            "last_failure": None
            if rotation.last_failure is None
            else rotation.last_failure.model_dump(mode="json"),
        },
        "checkouts": credential.checkouts,
    }


# ── queued requests ───────────────────────────────────────────────────────────────────────────────────────────


class RotationRequest(_Frozen):
    """A request on the ``rotations`` queue: flag the account's credential for ``reason`` and rotate ``kinds``, one
    at a time, in that order (offboarding, a compromise report, the rotation schedule, a token rotation started
    through the API). Processing it twice changes nothing more: flags are raised once, and a kind already rotated
    since ``requested_at`` is not rotated again."""

    account_id: str = Field(min_length=1, max_length=64)
    kinds: tuple[CredentialKind, ...] = Field(min_length=1)
    reason: DueReason
    detail: str = Field(min_length=1, max_length=500)
    requested_by: str = Field(min_length=1, max_length=254)
    requested_at: datetime

    _check_times = field_validator("requested_at")(_utc)

    def body(self) -> str:
        return self.model_dump_json()


_REQUESTS = TypeAdapter(list[RotationRequest])


def parse_requests(body: str) -> list[RotationRequest]:
    """The requests of one queued message (a JSON array of them, or one alone), or BadRequest saying what is wrong
    (such a message can never succeed: dead-letter it)."""
    text = body.strip()
    try:
        if text.startswith("["):
            found = _REQUESTS.validate_json(text)
            if not found:
                raise BadRequest("not a rotation request: an empty list")
            return found
        return [RotationRequest.model_validate_json(text)]
    except ValidationError as error:
        raise BadRequest(f"not a rotation request: {_validation_message(error)}") from None
