"""The abandoned-account sweep's rules (pure): each signal, the thresholds' checks, and the next step."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shared.domain import abandonment
from shared.domain.abandonment import Signal, Step, SweepConfig, Thresholds
from shared.domain.accounts import Account, AccountStatus, DisclosureItem
from shared.domain.credentials import (
    Credential,
    CredentialKind,
    Rotation,
    RotationFailure,
    RotationStep,
)
from shared.errors import BadRequest, Forbidden
from tests.unit.test_accounts_domain import T0, active

LIMITS = Thresholds(no_post_days=60, credential_days=180, grace_days=14)
NOW = T0 + timedelta(days=30)


def credential(**changes: object) -> Credential:
    base = Credential(
        account_id="a" * 32,
        secret_id="steward/accounts/x",
        login_email="social@district.example.org",
        current_version="v1",
        has_password=True,
        has_tokens=True,
        token_expires_at=NOW + timedelta(days=40),
        created_at=T0,
        updated_at=T0,
    )
    return base.model_copy(update=changes)


def signals(account: Account, cred: Credential | None, last: datetime | None, **kw: object) -> set[Signal]:
    return set(abandonment.assess(account, cred, last, NOW, LIMITS, **kw).signals)  # type: ignore[arg-type]


def test_a_healthy_account_shows_no_signal() -> None:
    assert signals(active(), credential(), NOW - timedelta(days=3)) == set()


def test_no_post_counts_from_the_last_post_or_from_activation() -> None:
    account = active()
    assert Signal.NO_POST in signals(account, credential(), NOW - timedelta(days=60))
    assert Signal.NO_POST not in signals(account, credential(), NOW - timedelta(days=59))
    assert Signal.NO_POST not in signals(account, credential(), None)  # activated 30 days ago
    later = abandonment.assess(account, credential(), None, NOW + timedelta(days=40), LIMITS)
    assert later.details["no_post"].startswith("no post since activation")
    assert Signal.NO_POST not in signals(account, credential(), None, posts_known=False)


def test_each_credential_and_register_signal() -> None:
    account = active()
    recent = NOW - timedelta(days=1)
    assert Signal.CREDENTIAL_STALE in signals(account, None, recent)
    assert Signal.CREDENTIAL_STALE in signals(
        account, credential(created_at=NOW - timedelta(days=200)), recent
    )
    rotated = credential(created_at=NOW - timedelta(days=200), password_changed_at=NOW - timedelta(days=5))
    assert Signal.CREDENTIAL_STALE not in signals(account, rotated, recent)
    assert Signal.TOKEN_DEAD in signals(
        account, credential(token_expires_at=NOW - timedelta(hours=1)), recent
    )
    failing = Rotation(
        kind=CredentialKind.TOKEN,
        version_id="v2",
        started_by="system:rotation",
        started_at=NOW - timedelta(days=1),
        reason="expiring",
        last_failure=RotationFailure(
            step=RotationStep.CREATE, at=NOW, message="invalid_grant: token revoked"
        ),
    )
    assert Signal.TOKEN_DEAD in signals(account, credential(rotation=failing), recent)
    orphaned = account.model_copy(update={"stewards": ()})
    assert Signal.NO_STEWARD in signals(orphaned, credential(), recent)
    undisclosed = account.model_copy(
        update={"disclosures": tuple(d for d in account.disclosures if d.item is not DisclosureItem.PURPOSE)}
    )
    found = abandonment.assess(undisclosed, credential(), recent, NOW, LIMITS)
    assert found.signals == (Signal.DISCLOSURES_MISSING,)
    assert "purpose" in found.reason


def test_the_steps_warn_wait_abandon_and_reactivate() -> None:
    account = active()
    quiet = abandonment.assess(account, credential(), NOW - timedelta(days=90), NOW, LIMITS)
    assert abandonment.next_step(account, quiet, NOW, LIMITS) is Step.WARN
    warned = account.swept(
        AccountStatus.DORMANT, abandonment.WARNED, actor=abandonment.SWEEP_ACTOR, at=NOW, reason=quiet.reason
    )
    assert abandonment.warned_at(warned) == NOW
    assert abandonment.next_step(warned, quiet, NOW + timedelta(days=13), LIMITS) is Step.NOTHING
    assert abandonment.next_step(warned, quiet, NOW + timedelta(days=14), LIMITS) is Step.ABANDON
    clear = abandonment.assess(account, credential(), NOW, NOW, LIMITS)
    assert abandonment.next_step(warned, clear, NOW + timedelta(days=1), LIMITS) is Step.REACTIVATE
    abandoned = warned.swept(
        AccountStatus.ABANDONED, abandonment.ABANDONED, actor=abandonment.SWEEP_ACTOR, at=NOW, reason="x"
    )
    assert abandonment.next_step(abandoned, quiet, NOW, LIMITS) is Step.AWAITING_RETIREMENT


def test_only_a_system_actor_sweeps_and_only_an_abandoned_account_is_retired_this_way() -> None:
    account = active()
    with pytest.raises(Forbidden):
        account.swept(AccountStatus.DORMANT, abandonment.WARNED, actor="user:kim", at=NOW, reason="x")
    with pytest.raises(Exception, match="only an abandoned account"):
        account.retire_abandoned(actor="user:kim", roles=("communications",), at=NOW, reason="gone")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"default": {"no_post_days": 0}}, "no_post_days"),
        ({"default": {"grace_days": 90, "no_post_days": 60}}, "must be shorter"),
        ({"default": {}, "platforms": {"tiktok": {}}}, "platforms"),
        ({}, "default thresholds are required"),
    ],
)
def test_bad_thresholds_are_named(data: dict[str, object], words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        abandonment.parse_config(data, actor="user:kim", at=NOW)


def test_a_platform_may_have_its_own_thresholds() -> None:
    config = abandonment.parse_config(
        {"default": {}, "platforms": {"x": {"no_post_days": 30, "credential_days": 90, "grace_days": 7}}},
        actor="user:kim",
        at=NOW,
    )
    assert isinstance(config, SweepConfig)
    assert config.for_platform("x").no_post_days == 30  # type: ignore[arg-type]
    assert config.for_platform("facebook").no_post_days == 90  # type: ignore[arg-type]
