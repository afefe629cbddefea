"""Abandoned official accounts (pure): the signals of abandonment, the configurable thresholds, and the step the
daily sweep takes for each account.

Procedure 4007 (004): "Sites should be monitored ... Sites should be kept updated. If a site is abandoned, it should
be taken down." NIST SP 800-53 AC-2(3): disable inactive accounts after a set period. An account shows a signal when

- it has not posted (the account's own posts) for ``no_post_days`` (counted from its activation when
  it never posted);
- it has no steward left (all offboarded);
- its credential was not verified or rotated for ``credential_days`` (or the vault holds none);
- its platform token has expired or was revoked;
- a required disclosure is missing.

The escalation: an active account with a signal is **warned** (it becomes dormant, and its stewards and
communications are told); still signalled ``grace_days`` after the warning, it is marked **abandoned** and its
retirement is proposed to communications, who confirm it (:mod:`shared.abandonment_service`). A dormant account
whose signals have cleared is reactivated by the sweep that warned it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.domain.accounts import Account, AccountPlatform, AccountStatus
from shared.domain.checks import validation_message
from shared.domain.credentials import Credential
from shared.errors import BadRequest

SWEEP = "abandoned-accounts"
SWEEP_ACTOR = f"system:{SWEEP}"
WARNED = "warned_dormant"
ABANDONED = "marked_abandoned"
REACTIVATED = "reactivated_by_sweep"
_REVOKED = ("revoked", "invalid_grant", "expired or revoked")


class Signal(StrEnum):
    NO_POST = "no_post"
    NO_STEWARD = "no_active_steward"
    CREDENTIAL_STALE = "credential_stale"
    TOKEN_DEAD = "token_expired_or_revoked"  # noqa: S105 (a signal name, not a secret)
    DISCLOSURES_MISSING = "disclosures_missing"


class Thresholds(BaseModel):
    """One platform's thresholds, in days. The grace after a warning must be shorter than each threshold (an
    account is warned before it could have been abandoned twice over)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    no_post_days: int = Field(default=90, ge=1, le=3650)
    credential_days: int = Field(default=180, ge=1, le=3650)
    grace_days: int = Field(default=30, ge=1, le=365)

    @model_validator(mode="after")
    def _grace_shorter(self) -> Thresholds:
        longest = min(self.no_post_days, self.credential_days)
        if self.grace_days >= longest:
            raise ValueError(
                f"grace_days ({self.grace_days}) must be shorter than every threshold (the shortest is {longest})"
            )
        return self


class SweepConfig(BaseModel):
    """The sweep's thresholds: a default and, optionally, one set per platform."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: Thresholds = Field(default_factory=Thresholds)
    platforms: dict[AccountPlatform, Thresholds] = Field(default_factory=dict)
    updated_by: str | None = None
    updated_at: datetime | None = None

    def for_platform(self, platform: AccountPlatform) -> Thresholds:
        return self.platforms.get(platform, self.default)


def parse_config(data: Mapping[str, Any], *, actor: str, at: datetime) -> SweepConfig:
    """A checked configuration, or BadRequest naming each problem (zero, negative, grace too long, unknown). The
    default thresholds are always stated (a platform's own are optional)."""
    if "default" not in data:
        raise BadRequest("the default thresholds are required: {no_post_days, credential_days, grace_days}")
    try:
        return SweepConfig.model_validate({**data, "updated_by": actor, "updated_at": at})
    except ValidationError as exc:
        raise BadRequest(f"the sweep's thresholds are not valid: {validation_message(exc)}") from None


class Finding(BaseModel):
    """What the sweep found for one account."""

    model_config = ConfigDict(frozen=True)

    signals: tuple[Signal, ...]
    details: dict[str, str]

    @property
    def reason(self) -> str:
        return "; ".join(f"{s}: {self.details[s]}" for s in self.signals)


def _days(delta: timedelta) -> int:
    return delta.days


def _activated_at(account: Account) -> datetime:
    for change in reversed(account.history):
        if change.action in ("activated", "reactivated", REACTIVATED):
            return change.at
    return account.requested_at


def assess(
    account: Account,
    credential: Credential | None,
    last_post_at: datetime | None,
    now: datetime,
    thresholds: Thresholds,
    *,
    posts_known: bool = True,
) -> Finding:
    """The signals an account shows now, each with a plain explanation. ``posts_known`` is False for an account
    not linked to its platform id: its posts cannot be looked up, so silence is not held against it."""
    found: dict[Signal, str] = {}
    since = last_post_at or _activated_at(account)
    quiet = _days(now - since)
    if posts_known and quiet >= thresholds.no_post_days:
        what = "last post" if last_post_at else "no post since activation"
        found[Signal.NO_POST] = f"{what} {quiet} days ago (threshold {thresholds.no_post_days})"
    if not account.stewards:
        found[Signal.NO_STEWARD] = "no steward left"
    if credential is None:
        found[Signal.CREDENTIAL_STALE] = "the vault holds no credential for it"
    else:
        touched = max(
            t
            for t in (credential.created_at, credential.password_changed_at, credential.tokens_refreshed_at)
            if t is not None
        )
        age = _days(now - touched)
        if age >= thresholds.credential_days:
            found[Signal.CREDENTIAL_STALE] = (
                f"not verified or rotated for {age} days (threshold {thresholds.credential_days})"
            )
        if (
            credential.has_tokens
            and credential.token_expires_at is not None
            and credential.token_expires_at <= now
        ):
            found[Signal.TOKEN_DEAD] = (
                f"the token expired {_days(now - credential.token_expires_at)} days ago"
            )
        failure = credential.rotation.last_failure if credential.rotation else None
        if failure is not None and any(word in failure.message.lower() for word in _REVOKED):
            found[Signal.TOKEN_DEAD] = "the platform refused the token: revoked"
    missing = account.missing_disclosures()
    if missing:
        found[Signal.DISCLOSURES_MISSING] = "missing: " + ", ".join(str(m) for m in missing)
    ordered = tuple(s for s in Signal if s in found)
    return Finding(signals=ordered, details={str(s): found[s] for s in ordered})


class Step(StrEnum):
    NOTHING = "nothing"
    WARN = "warn"  # active → dormant, stewards and communications told
    ABANDON = "abandon"  # dormant (warned) past the grace period → abandoned, retirement proposed
    REACTIVATE = "reactivate"  # dormant because of the sweep, signals cleared → active
    AWAITING_RETIREMENT = "awaiting_retirement"  # abandoned: communications confirms the retirement


def warned_at(account: Account) -> datetime | None:
    """When the sweep last warned the account, if its dormancy is the sweep's."""
    for change in reversed(account.history):
        if change.to_status is not AccountStatus.DORMANT or change.from_status is AccountStatus.DORMANT:
            continue
        return change.at if change.action == WARNED else None
    return None


def next_step(account: Account, finding: Finding, now: datetime, thresholds: Thresholds) -> Step:
    if account.status is AccountStatus.ACTIVE:
        return Step.WARN if finding.signals else Step.NOTHING
    if account.status is AccountStatus.DORMANT:
        warned = warned_at(account)
        if warned is None:  # made dormant by a person: theirs to undo
            return Step.NOTHING
        if not finding.signals:
            return Step.REACTIVATE if account.admin_shortfall == 0 else Step.NOTHING
        return Step.ABANDON if now - warned >= timedelta(days=thresholds.grace_days) else Step.NOTHING
    if account.status is AccountStatus.ABANDONED:
        return Step.AWAITING_RETIREMENT
    return Step.NOTHING
