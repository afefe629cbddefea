"""Compliance reports as a service: reads the stores through their indexes (never a Scan) and builds the reports
of :mod:`shared.domain.reports`. Called by ``functions.reports_api``.

Per account, for a month: the registry account (a GetItem, or the ``by-status`` index for the district), its
content items created in the month (the content table's ``by-account`` index, a range of its sort key), the cases
opened in the month (the cases table's ``by-account`` index, likewise), its credential record (a GetItem; the
secret is never read) and the records requests whose hold names it (one Query of the requests and one of the
holds, shared by every account).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from shared.domain import reports as domain
from shared.domain.accounts import Account
from shared.domain.cases import Case
from shared.domain.content import ItemHistory
from shared.domain.credentials import Credential
from shared.domain.moderation import Category, engine
from shared.domain.reports import AccountReport, DistrictReport, Month
from shared.domain.requests import RecordsRequest
from shared.domain.retention import Hold
from shared.errors import Conflict, NotFound
from shared.store.account_store import AccountStore, status_key
from shared.store.case_store import CaseStore
from shared.store.content_store import ContentStore
from shared.store.records_store import RecordsStore
from shared.store.vault import Vault


def _now() -> datetime:
    return datetime.now(UTC)


def _published() -> tuple[Category, ...]:
    """The categories of the published rule set, in the schema's order (each with zeros when unused)."""
    used = {rule.category for rule in engine.ruleset().rules}
    return tuple(c for c in Category if c in used)


def _header(month: Month, now: datetime) -> domain.ReportHeader:
    info = engine.ruleset().ruleset
    return domain.header(
        month,
        now,
        ruleset=f"{info.name} {info.version} (published {info.published})",
        viewpoint_neutrality=info.viewpoint_neutrality,
        published=_published(),
    )


class _Sources:
    """The stores, and what every account's row shares (the requests and the holds), read once."""

    def __init__(self) -> None:
        self.content = ContentStore()
        self.cases = CaseStore()
        records = RecordsStore()
        self.requests: list[RecordsRequest] = list(records.requests())
        self.holds: dict[str, Hold] = {h.value.id: h.value for h in records.holds()}

    def histories(self, account: Account, month: Month) -> Iterator[ItemHistory]:
        if account.platform_id is None:
            return
        for stored in self.content.in_account(
            str(account.platform), account.platform_id, date_from=month.label, date_to=month.label
        ):
            yield stored.history

    def cases_of(self, account: Account, month: Month) -> Iterator[Case]:
        if account.platform_id is None:
            return
        yield from self.cases.opened_in_account(
            str(account.platform), account.platform_id, month.label, month.label
        )

    def requests_naming(self, account: Account) -> list[RecordsRequest]:
        if account.platform_id is None:
            return []
        named = []
        for request in self.requests:
            hold = self.holds.get(request.hold_id) if request.hold_id else None
            if hold is not None and domain.names_account(
                hold.scope, str(account.platform), account.platform_id
            ):
                named.append(request)
        return named

    def row(
        self, account: Account, month: Month, now: datetime, credential: Credential | None
    ) -> domain.AccountRow:
        return domain.account_row(
            account,
            month=month,
            now=now,
            histories=self.histories(account, month),
            cases=self.cases_of(account, month),
            credential=credential,
            requests=self.requests_naming(account),
            published=_published(),
        )


def account_report(month_text: str, account_id: str, now: datetime | None = None) -> AccountReport:
    """One registry account's report for a month; 422 for a bad month, 404 for an unknown account, 409 for an
    unofficial page (Steward neither archives nor moderates it)."""
    now = now or _now()
    month = domain.parse_month(month_text, now)
    stored = AccountStore().get(account_id)
    if stored is None:
        raise NotFound(f"no account {account_id}")
    account = stored.account
    if not account.official:
        raise Conflict(f"account {account_id} is an unofficial page: Steward does not report on it")
    stored_credential = Vault().get(account_id)
    credential = stored_credential.credential if stored_credential else None
    return AccountReport(header=_header(month, now), account=_Sources().row(account, month, now, credential))


def _reportable(month: Month) -> list[Account]:
    """The official accounts to report for ``month``, from the ``by-status`` index (one Query per status)."""
    accounts = AccountStore()
    found: dict[str, Account] = {}
    for status in domain.REPORTED_STATUSES:
        for _, account in accounts.newest_first("status", status_key(status), page_size=100):
            if domain.was_reportable(account, month):
                found[account.id] = account
    return sorted(found.values(), key=lambda a: (a.school.casefold(), str(a.platform), a.handle.casefold()))


def district_report(month_text: str, now: datetime | None = None) -> DistrictReport:
    """The district's report: a row per official account and the totals, with the records requests."""
    now = now or _now()
    month = domain.parse_month(month_text, now)
    sources = _Sources()
    accounts = _reportable(month)
    credentials = Vault().get_many([a.id for a in accounts])  # 100 to a batch read
    rows = [sources.row(account, month, now, credentials.get(account.id)) for account in accounts]
    requests = domain.records_summary(sources.requests, month, now.date())
    return domain.district_report(_header(month, now), rows, requests, _published())
