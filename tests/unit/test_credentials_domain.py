"""Credentials: validation, redaction, password generation, checkout, the rotation state machine and its policy."""

from __future__ import annotations

import base64
import json
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shared.domain.credentials import (
    AMBIGUOUS,
    DIGITS,
    LOWER,
    SYMBOLS,
    UPPER,
    Credential,
    CredentialKind,
    CredentialValues,
    DueReason,
    PlatformTokens,
    RotationPhase,
    RotationPolicy,
    RotationRequest,
    RotationStep,
    audit_details,
    cancel_rotation,
    check_pending_password,
    checkout,
    complete_step,
    confirm_set,
    create_pending,
    due_reasons,
    finish,
    flag_offboarding,
    from_secret_string,
    generate_password,
    hand_over,
    is_due,
    kinds_due,
    new_credential,
    next_due_at,
    next_token_refresh,
    parse_requests,
    parse_values,
    pending_values,
    raise_flags,
    record_failure,
    report_compromise,
    secret_strings,
    start_rotation,
)
from shared.errors import BadRequest, Conflict, Forbidden

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DOMAINS = ("district.org",)
IT = ("it",)
PASSWORD = "Correct-Horse-Battery-Staple-42"
SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ACCESS = "EAAGm0PX4ZCpsBA-page-token-1"
REFRESH = "refresh-token-abcdef-1"
V1, V2 = "v1-00000000", "v2-00000000"


def raw(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "login_email": "Social.Lincoln@District.org",
        "password": PASSWORD,
        "mfa_seed": SEED,
        "recovery_codes": ["code-1111", "code-2222"],
        "tokens": {
            "page_access_token": ACCESS,
            "refresh_token": REFRESH,
            "expires_at": T0 + timedelta(days=60),
        },
    }
    return {**data, **changes}


def values(**changes: Any) -> CredentialValues:
    return parse_values(raw(**changes), district_domains=DOMAINS)


def stored(vals: CredentialValues | None = None) -> Credential:
    return new_credential(
        account_id="acct-1",
        secret_id="steward/accounts/acct-1",
        values=vals or values(),
        version_id=V1,
        actor="it@district.org",
        at=T0,
    )


# ── values ────────────────────────────────────────────────────────────────────────────────────────────────────


def test_valid_values_are_normalised() -> None:
    vals = values(mfa_seed="jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp")
    assert vals.login_email == "social.lincoln@district.org"
    assert vals.mfa_seed is not None
    assert vals.mfa_seed.get_secret_value() == SEED
    assert vals.tokens is not None
    assert vals.tokens.expires_at == T0 + timedelta(days=60)


@pytest.mark.parametrize(
    "email",
    [
        "someone@gmail.com",
        "someone@district.org.evil.com",
        "someone@evildistrict.org",
        "someone@sub.district.org",  # only the configured domains, exactly
        "not-an-email",
        "",
    ],
)
def test_a_login_email_off_the_district_domain_is_refused(email: str) -> None:
    with pytest.raises(BadRequest, match="login_email"):
        values(login_email=email)


def test_the_district_domains_are_configurable() -> None:
    vals = parse_values(raw(login_email="x@schools.example.net"), district_domains=["@Schools.Example.NET"])
    assert vals.login_email == "x@schools.example.net"
    with pytest.raises(BadRequest, match="not configured"):
        parse_values(raw(), district_domains=[])


@pytest.mark.parametrize(
    ("changes", "field", "secret"),
    [
        ({"password": "Short-pass-1"}, "password", "Short-pass-1"),
        ({"password": "x" * 300}, "password", "x" * 300),
        ({"password": "has\x00control-characters"}, "password", "has\x00control-characters"),
        ({"mfa_seed": "NOT-BASE32-!!-SEED-VALUE"}, "mfa_seed", "NOT-BASE32-!!-SEED-VALUE"),
        ({"mfa_seed": "JBSWY3DP"}, "mfa_seed", "JBSWY3DP"),
        ({"recovery_codes": ["dup-code-1", "dup-code-1"]}, "recovery_codes", "dup-code-1"),
        ({"recovery_codes": ["abc"]}, "recovery_codes", "abc"),
        ({"tokens": {"page_access_token": "has spaces in it"}}, "page_access_token", "has spaces in it"),
        ({"tokens": {"page_access_token": "short"}}, "page_access_token", "short"),
    ],
)
def test_invalid_secret_values_are_refused_without_echoing_them(
    changes: dict[str, Any], field: str, secret: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        values(**changes)
    text = json.dumps(caught.value.body()) + str(caught.value) + repr(caught.value)
    assert field in text
    assert secret not in text


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(BadRequest, match="Extra inputs"):
        values(pin="1234")


def test_the_secret_string_round_trips() -> None:
    vals = values()
    again = from_secret_string(vals.to_secret_string(), district_domains=DOMAINS)
    assert again.revealed() == vals.revealed()
    with pytest.raises(BadRequest, match="not JSON"):
        from_secret_string("{nope", district_domains=DOMAINS)
    with pytest.raises(BadRequest, match="JSON object"):
        from_secret_string("[]", district_domains=DOMAINS)


def test_secret_strings_lists_every_secret_and_not_the_email() -> None:
    assert sorted(secret_strings(values())) == sorted(
        [PASSWORD, SEED, "code-1111", "code-2222", ACCESS, REFRESH]
    )
    assert secret_strings(values(password=None, mfa_seed=None, recovery_codes=[], tokens=None)) == []


def test_redacted_says_which_parts_exist() -> None:
    assert values().redacted() == {
        "login_email": "social.lincoln@district.org",
        "password_set": True,
        "mfa_configured": True,
        "recovery_codes": 2,
        "tokens": {
            "page_access_token_set": True,
            "refresh_token_set": True,
            "expires_at": "2027-01-20T12:00:00.000000Z",
        },
    }


# Hypothesis: whatever the values, no view meant for listings, audit or logs contains one of them.

_printable = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp", "Cn", "Co", "Cf"))
_token = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=8, max_size=80)
_secret_values = st.fixed_dictionaries(
    {
        "login_email": st.just("social@district.org"),
        "password": st.text(alphabet=_printable, min_size=15, max_size=64).filter(lambda p: p.strip() == p),
        "mfa_seed": st.binary(min_size=10, max_size=32).map(
            lambda b: base64.b32encode(b).decode().rstrip("=")
        ),
        "recovery_codes": st.lists(
            st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=8, max_size=16),
            max_size=8,
            unique=True,
        ),
        "tokens": st.fixed_dictionaries(
            {
                "page_access_token": _token,
                "refresh_token": _token,
                "expires_at": st.datetimes(  # hypothesis takes naive bounds and adds the zone
                    min_value=datetime(2026, 1, 1),  # noqa: DTZ001
                    max_value=datetime(2030, 1, 1),  # noqa: DTZ001
                    timezones=st.just(UTC),
                ),
            }
        ),
    }
)


def _views(vals: CredentialValues) -> list[str]:
    credential = stored(vals)
    credential, given_out = checkout(
        credential, vals, actor="it@district.org", roles=IT, reason="posting", at=T0
    )
    credential = start_rotation(
        credential,
        CredentialKind.PASSWORD,
        version_id=V2,
        actor="it@district.org",
        at=T0,
        reason="after checkout",
    )
    pending = pending_values(vals, CredentialKind.PASSWORD, new=generate_password())
    credential = create_pending(credential, version_id=V2, pending=pending, actor="system:rotation", at=T0)
    credential, handed = hand_over(
        credential, pending, version_id=V2, actor="it@district.org", roles=IT, at=T0
    )
    objects: list[Any] = [
        vals.redacted(),
        audit_details(credential),
        given_out.audit_details(),
        [event.model_dump(mode="json") for event in credential.history],
    ]
    texts = [json.dumps(o, ensure_ascii=False, default=str) for o in objects]
    texts += [json.dumps(o, default=str) for o in objects]
    # Masked: repr, str and pydantic dumps of the objects that do hold values.
    for holder in (vals, given_out, handed, pending):
        texts += [repr(holder), str(holder), holder.model_dump_json()]
    texts += [credential.model_dump_json(), repr(credential)]
    return texts


def _canaries(data: dict[str, Any]) -> dict[str, Any]:
    """The same credential with every secret replaced by a canary: its views show what is not secret."""
    codes = [f"canary-code-{i}" for i, _ in enumerate(data["recovery_codes"])]
    tokens = {**data["tokens"], "page_access_token": "canary-access", "refresh_token": "canary-refresh"}
    return {
        **data,
        "password": "canary-password-x",
        "mfa_seed": "7" * 32,
        "recovery_codes": codes,
        "tokens": tokens,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_secret_values)
def test_no_view_for_listings_audit_or_logs_contains_a_secret(data: dict[str, Any]) -> None:
    vals = parse_values(data, district_domains=DOMAINS)
    secrets_in = secret_strings(vals)
    assert len(secrets_in) == 4 + len(data["recovery_codes"])
    # A secret that happens to equal part of the non-secret text (an id, a time) proves nothing: skip it.
    baseline = "\n".join(_views(parse_values(_canaries(data), district_domains=DOMAINS)))
    for secret in secrets_in:
        assume(secret not in baseline)
    for text in _views(vals):
        for secret in secrets_in:
            assert secret not in text
            assert json.dumps(secret)[1:-1] not in text


def test_the_one_time_responses_do_carry_the_values() -> None:
    vals = values()
    _, given_out = checkout(stored(vals), vals, actor="it@district.org", roles=IT, reason="posting", at=T0)
    body = json.dumps(given_out.response())
    assert all(secret in body for secret in secret_strings(vals))


# ── password generation ───────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("length", [20, 24, 64, 128])
def test_generated_passwords_have_every_class_and_no_ambiguous_character(length: int) -> None:
    for _ in range(50):
        password = generate_password(length)
        assert len(password) == length
        for group in (UPPER, LOWER, DIGITS, SYMBOLS):
            assert any(c in group for c in password)
        assert not set(password) & AMBIGUOUS
        values(password=password)  # the stored-value rules accept it


def test_generated_passwords_are_unique() -> None:
    assert len({generate_password() for _ in range(500)}) == 500
    assert len(generate_password()) >= 20


@pytest.mark.parametrize("length", [15, 19, 129])
def test_generated_password_lengths_are_bounded(length: int) -> None:
    with pytest.raises(BadRequest):
        generate_password(length)


# ── rotation: the happy paths ─────────────────────────────────────────────────────────────────────────────────

REFRESHED = PlatformTokens.model_validate(
    {
        "page_access_token": "EAAG-new-page-token-2",
        "refresh_token": "refresh-token-2",
        "expires_at": T0 + timedelta(days=90),
    }
)


def test_a_token_rotation_walks_the_four_steps() -> None:
    vals = values()
    credential = flag_offboarding(stored(vals), staff="left@district.org", actor="system:offboarding", at=T0)
    credential = start_rotation(
        credential,
        CredentialKind.TOKEN,
        version_id=V2,
        actor="system:scheduler",
        at=T0,
        reason="token expiring",
    )
    assert credential.rotation is not None
    assert credential.rotation.next_step is RotationStep.CREATE
    pending = pending_values(vals, CredentialKind.TOKEN, new=REFRESHED)
    assert pending.password == vals.password
    credential = create_pending(credential, version_id=V2, pending=pending, actor="system:rotation", at=T0)
    credential = complete_step(credential, RotationStep.SET, version_id=V2, actor="system:rotation", at=T0)
    credential = complete_step(credential, RotationStep.TEST, version_id=V2, actor="system:rotation", at=T0)
    assert credential.current_version == V1  # AWSCURRENT has not moved yet
    later = T0 + timedelta(minutes=1)
    credential = complete_step(
        credential, RotationStep.FINISH, version_id=V2, actor="system:rotation", at=later
    )
    assert credential.rotation is None
    assert (credential.current_version, credential.previous_version) == (V2, V1)
    assert credential.token_expires_at == T0 + timedelta(days=90)
    assert credential.tokens_refreshed_at == later
    # the offboarding flag of the token is cleared; the password's remains until it is rotated too
    assert [(f.kind, f.reason) for f in credential.due] == [(CredentialKind.PASSWORD, DueReason.OFFBOARDING)]
    steps = [e.details.get("step") for e in credential.history if e.action == "rotation_step"]
    assert steps == ["createSecret", "setSecret", "testSecret"]
    assert credential.history[-1].action == "rotation_finished"


def password_rotation_until(phase: RotationPhase) -> tuple[Credential, CredentialValues]:
    vals = values()
    credential = start_rotation(
        stored(vals),
        CredentialKind.PASSWORD,
        version_id=V2,
        actor="it@district.org",
        at=T0,
        reason="checked out",
    )
    pending = pending_values(vals, CredentialKind.PASSWORD, new=generate_password())
    if phase is RotationPhase.STARTED:
        return credential, pending
    credential = create_pending(credential, version_id=V2, pending=pending, actor="system:rotation", at=T0)
    if phase is RotationPhase.CREATED:
        return credential, pending
    credential, _ = hand_over(credential, pending, version_id=V2, actor="it@district.org", roles=IT, at=T0)
    if phase is RotationPhase.HANDED_OVER:
        return credential, pending
    credential = confirm_set(credential, version_id=V2, actor="it2@district.org", roles=IT, at=T0)
    if phase is RotationPhase.SET:
        return credential, pending
    credential = complete_step(credential, RotationStep.TEST, version_id=V2, actor="system:rotation", at=T0)
    return credential, pending


def test_a_password_rotation_is_assisted_and_handed_over_once() -> None:
    credential, pending = password_rotation_until(RotationPhase.CREATED)
    assert credential.rotation is not None
    assert credential.rotation.next_step == "hand_over"
    credential, given_out = hand_over(
        credential, pending, version_id=V2, actor="it@district.org", roles=IT, at=T0
    )
    assert pending.password is not None
    assert given_out.response()["password"] == pending.password.get_secret_value()
    assert len(given_out.response()["password"]) >= 20
    with pytest.raises(Conflict, match=r"already handed over to it@district\.org"):
        hand_over(credential, pending, version_id=V2, actor="it@district.org", roles=IT, at=T0)
    # setSecret waits for the person
    with pytest.raises(Conflict, match="confirm_set"):
        complete_step(credential, RotationStep.SET, version_id=V2, actor="system:rotation", at=T0)
    credential = confirm_set(credential, version_id=V2, actor="it@district.org", roles=IT, at=T0, note="done")
    credential = complete_step(
        credential, RotationStep.SET, version_id=V2, actor="system:rotation", at=T0
    )  # no-op
    credential = complete_step(credential, RotationStep.TEST, version_id=V2, actor="system:rotation", at=T0)
    credential = finish(credential, version_id=V2, actor="system:rotation", at=T0 + timedelta(hours=1))
    assert (credential.current_version, credential.rotation) == (V2, None)
    assert credential.password_changed_at == T0 + timedelta(hours=1)


@pytest.mark.parametrize("roles", [(), ("communications",), ("staff", "moderators")])
def test_only_it_receives_and_confirms_a_password(roles: tuple[str, ...]) -> None:
    credential, pending = password_rotation_until(RotationPhase.CREATED)
    with pytest.raises(Forbidden):
        hand_over(credential, pending, version_id=V2, actor="x@district.org", roles=roles, at=T0)
    credential, _ = hand_over(credential, pending, version_id=V2, actor="it@district.org", roles=IT, at=T0)
    with pytest.raises(Forbidden):
        confirm_set(credential, version_id=V2, actor="x@district.org", roles=roles, at=T0)


def test_a_second_rotation_is_refused_while_one_is_in_progress() -> None:
    credential, _ = password_rotation_until(RotationPhase.CREATED)
    for kind in CredentialKind:
        with pytest.raises(Conflict) as caught:
            start_rotation(
                credential, kind, version_id="v3", actor="other@district.org", at=T0, reason="again"
            )
        assert caught.value.message == (
            "a rotation is already in progress since 2026-11-21T12:00:00.000000Z by it@district.org"
        )
        assert caught.value.status == 409
    # the same start again (a retry of the same request) changes nothing
    assert (
        start_rotation(
            credential,
            CredentialKind.PASSWORD,
            version_id=V2,
            actor="it@district.org",
            at=T0,
            reason="checked out",
        )
        is credential
    )


def test_start_rotation_refuses_bad_input() -> None:
    credential = stored(values(tokens=None))
    with pytest.raises(BadRequest, match="no platform tokens"):
        start_rotation(credential, CredentialKind.TOKEN, version_id=V2, actor="a", at=T0, reason="refresh")
    with pytest.raises(BadRequest, match="reason"):
        start_rotation(credential, CredentialKind.PASSWORD, version_id=V2, actor="a", at=T0, reason="  ")
    with pytest.raises(BadRequest, match="new version"):
        start_rotation(credential, CredentialKind.PASSWORD, version_id=V1, actor="a", at=T0, reason="rotate")


def test_pending_values_are_checked() -> None:
    vals = values()
    with pytest.raises(BadRequest, match="at least 20"):
        pending_values(vals, CredentialKind.PASSWORD, new="Only-Fifteen-15")
    with pytest.raises(BadRequest, match="differ"):
        pending_values(
            values(password="A-Long-Password-Of-22!"), CredentialKind.PASSWORD, new="A-Long-Password-Of-22!"
        )
    with pytest.raises(BadRequest, match="refreshed tokens"):
        pending_values(vals, CredentialKind.TOKEN, new="not tokens at all")
    with pytest.raises(BadRequest, match="new password"):
        pending_values(vals, CredentialKind.PASSWORD, new=REFRESHED)
    credential = start_rotation(
        stored(vals), CredentialKind.PASSWORD, version_id=V2, actor="a", at=T0, reason="go now"
    )
    other = values(login_email="someone.else@district.org", password=generate_password())
    with pytest.raises(BadRequest, match="login email"):
        create_pending(credential, version_id=V2, pending=other, actor="system:rotation", at=T0)


# ── rotation: illegal orders ──────────────────────────────────────────────────────────────────────────────────

Step = Callable[[Credential, CredentialValues], object]


def _step(step: RotationStep) -> Step:
    return lambda c, _p: complete_step(c, step, version_id=V2, actor="system:rotation", at=T0)


def _hand(c: Credential, p: CredentialValues) -> object:
    return hand_over(c, p, version_id=V2, actor="it@district.org", roles=IT, at=T0)


def _confirm(c: Credential, _p: CredentialValues) -> object:
    return confirm_set(c, version_id=V2, actor="it@district.org", roles=IT, at=T0)


@pytest.mark.parametrize(
    ("phase", "action"),
    [
        (RotationPhase.STARTED, _step(RotationStep.SET)),
        (RotationPhase.STARTED, _step(RotationStep.TEST)),
        (RotationPhase.STARTED, _step(RotationStep.FINISH)),
        (RotationPhase.STARTED, _hand),
        (RotationPhase.STARTED, _confirm),
        (RotationPhase.CREATED, _step(RotationStep.SET)),  # a password's setSecret waits for the person
        (RotationPhase.CREATED, _step(RotationStep.TEST)),
        (RotationPhase.CREATED, _step(RotationStep.FINISH)),
        (RotationPhase.CREATED, _confirm),  # confirming before it was handed over
        (RotationPhase.HANDED_OVER, _step(RotationStep.TEST)),
        (RotationPhase.HANDED_OVER, _step(RotationStep.FINISH)),
        (RotationPhase.SET, _step(RotationStep.FINISH)),
        (RotationPhase.SET, _hand),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_illegal_step_orders_are_refused_and_change_nothing(phase: RotationPhase, action: Step) -> None:
    credential, pending = password_rotation_until(phase)
    with pytest.raises(Conflict):
        action(credential, pending)
    assert credential.current_version == V1
    assert credential.rotation is not None
    assert credential.rotation.phase is phase


def test_token_rotation_orders_and_hand_over() -> None:
    vals = values()
    credential = start_rotation(
        stored(vals), CredentialKind.TOKEN, version_id=V2, actor="s", at=T0, reason="expiring"
    )
    pending = pending_values(vals, CredentialKind.TOKEN, new=REFRESHED)
    with pytest.raises(Conflict):
        complete_step(credential, RotationStep.SET, version_id=V2, actor="s", at=T0)
    credential = create_pending(credential, version_id=V2, pending=pending, actor="s", at=T0)
    with pytest.raises(Conflict, match="only a password rotation"):
        hand_over(credential, pending, version_id=V2, actor="it@district.org", roles=IT, at=T0)
    with pytest.raises(Conflict, match="only a password rotation"):
        confirm_set(credential, version_id=V2, actor="it@district.org", roles=IT, at=T0)
    with pytest.raises(Conflict):
        complete_step(credential, RotationStep.TEST, version_id=V2, actor="s", at=T0)


def test_steps_need_the_rotation_they_belong_to() -> None:
    with pytest.raises(Conflict, match="no rotation"):
        complete_step(stored(), RotationStep.SET, version_id=V2, actor="s", at=T0)
    credential, _ = password_rotation_until(RotationPhase.CREATED)
    with pytest.raises(Conflict, match="not v9"):
        complete_step(credential, RotationStep.TEST, version_id="v9", actor="s", at=T0)
    with pytest.raises(BadRequest, match="create_pending"):
        complete_step(credential, RotationStep.CREATE, version_id=V2, actor="s", at=T0)


# ── rotation: cancel, failures, resume ────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("phase", [RotationPhase.STARTED, RotationPhase.CREATED, RotationPhase.HANDED_OVER])
def test_cancel_restores_the_current_values(phase: RotationPhase) -> None:
    credential, _ = password_rotation_until(phase)
    cancelled = cancel_rotation(
        credential, version_id=V2, actor="it@district.org", roles=IT, at=T0, reason="the platform was down"
    )
    assert cancelled.rotation is None
    assert (cancelled.current_version, cancelled.previous_version) == (V1, None)
    assert cancelled.history[-1].action == "rotation_cancelled"
    assert cancelled.history[-1].details["restored"] == V1
    # a new rotation may start
    again = start_rotation(
        cancelled, CredentialKind.PASSWORD, version_id="v3", actor="a", at=T0, reason="retry"
    )
    assert again.rotation is not None


@pytest.mark.parametrize("phase", [RotationPhase.SET, RotationPhase.TESTED])
def test_cancel_is_refused_once_the_platform_uses_the_new_values(phase: RotationPhase) -> None:
    credential, _ = password_rotation_until(phase)
    with pytest.raises(Conflict, match="finish the rotation"):
        cancel_rotation(credential, version_id=V2, actor="it@district.org", roles=IT, at=T0, reason="oops")


def test_a_token_rotation_cannot_be_cancelled_once_the_platform_issued_new_tokens() -> None:
    vals = values()
    credential = start_rotation(
        stored(vals), CredentialKind.TOKEN, version_id=V2, actor="s", at=T0, reason="expiring"
    )
    cancelled = cancel_rotation(
        credential, version_id=V2, actor="it@district.org", roles=IT, at=T0, reason="changed my mind"
    )
    assert cancelled.rotation is None  # nothing was issued yet
    pending = pending_values(vals, CredentialKind.TOKEN, new=REFRESHED)
    created = create_pending(credential, version_id=V2, pending=pending, actor="s", at=T0)
    later = [created, complete_step(created, RotationStep.SET, version_id=V2, actor="s", at=T0)]
    for phase_credential in later:
        with pytest.raises(Conflict, match="finish or resume") as refused:
            cancel_rotation(
                phase_credential, version_id=V2, actor="it@district.org", roles=IT, at=T0, reason="oops"
            )
        assert refused.value.status == 409
        assert phase_credential.rotation is not None


def test_cancel_needs_a_role_and_a_reason() -> None:
    credential, _ = password_rotation_until(RotationPhase.CREATED)
    with pytest.raises(Forbidden):
        cancel_rotation(credential, version_id=V2, actor="x", roles=("staff",), at=T0, reason="because")
    with pytest.raises(BadRequest, match="reason"):
        cancel_rotation(credential, version_id=V2, actor="x", roles=IT, at=T0, reason="")


def _run(credential: Credential, pending: CredentialValues, step: RotationStep) -> Credential:
    if step is RotationStep.CREATE:
        return create_pending(credential, version_id=V2, pending=pending, actor="system:rotation", at=T0)
    return complete_step(credential, step, version_id=V2, actor="system:rotation", at=T0)


@pytest.mark.parametrize("kind", list(CredentialKind))
@pytest.mark.parametrize("failing", list(RotationStep))
def test_a_failure_at_any_step_keeps_awscurrent_and_the_rotation_resumes(
    kind: CredentialKind, failing: RotationStep
) -> None:
    vals = values()
    credential = start_rotation(stored(vals), kind, version_id=V2, actor="s", at=T0, reason="rotate now")
    new: PlatformTokens | str = REFRESHED if kind is CredentialKind.TOKEN else generate_password()
    pending = pending_values(vals, kind, new=new)
    for step in RotationStep:
        if step is failing:
            failed = record_failure(
                credential, step, version_id=V2, message="ServiceUnavailable", actor="system:rotation", at=T0
            )
            assert failed.current_version == V1  # AWSCURRENT still works
            assert failed.rotation is not None
            assert failed.rotation.attempts == 1
            assert failed.rotation.last_failure is not None
            assert failed.rotation.last_failure.step is step
            assert failed.rotation.phase is (credential.rotation.phase if credential.rotation else None)
            with pytest.raises(Conflict, match="already in progress"):
                start_rotation(failed, kind, version_id="v3", actor="other", at=T0, reason="again")
            credential = failed  # resume: run the same step again
        if kind is CredentialKind.PASSWORD and step is RotationStep.SET:
            credential, _ = hand_over(
                credential, pending, version_id=V2, actor="it@district.org", roles=IT, at=T0
            )
            credential = confirm_set(credential, version_id=V2, actor="it@district.org", roles=IT, at=T0)
        credential = _run(credential, pending, step)
        if step is not RotationStep.FINISH:
            assert credential.rotation is not None
            assert credential.rotation.last_failure is None  # cleared by the success
        assert _run(credential, pending, step) == credential  # a retried step changes nothing
    assert (credential.current_version, credential.previous_version, credential.rotation) == (V2, V1, None)


# ── checkout ──────────────────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("roles", [("it",), ("communications",), ("staff", "communications")])
def test_checkout_returns_the_values_once_and_flags_rotation(roles: tuple[str, ...]) -> None:
    vals = values()
    credential = stored(vals)
    changed, given_out = checkout(
        credential, vals, actor="dir@district.org", roles=roles, reason=" post the bond notice ", at=T0
    )
    assert given_out.values is vals
    assert given_out.version_id == V1
    assert given_out.reason == "post the bond notice"
    assert changed.checkouts == 1
    assert changed.rotation_due
    assert {(f.kind, f.reason) for f in changed.due} == {
        (CredentialKind.PASSWORD, DueReason.CHECKOUT),
        (CredentialKind.TOKEN, DueReason.CHECKOUT),
    }
    assert all(f.detail.startswith("checked out by dir@district.org") for f in changed.due)
    assert changed.history[-1].action == "checked_out"
    assert changed.history[-1].reason == "post the bond notice"
    assert "values" not in Credential.model_fields  # the stored state has no place for them
    assert credential.due == ()  # the input is unchanged (frozen)


@pytest.mark.parametrize("roles", [(), ("staff",), ("moderators", "records", "principals")])
def test_checkout_is_for_it_and_communications_only(roles: tuple[str, ...]) -> None:
    vals = values()
    with pytest.raises(Forbidden):
        checkout(stored(vals), vals, actor="x@district.org", roles=roles, reason="curious", at=T0)


@pytest.mark.parametrize("reason", ["", "  ", "ab", "x" * 501])
def test_checkout_needs_a_reason_of_3_to_500_characters(reason: str) -> None:
    vals = values()
    with pytest.raises(BadRequest, match="reason"):
        checkout(stored(vals), vals, actor="it@district.org", roles=IT, reason=reason, at=T0)


def test_checkout_refuses_values_of_another_credential() -> None:
    with pytest.raises(Conflict):
        checkout(
            stored(),
            values(login_email="other@district.org"),
            actor="it@district.org",
            roles=IT,
            reason="posting",
            at=T0,
        )


def test_checkout_during_a_rotation_gives_the_current_version() -> None:
    credential, _ = password_rotation_until(RotationPhase.HANDED_OVER)
    _, given_out = checkout(credential, values(), actor="it@district.org", roles=IT, reason="posting", at=T0)
    assert given_out.version_id == V1


# ── policy ────────────────────────────────────────────────────────────────────────────────────────────────────


def test_passwords_are_never_due_by_age_alone() -> None:
    credential = stored(values(tokens=None))
    ten_years = T0 + timedelta(days=3650)
    assert due_reasons(credential, ten_years) == []
    assert not is_due(credential, CredentialKind.PASSWORD, ten_years)


def test_checkout_compromise_and_offboarding_make_every_kind_due() -> None:
    credential = stored()
    credential = report_compromise(
        credential, actor="it@district.org", at=T0, reason="phishing email clicked"
    )
    credential = flag_offboarding(credential, staff="left@district.org", actor="system:offboarding", at=T0)
    assert (
        flag_offboarding(credential, staff="left@district.org", actor="system:offboarding", at=T0)
        is credential
    )
    reasons = {(d.kind, d.reason) for d in due_reasons(credential, T0)}
    assert reasons == {
        (kind, reason) for kind in CredentialKind for reason in (DueReason.COMPROMISE, DueReason.OFFBOARDING)
    }
    details = {d.detail for d in due_reasons(credential, T0)}
    assert details == {"compromise reported by it@district.org", "offboarding of left@district.org"}
    with pytest.raises(BadRequest, match="reason"):
        report_compromise(credential, actor="it@district.org", at=T0, reason="")


def test_tokens_are_due_before_they_expire() -> None:
    credential = stored()  # expires T0 + 60 days
    expires = T0 + timedelta(days=60)
    assert not is_due(credential, CredentialKind.TOKEN, expires - timedelta(days=8))
    (due,) = due_reasons(credential, expires - timedelta(days=7))
    assert (due.kind, due.reason) == (CredentialKind.TOKEN, DueReason.TOKEN_EXPIRING)
    (due,) = due_reasons(credential, expires)
    assert due.reason is DueReason.TOKEN_EXPIRED
    policy = RotationPolicy(token_refresh_margin=timedelta(days=14))
    assert is_due(credential, CredentialKind.TOKEN, expires - timedelta(days=10), policy)
    assert not is_due(credential, CredentialKind.PASSWORD, expires, policy)
    assert next_token_refresh(credential, policy) == expires - timedelta(days=14)


def test_tokens_that_never_expire_are_not_due_by_time() -> None:
    vals = values(tokens={"page_access_token": ACCESS})
    credential = stored(vals)
    assert due_reasons(credential, T0 + timedelta(days=3650)) == []
    assert next_token_refresh(credential) is None


def test_policy_margin_must_be_positive() -> None:
    with pytest.raises(ValueError, match="greater than"):
        RotationPolicy(token_refresh_margin=timedelta(0))


def test_times_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        new_credential(
            account_id="a",
            secret_id="s",
            values=values(),
            version_id=V1,
            actor="it",
            at=datetime(2026, 1, 1),  # noqa: DTZ001
        )


# ── the schedule: what is due when ───────────────────────────────────────────────────────────────────────────


def test_a_checkout_is_due_after_its_grace_and_a_compromise_at_once() -> None:
    cred, _ = checkout(stored(), values(), actor="it@district.org", roles=IT, reason="post the news", at=T0)
    grace = RotationPolicy().checkout_grace
    assert next_due_at(cred) == T0 + grace
    assert kinds_due(cred, T0 + grace - timedelta(seconds=1)) == []
    assert kinds_due(cred, T0 + grace) == [CredentialKind.TOKEN, CredentialKind.PASSWORD]  # tokens first
    compromised = report_compromise(stored(), actor="it@district.org", at=T0, reason="phished")
    assert kinds_due(compromised, T0) == [CredentialKind.TOKEN, CredentialKind.PASSWORD]
    assert next_due_at(compromised) == T0


def test_tokens_are_due_before_they_expire_and_passwords_never_by_age() -> None:
    cred = stored()  # the token expires at T0 + 60 days
    margin = RotationPolicy().token_refresh_margin
    assert next_due_at(cred) == T0 + timedelta(days=60) - margin
    assert kinds_due(cred, T0 + timedelta(days=60) - margin) == [CredentialKind.TOKEN]
    assert kinds_due(cred, T0 + timedelta(days=3650)) == [CredentialKind.TOKEN]  # never the password
    no_tokens = stored(values(tokens=None))
    assert next_due_at(no_tokens) is None
    assert kinds_due(no_tokens, T0 + timedelta(days=3650)) == []


def test_raising_the_same_flag_twice_changes_nothing_and_kinds_absent_are_skipped() -> None:
    no_tokens = stored(values(tokens=None))
    flagged = raise_flags(
        no_tokens,
        (CredentialKind.TOKEN, CredentialKind.PASSWORD),
        DueReason.OFFBOARDING,
        "offboarding of a@district.org",
        actor="system",
        at=T0,
    )
    assert [(f.kind, f.reason) for f in flagged.due] == [(CredentialKind.PASSWORD, DueReason.OFFBOARDING)]
    again = raise_flags(
        flagged,
        (CredentialKind.PASSWORD,),
        DueReason.OFFBOARDING,
        "offboarding of a@district.org",
        actor="s",
        at=T0,
    )
    assert again is flagged


def test_flags_asked_for_since_a_rotation_are_dropped_and_date_from_the_request() -> None:
    credential = stored()  # password and tokens stored at T0
    asked = T0 - timedelta(hours=1)  # asked before the values changed: nothing left to do
    kinds = (CredentialKind.TOKEN, CredentialKind.PASSWORD)
    detail = "offboarding of a@district.org"
    same = raise_flags(
        credential, kinds, DueReason.OFFBOARDING, detail, actor="s", at=T0 + timedelta(days=1), since=asked
    )
    assert same is credential
    at_once = raise_flags(credential, kinds, DueReason.OFFBOARDING, detail, actor="s", at=T0, since=T0)
    assert at_once is credential  # rotated at the very time asked: done
    # Only the password changed since: the tokens are still due, flagged as of the request.
    newer = credential.model_copy(update={"password_changed_at": T0 + timedelta(hours=2)})
    recorded = T0 + timedelta(days=1)
    flagged = raise_flags(
        newer, kinds, DueReason.OFFBOARDING, detail, actor="s", at=recorded, since=T0 + timedelta(hours=1)
    )
    assert [(f.kind, f.flagged_at) for f in flagged.due] == [(CredentialKind.TOKEN, T0 + timedelta(hours=1))]
    assert (flagged.history[-1].action, flagged.updated_at) == ("rotation_flagged", recorded)


def test_a_pending_password_must_be_new_long_and_for_the_same_login() -> None:
    current = values()
    check_pending_password(current, current.with_password("N3w-Password-Generated-24x"))
    with pytest.raises(Conflict, match="current one"):
        check_pending_password(current, current)
    with pytest.raises(Conflict, match="20"):
        check_pending_password(current, current.with_password("Short-But-Valid-17"))
    with pytest.raises(Conflict, match="another login"):
        check_pending_password(
            current, values(login_email="other@district.org", password="N3w-Password-Gen-24xx")
        )


def test_queued_requests_parse_alone_or_as_a_list_and_garbage_is_refused() -> None:
    request = RotationRequest(
        account_id="acct-1",
        kinds=(CredentialKind.TOKEN,),
        reason=DueReason.OFFBOARDING,
        detail="offboarding of a@district.org",
        requested_by="user:it",
        requested_at=T0,
    )
    assert parse_requests(request.body()) == [request]
    assert parse_requests(f"[{request.body()},{request.body()}]") == [request, request]
    for garbage in ("[]", "{}", "not json", '[{"account_id": "x"}]', '{"account_id": "a", "kinds": []}'):
        with pytest.raises(BadRequest, match="not a rotation request"):
            parse_requests(garbage)
