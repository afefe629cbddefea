"""Compliance reports (pure domain): per month and account, what the account published, the comments Steward
captured, the moderation by category and action (the viewpoint-neutrality audit), the disclosures, the credential's
age and the public-records requests; and the district's summary over every account. No AWS: the service
(:mod:`shared.reports_service`) reads the stores and hands the plain values to :func:`account_report` and
:func:`district_report`; :func:`to_csv` renders either as a CSV download.

What is counted, and as of when (``basis`` in every report says the same to the reader):

* **The month** is a calendar month in UTC, ``YYYY-MM``, from 2000-01 to the current month (a current month's
  report is partial: ``complete`` is false and everything stands as of now).
* **Activity**: the items created in the month, from the content index. An item is the account's own when the
  platform says its author is the account (``author_is_account``); when the platform does not say, posts and
  videos are the account's and comments and replies are someone else's. Hidden / removed: the state each item
  was in at the end of the month (or now), from its version history.
* **Moderation**: the cases opened in the month, by the category of the published rule that matched and the
  rule's action (``hide``, ``review``, ``critical``). Outcomes are as they stand now: ``hidden`` (the platform
  hid the comment), ``held_for_review`` (a ``review`` rule: nothing was done until a moderator decided),
  ``escalated`` (ever escalated), ``confirmed``, ``overturned``, ``awaiting_decision`` (not yet final).
* **Disclosures** and **stewards** are the register's as it is now; the **credential**'s ages are as of the end
  of the month (or now), from the credential record (never the secret).
* **Records requests** as of the month's last day (or today): open = received by then and not closed by then;
  overdue = open and past its due date (a request awaiting the requester's clarification is not overdue).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from shared.domain import spreadsheet
from shared.domain.accounts import Account, AccountStatus, DisclosureItem
from shared.domain.cases import FINAL_STATES, Case, CaseState
from shared.domain.content import ItemHistory, ItemState
from shared.domain.credentials import Credential
from shared.domain.moderation import Action, Category
from shared.domain.requests import RecordsRequest, RequestStatus
from shared.domain.retention import HoldScope
from shared.errors import InvalidParameter

FIRST_YEAR = 2000
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Statuses in which an official account can have had activity worth reporting (a request, an approved account not
# yet active, a rejected one or an unofficial page never do).
REPORTED_STATUSES = (
    AccountStatus.ACTIVE,
    AccountStatus.DORMANT,
    AccountStatus.ABANDONED,
    AccountStatus.RETIRED,
    AccountStatus.APPROVED,
)

BASIS = {
    "month": "A calendar month in UTC; a report of the current month is partial (complete: false).",
    "activity": "Items created in the month. The account's own: the platform says its author is the account, or "
    "(when it does not say) a post or video; comments captured: comments and replies by anyone else. Hidden and "
    "removed: each item's state at the end of the month (or now).",
    "moderation": "Cases opened in the month, by the category of the published rule that matched and the rule's "
    "action (hide, review, critical). Outcomes as they stand now: hidden = the platform hid the comment; "
    "held_for_review = a review rule, nothing done until a moderator decided; escalated = ever escalated; "
    "confirmed / overturned = a moderator's final decision; awaiting_decision = not yet final.",
    "viewpoint_neutrality": "Every category is one of the published rule set's content categories; none is an "
    "opinion or a viewpoint. A comment is moderated only when a published rule matched it, and each case names "
    "that rule.",
    "disclosures": "The register's checklist as it is now (AR 1114's eight items and the 4007 notice).",
    "credential": "Ages in whole days as of the end of the month (or now), from the credential record; the secret "
    "is never read.",
    "records_requests": "As of the month's last day (or today): open = received by then and not closed by then; "
    "overdue = open past its due date, unless awaiting the requester's clarification.",
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------------------------- the month
class Month(_Model):
    year: int = Field(ge=FIRST_YEAR, le=9999)
    month: int = Field(ge=1, le=12)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the month."""
        if self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=UTC)
        return datetime(self.year, self.month + 1, 1, tzinfo=UTC)

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def as_of(self, now: datetime) -> datetime:
        """When the report stands: the end of the month, or now for the current month."""
        return min(now, self.end)

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def parse_month(value: str, now: datetime) -> Month:
    """``YYYY-MM`` from 2000-01 to the month ``now`` is in; InvalidParameter (422) naming what is wrong."""
    found = _MONTH.fullmatch(value.strip())
    if found is None:
        raise InvalidParameter(f"month: expected a month as YYYY-MM, got {value[:20]!r}")
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12:
        raise InvalidParameter(f"month: {value} has no month {month:02d} (01 to 12)")
    if year < FIRST_YEAR:
        raise InvalidParameter(f"month: reports start at {FIRST_YEAR}-01, got {value}")
    parsed = Month(year=year, month=month)
    current = now.astimezone(UTC)
    if (year, month) > (current.year, current.month):
        raise InvalidParameter(
            f"month: {value} is in the future (the current month is {current.year:04d}-{current.month:02d})"
        )
    return parsed


# --------------------------------------------------------------------------------------------- the report models
class Activity(_Model):
    posts_by_account: int = Field(description="Items created in the month by the account itself")
    comments_captured: int = Field(description="Comments and replies by others created in the month")
    comments_hidden: int = Field(description="Of those, hidden at the end of the month (or now)")
    comments_removed: int = Field(description="Of those, removed at the end of the month (or now)")
    posts_removed: int = Field(description="The account's own items removed at the end of the month (or now)")


class ModerationRow(_Model):
    category: Category
    policy_action: Action
    opened: int
    hidden: int
    held_for_review: int
    escalated: int
    confirmed: int
    overturned: int
    awaiting_decision: int


class CategoryTotal(_Model):
    category: Category
    opened: int
    overturned: int


class RuleUse(_Model):
    rule_id: str
    category: Category
    policy_action: Action
    cases: int


class Moderation(_Model):
    cases_opened: int
    hidden: int
    held_for_review: int
    escalated: int
    confirmed: int
    overturned: int
    awaiting_decision: int
    rows: list[ModerationRow] = Field(description="Per category and policy action")
    by_category: list[CategoryTotal] = Field(description="Every published category, with zeros")
    rules_used: list[RuleUse]
    ruleset_versions: list[str] = Field(description="The rule set versions the cases were opened under")
    categories_are_published: bool = Field(
        description="True when every case's category is one of the published rule set's content categories"
    )


class DisclosureStatus(_Model):
    applicable: bool = Field(
        description="False for an unofficial page, which displays no district disclosures"
    )
    complete: bool
    confirmed: int
    required: int
    missing: list[DisclosureItem]


class CredentialAge(_Model):
    in_vault: bool
    has_password: bool = False
    has_tokens: bool = False
    created_at: datetime | None = None
    password_changed_at: datetime | None = None
    tokens_refreshed_at: datetime | None = None
    token_expires_at: datetime | None = None
    password_age_days: int | None = Field(
        default=None, description="Days since the password was last set (or the credential was stored)"
    )
    tokens_age_days: int | None = Field(default=None, description="Days since the tokens were last refreshed")
    token_expires_in_days: int | None = Field(
        default=None, description="Negative: expired that many days ago"
    )
    rotation_due: bool = False


class RecordsSummary(_Model):
    as_of: date
    received_in_month: int
    closed_in_month: int
    open: int
    overdue: int
    overdue_ids: list[str]


class AccountRow(_Model):
    account_id: str
    platform: str
    handle: str
    school: str
    kind: str
    status: AccountStatus
    platform_id: str | None
    linked: bool = Field(description="False: no platform id yet, so nothing can be attributed to it (zeros)")
    stewards: int
    admin_shortfall: int
    activity: Activity
    moderation: Moderation
    disclosures: DisclosureStatus
    credential: CredentialAge
    records_requests: RecordsSummary = Field(description="Requests whose hold scope names this account")


class Totals(_Model):
    accounts: int
    linked: int
    not_linked: int
    disclosures_incomplete: int
    credentials_missing: int
    rotation_due: int
    admin_shortfall: int
    posts_by_account: int
    comments_captured: int
    comments_hidden: int
    comments_removed: int


class ReportHeader(_Model):
    month: str
    generated_at: datetime
    as_of: datetime
    complete: bool = Field(description="False for the current month: the report is partial")
    ruleset: str = Field(description="The published rule set in force: name and version")
    viewpoint_neutrality: str = Field(description="The rule set's published viewpoint-neutrality statement")
    published_categories: list[Category]
    basis: dict[str, str]


class AccountReport(_Model):
    header: ReportHeader
    account: AccountRow


class DistrictReport(_Model):
    header: ReportHeader
    totals: Totals
    moderation: Moderation
    records_requests: RecordsSummary
    accounts: list[AccountRow]


# --------------------------------------------------------------------------------------------- aggregation
def _days(since: datetime | None, at: datetime) -> int | None:
    return None if since is None else (at - since).days


def state_at(history: ItemHistory, at: datetime) -> ItemState:
    """The item's state at ``at``: its last version in effect by then (its first, if none was yet)."""
    before = [v for v in history.versions if v.effective_at <= at]
    return (before[-1] if before else history.versions[0]).state


def activity(histories: Iterable[ItemHistory], month: Month, as_of: datetime) -> Activity:
    """What was created in ``month`` among ``histories`` (items outside it are ignored)."""
    counts = {"posts": 0, "comments": 0, "hidden": 0, "removed": 0, "posts_removed": 0}
    for history in histories:
        created = history.identity.created_at or history.versions[0].effective_at
        if not month.contains(created):
            continue
        state = state_at(history, as_of)
        if history.by_the_account:
            counts["posts"] += 1
            counts["posts_removed"] += state is ItemState.REMOVED
        else:
            counts["comments"] += 1
            counts["hidden"] += state is ItemState.HIDDEN
            counts["removed"] += state is ItemState.REMOVED
    return Activity(
        posts_by_account=counts["posts"],
        comments_captured=counts["comments"],
        comments_hidden=counts["hidden"],
        comments_removed=counts["removed"],
        posts_removed=counts["posts_removed"],
    )


def _outcomes(case: Case) -> dict[str, int]:
    states = {t.to_state for t in case.transitions}
    return {
        "opened": 1,
        "hidden": int(CaseState.ACTIONED in states),
        "held_for_review": int(case.action is Action.REVIEW),
        "escalated": int(CaseState.ESCALATED in states),
        "confirmed": int(case.state is CaseState.CONFIRMED),
        "overturned": int(case.state is CaseState.OVERTURNED),
        "awaiting_decision": int(case.state not in FINAL_STATES),
    }


OUTCOMES = (
    "opened",
    "hidden",
    "held_for_review",
    "escalated",
    "confirmed",
    "overturned",
    "awaiting_decision",
)


_Rows = dict[tuple[Category, Action], dict[str, int]]
_Rules = dict[str, tuple[Category, Action, int]]


def _summarize(
    rows: _Rows, rules: _Rules, versions: Iterable[str], published: Sequence[Category], published_only: bool
) -> Moderation:
    ordered = sorted(rows.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))
    totals = {name: sum(r[name] for _, r in ordered) for name in OUTCOMES}

    def of(category: Category, name: str) -> int:
        return sum(r[name] for (c, _), r in ordered if c is category)

    return Moderation(
        cases_opened=totals["opened"],
        hidden=totals["hidden"],
        held_for_review=totals["held_for_review"],
        escalated=totals["escalated"],
        confirmed=totals["confirmed"],
        overturned=totals["overturned"],
        awaiting_decision=totals["awaiting_decision"],
        rows=[ModerationRow(category=c, policy_action=a, **r) for (c, a), r in ordered],
        by_category=[
            CategoryTotal(category=c, opened=of(c, "opened"), overturned=of(c, "overturned"))
            for c in published
        ],
        rules_used=[
            RuleUse(rule_id=rule_id, category=c, policy_action=a, cases=n)
            for rule_id, (c, a, n) in sorted(rules.items())
        ],
        ruleset_versions=sorted(set(versions)),
        categories_are_published=published_only and all(c in published for c, _ in rows),
    )


def _add_rule(rules: _Rules, rule_id: str, category: Category, action: Action, count: int) -> None:
    _, _, before = rules.get(rule_id, (category, action, 0))
    rules[rule_id] = (category, action, before + count)


def moderation(
    cases: Iterable[Case], month: Month, published: Sequence[Category] = tuple(Category)
) -> Moderation:
    """The cases opened in ``month`` (others are ignored), by category and policy action, with the rules used."""
    rows: _Rows = {}
    rules: _Rules = {}
    versions: set[str] = set()
    seen: set[str] = set()
    for case in cases:
        if case.case_id in seen or not month.contains(case.opened_at):
            continue
        seen.add(case.case_id)
        row = rows.setdefault((case.category, case.action), dict.fromkeys(OUTCOMES, 0))
        for name, value in _outcomes(case).items():
            row[name] += value
        _add_rule(rules, case.rule_id, case.category, case.action, 1)
        versions.add(case.ruleset_version)
    return _summarize(rows, rules, versions, published, True)


def combine(parts: Sequence[Moderation], published: Sequence[Category] = tuple(Category)) -> Moderation:
    """The district's moderation: the accounts' rows added up."""
    rows: _Rows = {}
    rules: _Rules = {}
    for part in parts:
        for row in part.rows:
            into = rows.setdefault((row.category, row.policy_action), dict.fromkeys(OUTCOMES, 0))
            for name in OUTCOMES:
                into[name] += getattr(row, name)
        for use in part.rules_used:
            _add_rule(rules, use.rule_id, use.category, use.policy_action, use.cases)
    versions = [v for part in parts for v in part.ruleset_versions]
    return _summarize(rows, rules, versions, published, all(p.categories_are_published for p in parts))


def disclosure_status(account: Account) -> DisclosureStatus:
    if not account.official:
        return DisclosureStatus(applicable=False, complete=True, confirmed=0, required=0, missing=[])
    missing = list(account.missing_disclosures())
    required = len(DisclosureItem)
    return DisclosureStatus(
        applicable=True,
        complete=not missing,
        confirmed=required - len(missing),
        required=required,
        missing=missing,
    )


def credential_age(credential: Credential | None, as_of: datetime) -> CredentialAge:
    if credential is None:
        return CredentialAge(in_vault=False)
    password_since = credential.password_changed_at or (
        credential.created_at if credential.has_password else None
    )
    tokens_since = credential.tokens_refreshed_at or (
        credential.created_at if credential.has_tokens else None
    )
    expires = credential.token_expires_at
    return CredentialAge(
        in_vault=True,
        has_password=credential.has_password,
        has_tokens=credential.has_tokens,
        created_at=credential.created_at,
        password_changed_at=credential.password_changed_at,
        tokens_refreshed_at=credential.tokens_refreshed_at,
        token_expires_at=expires,
        password_age_days=_days(password_since, as_of),
        tokens_age_days=_days(tokens_since, as_of),
        token_expires_in_days=None if expires is None else (expires - as_of).days,
        rotation_due=credential.rotation_due,
    )


def _open_on(request: RecordsRequest, day: date) -> bool:
    return request.received_on <= day and (request.closed_on is None or request.closed_on > day)


def _overdue_on(request: RecordsRequest, day: date) -> bool:
    waiting = request.open and request.status is RequestStatus.CLARIFICATION_REQUESTED
    return _open_on(request, day) and day > request.due_on and not waiting


def records_summary(requests: Iterable[RecordsRequest], month: Month, today: date) -> RecordsSummary:
    day = min(today, month.last_day)
    found = list(requests)
    first, last = month.start.date(), month.last_day
    overdue = sorted((r for r in found if _overdue_on(r, day)), key=lambda r: (r.due_on, r.id))
    return RecordsSummary(
        as_of=day,
        received_in_month=sum(first <= r.received_on <= last for r in found),
        closed_in_month=sum(r.closed_on is not None and first <= r.closed_on <= last for r in found),
        open=sum(_open_on(r, day) for r in found),
        overdue=len(overdue),
        overdue_ids=[r.id for r in overdue],
    )


def was_reportable(account: Account, month: Month) -> bool:
    """An official account on the register by the end of the month and not retired before it began."""
    if not account.official or account.requested_at >= month.end:
        return False
    if account.status is AccountStatus.RETIRED:
        retired = [c.at for c in account.history if c.to_status is AccountStatus.RETIRED]
        return not retired or retired[-1] >= month.start
    return account.status in REPORTED_STATUSES


def account_row(
    account: Account,
    *,
    month: Month,
    now: datetime,
    histories: Iterable[ItemHistory],
    cases: Iterable[Case],
    credential: Credential | None,
    requests: Iterable[RecordsRequest],
    published: Sequence[Category] = tuple(Category),
) -> AccountRow:
    """One account's row. An account without a platform id is reported as not linked, with zero activity and
    moderation whatever was passed."""
    as_of = month.as_of(now)
    linked = account.platform_id is not None
    return AccountRow(
        account_id=account.id,
        platform=str(account.platform),
        handle=account.handle,
        school=account.school,
        kind=str(account.kind),
        status=account.status,
        platform_id=account.platform_id,
        linked=linked,
        stewards=len(account.stewards),
        admin_shortfall=account.admin_shortfall,
        activity=activity(histories if linked else (), month, as_of),
        moderation=moderation(cases if linked else (), month, published),
        disclosures=disclosure_status(account),
        credential=credential_age(credential, as_of),
        records_requests=records_summary(requests, month, now.date()),
    )


def header(
    month: Month, now: datetime, *, ruleset: str, viewpoint_neutrality: str, published: Sequence[Category]
) -> ReportHeader:
    return ReportHeader(
        month=month.label,
        generated_at=now,
        as_of=month.as_of(now),
        complete=now >= month.end,
        ruleset=ruleset,
        viewpoint_neutrality=viewpoint_neutrality,
        published_categories=list(published),
        basis=dict(BASIS),
    )


def district_report(
    head: ReportHeader,
    rows: Sequence[AccountRow],
    requests: RecordsSummary,
    published: Sequence[Category] = tuple(Category),
) -> DistrictReport:
    totals = Totals(
        accounts=len(rows),
        linked=sum(r.linked for r in rows),
        not_linked=sum(not r.linked for r in rows),
        disclosures_incomplete=sum(not r.disclosures.complete for r in rows),
        credentials_missing=sum(not r.credential.in_vault for r in rows),
        rotation_due=sum(r.credential.rotation_due for r in rows),
        admin_shortfall=sum(r.admin_shortfall > 0 for r in rows),
        posts_by_account=sum(r.activity.posts_by_account for r in rows),
        comments_captured=sum(r.activity.comments_captured for r in rows),
        comments_hidden=sum(r.activity.comments_hidden for r in rows),
        comments_removed=sum(r.activity.comments_removed for r in rows),
    )
    return DistrictReport(
        header=head,
        totals=totals,
        moderation=combine([r.moderation for r in rows], published),
        records_requests=requests,
        accounts=list(rows),
    )


# --------------------------------------------------------------------------------------------- CSV
def csv_columns(published: Sequence[Category] = tuple(Category)) -> list[str]:
    return [
        "month",
        "account_id",
        "platform",
        "handle",
        "school",
        "kind",
        "status",
        "platform_id",
        "linked",
        "posts_by_account",
        "comments_captured",
        "comments_hidden",
        "comments_removed",
        "cases_opened",
        "cases_hidden",
        "cases_held_for_review",
        "cases_escalated",
        "cases_confirmed",
        "cases_overturned",
        "cases_awaiting_decision",
        *(f"cases_{c}" for c in published),
        *(f"overturned_{c}" for c in published),
        "rules_used",
        "disclosures_complete",
        "disclosures_missing",
        "credential_in_vault",
        "password_age_days",
        "tokens_age_days",
        "token_expires_in_days",
        "rotation_due",
        "records_open",
        "records_overdue",
    ]


def _moderation_cells(m: Moderation, published: Sequence[Category]) -> list[object]:
    by = {t.category: t for t in m.by_category}
    return [
        m.cases_opened,
        m.hidden,
        m.held_for_review,
        m.escalated,
        m.confirmed,
        m.overturned,
        m.awaiting_decision,
        *(by[c].opened if c in by else 0 for c in published),
        *(by[c].overturned if c in by else 0 for c in published),
        ";".join(f"{u.rule_id}={u.cases}" for u in m.rules_used),
    ]


def _row_cells(month: str, row: AccountRow, published: Sequence[Category]) -> list[object]:
    a, c = row.activity, row.credential
    return [
        month,
        row.account_id,
        row.platform,
        row.handle,
        row.school,
        row.kind,
        row.status,
        row.platform_id,
        row.linked,
        a.posts_by_account,
        a.comments_captured,
        a.comments_hidden,
        a.comments_removed,
        *_moderation_cells(row.moderation, published),
        row.disclosures.complete,
        ";".join(str(m) for m in row.disclosures.missing),
        c.in_vault,
        c.password_age_days,
        c.tokens_age_days,
        c.token_expires_in_days,
        c.rotation_due,
        row.records_requests.open,
        row.records_requests.overdue,
    ]


def _total_cells(report: DistrictReport, published: Sequence[Category]) -> list[object]:
    t = report.totals
    return [
        report.header.month,
        "TOTAL",
        "",
        f"{t.accounts} accounts",
        "",
        "",
        "",
        "",
        f"{t.linked} linked",
        t.posts_by_account,
        t.comments_captured,
        t.comments_hidden,
        t.comments_removed,
        *_moderation_cells(report.moderation, published),
        f"{t.accounts - t.disclosures_incomplete} of {t.accounts}",
        "",
        f"{t.accounts - t.credentials_missing} of {t.accounts}",
        "",
        "",
        "",
        t.rotation_due,
        report.records_requests.open,
        report.records_requests.overdue,
    ]


def to_csv(report: AccountReport | DistrictReport) -> str:
    """A header row, then a row per account; a district report ends with its TOTAL row (records requests there are
    the district's)."""
    published = report.header.published_categories
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_columns(published))
    rows = [report.account] if isinstance(report, AccountReport) else report.accounts
    for row in rows:
        writer.writerow([spreadsheet.cell(v) for v in _row_cells(report.header.month, row, published)])
    if isinstance(report, DistrictReport):
        writer.writerow([spreadsheet.cell(v) for v in _total_cells(report, published)])
    return buffer.getvalue()


def csv_filename(report: AccountReport | DistrictReport) -> str:
    if isinstance(report, AccountReport):
        return f"steward-report-{report.header.month}-{report.account.account_id}.csv"
    return f"steward-report-{report.header.month}-district.csv"


def names_account(scope: HoldScope, platform: str, platform_id: str) -> bool:
    """Whether a hold's scope covers items of the account (named as an account or through an item key)."""
    key = f"{platform}:{platform_id}"
    return key in scope.accounts or any(i.startswith(f"{key}:") for i in scope.item_ids)
