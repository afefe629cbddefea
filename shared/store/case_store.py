"""Moderation cases and pending platform actions in DynamoDB (catalogue table ``cases``).

Two kinds of record share the table:

* a case: ``pk = CASE#<id>``, ``sk = META``, with sparse index keys so the queue can be listed by state
  (``by-state``), by account (``by-account``) and by category (``by-category``), newest first, without a Scan;
* a pending action (a hide Steward asked a platform for, awaiting its echo webhook): ``pk = PENDING#<item key>``,
  ``sk = ACTION#<action id>``, read with one Query per item; it expires (``expires_at``, DynamoDB TTL).

Writes are optimistic, as in the content store: each case carries a revision and a save succeeds only if the
revision it read is still there (a new case only if there is none), so a redelivery processed at the same time
never opens the case twice or loses a transition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError, PynamoDBException, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.domain.cases import Case, CaseState
from shared.domain.content import PendingAction, format_time
from shared.errors import Conflict, Unavailable
from shared.store import dynamo

TABLE = "cases"
META = "META"


class ByState(GlobalSecondaryIndex["CaseRecord"]):
    class Meta:
        index_name = "by-state"
        projection = AllProjection()

    state_pk = UnicodeAttribute(hash_key=True)
    state_sk = UnicodeAttribute(range_key=True)


class ByAccount(GlobalSecondaryIndex["CaseRecord"]):
    class Meta:
        index_name = "by-account"
        projection = AllProjection()

    account_pk = UnicodeAttribute(hash_key=True)
    account_sk = UnicodeAttribute(range_key=True)


class ByCategory(GlobalSecondaryIndex["CaseRecord"]):
    class Meta:
        index_name = "by-category"
        projection = AllProjection()

    category_pk = UnicodeAttribute(hash_key=True)
    category_sk = UnicodeAttribute(range_key=True)


class CaseRecord(Model):
    class Meta:
        table_name = "unbound-cases"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    revision = NumberAttribute(null=True)
    body = UnicodeAttribute()
    state_pk = UnicodeAttribute(null=True)
    state_sk = UnicodeAttribute(null=True)
    account_pk = UnicodeAttribute(null=True)
    account_sk = UnicodeAttribute(null=True)
    category_pk = UnicodeAttribute(null=True)
    category_sk = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    echo_event_id = UnicodeAttribute(null=True)

    by_state = ByState()
    by_account = ByAccount()
    by_category = ByCategory()


def case_key(case_id: str) -> str:
    return f"CASE#{case_id}"


def pending_key(platform: str, account_id: str, item_id: str) -> str:
    return f"PENDING#{platform}#{account_id}#{item_id}"


@dataclass(frozen=True)
class StoredCase:
    case: Case
    revision: int


def order_key(case: Case) -> str:
    """The sort key of a case in every index: opened time, then id (unique, so a listing can resume after it)."""
    return f"{format_time(case.opened_at)}#{case.case_id}"


def _record(case: Case, revision: int) -> CaseRecord:
    order = order_key(case)
    return CaseRecord(
        pk=case_key(case.case_id),
        sk=META,
        revision=revision,
        body=case.model_dump_json(),
        state_pk=f"STATE#{case.state}",
        state_sk=order,
        account_pk=f"ACCOUNT#{case.platform}#{case.account_id}",
        account_sk=order,
        category_pk=f"CATEGORY#{case.category}",
        category_sk=order,
    )


def order_key_of(record: CaseRecord) -> str:
    return str(record.state_sk)


class CaseStore:
    def __init__(self) -> None:
        dynamo.bind(CaseRecord, TABLE)

    # ------------------------------------------------------------------------------------------- cases
    def get(self, case_id: str) -> StoredCase | None:
        try:
            record = CaseRecord.get(case_key(case_id), META, consistent_read=True)
        except CaseRecord.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise Unavailable("the case store could not be read") from exc
        return StoredCase(Case.model_validate_json(record.body), int(record.revision or 0))

    def save(self, case: Case, expected_revision: int | None) -> int:
        """Write ``case`` if it is still at ``expected_revision`` (None: only if it is new); the new revision.

        Raises Conflict when another writer got there first, Unavailable when DynamoDB fails."""
        revision = (expected_revision or 0) + 1
        condition = (
            CaseRecord.pk.does_not_exist()
            if expected_revision is None
            else CaseRecord.revision == expected_revision
        )
        try:
            _record(case, revision).save(condition=condition)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(f"case {case.case_id[:12]} changed meanwhile") from exc
            raise Unavailable("the case store could not be written") from exc
        return revision

    def save_part(self, case: Case, expected_revision: int) -> Callable[[TransactWrite], None]:
        """The conditional write of :meth:`save` as a part of someone else's transaction (e.g. an audit entry's)."""
        record = _record(case, expected_revision + 1)
        condition = CaseRecord.revision == expected_revision

        def part(tx: TransactWrite) -> None:
            tx.save(record, condition=condition)

        return part

    def newest_first(
        self,
        index: str,
        key: str,
        *,
        before: str | None = None,
        states: frozenset[CaseState] | None = None,
        category: str | None = None,
        page_size: int = 50,
    ) -> Iterator[tuple[str, Case]]:
        """(order key, case) of one index partition, newest first, after ``before`` (lazily, page by page).

        ``index`` is ``state``, ``account`` or ``category``; ``key`` the partition's value (``STATE#open``...).
        ``states`` and ``category`` filter on the server."""
        gsi, sort = {
            "state": (CaseRecord.by_state, CaseRecord.state_sk),
            "account": (CaseRecord.by_account, CaseRecord.account_sk),
            "category": (CaseRecord.by_category, CaseRecord.category_sk),
        }[index]
        filters: Any = None
        if states is not None:
            filters = CaseRecord.state_pk.is_in(*(f"STATE#{s}" for s in sorted(states)))
        if category is not None:
            same = CaseRecord.category_pk == f"CATEGORY#{category}"
            filters = same if filters is None else filters & same
        try:
            for record in gsi.query(
                key,
                sort < before if before is not None else None,
                filter_condition=filters,
                scan_index_forward=False,
                page_size=page_size,
            ):
                yield order_key_of(record), Case.model_validate_json(record.body)
        except PynamoDBException as exc:
            raise Unavailable("the case store could not be read") from exc

    def opened_between(self, category: str, first: str, last: str) -> Iterator[Case]:
        """Cases of one category opened from ``first`` to ``last`` (prefixes of the UTC time, e.g. months)."""
        try:
            for record in CaseRecord.by_category.query(
                f"CATEGORY#{category}", CaseRecord.category_sk.between(first, f"{last}~"), page_size=500
            ):
                yield Case.model_validate_json(record.body)
        except PynamoDBException as exc:
            raise Unavailable("the case store could not be read") from exc

    def opened_in_account(self, platform: str, account_id: str, first: str, last: str) -> Iterator[Case]:
        """Cases of one account opened from ``first`` to ``last`` (prefixes of the UTC time, e.g. months)."""
        try:
            for record in CaseRecord.by_account.query(
                f"ACCOUNT#{platform}#{account_id}",
                CaseRecord.account_sk.between(first, f"{last}~"),
                page_size=500,
            ):
                yield Case.model_validate_json(record.body)
        except PynamoDBException as exc:
            raise Unavailable("the case store could not be read") from exc

    def _query(self, index: GlobalSecondaryIndex[CaseRecord], key: str, limit: int) -> Iterator[Case]:
        try:
            for record in index.query(key, limit=limit, scan_index_forward=False):
                yield Case.model_validate_json(record.body)
        except PynamoDBException as exc:
            raise Unavailable("the case store could not be read") from exc

    def by_state(self, state: CaseState, limit: int = 100) -> list[Case]:
        return list(self._query(CaseRecord.by_state, f"STATE#{state}", limit))

    def by_account(self, platform: str, account_id: str, limit: int = 100) -> list[Case]:
        return list(self._query(CaseRecord.by_account, f"ACCOUNT#{platform}#{account_id}", limit))

    def by_category(self, category: str, limit: int = 100) -> list[Case]:
        return list(self._query(CaseRecord.by_category, f"CATEGORY#{category}", limit))

    # ------------------------------------------------------------------------------------------- pending
    def add_pending(self, action: PendingAction, keep: timedelta) -> None:
        expires = action.requested_at + keep
        try:
            CaseRecord(
                pk=pending_key(action.platform, action.account_id, action.item_id),
                sk=f"ACTION#{action.action_id}",
                body=action.model_dump_json(),
                expires_at=int(expires.timestamp()),
            ).save()
        except PynamoDBException as exc:
            raise Unavailable("the pending action could not be recorded") from exc

    def pending(
        self, platform: str, account_id: str, item_id: str, now: datetime
    ) -> list[tuple[PendingAction, str | None]]:
        """The item's unexpired pending actions, each with the id of the echo already matched to it (if any).
        TTL deletion is lazy, so expiry is checked here too."""
        cutoff = int(now.timestamp())
        try:
            records = list(CaseRecord.query(pending_key(platform, account_id, item_id), consistent_read=True))
        except PynamoDBException as exc:
            raise Unavailable("the pending actions could not be read") from exc
        return [
            (PendingAction.model_validate_json(r.body), r.echo_event_id)
            for r in records
            if r.expires_at is None or int(r.expires_at) > cutoff
        ]

    def mark_echoed(self, action: PendingAction, echo_event_id: str) -> None:
        record = CaseRecord(
            pk=pending_key(action.platform, action.account_id, action.item_id),
            sk=f"ACTION#{action.action_id}",
        )
        try:
            record.update(
                actions=[CaseRecord.echo_event_id.set(echo_event_id)], condition=CaseRecord.pk.exists()
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return  # it expired meanwhile
            raise Unavailable("the pending action could not be updated") from exc
        except PynamoDBException as exc:
            raise Unavailable("the pending action could not be updated") from exc

    def remove_pending(self, action: PendingAction) -> None:
        try:
            CaseRecord(
                pk=pending_key(action.platform, action.account_id, action.item_id),
                sk=f"ACTION#{action.action_id}",
                body="",
            ).delete()
        except DeleteError as exc:
            raise Unavailable("the pending action could not be removed") from exc
