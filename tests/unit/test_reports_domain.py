"""Compliance reports (pure): the month, the activity and its states at the month's end, moderation by category and
action (the viewpoint-neutrality audit), disclosures, credential age, records requests and the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.catalogue import Role
from shared.domain import reports
from shared.domain.cases import Case, CaseState, open_cases
from shared.domain.content import Change, ContentEvent, ItemHistory, Platform, build_history
from shared.domain.credentials import Credential
from shared.domain.moderation import Action, Category, engine
from shared.domain.reports import Month, parse_month
from shared.domain.requests import (
    RequestStatus,
    close,
    create_request,
    default_calendar,
    request_clarification,
)
from shared.errors import InvalidParameter
from tests.unit.test_accounts_domain import active, requested

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
MARCH = Month(year=2026, month=3)
IN_MARCH = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PAGE = "1234567890321"
PHONE = "Call the coach at home, 555-867-5309, and tell him"
THREAT = "I will kill you if you come near the school again"
CRITICISM = "The board's decision to cut the music program is a disgrace and the superintendent should resign"


# --------------------------------------------------------------------------------------------- the month
def test_a_month_is_a_utc_calendar_month() -> None:
    month = parse_month("2026-03", NOW)
    assert (month.label, month.start, month.end) == (
        "2026-03",
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
    )
    december = parse_month("2025-12", NOW)
    assert december.end == datetime(2026, 1, 1, tzinfo=UTC)
    assert december.last_day == date(2025, 12, 31)
    assert month.as_of(NOW) == month.end
    current = parse_month("2026-11", NOW)  # the current month: allowed, partial, as of now
    assert current.as_of(NOW) == NOW


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2026-3", "YYYY-MM"),
        ("March 2026", "YYYY-MM"),
        ("2026-03-01", "YYYY-MM"),
        ("", "YYYY-MM"),
        ("2026-13", "01 to 12"),
        ("2026-00", "01 to 12"),
        ("1999-12", "2000-01"),
        ("2026-12", "future"),
        ("2100-01", "future"),
    ],
)
def test_a_bad_month_is_refused_with_a_message(value: str, words: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        parse_month(value, NOW)
    assert refused.value.message.startswith("month: ")
    assert words in refused.value.message
    assert refused.value.status == 422


# --------------------------------------------------------------------------------------------- activity
def added(item: str, at: datetime, *, kind: str = "comment", **more: Any) -> ContentEvent:
    return ContentEvent.create(
        platform="facebook",
        account_id=PAGE,
        item_id=item,
        change=Change.ADDED,
        occurred_at=at,
        kind=kind,
        text=more.pop("text", f"text of {item}"),
        created_at=at,
        author={"id": more.pop("author", "parent-1")},
        **more,
    )


def changed(item: str, change: Change, at: datetime) -> ContentEvent:
    return ContentEvent.create(
        platform="facebook",
        account_id=PAGE,
        item_id=item,
        change=change,
        occurred_at=at,
        changed_by="account",
    )


def history(*events: ContentEvent) -> ItemHistory:
    return build_history(events)


def test_activity_splits_the_accounts_items_from_comments_and_counts_states_at_the_months_end() -> None:
    histories = [
        history(added("post-1", IN_MARCH, kind="post", author="district")),
        history(added("video-1", IN_MARCH, kind="video", author="district")),
        # The account's own reply: the platform says its author is the account.
        history(added("c-own", IN_MARCH, author="district", author_is_account=True)),
        # A visitor post: the platform says the author is not the account.
        history(added("visitor", IN_MARCH, kind="post", author_is_account=False)),
        history(added("c-1", IN_MARCH)),
        history(added("c-2", IN_MARCH), changed("c-2", Change.HIDDEN, IN_MARCH + timedelta(days=1))),
        history(added("c-3", IN_MARCH), changed("c-3", Change.REMOVED, IN_MARCH + timedelta(days=2))),
        # Hidden only after the month ended: visible at its end.
        history(added("c-4", IN_MARCH), changed("c-4", Change.HIDDEN, datetime(2026, 4, 2, tzinfo=UTC))),
        history(added("c-april", datetime(2026, 4, 1, tzinfo=UTC))),  # another month: ignored
        history(added("c-feb", datetime(2026, 2, 28, 23, 59, tzinfo=UTC))),
    ]
    assert reports.activity(histories, MARCH, MARCH.as_of(NOW)) == reports.Activity(
        posts_by_account=3, comments_captured=5, comments_hidden=1, comments_removed=1, posts_removed=0
    )
    # For the current month, states are as of now.
    now_state = reports.activity(histories, MARCH, NOW)
    assert now_state.comments_hidden == 2


# --------------------------------------------------------------------------------------------- moderation
def cases_for(item: str, text: str, at: datetime = IN_MARCH) -> list[Case]:
    return open_cases(
        item_key=(Platform.FACEBOOK, PAGE, item),
        author_id="parent-1",
        event_id="b" * 64,
        version_hash=(item.encode().hex() * 64)[:64],
        archive_key="events/x.json",
        matches=engine.moderate(text),
        now=at,
    )


def decided(case: Case, *states: CaseState) -> Case:
    for n, state in enumerate(states):
        actor = "system:moderation" if state in (CaseState.ACTIONED, CaseState.ACTION_FAILED) else "user:mod"
        case = case.transition(
            state, actor=actor, at=case.opened_at + timedelta(hours=n + 1), reason="checked"
        )
    return case


def test_moderation_counts_cases_by_category_and_action_with_their_outcomes() -> None:
    (phone_1,) = cases_for("c-1", PHONE)
    (phone_2,) = cases_for("c-2", PHONE)
    (threat,) = cases_for("c-3", THREAT)
    (late,) = cases_for("c-4", PHONE, datetime(2026, 4, 1, tzinfo=UTC))
    assert cases_for("c-5", CRITICISM) == []  # an opinion matches no rule: no case, nothing to count
    cases = [
        decided(phone_1, CaseState.ACTIONED, CaseState.OVERTURNED),
        decided(phone_2, CaseState.ACTIONED, CaseState.ESCALATED, CaseState.CONFIRMED),
        decided(threat, CaseState.ACTIONED),
        late,
        phone_1,  # the same case twice (read twice): counted once
    ]
    found = reports.moderation(cases, MARCH)

    assert (found.cases_opened, found.hidden, found.escalated, found.confirmed, found.overturned) == (
        3,
        3,
        1,
        1,
        1,
    )
    assert found.awaiting_decision == 1
    rows = {(r.category, r.policy_action): r for r in found.rows}
    assert set(rows) == {
        (Category.PRIVATE_INFORMATION, phone_1.action),
        (Category.THREATS_INCITEMENT, Action.CRITICAL),
    }
    private = rows[(Category.PRIVATE_INFORMATION, phone_1.action)]
    assert (private.opened, private.hidden, private.overturned, private.confirmed) == (2, 2, 1, 1)
    by_category = {t.category: t for t in found.by_category}
    assert set(by_category) == set(Category)  # every published category, with zeros
    assert by_category[Category.PRIVATE_INFORMATION].overturned == 1
    assert by_category[Category.POLITICAL_CAMPAIGNING].opened == 0
    assert [(u.rule_id, u.cases) for u in found.rules_used] == [("phone-number", 2), ("threat-violence", 1)]
    assert found.ruleset_versions == [phone_1.ruleset_version]
    assert found.categories_are_published

    district = reports.combine([found, found])
    assert (district.cases_opened, district.overturned) == (6, 2)
    assert [(u.rule_id, u.cases) for u in district.rules_used] == [
        ("phone-number", 4),
        ("threat-violence", 2),
    ]


def test_a_review_rule_counts_as_held_for_review() -> None:
    review = next(r for r in engine.ruleset().rules if r.action is Action.REVIEW)
    (case,) = cases_for("c-1", PHONE)
    held = case.model_copy(
        update={"action": Action.REVIEW, "rule_id": review.id, "category": review.category}
    )
    found = reports.moderation([held], MARCH)
    assert (found.held_for_review, found.hidden, found.awaiting_decision) == (1, 0, 1)


# --------------------------------------------------------------------------------------------- the rest
def credential(**changes: Any) -> Credential:
    fields: dict[str, Any] = {
        "account_id": "a" * 32,
        "secret_id": "steward/accounts/" + "a" * 32,
        "login_email": "social@district.example.org",
        "current_version": "v1",
        "has_password": True,
        "has_tokens": True,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
        "tokens_refreshed_at": datetime(2026, 3, 1, tzinfo=UTC),
        "token_expires_at": datetime(2026, 3, 31, tzinfo=UTC),
        **changes,
    }
    return Credential(**fields)


def test_credential_age_is_as_of_the_months_end() -> None:
    age = reports.credential_age(credential(), MARCH.end)
    assert (age.password_age_days, age.tokens_age_days, age.token_expires_in_days) == (90, 31, -1)
    changed_pw = reports.credential_age(
        credential(password_changed_at=datetime(2026, 3, 21, tzinfo=UTC)), MARCH.end
    )
    assert changed_pw.password_age_days == 11
    assert reports.credential_age(None, MARCH.end) == reports.CredentialAge(in_vault=False)


def test_records_requests_open_and_overdue_as_of_the_months_last_day() -> None:
    def new(request_id: str, received: date) -> Any:
        return create_request(
            request_id=request_id,
            requester="Jane Citizen",
            received_on=received,
            text="All comments hidden in February.",
            jurisdiction="WA",
            actor="records@district.example.org",
            roles=[Role.RECORDS],
            at=datetime.combine(received, datetime.min.time(), UTC) + timedelta(hours=12),
            calendar=default_calendar(),
            today=received,
        )

    who: dict[str, Any] = {"actor": "records@district.example.org", "roles": [Role.RECORDS]}
    overdue = new("PRR-1", date(2026, 3, 2))  # due in five business days: overdue by March 31
    fresh = new("PRR-2", date(2026, 3, 30))  # not yet due
    closed_in_april = close(
        new("PRR-3", date(2026, 2, 2)), **who, at=NOW, closure="fulfilled", closed_on=date(2026, 4, 3)
    )
    closed_in_march = close(
        new("PRR-4", date(2026, 2, 3)), **who, at=NOW, closure="fulfilled", closed_on=date(2026, 3, 3)
    )
    waiting = request_clarification(new("PRR-5", date(2026, 3, 2)), **who, at=NOW, question="Which page?")
    assert waiting.status is RequestStatus.CLARIFICATION_REQUESTED
    later = new("PRR-6", date(2026, 4, 1))

    summary = reports.records_summary(
        [overdue, fresh, closed_in_april, closed_in_march, waiting, later], MARCH, NOW.date()
    )
    assert summary.as_of == date(2026, 3, 31)
    assert (summary.received_in_month, summary.closed_in_month) == (3, 1)
    assert summary.open == 4  # PRR-1, 2, 3 (closed only in April) and 5
    assert (summary.overdue, summary.overdue_ids) == (2, ["PRR-3", "PRR-1"])


def test_an_unlinked_account_reports_zeros_and_its_disclosures() -> None:
    account = active()
    assert account.platform_id is None
    (case,) = cases_for("c-1", PHONE)
    row = reports.account_row(
        account,
        month=MARCH,
        now=NOW,
        histories=[history(added("c-1", IN_MARCH))],
        cases=[case],
        credential=None,
        requests=[],
    )
    assert not row.linked
    assert (row.activity.comments_captured, row.moderation.cases_opened) == (0, 0)
    assert row.disclosures.complete
    assert row.disclosures.confirmed == row.disclosures.required == 9
    assert not row.credential.in_vault
    assert reports.disclosure_status(requested()).missing  # a request has confirmed none yet


def test_an_account_counts_only_from_its_request_and_until_its_retirement() -> None:
    account = active()  # requested and active in November 2026
    assert not reports.was_reportable(account, MARCH)
    assert reports.was_reportable(account, Month(year=2026, month=11))


def test_the_csv_has_a_header_a_row_per_account_and_the_total() -> None:
    account = active().model_copy(update={"platform_id": PAGE, "school": '=HYPERLINK("http://x")'})
    (case,) = cases_for("c-1", PHONE)
    row = reports.account_row(
        account,
        month=MARCH,
        now=NOW,
        histories=[history(added("c-1", IN_MARCH))],
        cases=[decided(case, CaseState.ACTIONED, CaseState.OVERTURNED)],
        credential=credential(),
        requests=[],
    )
    head = reports.header(
        MARCH, NOW, ruleset="rules 1.0.0", viewpoint_neutrality="neutral", published=list(Category)
    )
    summary = reports.records_summary([], MARCH, NOW.date())
    district = reports.district_report(head, [row], summary)
    assert (district.totals.accounts, district.totals.linked, district.totals.comments_captured) == (1, 1, 1)

    table = list(csv.reader(io.StringIO(reports.to_csv(district))))
    assert table[0] == reports.csv_columns()
    assert len(table) == 3
    mine, total = (dict(zip(table[0], line, strict=True)) for line in table[1:])
    assert mine["school"].startswith("'=")  # never a formula in a spreadsheet
    assert (mine["comments_captured"], mine["cases_opened"], mine["cases_overturned"]) == ("1", "1", "1")
    assert mine["cases_private_information"] == "1"
    assert mine["overturned_private_information"] == "1"
    assert mine["rules_used"] == "phone-number=1"
    assert (mine["disclosures_complete"], mine["password_age_days"]) == ("true", "90")
    assert (total["account_id"], total["cases_opened"], total["comments_captured"]) == ("TOTAL", "1", "1")

    single = reports.AccountReport(header=head, account=row)
    lines = list(csv.reader(io.StringIO(reports.to_csv(single))))
    assert len(lines) == 2
    assert reports.csv_filename(single) == f"steward-report-2026-03-{account.id}.csv"
    assert reports.csv_filename(district) == "steward-report-2026-03-district.csv"
