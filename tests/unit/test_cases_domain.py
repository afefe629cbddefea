"""Moderation cases: deterministic ids, the state machine, the per-category policy and the incident notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.cases import (
    ALLOWED,
    Case,
    CaseError,
    CaseState,
    ReportingDuty,
    audit_details,
    case_id,
    category_policy,
    incident_notice,
    open_cases,
    reporting_duties,
)
from shared.domain.content import Platform
from shared.domain.moderation import Action, Category, engine

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
KEY = (Platform.FACEBOOK, "448242228374517", "111_222")
VERSION = "a" * 64
CONTACTS = {
    ReportingDuty.LAW_ENFORCEMENT: "County Sheriff, 555-0100",
    ReportingDuty.CHILD_PROTECTIVE_SERVICES: "County CPS hotline, 555-0199",
}


def cases_for(text: str, version: str = VERSION) -> list[Case]:
    return open_cases(
        item_key=KEY,
        author_id="user-1",
        event_id="b" * 64,
        version_hash=version,
        archive_key="events/x.json",
        matches=engine.moderate(text),
        now=T0,
    )


def test_a_case_per_matching_rule_with_a_deterministic_id() -> None:
    (case,) = cases_for("I will kill you")
    assert case.rule_id == "threat-violence"
    assert case.category is Category.THREATS_INCITEMENT
    assert case.action is Action.CRITICAL
    assert case.state is CaseState.OPEN
    assert case.reporting == (ReportingDuty.LAW_ENFORCEMENT,)
    assert case.case_id == case_id(KEY, VERSION, "threat-violence")
    assert cases_for("I will kill you")[0].case_id == case.case_id  # re-processing finds the same case
    assert (
        cases_for("I will kill you", version="c" * 64)[0].case_id != case.case_id
    )  # a new version: a new case
    assert case.matches[0].excerpt == "I will kill you"
    assert case.citation.document.startswith("004") or case.citation.document.startswith("003")


def test_two_rules_open_two_cases_and_one_rule_twice_is_one_case() -> None:
    found = cases_for("call me at 555-867-5309 or 555-867-5310, I will kill you")
    rules = {c.rule_id: c for c in found}
    assert set(rules) == {"phone-number", "threat-violence"}
    assert len(rules["phone-number"].matches) == 2
    assert rules["phone-number"].action is Action.HIDE
    assert rules["phone-number"].reporting == ()


def test_sensitive_matches_keep_no_excerpt_and_the_notice_no_text() -> None:
    (case,) = cases_for("my stepdad hits me")
    assert case.sensitive
    assert case.rule_id == "abuse-disclosure"
    assert all(m.excerpt is None for m in case.matches)
    assert case.reporting == (ReportingDuty.CHILD_PROTECTIVE_SERVICES,)
    subject, message = incident_notice(case, contacts=CONTACTS, organization="Test USD")
    assert "stepdad" not in subject + str(message)
    assert message["report_to"] == [
        {"duty": "child_protective_services", "contact": "County CPS hotline, 555-0199"}
    ]
    assert "excerpts" not in message
    assert "not included" in message["handling"]
    assert "stepdad" not in str(audit_details(case))


def test_a_threat_notice_names_law_enforcement_and_quotes_the_threat() -> None:
    (case,) = cases_for("I will kill you")
    _, message = incident_notice(case, contacts=CONTACTS, organization="Test USD")
    assert message["report_to"] == [{"duty": "law_enforcement", "contact": "County Sheriff, 555-0100"}]
    assert message["excerpts"] == ["I will kill you"]
    assert message["case_id"] == case.case_id
    assert message["category"] == "threats_incitement"


def test_reporting_duties_follow_the_policy() -> None:
    assert reporting_duties("x", Category.SEXUAL_CONTENT_MINORS, Action.CRITICAL) == (
        ReportingDuty.LAW_ENFORCEMENT,
    )
    assert reporting_duties("self-harm", Category.SAFETY_DISCLOSURE, Action.CRITICAL) == ()
    assert reporting_duties("profanity", Category.OBSCENE_PROFANE_SEXUAL, Action.HIDE) == ()


def test_category_policy_comes_from_the_published_rules() -> None:
    policy = category_policy(engine.ruleset())
    assert policy[Category.THREATS_INCITEMENT] == {Action.CRITICAL}
    assert policy[Category.SEXUAL_CONTENT_MINORS] == {Action.CRITICAL}
    assert policy[Category.SAFETY_DISCLOSURE] == {Action.CRITICAL}
    assert policy[Category.COPYRIGHT_TRADEMARK] == {Action.REVIEW}
    assert policy[Category.OFF_TOPIC] == {Action.REVIEW}
    assert Action.HIDE in policy[Category.PRIVATE_INFORMATION]
    assert set(policy) == set(Category)


def test_the_happy_path_and_every_step_is_kept() -> None:
    (case,) = cases_for("I will kill you")
    done = case.transition(CaseState.ACTIONED, actor="system:moderation", at=T0, reason="hidden")
    confirmed = done.transition(
        CaseState.CONFIRMED, actor="user:moderator", at=T0 + timedelta(hours=1), reason="a threat"
    )
    assert [t.to_state for t in confirmed.transitions] == ["open", "actioned", "confirmed"]
    assert confirmed.transitions[-1].actor == "user:moderator"
    assert confirmed.transitions[-1].from_state is CaseState.ACTIONED
    assert confirmed.is_final
    assert confirmed.updated_at == T0 + timedelta(hours=1)


def test_a_failed_action_keeps_the_case_open_and_can_be_retried() -> None:
    (case,) = cases_for("I will kill you")
    failed = case.transition(CaseState.ACTION_FAILED, actor="system:moderation", at=T0, reason="HTTP 500")
    assert not failed.is_final
    assert failed.transition(CaseState.ACTIONED, actor="system:moderation", at=T0).state is CaseState.ACTIONED
    escalated = failed.transition(CaseState.ESCALATED, actor="user:moderator", at=T0, reason="police")
    assert escalated.transition(CaseState.OVERTURNED, actor="user:comms", at=T0, reason="a quote").is_final


def test_human_decisions_need_a_reason() -> None:
    (case,) = cases_for("I will kill you")
    for state in (CaseState.CONFIRMED, CaseState.OVERTURNED, CaseState.ESCALATED):
        with pytest.raises(CaseError, match="reason"):
            case.transition(state, actor="user:moderator", at=T0, reason="  ")


def test_only_the_system_records_platform_outcomes() -> None:
    (case,) = cases_for("I will kill you")
    with pytest.raises(CaseError, match="only the system"):
        case.transition(CaseState.ACTIONED, actor="user:moderator", at=T0, reason="I hid it")


@pytest.mark.parametrize("final", [CaseState.CONFIRMED, CaseState.OVERTURNED])
def test_final_states_allow_nothing(final: CaseState) -> None:
    (case,) = cases_for("I will kill you")
    closed = case.transition(final, actor="user:moderator", at=T0, reason="decided")
    for state in CaseState:
        with pytest.raises(CaseError):
            closed.transition(state, actor="user:moderator", at=T0, reason="again")


def test_the_transition_table_is_closed() -> None:
    assert set(ALLOWED) == set(CaseState)
    assert CaseState.OPEN not in {s for targets in ALLOWED.values() for s in targets}  # nothing reopens


def test_a_case_round_trips_through_json() -> None:
    (case,) = cases_for("I will kill you")
    assert Case.model_validate_json(case.model_dump_json()) == case
