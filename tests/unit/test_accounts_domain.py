"""The official-account registry: lifecycle, approvals, stewards, disclosures, unofficial pages and offboarding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.catalogue import Role
from shared.domain import accounts
from shared.domain.accounts import (
    ALLOWED,
    Account,
    AccountKind,
    AccountPlatform,
    AccountStatus,
    DisclosureConfigError,
    DisclosureItem,
    default_config,
    parse_config,
    plan_offboarding,
    record_unofficial,
    request_account,
)
from shared.domain.credentials import CredentialKind
from shared.errors import BadRequest, Conflict, Forbidden, NotFound

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DOMAIN = "district.example.org"
COMMS = "director@district.example.org"
PRINCIPAL = "principal@district.example.org"
IT = "tech@district.example.org"
C = (Role.COMMUNICATIONS,)
P = (Role.PRINCIPALS,)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def requested(kind: AccountKind = AccountKind.SCHOOL, handle: str = "@lincoln_elem") -> Account:
    return request_account(
        platform="facebook",
        handle=handle,
        school="Lincoln Elementary",
        purpose="News and events for Lincoln families",
        audience="Lincoln parents and community",
        kind=kind,
        requested_by="Teacher@District.Example.org",
        at=T0,
    )


def approved(kind: AccountKind = AccountKind.SCHOOL, handle: str = "@lincoln_elem") -> Account:
    account = requested(kind, handle)
    if kind in accounts.NEEDS_PRINCIPAL:
        account = account.approve(actor=PRINCIPAL, roles=P, at=at(1))
    return account.approve(actor=COMMS, roles=C, at=at(2))


def with_admins(account: Account, *emails: str) -> Account:
    for i, email in enumerate(emails):
        account = account.add_steward(email, "admin", actor=COMMS, roles=C, at=at(3 + i))
    return account


def all_disclosed(account: Account) -> Account:
    for item in DisclosureItem:
        account = account.confirm_disclosure(item, actor=COMMS, roles=C, at=at(10))
    return account


def ready(kind: AccountKind = AccountKind.SCHOOL, handle: str = "@lincoln_elem") -> Account:
    return all_disclosed(
        with_admins(approved(kind, handle), "a1@district.example.org", "a2@district.example.org")
    )


def active(kind: AccountKind = AccountKind.SCHOOL, handle: str = "@lincoln_elem") -> Account:
    return ready(kind, handle).activate(actor=COMMS, roles=C, at=at(20))


def in_state(status: AccountStatus) -> Account:
    """An official account brought to ``status`` by legal moves."""
    match status:
        case AccountStatus.REQUESTED:
            return requested()
        case AccountStatus.APPROVED:
            return ready()
        case AccountStatus.ACTIVE:
            return active()
        case AccountStatus.DORMANT:
            return active().mark_dormant(actor=COMMS, roles=C, at=at(30))
        case AccountStatus.ABANDONED:
            return in_state(AccountStatus.DORMANT).abandon(actor=COMMS, roles=C, at=at(40), reason="no posts")
        case AccountStatus.RETIRED:
            return active().retire(actor=COMMS, roles=C, at=at(50), reason="school closed")
        case AccountStatus.REJECTED:
            return requested().reject(actor=COMMS, roles=C, at=at(5), reason="duplicate of the district page")
        case AccountStatus.RECORDED:
            return unofficial()
    raise AssertionError(status)


def unofficial() -> Account:
    return record_unofficial(
        platform="instagram",
        handle="@lincoln_pta",
        school="Lincoln Elementary",
        purpose="PTA fundraising",
        audience="Lincoln parents",
        actor=COMMS,
        roles=C,
        at=T0,
    )


def move(account: Account, to: AccountStatus) -> Account:
    """Attempt ``to`` with a communications actor and a reason (so only legality decides)."""
    when = at(60)
    match to:
        case AccountStatus.APPROVED:
            return account.approve(actor=COMMS, roles=C, at=when)
        case AccountStatus.ACTIVE:
            return account.activate(actor=COMMS, roles=C, at=when)
        case AccountStatus.DORMANT:
            return account.mark_dormant(actor=COMMS, roles=C, at=when)
        case AccountStatus.ABANDONED:
            return account.abandon(actor=COMMS, roles=C, at=when, reason="why")
        case AccountStatus.RETIRED:
            return account.retire(actor=COMMS, roles=C, at=when, reason="why")
        case AccountStatus.REJECTED:
            return account.reject(actor=COMMS, roles=C, at=when, reason="why")
    raise AssertionError(to)


TARGETS = [s for s in AccountStatus if s not in (AccountStatus.REQUESTED, AccountStatus.RECORDED)]


# --------------------------------------------------------------------------------------------- lifecycle
@pytest.mark.parametrize("start", list(AccountStatus))
@pytest.mark.parametrize("to", TARGETS)
def test_every_transition_is_legal_exactly_when_the_table_says(
    start: AccountStatus, to: AccountStatus
) -> None:
    # Given an account in ``start`` (ready to activate where that matters)
    account = in_state(start)
    assert account.status is start
    if to in ALLOWED[start]:
        # When the legal move is made, Then the account moves and the history records it
        after = move(account, to)
        assert after.status is to
        assert after.history[-1].from_status is start
        assert after.history[-1].to_status is to
        assert after.history[-1].actor == COMMS
        assert after.history[-1].roles == ("communications",)
        assert after.updated_at == at(60)
        assert account.status is start  # the original is unchanged (frozen)
    else:
        # When an illegal move is attempted, Then Conflict names both states and nothing changes
        with pytest.raises(Conflict) as err:
            move(account, to)
        if start is not AccountStatus.RECORDED and to is not AccountStatus.APPROVED:
            assert f"from {start} to {to}" in err.value.message


def test_the_lifecycle_table() -> None:
    assert ALLOWED[AccountStatus.REQUESTED] == {AccountStatus.APPROVED, AccountStatus.REJECTED}
    assert ALLOWED[AccountStatus.DORMANT] >= {AccountStatus.ACTIVE, AccountStatus.ABANDONED}
    assert ALLOWED[AccountStatus.ABANDONED] == {AccountStatus.RETIRED}
    assert ALLOWED[AccountStatus.RETIRED] == frozenset()
    assert ALLOWED[AccountStatus.REJECTED] == frozenset()
    assert AccountStatus.ABANDONED not in ALLOWED[AccountStatus.ACTIVE]  # only through dormant


def test_illegal_transition_message_lists_the_legal_ones() -> None:
    with pytest.raises(Conflict) as err:
        in_state(AccountStatus.RETIRED).mark_dormant(actor=COMMS, roles=C, at=at(70))
    assert "none (it is final)" in err.value.message
    assert err.value.details == {"status": "retired", "requested": "dormant"}


def test_dormant_account_is_reactivated() -> None:
    account = in_state(AccountStatus.DORMANT).activate(actor=IT, roles=(Role.IT,), at=at(70))
    assert account.status is AccountStatus.ACTIVE
    assert account.history[-1].action == "reactivated"


@pytest.mark.parametrize(
    ("start", "method"),
    [
        (AccountStatus.REQUESTED, "reject"),
        (AccountStatus.DORMANT, "abandon"),
        (AccountStatus.ABANDONED, "retire"),
        (AccountStatus.ACTIVE, "retire"),
    ],
)
@pytest.mark.parametrize("reason", ["", "   "])
def test_moves_that_need_a_reason_refuse_without_one(start: AccountStatus, method: str, reason: str) -> None:
    account = in_state(start)
    with pytest.raises(BadRequest, match="a reason is required"):
        getattr(account, method)(actor=COMMS, roles=C, at=at(70), reason=reason)


def test_rejection_keeps_the_reason() -> None:
    account = requested().reject(actor=COMMS, roles=C, at=at(5), reason="  duplicate of the district page ")
    assert account.status is AccountStatus.REJECTED
    assert account.history[-1].reason == "duplicate of the district page"
    assert account.is_final


@pytest.mark.parametrize(
    ("start", "method", "kwargs"),
    [
        (AccountStatus.ACTIVE, "mark_dormant", {}),
        (AccountStatus.DORMANT, "abandon", {"reason": "r"}),
        (AccountStatus.ACTIVE, "retire", {"reason": "r"}),
        (AccountStatus.APPROVED, "activate", {}),
        (AccountStatus.REQUESTED, "reject", {"reason": "r"}),
    ],
)
def test_lifecycle_moves_need_their_role(start: AccountStatus, method: str, kwargs: dict[str, str]) -> None:
    account = in_state(start)
    with pytest.raises(Forbidden, match="'communications'"):
        getattr(account, method)(actor="staff@district.example.org", roles=(Role.STAFF,), at=at(70), **kwargs)


def test_naive_time_is_refused() -> None:
    with pytest.raises(BadRequest, match="timezone-aware"):
        requested().approve(actor=COMMS, roles=C, at=datetime(2026, 1, 1))  # noqa: DTZ001


# --------------------------------------------------------------------------------------------- approvals
@pytest.mark.parametrize("kind", [AccountKind.DISTRICT, AccountKind.SCHOOL, AccountKind.DEPARTMENT])
def test_district_school_department_need_only_communications(kind: AccountKind) -> None:
    account = requested(kind)
    assert account.approval_roles_required == (Role.COMMUNICATIONS,)
    assert account.pending_approval is Role.COMMUNICATIONS
    after = account.approve(actor=COMMS, roles=C, at=at(1), note="fits the plan")
    assert after.status is AccountStatus.APPROVED
    assert [(a.role, a.actor) for a in after.approvals] == [(Role.COMMUNICATIONS, COMMS)]
    assert after.history[-1].action == "approved"
    assert after.pending_approval is None


@pytest.mark.parametrize("kind", [AccountKind.CLASSROOM, AccountKind.TEAM])
def test_classroom_and_team_need_the_principal_then_communications(kind: AccountKind) -> None:
    account = requested(kind)
    assert account.approval_roles_required == (Role.PRINCIPALS, Role.COMMUNICATIONS)
    # communications cannot go first: the message names the role needed and quotes AR 1114
    with pytest.raises(Forbidden) as err:
        account.approve(actor=COMMS, roles=C, at=at(1))
    assert "'principals'" in err.value.message
    assert "Teachers and coaches shall obtain approval from the principal" in err.value.message
    assert err.value.details == {"needed": ["principals"]}
    # the principal approves: still requested, awaiting communications
    after_principal = account.approve(actor=PRINCIPAL, roles=P, at=at(1))
    assert after_principal.status is AccountStatus.REQUESTED
    assert after_principal.pending_approval is Role.COMMUNICATIONS
    assert after_principal.history[-1].action == "approved_by_principals"
    # a principal cannot give the final approval
    with pytest.raises(Forbidden, match="'communications'") as final_err:
        after_principal.approve(actor="other.principal@district.example.org", roles=P, at=at(2))
    assert "The Communications Director will determine final approval." in final_err.value.message
    # communications gives it
    final = after_principal.approve(actor=COMMS, roles=C, at=at(2))
    assert final.status is AccountStatus.APPROVED
    assert [a.role for a in final.approvals] == [Role.PRINCIPALS, Role.COMMUNICATIONS]


def test_one_person_cannot_give_both_approvals() -> None:
    both = (Role.PRINCIPALS, Role.COMMUNICATIONS)
    account = requested(AccountKind.CLASSROOM).approve(actor=COMMS, roles=both, at=at(1))
    assert account.approvals[0].role is Role.PRINCIPALS
    with pytest.raises(Forbidden, match="different people"):
        account.approve(actor=COMMS, roles=both, at=at(2))


@pytest.mark.parametrize("roles", [(), (Role.STAFF,), (Role.IT,), (Role.MODERATORS,), ("nonsense",)])
def test_approval_by_the_wrong_role_is_forbidden(roles: tuple[str, ...]) -> None:
    with pytest.raises(Forbidden, match="needs the 'communications' role"):
        requested().approve(actor=COMMS, roles=roles, at=at(1))


def test_nothing_to_approve_once_approved() -> None:
    with pytest.raises(Conflict, match="no approval to give"):
        approved().approve(actor=COMMS, roles=C, at=at(3))


def test_principal_may_reject_at_their_step_only() -> None:
    account = requested(AccountKind.TEAM)
    rejected = account.reject(actor=PRINCIPAL, roles=P, at=at(1), reason="no coach sponsor")
    assert rejected.status is AccountStatus.REJECTED
    after_principal = account.approve(actor=PRINCIPAL, roles=P, at=at(1))
    with pytest.raises(Forbidden, match="'communications'"):
        after_principal.reject(actor=PRINCIPAL, roles=P, at=at(2), reason="changed my mind")
    with pytest.raises(Forbidden):
        requested().reject(actor=PRINCIPAL, roles=P, at=at(1), reason="not a classroom account")


# --------------------------------------------------------------------------------------------- requests
def test_request_records_everything_and_a_deterministic_id() -> None:
    account = requested()
    assert account.status is AccountStatus.REQUESTED
    assert account.requested_by == "teacher@district.example.org"  # normalized
    assert account.requested_at == T0
    assert account.id == accounts.account_id(AccountPlatform.FACEBOOK, "@LINCOLN_ELEM ")
    assert account.history[0].action == "requested"
    assert account.history[0].from_status is None
    assert account.official


def test_bad_request_names_every_invalid_field() -> None:
    with pytest.raises(BadRequest) as err:
        request_account(
            platform="myspace",
            handle=" ",
            school="",
            purpose="x" * 1001,
            audience="everyone",
            kind="club",
            requested_by=COMMS,
            at=T0,
        )
    message = err.value.message
    assert message.startswith("invalid account request: ")
    for part in (
        "platform: must be one of facebook, instagram, x, youtube, other",
        "kind: must be one of",
        "handle: is required",
        "school: is required",
        "purpose: at most 1000 characters",
    ):
        assert part in message
    assert len(err.value.details["problems"]) == 5


def test_requester_must_be_district_staff() -> None:
    with pytest.raises(BadRequest, match=r"requester someone@gmail.com is not district staff"):
        request_account(
            platform="x",
            handle="@a",
            school="s",
            purpose="p",
            audience="a",
            kind="school",
            requested_by="someone@gmail.com",
            at=T0,
        )


def test_unofficial_cannot_be_requested() -> None:
    with pytest.raises(BadRequest, match="record_unofficial"):
        requested(AccountKind.UNOFFICIAL)


def test_index_attributes() -> None:
    account = active()
    assert account.index_attributes() == {
        "school": "Lincoln Elementary",
        "platform": "facebook",
        "status": "active",
        "kind": "school",
        "steward_emails": ["a1@district.example.org", "a2@district.example.org"],
    }


# --------------------------------------------------------------------------------------------- unofficial
def test_unofficial_page_is_recorded_with_the_not_official_statement() -> None:
    page = unofficial()
    assert page.kind is AccountKind.UNOFFICIAL
    assert page.status is AccountStatus.RECORDED
    assert not page.official
    assert page.not_official_statement == (
        "@lincoln_pta on Instagram is not an official Steward School District site: it is not officially "
        "recognized, authorized or acknowledged by Steward School District."
    )
    assert page.approval_roles_required == ()


def test_unofficial_page_is_never_approved_activated_or_stewarded() -> None:
    page = unofficial()
    quote = "not officially recognized, authorized or acknowledged by the district"
    with pytest.raises(Conflict, match=quote):
        page.approve(actor=COMMS, roles=C, at=at(1))
    with pytest.raises(Conflict, match=quote):
        page.activate(actor=COMMS, roles=C, at=at(1))
    with pytest.raises(Conflict, match=quote):
        page.add_steward("a1@district.example.org", "admin", actor=COMMS, roles=C, at=at(1))
    with pytest.raises(Conflict, match=quote):
        page.confirm_disclosure("purpose", actor=COMMS, roles=C, at=at(1))
    retired = page.retire(actor=IT, roles=(Role.IT,), at=at(2), reason="page deleted by the PTA")
    assert retired.status is AccountStatus.RETIRED
    assert retired.final_capture is None  # the district never archived an unofficial page


def test_recording_an_unofficial_page_needs_communications_or_it() -> None:
    with pytest.raises(Forbidden, match="'communications' or 'it'"):
        record_unofficial(
            platform="x",
            handle="@fans",
            school="s",
            purpose="p",
            audience="a",
            actor="staff@district.example.org",
            roles=(Role.STAFF,),
            at=T0,
        )


# --------------------------------------------------------------------------------------------- stewards
def test_steward_must_be_district_staff() -> None:
    account = approved()
    with pytest.raises(BadRequest) as err:
        account.add_steward("coach@gmail.com", "admin", actor=COMMS, roles=C, at=at(3))
    assert (
        err.value.message == "steward coach@gmail.com is not district staff: the email must be on " + DOMAIN
    )
    with pytest.raises(BadRequest, match="not district staff"):
        account.add_steward("x@sub.district.example.org", "editor", actor=COMMS, roles=C, at=at(3))
    with pytest.raises(BadRequest, match="is not an email address"):
        account.add_steward("not-an-email", "editor", actor=COMMS, roles=C, at=at(3))


def test_steward_email_is_normalized_and_unique() -> None:
    account = approved().add_steward(" A1@District.Example.ORG ", "admin", actor=COMMS, roles=C, at=at(3))
    assert account.steward_emails == ("a1@district.example.org",)
    assert account.stewards[0].added_by == COMMS
    with pytest.raises(Conflict, match="already a steward"):
        account.add_steward("a1@district.example.org", "editor", actor=COMMS, roles=C, at=at(4))


def test_steward_role_must_be_admin_or_editor() -> None:
    with pytest.raises(BadRequest, match="admin or editor"):
        approved().add_steward("a1@district.example.org", "owner", actor=COMMS, roles=C, at=at(3))


def test_configurable_domain() -> None:
    config = default_config().model_copy(update={"email_domains": frozenset({"pusd.us"})})
    account = approved().add_steward("a@pusd.us", "admin", actor=COMMS, roles=C, at=at(3), config=config)
    assert account.steward_emails == ("a@pusd.us",)


def test_steward_changes_need_communications_or_it() -> None:
    with pytest.raises(Forbidden, match="'communications' or 'it'"):
        approved().add_steward("a1@district.example.org", "admin", actor=PRINCIPAL, roles=P, at=at(3))


def test_active_account_keeps_two_admins() -> None:
    account = active()
    # removing an admin would leave one: refused
    with pytest.raises(Conflict) as err:
        account.remove_steward("a1@district.example.org", actor=COMMS, roles=C, at=at(30))
    assert "would leave active account" in err.value.message
    assert "at least 2" in err.value.message
    assert err.value.details == {"admin_count": 1}
    # demoting an admin: refused too
    with pytest.raises(Conflict, match=r"making a2@district\.example\.org an editor"):
        account.change_steward_role("a2@district.example.org", "editor", actor=COMMS, roles=C, at=at(30))
    # with a third admin, one may go
    three = account.add_steward("a3@district.example.org", "admin", actor=COMMS, roles=C, at=at(31))
    two = three.remove_steward("A1@district.example.org", actor=COMMS, roles=C, at=at(32), reason="moved")
    assert two.admin_emails == ("a2@district.example.org", "a3@district.example.org")
    assert two.history[-1].details == {"steward": "a1@district.example.org", "steward_role": "admin"}
    # editors come and go freely
    with_editor = two.add_steward("ed@district.example.org", "editor", actor=COMMS, roles=C, at=at(33))
    assert with_editor.remove_steward("ed@district.example.org", actor=COMMS, roles=C, at=at(34)).stewards
    # promoting an editor is fine; the same role again changes nothing
    promoted = with_editor.change_steward_role(
        "ed@district.example.org", "admin", actor=IT, roles=(Role.IT,), at=at(35)
    )
    assert len(promoted.admin_emails) == 3
    assert (
        promoted.change_steward_role(
            "ed@district.example.org", "admin", actor=IT, roles=(Role.IT,), at=at(36)
        )
        is promoted
    )


def test_two_admin_rule_does_not_bind_before_activation_or_when_dormant() -> None:
    account = with_admins(approved(), "a1@district.example.org")
    assert account.remove_steward("a1@district.example.org", actor=COMMS, roles=C, at=at(5)).stewards == ()
    dormant = in_state(AccountStatus.DORMANT)
    assert (
        len(dormant.remove_steward("a1@district.example.org", actor=COMMS, roles=C, at=at(70)).admin_emails)
        == 1
    )
    # but it cannot be reactivated with one admin
    lonely = dormant.remove_steward("a1@district.example.org", actor=COMMS, roles=C, at=at(70))
    with pytest.raises(Conflict, match="1 admin steward"):
        lonely.activate(actor=COMMS, roles=C, at=at(71))


def test_unknown_steward_is_not_found() -> None:
    with pytest.raises(NotFound, match=r"nobody@district\.example\.org is not a steward"):
        active().remove_steward("nobody@district.example.org", actor=COMMS, roles=C, at=at(30))
    with pytest.raises(NotFound):
        active().change_steward_role("nobody@district.example.org", "admin", actor=COMMS, roles=C, at=at(30))


def test_final_accounts_take_no_new_stewards() -> None:
    with pytest.raises(Conflict, match="is retired"):
        in_state(AccountStatus.RETIRED).add_steward(
            "n@district.example.org", "admin", actor=COMMS, roles=C, at=at(90)
        )


# --------------------------------------------------------------------------------------------- disclosures
def test_the_checklist_has_the_eight_items_and_the_notice() -> None:
    checklist = approved().checklist()
    assert [e.item for e in checklist] == list(DisclosureItem)
    assert len(checklist) == 9
    assert not any(e.done for e in checklist)
    by_item = {e.item: e for e in checklist}
    assert by_item[DisclosureItem.OFFICIAL_NOTICE].text == (
        "This is an official publication of Steward School District (SSD). SSD reserves the right to monitor and "
        "remove posts or comments that violate Policy 4007P."
    )
    assert "Yelm Community Schools" in by_item[DisclosureItem.OFFICIAL_NOTICE].policy
    assert by_item[DisclosureItem.PURPOSE].text.startswith(
        "This is the official Facebook account of Lincoln Elementary, Steward School District. "
        "Its purpose: News and events for Lincoln families. Please use this site only"
    )
    assert by_item[DisclosureItem.CONTACT].source == "policy 001, AR 1114 item 8"
    for number, item in enumerate(list(DisclosureItem)[:8], start=1):
        assert by_item[item].source.endswith(f"AR 1114 item {number}")


def test_activation_is_refused_with_the_missing_items_named() -> None:
    account = with_admins(approved(), "a1@district.example.org", "a2@district.example.org")
    for item in list(DisclosureItem)[:7]:
        account = account.confirm_disclosure(item, actor=COMMS, roles=C, at=at(10))
    with pytest.raises(Conflict) as err:
        account.activate(actor=COMMS, roles=C, at=at(20))
    assert "disclosures not confirmed: contact, official_notice" in err.value.message
    assert err.value.details == {"missing_disclosures": ["contact", "official_notice"]}
    done = account.confirm_disclosure("contact", actor=IT, roles=(Role.IT,), at=at(11)).confirm_disclosure(
        "official_notice", actor=COMMS, roles=C, at=at(12)
    )
    assert done.activate(actor=COMMS, roles=C, at=at(20)).status is AccountStatus.ACTIVE


def test_activation_names_every_problem_at_once() -> None:
    with pytest.raises(Conflict) as err:
        approved().activate(actor=COMMS, roles=C, at=at(20))
    assert "disclosures not confirmed: purpose, security_settings" in err.value.message
    assert "it has 0 admin steward(s), at least 2 are required" in err.value.message
    assert err.value.details["admin_count"] == 0
    assert len(err.value.details["missing_disclosures"]) == 9


def test_confirmation_records_who_when_and_the_text() -> None:
    account = approved().confirm_disclosure("user_protocols", actor=COMMS, roles=C, at=at(10))
    entry = {e.item: e for e in account.checklist()}[DisclosureItem.USER_PROTOCOLS]
    assert entry.done
    assert entry.confirmed_by == COMMS
    assert entry.confirmed_at == at(10)
    assert entry.text == "Please communicate here in a respectful, courteous and professional manner."
    assert account.history[-1].action == "disclosure_confirmed"
    assert account.history[-1].details == {"item": "user_protocols"}
    # a reconfirmation with the wording actually used replaces the first
    again = account.confirm_disclosure(
        "user_protocols", actor=IT, roles=(Role.IT,), at=at(11), text="Be kind and respectful here."
    )
    assert [d.text for d in again.disclosures] == ["Be kind and respectful here."]


def test_disclosure_validation() -> None:
    account = approved()
    with pytest.raises(BadRequest, match="unknown disclosure 'mascot'; the items are: purpose, "):
        account.confirm_disclosure("mascot", actor=COMMS, roles=C, at=at(10))
    with pytest.raises(BadRequest, match="must not be blank"):
        account.confirm_disclosure("purpose", actor=COMMS, roles=C, at=at(10), text="  ")
    with pytest.raises(Forbidden, match="confirming a disclosure"):
        account.confirm_disclosure("purpose", actor=PRINCIPAL, roles=P, at=at(10))
    with pytest.raises(Conflict, match="can no longer change"):
        in_state(AccountStatus.REJECTED).confirm_disclosure("purpose", actor=COMMS, roles=C, at=at(10))


def test_templates_are_the_districts_configuration() -> None:
    text = (
        (accounts.resources.files("shared.domain") / "disclosures.toml")
        .read_text(encoding="utf-8")
        .replace('name = "Steward School District"', 'name = "Pasadena Unified School District"')
        .replace('short_name = "SSD"', 'short_name = "PUSD"')
    )
    config = parse_config(text)
    notice = approved().render(DisclosureItem.OFFICIAL_NOTICE, config)
    assert notice.startswith(
        "This is an official publication of Pasadena Unified School District (PUSD). PUSD"
    )


def test_a_template_with_an_unknown_placeholder_or_missing_item_is_refused() -> None:
    text = (accounts.resources.files("shared.domain") / "disclosures.toml").read_text(encoding="utf-8")
    with pytest.raises(DisclosureConfigError, match="unknown placeholders superintendent"):
        parse_config(text.replace("contact {contact}.", "contact {superintendent}."))
    start = text.index("[disclosures.contact]")
    end = text.index("[disclosures.official_notice]")
    with pytest.raises(DisclosureConfigError, match="no template for disclosures: contact"):
        parse_config(text[:start] + text[end:])
    with pytest.raises(DisclosureConfigError):
        parse_config("not = [toml")


# --------------------------------------------------------------------------------------------- offboarding
LEAVER = "leaver@district.example.org"


def test_offboarding_removes_everywhere_and_reports_shortfalls() -> None:
    # Given: A is active with the leaver as one of two admins; B is active with three admins (leaver one of them);
    # C is dormant with the leaver as editor; D is retired; E does not involve the leaver
    a = all_disclosed(with_admins(approved(handle="@a"), LEAVER, "a3@district.example.org"))
    a = a.activate(actor=COMMS, roles=C, at=at(20))
    b = with_admins(active(handle="@b"), LEAVER)
    c = active(handle="@c").add_steward(LEAVER, "editor", actor=COMMS, roles=C, at=at(22))
    c = c.mark_dormant(actor=COMMS, roles=C, at=at(23))
    d = with_admins(active(handle="@d"), LEAVER).retire(actor=COMMS, roles=C, at=at(24), reason="closed")
    e = active(handle="@e")
    assert LEAVER in a.admin_emails
    assert len(a.admin_emails) == 2
    # When
    plan = plan_offboarding(
        " Leaver@District.example.org", [e, d, c, b, a], actor=IT, roles=(Role.IT,), at=at(100)
    )
    # Then: removed from every account that had them, in id order; E untouched
    assert plan.email == LEAVER
    assert [x.id for x in plan.accounts] == sorted(x.id for x in (a, b, c, d))
    assert all(LEAVER not in x.steward_emails for x in plan.accounts)
    roles_removed = {r.account_id: r.role for r in plan.removals}
    assert roles_removed == {a.id: "admin", b.id: "admin", c.id: "editor", d.id: "admin"}
    # A falls below two admins: reported, and its history says so
    assert [(s.account_id, s.admins_left, s.needed) for s in plan.below_minimum] == [
        (a.id, ("a3@district.example.org",), 1)
    ]
    after_a = next(x for x in plan.accounts if x.id == a.id)
    assert after_a.history[-1].action == "steward_offboarded"
    assert after_a.history[-1].details["admin_shortfall"] == "1"
    assert after_a.admin_shortfall == 1
    # credentials: admin reach both kinds, editor the tokens; nothing for the retired account
    rotations = {(r.account_id, r.kind) for r in plan.rotations}
    assert rotations == {
        (a.id, CredentialKind.PASSWORD),
        (a.id, CredentialKind.TOKEN),
        (b.id, CredentialKind.PASSWORD),
        (b.id, CredentialKind.TOKEN),
        (c.id, CredentialKind.TOKEN),
    }
    assert all(r.reason for r in plan.rotations)


def test_offboarding_is_idempotent() -> None:
    b = with_admins(active(handle="@b"), LEAVER)
    first = plan_offboarding(LEAVER, [b], actor=IT, roles=(Role.IT,), at=at(100))
    again = plan_offboarding(LEAVER, first.accounts, actor=IT, roles=(Role.IT,), at=at(101))
    assert first.changed
    assert not again.changed
    assert again.removals == ()
    assert again.rotations == ()
    assert again.below_minimum == ()


def test_offboarding_rotates_what_was_checked_out() -> None:
    e = active(handle="@e")
    retired = in_state(AccountStatus.RETIRED)
    plan = plan_offboarding(
        LEAVER,
        [e, retired],
        actor=COMMS,
        roles=C,
        at=at(100),
        checkouts=[(e.id, CredentialKind.PASSWORD), (retired.id, CredentialKind.PASSWORD)],
    )
    assert not plan.changed
    assert [(r.account_id, r.kind, r.reason) for r in plan.rotations] == [
        (e.id, CredentialKind.PASSWORD, f"{LEAVER} checked it out of the vault")
    ]


def test_offboarding_validation() -> None:
    with pytest.raises(Forbidden, match="offboarding a staff member"):
        plan_offboarding(LEAVER, [], actor=PRINCIPAL, roles=P, at=at(100))
    with pytest.raises(BadRequest, match="is not an email address"):
        plan_offboarding("leaver", [], actor=IT, roles=(Role.IT,), at=at(100))


# --------------------------------------------------------------------------------------------- packaged text
def test_packaged_templates_load_and_cover_every_item() -> None:
    default_config.cache_clear()
    config = default_config()
    assert set(config.disclosures) == set(DisclosureItem)
    assert set(config.platforms) == set(AccountPlatform)
    assert config.email_domains == {DOMAIN}
    for item, tpl in config.disclosures.items():
        assert tpl.citation.quote, item
        assert tpl.citation.source, item
        assert tpl.title, item


def test_roles_may_be_any_iterable_and_plain_strings() -> None:
    account = requested().approve(actor=COMMS, roles=(r for r in ["communications"]), at=at(1))
    assert account.status is AccountStatus.APPROVED
    assert account.history[-1].roles == ("communications",)


# --------------------------------------------------------------------------------------------- final capture
SWEEP = "system:reconciliation"


def test_retiring_an_official_account_leaves_its_final_capture_waiting() -> None:
    retired = in_state(AccountStatus.RETIRED)
    assert retired.final_capture == accounts.FinalCapture(requested_at=at(50))
    assert active().final_capture is None


def test_a_final_capture_is_taken_once() -> None:
    taken = in_state(AccountStatus.RETIRED).final_capture_taken(actor=SWEEP, at=at(60), threads=4, recorded=2)
    assert taken.final_capture is not None
    assert (taken.final_capture.state, taken.final_capture.threads, taken.final_capture.recorded) == (
        accounts.CaptureState.TAKEN,
        4,
        2,
    )
    assert (taken.status, taken.history[-1].action) == (AccountStatus.RETIRED, "final_capture_taken")
    with pytest.raises(Conflict, match="no final capture waiting"):
        taken.final_capture_taken(actor=SWEEP, at=at(61), threads=4, recorded=0)
    with pytest.raises(Conflict, match="no final capture waiting"):
        active().final_capture_failed(actor=SWEEP, at=at(61), error="x")


def test_a_final_capture_is_given_up_after_its_attempts_or_at_once_when_final() -> None:
    account = in_state(AccountStatus.RETIRED)
    for attempt in range(1, accounts.FINAL_CAPTURE_ATTEMPTS + 1):
        account = account.final_capture_failed(actor=SWEEP, at=at(60 + attempt), error="the platform is down")
        assert account.final_capture is not None
        assert account.final_capture.attempts == attempt
    assert account.final_capture is not None
    assert account.final_capture.state is accounts.CaptureState.INCOMPLETE
    assert [c.action for c in account.history[-3:]] == [
        "final_capture_failed",
        "final_capture_failed",
        "final_capture_incomplete",
    ]
    at_once = in_state(AccountStatus.RETIRED).final_capture_failed(
        actor=SWEEP, at=at(60), error="x threads cannot be re-read", final=True
    )
    assert at_once.final_capture is not None
    assert (at_once.final_capture.state, at_once.final_capture.attempts) == (
        accounts.CaptureState.INCOMPLETE,
        1,
    )
