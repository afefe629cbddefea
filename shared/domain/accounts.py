"""The official-account registry (pure domain): requests, approvals, lifecycle, stewards, disclosures, offboarding.

No AWS and no I/O beyond reading the packaged ``disclosures.toml`` (the district's text for what every official
account displays). Every operation returns a new :class:`Account` with one more :class:`AccountChange` in its
history (who, with which roles, when, why); a refused operation raises a :mod:`shared.errors` domain error and
changes nothing.

Where the rules come from (the board policies kept in :mod:`shared.domain.policies`, cited by their ids):

* Approval. AR 1114 (policy 001): "Teachers and coaches shall obtain approval from the principal
  before creating an official classroom or team social media platform." Procedure 4007 (policy 004):
  "District employees wishing to create a social media or online communication sites ... will request permission
  with building principal approval to the Communication Director. The Communications Director will determine final
  approval." So classroom and team accounts need a ``principals`` approval, then the ``communications`` one; every
  other official account needs only ``communications``. The two approvals must come from different people.
* Disclosures. AR 1114 (001): "Each official district social media platform shall prominently display:" eight
  items; 4007 (004): "Approved social media or online communication site accounts will post the following
  notice: This is an official publication of ...". An account cannot become active until all nine are confirmed.
* Unofficial pages. AR 1114 (001): "Sites that have not been authorized by the Superintendent or designee but that
  contain content related to the district ... are not considered official district social media platforms." and
  "All official district social media platforms must state clearly when linkages to social media platforms/sites
  are not officially recognized, authorized or acknowledged by the district." They are recorded with kind
  ``unofficial`` and the statement to use when linking to them; they are never approved or activated.
* Abandonment. 4007 (004): "If a site is abandoned, it should be taken down." ``abandoned`` leads only to
  ``retired``.

Lifecycle (the reason is required where marked ``*``)::

    requested ──approve (principals, then communications | communications)──► approved ──activate──► active
    requested ──reject*──► rejected                                approved ──retire*──► retired
    active ──dormant──► dormant ──reactivate──► active
    active ──retire*──► retired        dormant ──abandon*──► abandoned ──retire*──► retired
    recorded (unofficial) ──retire*──► retired
    rejected, retired: final

Stewards are district staff allowed to post (admin or editor). An active account keeps at least two admin
stewards: a steward change that would leave fewer is refused, and activation needs two. Offboarding is the one
exception, on purpose: a person who leaves loses access everywhere, and an account left short is reported (see
:func:`plan_offboarding`).
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.catalogue import Role
from shared.domain.checks import aware as _utc
from shared.domain.checks import need_role as _need_role
from shared.domain.checks import need_time as _need_time
from shared.domain.content import sha256_hex
from shared.domain.credentials import CredentialKind
from shared.domain.policies import Citation
from shared.errors import BadRequest, Conflict, Forbidden, NotFound

DISCLOSURES_FILE = "disclosures.toml"
MIN_ADMINS = 2
SYSTEM_PREFIX = "system:"


# ------------------------------------------------------------------------------------------------ vocabulary
class AccountPlatform(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    YOUTUBE = "youtube"
    OTHER = "other"


class AccountKind(StrEnum):
    DISTRICT = "district"
    SCHOOL = "school"
    DEPARTMENT = "department"
    CLASSROOM = "classroom"
    TEAM = "team"
    UNOFFICIAL = (
        "unofficial"  # a page that links to the district but was not authorized (AR 1114 Definitions)
    )


class AccountStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    ACTIVE = "active"
    DORMANT = "dormant"
    ABANDONED = "abandoned"
    RETIRED = "retired"
    REJECTED = "rejected"
    RECORDED = "recorded"  # an unofficial page, on the register so that links to it say it is not official


class StewardRole(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"


class DisclosureItem(StrEnum):
    """The eight items AR 1114 (001) requires every official platform to display, then the 4007 notice (004)."""

    PURPOSE = "purpose"
    SECURITY_SETTINGS = "security_settings"
    MONITORING = "monitoring"
    USER_PROTOCOLS = "user_protocols"
    USER_RESPONSIBILITY = "user_responsibility"
    VIEWS_DISCLAIMER = "views_disclaimer"
    ENDORSEMENT_DISCLAIMER = "endorsement_disclaimer"
    CONTACT = "contact"
    OFFICIAL_NOTICE = "official_notice"


NEEDS_PRINCIPAL = frozenset({AccountKind.CLASSROOM, AccountKind.TEAM})
FINAL_STATES = frozenset({AccountStatus.REJECTED, AccountStatus.RETIRED})
LINK_ROLES = frozenset({Role.COMMUNICATIONS, Role.IT})
# States in which the two-admin rule holds (the issue: "at least two district admins per active account").
ADMIN_GUARDED_STATES = frozenset({AccountStatus.ACTIVE})
# States in which the account may exist on the platform with credentials in the vault (rotated on offboarding).
CREDENTIAL_STATES = frozenset(
    {AccountStatus.APPROVED, AccountStatus.ACTIVE, AccountStatus.DORMANT, AccountStatus.ABANDONED}
)

# Lifecycle moves other than approval (see the module docstring).
ALLOWED: Mapping[AccountStatus, frozenset[AccountStatus]] = {
    AccountStatus.REQUESTED: frozenset({AccountStatus.APPROVED, AccountStatus.REJECTED}),
    AccountStatus.APPROVED: frozenset({AccountStatus.ACTIVE, AccountStatus.RETIRED}),
    AccountStatus.ACTIVE: frozenset({AccountStatus.DORMANT, AccountStatus.RETIRED}),
    AccountStatus.DORMANT: frozenset({AccountStatus.ACTIVE, AccountStatus.ABANDONED, AccountStatus.RETIRED}),
    AccountStatus.ABANDONED: frozenset({AccountStatus.RETIRED}),
    AccountStatus.RECORDED: frozenset({AccountStatus.RETIRED}),
    AccountStatus.REJECTED: frozenset(),
    AccountStatus.RETIRED: frozenset(),
}
# Moves that need a reason.
REASON_REQUIRED = frozenset({AccountStatus.REJECTED, AccountStatus.RETIRED, AccountStatus.ABANDONED})
# Who may make each move (approval has its own rule, see Account.approve).
MOVE_ROLES: Mapping[AccountStatus, frozenset[Role]] = {
    AccountStatus.ACTIVE: frozenset({Role.COMMUNICATIONS, Role.IT}),
    AccountStatus.DORMANT: frozenset({Role.COMMUNICATIONS, Role.IT}),
    AccountStatus.ABANDONED: frozenset({Role.COMMUNICATIONS}),
    AccountStatus.RETIRED: frozenset({Role.COMMUNICATIONS}),
    # The principal may refuse a classroom/team request at their step; communications may refuse any.
    AccountStatus.REJECTED: frozenset({Role.COMMUNICATIONS, Role.PRINCIPALS}),
}
STEWARD_ROLES = frozenset({Role.COMMUNICATIONS, Role.IT})  # who may add, remove or change stewards
DISCLOSURE_ROLES = frozenset({Role.COMMUNICATIONS, Role.IT})  # who may confirm a disclosure is displayed
UNOFFICIAL_ROLES = frozenset({Role.COMMUNICATIONS, Role.IT})  # who may record an unofficial page

POLICY_PRINCIPAL = (
    'AR 1114 (policy 001): "Teachers and coaches shall obtain approval from the principal before '
    'creating an official classroom or team social media platform."'
)
POLICY_FINAL = 'Procedure 4007 (policy 004): "The Communications Director will determine final approval."'
POLICY_UNOFFICIAL = (
    'AR 1114 (policy 001): "All official district social media platforms must state clearly when '
    "linkages to social media platforms/sites are not officially recognized, authorized or acknowledged by the "
    'district."'
)

_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+\.[^@\s]+)$")
_PLACEHOLDERS = frozenset(
    {
        "district",
        "district_short",
        "contact",
        "notice_policy",
        "platform_name",
        "security_help_url",
        "handle",
        "school",
        "purpose",
        "audience",
    }
)


def _need_reason(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise BadRequest(f"a reason is required to {what}")
    return reason


def _bad_request(exc: ValidationError, what: str) -> BadRequest:
    problems = [
        f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}"
        for err in exc.errors(include_url=False)
    ]
    return BadRequest(f"invalid {what}: " + "; ".join(problems), problems=problems)


# ------------------------------------------------------------------------------------------------ configuration
class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DisclosureTemplate(_Frozen):
    title: str = Field(min_length=1)
    citation: Citation  # where the requirement comes from
    template: str = Field(min_length=1)  # the district's text, with placeholders


class PlatformText(_Frozen):
    name: str = Field(min_length=1)
    security_help_url: str = Field(min_length=1)


class UnofficialText(_Frozen):
    citation: Citation
    template: str = Field(min_length=1)


class DistrictConfig(_Frozen):
    """The district's configurable text and staff email domains (``disclosures.toml``)."""

    name: str = Field(min_length=1)
    short_name: str = Field(min_length=1)
    email_domains: frozenset[str] = Field(min_length=1)
    contact: str = Field(min_length=1)
    notice_policy: str = Field(min_length=1)
    platforms: dict[AccountPlatform, PlatformText]
    disclosures: dict[DisclosureItem, DisclosureTemplate]
    unofficial: UnofficialText

    @field_validator("email_domains")
    @classmethod
    def _domains(cls, value: frozenset[str]) -> frozenset[str]:
        return frozenset(d.strip().lower().lstrip("@") for d in value)

    @field_validator("platforms")
    @classmethod
    def _all_platforms(
        cls, value: dict[AccountPlatform, PlatformText]
    ) -> dict[AccountPlatform, PlatformText]:
        missing = [p.value for p in AccountPlatform if p not in value]
        if missing:
            raise ValueError(f"no text for platforms: {', '.join(missing)}")
        return value

    @field_validator("disclosures")
    @classmethod
    def _all_items(
        cls, value: dict[DisclosureItem, DisclosureTemplate]
    ) -> dict[DisclosureItem, DisclosureTemplate]:
        missing = [i.value for i in DisclosureItem if i not in value]
        if missing:
            raise ValueError(f"no template for disclosures: {', '.join(missing)}")
        for item, tpl in value.items():
            _check_placeholders(tpl.template, f"disclosures.{item.value}")
            tpl.citation.check()  # a PolicyError is a ValueError: pydantic reports it
        return value

    @field_validator("unofficial")
    @classmethod
    def _unofficial(cls, value: UnofficialText) -> UnofficialText:
        _check_placeholders(value.template, "unofficial")
        value.citation.check()
        return value

    def is_district_email(self, email: str) -> bool:
        match = _EMAIL.match(email.strip().lower())
        return match is not None and match.group(1) in self.email_domains


def _check_placeholders(template: str, where: str) -> None:
    try:
        names = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    unknown = sorted(n for n in names if n not in _PLACEHOLDERS)
    if unknown:
        raise ValueError(f"{where}: unknown placeholders {', '.join(unknown)}")


class DisclosureConfigError(ValueError):
    """The disclosures file is not valid TOML or does not describe every item."""


def parse_config(text: str, source: str = DISCLOSURES_FILE) -> DistrictConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DisclosureConfigError(f"{source}: {exc}") from None
    district = data.get("district", {})
    try:
        return DistrictConfig(
            **district,
            platforms=data.get("platforms", {}),
            disclosures=data.get("disclosures", {}),
            unofficial=data.get("unofficial", {}),
        )
    except ValidationError as exc:
        raise DisclosureConfigError(
            f"{source}: {_bad_request(exc, 'disclosure configuration').message}"
        ) from None


@functools.cache
def default_config() -> DistrictConfig:
    """The packaged ``disclosures.toml``, loaded once per process (``default_config.cache_clear()`` in tests)."""
    text = resources.files(__package__).joinpath(DISCLOSURES_FILE).read_text(encoding="utf-8")
    return parse_config(text)


# ------------------------------------------------------------------------------------------------ the model
def normalize_email(email: str) -> str:
    return email.strip().lower()


def district_email(email: str, config: DistrictConfig, what: str = "steward") -> str:
    """The email, normalized; BadRequest when it is not an address on one of the district's domains."""
    value = normalize_email(email)
    if not _EMAIL.match(value):
        raise BadRequest(f"{what} email {email!r} is not an email address")
    if not config.is_district_email(value):
        raise BadRequest(
            f"{what} {value} is not district staff: the email must be on "
            f"{' or '.join(sorted(config.email_domains))}",
            allowed_domains=sorted(config.email_domains),
        )
    return value


class Steward(_Frozen):
    email: str = Field(min_length=3)
    role: StewardRole
    added_by: str = Field(min_length=1)
    added_at: datetime

    _check_times = field_validator("added_at")(_utc)


class Approval(_Frozen):
    role: Role  # the role the approval was given in: principals or communications
    actor: str = Field(min_length=1)
    at: datetime
    note: str = ""

    _check_times = field_validator("at")(_utc)


class Disclosure(_Frozen):
    """One item confirmed as displayed on the platform, with the text that was confirmed."""

    item: DisclosureItem
    text: str = Field(min_length=1)
    confirmed_by: str = Field(min_length=1)
    confirmed_at: datetime

    _check_times = field_validator("confirmed_at")(_utc)


class AccountChange(_Frozen):
    """One entry of an account's history: a lifecycle move, an approval, a steward or disclosure change."""

    action: str  # requested, recorded, approved, activated, steward_added, disclosure_confirmed, ...
    from_status: AccountStatus | None
    to_status: AccountStatus
    actor: str = Field(min_length=1)
    roles: tuple[str, ...] = ()
    at: datetime
    reason: str = ""
    details: dict[str, str] = Field(default_factory=dict)

    _check_times = field_validator("at")(_utc)


class CaptureState(StrEnum):
    PENDING = "pending"  # retired; the reconciler has yet to read its threads one last time
    TAKEN = "taken"
    INCOMPLETE = "incomplete"  # given up on: FINAL_CAPTURE_ATTEMPTS failed, or the platform cannot be re-read


FINAL_CAPTURE_ATTEMPTS = 3


class FinalCapture(_Frozen):
    """The last capture of a retired official account's content (Procedure 4007 (004): a site taken down is still a
    public record): every thread the archive knows of the account re-read on the platform once, so what the
    webhooks missed before it went away is kept. Taken by the reconciler after the retirement."""

    state: CaptureState = CaptureState.PENDING
    requested_at: datetime
    finished_at: datetime | None = None
    attempts: int = Field(default=0, ge=0)
    threads: int = Field(default=0, ge=0)  # threads re-read
    recorded: int = Field(default=0, ge=0)  # changes recorded that the archive lacked
    error: str | None = None  # the last attempt's failure

    _check_times = field_validator("requested_at", "finished_at")(_utc)


class ChecklistEntry(_Frozen):
    item: DisclosureItem
    title: str
    source: str
    policy: str
    text: str  # the confirmed text, or the district's template rendered for this account
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.confirmed_by is not None


def account_id(platform: AccountPlatform, handle: str) -> str:
    """Deterministic: the same platform and handle is always the same account (a repeated request is found)."""
    return sha256_hex({"platform": str(platform), "handle": handle.strip().lower()})[:32]


class Account(_Frozen):
    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    platform: AccountPlatform
    handle: str = Field(min_length=1, max_length=300)  # the handle or the page's URL
    school: str = Field(min_length=1, max_length=200)  # the school or department it speaks for
    purpose: str = Field(min_length=1, max_length=1000)
    audience: str = Field(min_length=1, max_length=500)
    kind: AccountKind
    requested_by: str = Field(min_length=1)
    requested_at: datetime
    status: AccountStatus
    updated_at: datetime
    approvals: tuple[Approval, ...] = ()
    stewards: tuple[Steward, ...] = ()
    disclosures: tuple[Disclosure, ...] = ()
    history: tuple[AccountChange, ...] = ()
    # For an unofficial page: what a link to it must say (AR 1114, see POLICY_UNOFFICIAL).
    not_official_statement: str | None = None
    # The account's id on the platform (Facebook page id, Instagram business account id, X user id, YouTube
    # channel id): the ``account_id`` of its content items and moderation cases. Linked by communications or IT;
    # platform sweeps and reports skip an account not yet linked.
    platform_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    # Set pending when an official account is retired; the reconciler takes it (FinalCapture).
    final_capture: FinalCapture | None = None

    _check_times = field_validator("requested_at", "updated_at")(_utc)

    @field_validator("handle", "school", "purpose", "audience")
    @classmethod
    def _stripped(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    # ----------------------------------------------------------------------------- what an index needs
    @property
    def official(self) -> bool:
        return self.kind is not AccountKind.UNOFFICIAL

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATES

    @property
    def steward_emails(self) -> tuple[str, ...]:
        return tuple(sorted(s.email for s in self.stewards))

    @property
    def admin_emails(self) -> tuple[str, ...]:
        return tuple(sorted(s.email for s in self.stewards if s.role is StewardRole.ADMIN))

    @property
    def admin_shortfall(self) -> int:
        """How many admins the account lacks under the two-admin rule (0 outside the states it holds in)."""
        if self.status not in ADMIN_GUARDED_STATES:
            return 0
        return max(0, MIN_ADMINS - len(self.admin_emails))

    def index_attributes(self) -> dict[str, Any]:
        """What a storage index searches by: school, platform, status, kind and steward emails."""
        return {
            "school": self.school,
            "platform": str(self.platform),
            "status": str(self.status),
            "kind": str(self.kind),
            "steward_emails": list(self.steward_emails),
        }

    # ----------------------------------------------------------------------------- approvals
    @property
    def approval_roles_required(self) -> tuple[Role, ...]:
        """The approvals this account needs, in order."""
        if not self.official:
            return ()
        if self.kind in NEEDS_PRINCIPAL:
            return (Role.PRINCIPALS, Role.COMMUNICATIONS)
        return (Role.COMMUNICATIONS,)

    @property
    def pending_approval(self) -> Role | None:
        """The role whose approval is awaited next (None when none is: approved, or not a request)."""
        if self.status is not AccountStatus.REQUESTED:
            return None
        given = {a.role for a in self.approvals}
        return next((r for r in self.approval_roles_required if r not in given), None)

    def approve(self, *, actor: str, roles: Iterable[Role | str], at: datetime, note: str = "") -> Account:
        """Give the next approval. Classroom and team accounts: ``principals`` first, then ``communications``
        (the final one, which moves the account to ``approved``); any other official account: ``communications``.
        Forbidden when the caller lacks the role the next step needs; Conflict when there is nothing to approve."""
        at = _need_time(at)
        roles = tuple(roles)  # read more than once
        if not self.official:
            raise Conflict(f"an unofficial page is recorded, never approved. {POLICY_UNOFFICIAL}")
        needed = self.pending_approval
        if needed is None:
            raise Conflict(f"account {self.id} is {self.status}: there is no approval to give")
        if needed is Role.PRINCIPALS:
            _need_role(
                roles,
                frozenset({Role.PRINCIPALS}),
                f"approving a {self.kind} account before the final approval ({POLICY_PRINCIPAL})",
            )
        else:
            _need_role(roles, frozenset({Role.COMMUNICATIONS}), f"the final approval ({POLICY_FINAL})")
            if any(a.actor == actor for a in self.approvals):
                raise Forbidden(
                    "the principal's approval and the communications final approval must come from different people",
                    needed=[Role.COMMUNICATIONS.value],
                )
        approval = Approval(role=needed, actor=actor, at=at, note=note.strip())
        final = needed is Role.COMMUNICATIONS
        to = AccountStatus.APPROVED if final else self.status
        return self._change(
            "approved" if final else f"approved_by_{needed.value}",
            to,
            actor=actor,
            roles=roles,
            at=at,
            reason=note.strip(),
            details={"approval_role": needed.value},
            approvals=(*self.approvals, approval),
        )

    def reject(self, *, actor: str, roles: Iterable[Role | str], at: datetime, reason: str) -> Account:
        """Refuse a request (``communications``, or ``principals`` while the principal's approval is awaited)."""
        at = _need_time(at)
        roles = tuple(roles)  # read more than once
        reason = _need_reason(reason, "reject an account request")
        self._check_move(AccountStatus.REJECTED)
        allowed = MOVE_ROLES[AccountStatus.REJECTED]
        if self.pending_approval is not Role.PRINCIPALS:
            allowed = frozenset({Role.COMMUNICATIONS})
        _need_role(roles, allowed, "rejecting this request")
        return self._change(
            "rejected", AccountStatus.REJECTED, actor=actor, roles=roles, at=at, reason=reason
        )

    # ----------------------------------------------------------------------------- lifecycle
    def activate(
        self,
        *,
        actor: str,
        roles: Iterable[Role | str],
        at: datetime,
        reason: str = "",
    ) -> Account:
        """approved → active, or dormant → active. Conflict unless every disclosure is confirmed and the account
        has at least two admin stewards (both problems named in one message)."""
        at = _need_time(at)
        roles = tuple(roles)  # read more than once
        if not self.official:
            raise Conflict(f"an unofficial page is never activated. {POLICY_UNOFFICIAL}")
        self._check_move(AccountStatus.ACTIVE)
        _need_role(roles, MOVE_ROLES[AccountStatus.ACTIVE], "activating an account")
        problems: list[str] = []
        details: dict[str, Any] = {}
        missing = self.missing_disclosures()
        if missing:
            problems.append("disclosures not confirmed: " + ", ".join(missing))
            details["missing_disclosures"] = [str(m) for m in missing]
        admins = len(self.admin_emails)
        if admins < MIN_ADMINS:
            problems.append(f"it has {admins} admin steward(s), at least {MIN_ADMINS} are required")
            details["admin_count"] = admins
        if problems:
            raise Conflict(f"account {self.id} cannot become active: " + "; ".join(problems), **details)
        action = "reactivated" if self.status is AccountStatus.DORMANT else "activated"
        return self._change(action, AccountStatus.ACTIVE, actor=actor, roles=roles, at=at, reason=reason)

    def mark_dormant(
        self, *, actor: str, roles: Iterable[Role | str], at: datetime, reason: str = ""
    ) -> Account:
        return self._move(
            AccountStatus.DORMANT, "marked_dormant", actor=actor, roles=roles, at=at, reason=reason
        )

    def abandon(self, *, actor: str, roles: Iterable[Role | str], at: datetime, reason: str) -> Account:
        """dormant → abandoned. 4007 (004): "If a site is abandoned, it should be taken down." (→ retire)."""
        return self._move(
            AccountStatus.ABANDONED, "abandoned", actor=actor, roles=roles, at=at, reason=reason
        )

    def retire(self, *, actor: str, roles: Iterable[Role | str], at: datetime, reason: str) -> Account:
        """The account is taken down (or, unofficial, no longer on the register). Final."""
        return self._move(AccountStatus.RETIRED, "retired", actor=actor, roles=roles, at=at, reason=reason)

    def swept(self, to: AccountStatus, action: str, *, actor: str, at: datetime, reason: str) -> Account:
        """A move made by a scheduled sweep under Procedure 4007 (004) (dormant on a warning, abandoned after the
        grace period, active again when the signals cleared): no person's role, so only a ``system:`` actor."""
        if not actor.startswith("system:"):
            raise Forbidden("only a scheduled sweep makes this move; people use the status routes")
        self._check_move(to)
        return self._change(action, to, actor=actor, roles=(), at=_need_time(at), reason=reason.strip())

    def retire_abandoned(
        self, *, actor: str, roles: Iterable[Role | str], at: datetime, reason: str
    ) -> Account:
        """communications confirms the retirement the sweep proposed: the account is retired and every steward
        removed, in one change (its credential is rotated by the caller)."""
        at = _need_time(at)
        roles = tuple(roles)
        reason = _need_reason(reason, "retire an abandoned account")
        _need_role(roles, MOVE_ROLES[AccountStatus.RETIRED], "retiring an abandoned account")
        if self.status is not AccountStatus.ABANDONED:
            raise Conflict(
                f"account {self.id} is {self.status}: only an abandoned account is retired through this workflow"
            )
        removed = ",".join(self.steward_emails)
        return self._change(
            "retired_abandoned",
            AccountStatus.RETIRED,
            actor=actor,
            roles=roles,
            at=at,
            reason=reason.strip(),
            details={"stewards_removed": removed},
            stewards=(),
        )

    def _move(
        self,
        to: AccountStatus,
        action: str,
        *,
        actor: str,
        roles: Iterable[Role | str],
        at: datetime,
        reason: str,
    ) -> Account:
        at = _need_time(at)
        roles = tuple(roles)  # read more than once
        if to in REASON_REQUIRED:
            reason = _need_reason(reason, f"mark an account {to}")
        self._check_move(to)
        allowed = MOVE_ROLES[to]
        if not self.official and to is AccountStatus.RETIRED:
            allowed = UNOFFICIAL_ROLES
        _need_role(roles, allowed, f"marking an account {to}")
        return self._change(action, to, actor=actor, roles=roles, at=at, reason=reason.strip())

    def _check_move(self, to: AccountStatus) -> None:
        if to not in ALLOWED[self.status]:
            legal = ", ".join(sorted(ALLOWED[self.status])) or "none (it is final)"
            raise Conflict(
                f"account {self.id} cannot go from {self.status} to {to}; from {self.status} it may go to: {legal}",
                status=str(self.status),
                requested=str(to),
            )

    def _change(
        self,
        action: str,
        to: AccountStatus,
        *,
        actor: str,
        roles: Iterable[Role | str],
        at: datetime,
        reason: str = "",
        details: Mapping[str, str] | None = None,
        **changes: Any,
    ) -> Account:
        if not actor.strip():
            raise BadRequest("an actor is required")
        if to is AccountStatus.RETIRED and self.status is not to and self.official:
            changes.setdefault("final_capture", FinalCapture(requested_at=at))
        entry = AccountChange(
            action=action,
            from_status=self.status,
            to_status=to,
            actor=actor,
            roles=tuple(sorted(str(r) for r in roles)),
            at=at,
            reason=reason,
            details=dict(details or {}),
        )
        return self.model_copy(
            update={"status": to, "updated_at": at, "history": (*self.history, entry), **changes}
        )

    def link_platform(
        self, platform_id: str, *, actor: str, roles: Iterable[Role | str], at: datetime
    ) -> Account:
        """Record the account's id on the platform (what its content and cases are filed under)."""
        at = _need_time(at)
        roles = tuple(roles)
        _need_role(roles, LINK_ROLES, "linking an account to its platform id")
        if self.is_final:
            raise Conflict(f"account {self.id} is {self.status}: it can no longer be linked")
        value = platform_id.strip()
        if not value or len(value) > 128 or not re.fullmatch(r"[A-Za-z0-9_.:-]+", value):
            raise BadRequest("a platform id is 1 to 128 letters, digits and . _ : -")
        return self._change(
            "platform_linked",
            self.status,
            actor=actor,
            roles=roles,
            at=at,
            details={"platform_id": value, "previous": self.platform_id or ""},
            platform_id=value,
        )

    # ----------------------------------------------------------------------------- final capture
    def final_capture_taken(self, *, actor: str, at: datetime, threads: int, recorded: int) -> Account:
        """The reconciler read every thread of the retired account once more: the capture is taken."""
        capture = self._pending_capture()
        taken = capture.model_copy(
            update={
                "state": CaptureState.TAKEN,
                "finished_at": _need_time(at),
                "attempts": capture.attempts + 1,
                "threads": threads,
                "recorded": recorded,
                "error": None,
            }
        )
        return self._change(
            "final_capture_taken",
            self.status,
            actor=actor,
            roles=(),
            at=at,
            details={"threads": str(threads), "recorded": str(recorded)},
            final_capture=taken,
        )

    def final_capture_failed(self, *, actor: str, at: datetime, error: str, final: bool = False) -> Account:
        """An attempt failed. After FINAL_CAPTURE_ATTEMPTS (or at once when ``final``: the platform cannot be
        re-read at all) the capture is incomplete: the archive keeps what the webhooks and polls delivered."""
        capture = self._pending_capture()
        attempts = capture.attempts + 1
        given_up = final or attempts >= FINAL_CAPTURE_ATTEMPTS
        failed = capture.model_copy(
            update={
                "state": CaptureState.INCOMPLETE if given_up else CaptureState.PENDING,
                "finished_at": _need_time(at) if given_up else None,
                "attempts": attempts,
                "error": error,
            }
        )
        return self._change(
            "final_capture_incomplete" if given_up else "final_capture_failed",
            self.status,
            actor=actor,
            roles=(),
            at=at,
            reason=error,
            details={"attempts": str(attempts)},
            final_capture=failed,
        )

    def _pending_capture(self) -> FinalCapture:
        if self.final_capture is None or self.final_capture.state is not CaptureState.PENDING:
            raise Conflict(f"account {self.id} has no final capture waiting")
        return self.final_capture

    # ----------------------------------------------------------------------------- stewards
    def steward(self, email: str) -> Steward | None:
        email = normalize_email(email)
        return next((s for s in self.stewards if s.email == email), None)

    def _check_stewards_editable(self, *, adding: bool) -> None:
        if not self.official:
            raise Conflict(f"an unofficial page has no district stewards. {POLICY_UNOFFICIAL}")
        if adding and self.is_final:
            raise Conflict(f"account {self.id} is {self.status}: no steward can be added")

    def _check_admin_minimum(self, stewards: tuple[Steward, ...], what: str) -> None:
        if self.status not in ADMIN_GUARDED_STATES:
            return
        admins = sum(1 for s in stewards if s.role is StewardRole.ADMIN)
        if admins < MIN_ADMINS:
            raise Conflict(
                f"{what} would leave active account {self.id} with {admins} admin steward(s); "
                f"an active account keeps at least {MIN_ADMINS}: add another admin first",
                admin_count=admins,
            )

    def add_steward(
        self,
        email: str,
        role: StewardRole | str,
        *,
        actor: str,
        roles: Iterable[Role | str],
        at: datetime,
        config: DistrictConfig | None = None,
        reason: str = "",
    ) -> Account:
        at = _need_time(at)
        roles = tuple(roles)  # read more than once
        _need_role(roles, STEWARD_ROLES, "changing an account's stewards")
        self._check_stewards_editable(adding=True)
        email = district_email(email, config or default_config())
        try:
            role = StewardRole(role)
        except ValueError:
            raise BadRequest(f"steward role must be admin or editor, not {role!r}") from None
        if self.steward(email) is not None:
            raise Conflict(f"{email} is already a steward of account {self.id}")
        steward = Steward(email=email, role=role, added_by=actor, added_at=at)
        return self._change(
            "steward_added",
            self.status,
            actor=actor,
            roles=roles,
            at=at,
            reason=reason,
            details={"steward": email, "steward_role": role.value},
            stewards=(*self.stewards, steward),
        )

    def remove_steward(
        self, email: str, *, actor: str, roles: Iterable[Role | str], at: datetime, reason: str = ""
    ) -> Account:
        """Conflict if it would leave an active account with fewer than two admins (offboarding is the
        exception, see :func:`plan_offboarding`)."""
        at = _need_time(at)
        roles = tuple(roles)  # read more than once
        _need_role(roles, STEWARD_ROLES, "changing an account's stewards")
        self._check_stewards_editable(adding=False)
        held = self.steward(email)
        if held is None:
            raise NotFound(f"{normalize_email(email)} is not a steward of account {self.id}")
        remaining = tuple(s for s in self.stewards if s.email != held.email)
        self._check_admin_minimum(remaining, f"removing {held.email}")
        return self._change(
            "steward_removed",
            self.status,
            actor=actor,
            roles=roles,
            at=at,
            reason=reason,
            details={"steward": held.email, "steward_role": held.role.value},
            stewards=remaining,
        )

    def change_steward_role(
        self,
        email: str,
        role: StewardRole | str,
        *,
        actor: str,
        roles: Iterable[Role | str],
        at: datetime,
        reason: str = "",
    ) -> Account:
        at = _need_time(at)
        roles = tuple(roles)  # read more than once
        _need_role(roles, STEWARD_ROLES, "changing an account's stewards")
        self._check_stewards_editable(adding=False)
        try:
            role = StewardRole(role)
        except ValueError:
            raise BadRequest(f"steward role must be admin or editor, not {role!r}") from None
        held = self.steward(email)
        if held is None:
            raise NotFound(f"{normalize_email(email)} is not a steward of account {self.id}")
        if held.role is role:
            return self  # nothing to change (idempotent)
        stewards = tuple(
            s.model_copy(update={"role": role}) if s.email == held.email else s for s in self.stewards
        )
        self._check_admin_minimum(stewards, f"making {held.email} an {role}")
        return self._change(
            "steward_role_changed",
            self.status,
            actor=actor,
            roles=roles,
            at=at,
            reason=reason,
            details={"steward": held.email, "from_role": held.role.value, "steward_role": role.value},
            stewards=stewards,
        )

    # ----------------------------------------------------------------------------- disclosures
    def render(self, item: DisclosureItem, config: DistrictConfig | None = None) -> str:
        """The district's text for ``item``, filled in for this account."""
        config = config or default_config()
        return config.disclosures[DisclosureItem(item)].template.format_map(_values(self, config))

    def missing_disclosures(self) -> tuple[DisclosureItem, ...]:
        done = {d.item for d in self.disclosures}
        return tuple(i for i in DisclosureItem if i not in done)

    def checklist(self, config: DistrictConfig | None = None) -> tuple[ChecklistEntry, ...]:
        """The nine items in order, each with its text (confirmed, or the template for this account)."""
        config = config or default_config()
        confirmed = {d.item: d for d in self.disclosures}
        entries = []
        for item in DisclosureItem:
            tpl = config.disclosures[item]
            held = confirmed.get(item)
            entries.append(
                ChecklistEntry(
                    item=item,
                    title=tpl.title,
                    source=tpl.citation.source,
                    policy=tpl.citation.quote,
                    text=held.text if held else self.render(item, config),
                    confirmed_by=held.confirmed_by if held else None,
                    confirmed_at=held.confirmed_at if held else None,
                )
            )
        return tuple(entries)

    def confirm_disclosure(
        self,
        item: DisclosureItem | str,
        *,
        actor: str,
        roles: Iterable[Role | str],
        at: datetime,
        text: str | None = None,
        config: DistrictConfig | None = None,
    ) -> Account:
        """Record that ``item`` is displayed on the platform (with the district's text unless ``text`` gives the
        wording actually used). Confirming again replaces the earlier confirmation."""
        at = _need_time(at)
        roles = tuple(roles)  # read more than once
        _need_role(roles, DISCLOSURE_ROLES, "confirming a disclosure")
        if not self.official:
            raise Conflict(f"an unofficial page displays no district disclosures. {POLICY_UNOFFICIAL}")
        if self.is_final:
            raise Conflict(f"account {self.id} is {self.status}: its disclosures can no longer change")
        try:
            item = DisclosureItem(item)
        except ValueError:
            raise BadRequest(
                f"unknown disclosure {item!r}; the items are: {', '.join(i.value for i in DisclosureItem)}"
            ) from None
        if text is not None and not text.strip():
            raise BadRequest(f"the text of disclosure {item} must not be blank")
        wording = text.strip() if text is not None else self.render(item, config)
        disclosure = Disclosure(item=item, text=wording, confirmed_by=actor, confirmed_at=at)
        kept = tuple(d for d in self.disclosures if d.item is not item)
        return self._change(
            "disclosure_confirmed",
            self.status,
            actor=actor,
            roles=roles,
            at=at,
            details={"item": item.value},
            disclosures=(*kept, disclosure),
        )


def _values(account: Account, config: DistrictConfig) -> dict[str, str]:
    platform = config.platforms[account.platform]
    return {
        "district": config.name,
        "district_short": config.short_name,
        "contact": config.contact,
        "notice_policy": config.notice_policy,
        "platform_name": platform.name,
        "security_help_url": platform.security_help_url,
        "handle": account.handle,
        "school": account.school,
        "purpose": account.purpose.rstrip("."),
        "audience": account.audience,
    }


# ------------------------------------------------------------------------------------------------ factories
_TEXT_LIMITS = {"handle": 300, "school": 200, "purpose": 1000, "audience": 500}


def _new_account(
    *,
    platform: AccountPlatform | str,
    kind: AccountKind | str,
    text: Mapping[str, str],
    requested_by: str,
    status: AccountStatus,
    at: datetime,
    what: str,
) -> Account:
    """The account, or BadRequest naming every invalid field at once."""
    problems: list[str] = []
    if str(platform) not in {p.value for p in AccountPlatform}:
        problems.append(f"platform: must be one of {', '.join(p.value for p in AccountPlatform)}")
    if str(kind) not in {k.value for k in AccountKind}:
        problems.append(f"kind: must be one of {', '.join(k.value for k in AccountKind)}")
    for name, limit in _TEXT_LIMITS.items():
        value = (text.get(name) or "").strip()
        if not value:
            problems.append(f"{name}: is required")
        elif len(value) > limit:
            problems.append(f"{name}: at most {limit} characters")
    if problems:
        raise BadRequest(f"invalid {what}: " + "; ".join(problems), problems=problems)
    try:
        return Account(
            id=account_id(AccountPlatform(platform), text["handle"]),
            platform=AccountPlatform(platform),
            kind=AccountKind(kind),
            requested_by=requested_by,
            requested_at=at,
            status=status,
            updated_at=at,
            **{name: text[name] for name in _TEXT_LIMITS},
        )
    except ValidationError as exc:  # a backstop: the checks above should catch everything first
        raise _bad_request(exc, what) from None


def request_account(
    *,
    platform: AccountPlatform | str,
    handle: str,
    school: str,
    purpose: str,
    audience: str,
    kind: AccountKind | str,
    requested_by: str,
    at: datetime,
    config: DistrictConfig | None = None,
) -> Account:
    """A new request for an official account (status ``requested``). ``requested_by`` must be district staff.
    BadRequest names every invalid field."""
    at = _need_time(at)
    config = config or default_config()
    if str(kind) == AccountKind.UNOFFICIAL.value:
        raise BadRequest("an unofficial page is recorded with record_unofficial, not requested")
    requester = district_email(requested_by, config, what="requester")
    account = _new_account(
        platform=platform,
        kind=kind,
        text={"handle": handle, "school": school, "purpose": purpose, "audience": audience},
        requested_by=requester,
        status=AccountStatus.REQUESTED,
        at=at,
        what="account request",
    )
    entry = AccountChange(
        action="requested",
        from_status=None,
        to_status=AccountStatus.REQUESTED,
        actor=requester,
        at=at,
        details={"kind": account.kind.value, "platform": account.platform.value},
    )
    return account.model_copy(update={"history": (entry,)})


def record_unofficial(
    *,
    platform: AccountPlatform | str,
    handle: str,
    school: str,
    purpose: str,
    audience: str,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
    config: DistrictConfig | None = None,
) -> Account:
    """Put an unofficial page that links to the district on the register (status ``recorded``, kind
    ``unofficial``), with the statement a link to it must carry (AR 1114, see POLICY_UNOFFICIAL). It is never
    approved, activated, given stewards or disclosures; it can only be retired (taken off the register)."""
    at = _need_time(at)
    roles = tuple(roles)  # read more than once
    _need_role(roles, UNOFFICIAL_ROLES, "recording an unofficial page")
    if not actor.strip():
        raise BadRequest("an actor is required")
    config = config or default_config()
    account = _new_account(
        platform=platform,
        kind=AccountKind.UNOFFICIAL,
        text={"handle": handle, "school": school, "purpose": purpose, "audience": audience},
        requested_by=actor,
        status=AccountStatus.RECORDED,
        at=at,
        what="unofficial page",
    )
    statement = config.unofficial.template.format_map(_values(account, config))
    entry = AccountChange(
        action="recorded_unofficial",
        from_status=None,
        to_status=AccountStatus.RECORDED,
        actor=actor,
        roles=tuple(sorted(str(r) for r in roles)),
        at=at,
        details={"platform": account.platform.value},
    )
    return account.model_copy(update={"history": (entry,), "not_official_statement": statement})


# ------------------------------------------------------------------------------------------------ offboarding
class StewardRemoval(_Frozen):
    account_id: str
    role: StewardRole


class AdminShortfall(_Frozen):
    """An active account the offboarding leaves with fewer than two admins: someone must add one."""

    account_id: str
    school: str
    platform: AccountPlatform
    admins_left: tuple[str, ...]
    needed: int


class CredentialRotation(_Frozen):
    account_id: str
    kind: CredentialKind
    reason: str


class OffboardingPlan(_Frozen):
    email: str
    accounts: tuple[Account, ...]  # only the accounts that change, in account-id order
    removals: tuple[StewardRemoval, ...]
    below_minimum: tuple[AdminShortfall, ...]
    rotations: tuple[CredentialRotation, ...]

    @property
    def changed(self) -> bool:
        return bool(self.accounts)


# What a steward could reach, by their role on the account: an admin holds the login (4007: the Communications
# Director "shall be given administrative rights and/or passwords to the site"; admins share that), anyone who
# posts could reach the page tokens.
REACH: Mapping[StewardRole, tuple[CredentialKind, ...]] = {
    StewardRole.ADMIN: (CredentialKind.PASSWORD, CredentialKind.TOKEN),
    StewardRole.EDITOR: (CredentialKind.TOKEN,),
}


def plan_offboarding(
    email: str,
    accounts: Iterable[Account],
    *,
    actor: str,
    roles: Iterable[Role | str],
    at: datetime,
    checkouts: Iterable[tuple[str, CredentialKind]] = (),
    reason: str = "",
) -> OffboardingPlan:
    """What offboarding ``email`` does to ``accounts``: pure and deterministic. Idempotent on the accounts:
    planning again over the result changes no account and adds no steward rotation (rotations from ``checkouts``
    are listed again; the rotation layer refuses a second concurrent rotation anyway).

    Decision: the person is removed from **every** account, even where that leaves an active account with
    fewer than two admins. Keeping a departed employee as an admin to satisfy a count would keep access the
    district must end (002 item g: the district owns "all log-in information, passwords"), and their credentials
    are rotated anyway. Those accounts are reported in ``below_minimum`` (and each history entry says so) so
    someone adds an admin; nothing is silently broken.

    Credentials to rotate: for each account where they were a steward and that may hold credentials
    (approved, active, dormant, abandoned), what their role reached (:data:`REACH`); plus every credential they
    checked out of the vault (``checkouts``: (account id, kind) pairs from the audit trail), whatever their
    steward role. Only ``communications`` or ``it`` may offboard."""
    at = _need_time(at)
    roles = tuple(roles)  # read more than once
    _need_role(roles, STEWARD_ROLES, "offboarding a staff member")
    if not actor.strip():
        raise BadRequest("an actor is required")
    email = normalize_email(email)
    if not _EMAIL.match(email):
        raise BadRequest(f"{email!r} is not an email address")
    reason = reason.strip() or f"offboarding {email}"
    by_id = {a.id: a for a in accounts}
    changed: list[Account] = []
    removals: list[StewardRemoval] = []
    short: list[AdminShortfall] = []
    rotate: dict[tuple[str, CredentialKind], str] = {}
    for acc_id in sorted(by_id):
        account = by_id[acc_id]
        held = account.steward(email)
        if held is None:
            continue
        remaining = tuple(s for s in account.stewards if s.email != email)
        shortfall = account.model_copy(update={"stewards": remaining}).admin_shortfall
        details = {"steward": email, "steward_role": held.role.value}
        if shortfall:
            details["admin_shortfall"] = str(shortfall)
        after = account._change(
            "steward_offboarded",
            account.status,
            actor=actor,
            roles=roles,
            at=at,
            reason=reason,
            details=details,
            stewards=remaining,
        )
        if shortfall:
            short.append(
                AdminShortfall(
                    account_id=acc_id,
                    school=account.school,
                    platform=account.platform,
                    admins_left=after.admin_emails,
                    needed=shortfall,
                )
            )
        changed.append(after)
        removals.append(StewardRemoval(account_id=acc_id, role=held.role))
        if account.status in CREDENTIAL_STATES:
            for kind in REACH[held.role]:
                rotate.setdefault((acc_id, kind), f"{email} was a {held.role} steward")
    for acc_id, kind in checkouts:
        target = by_id.get(acc_id)
        if target is not None and target.status not in CREDENTIAL_STATES:
            continue
        rotate.setdefault((acc_id, CredentialKind(kind)), f"{email} checked it out of the vault")
    return OffboardingPlan(
        email=email,
        accounts=tuple(changed),
        removals=tuple(removals),
        below_minimum=tuple(short),
        rotations=tuple(
            CredentialRotation(account_id=a, kind=k, reason=why) for (a, k), why in sorted(rotate.items())
        ),
    )
