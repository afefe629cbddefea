"""Content items in DynamoDB: one record per item holding its whole version history, indexed so an item, a thread,
an account's items by date and an author's items can each be read with a Query (never a Scan).

Writes are optimistic: each record carries a revision, and a save succeeds only if the revision it read is still
there (or, for a new item, only if there is none), so two processors recording events of the same item never lose
one another's event.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.domain.content import ContentItem, ItemHistory, Platform, format_time
from shared.domain.item_retention import ItemRetention
from shared.errors import Conflict, Unavailable
from shared.store import dynamo

TABLE = "content"
META = "META"


class ByThread(GlobalSecondaryIndex["ContentRecord"]):
    class Meta:
        index_name = "by-thread"
        projection = AllProjection()

    thread_pk = UnicodeAttribute(hash_key=True)
    thread_sk = UnicodeAttribute(range_key=True)


class ByAccount(GlobalSecondaryIndex["ContentRecord"]):
    class Meta:
        index_name = "by-account"
        projection = AllProjection()

    account_pk = UnicodeAttribute(hash_key=True)
    account_sk = UnicodeAttribute(range_key=True)


class ByAuthor(GlobalSecondaryIndex["ContentRecord"]):
    class Meta:
        index_name = "by-author"
        projection = AllProjection()

    author_pk = UnicodeAttribute(hash_key=True)
    author_sk = UnicodeAttribute(range_key=True)


class ByRetention(GlobalSecondaryIndex["ContentRecord"]):
    class Meta:
        index_name = "by-retention"
        projection = AllProjection()

    retention_pk = UnicodeAttribute(hash_key=True)
    retention_sk = UnicodeAttribute(range_key=True)


class ActivityRecord(Model):
    """An account's latest own post (or video), one small item per platform account
    (``pk = ACTIVITY#<platform>#<account id>``, ``sk = META``) in the same table, written only forward in time, so
    the abandoned-account sweep reads a page of accounts' activity in one BatchGetItem."""

    class Meta:
        table_name = "unbound-content"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    latest = UnicodeAttribute()


def activity_key(platform: str, account_id: str) -> str:
    return f"ACTIVITY#{platform}#{account_id}"


class ContentRecord(Model):
    class Meta:
        table_name = "unbound-content"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    revision = NumberAttribute()
    # Where the audit entries that recorded this item's events are: "chain:seq:entry id", oldest first.
    custody = ListAttribute(of=UnicodeAttribute, default=list)
    platform = UnicodeAttribute()
    account_id = UnicodeAttribute()
    item_id = UnicodeAttribute()
    state = UnicodeAttribute()
    history = UnicodeAttribute()
    thread_pk = UnicodeAttribute()
    thread_sk = UnicodeAttribute()
    account_pk = UnicodeAttribute()
    account_sk = UnicodeAttribute()
    author_pk = UnicodeAttribute(null=True)
    author_sk = UnicodeAttribute(null=True)
    # The item's retention (shared.domain.item_retention.ItemRetention as JSON), and its place in the sparse
    # by-retention index while it may be proposed for disposition.
    retention = UnicodeAttribute(null=True)
    retention_pk = UnicodeAttribute(null=True)
    retention_sk = UnicodeAttribute(null=True)

    by_thread = ByThread()
    by_account = ByAccount()
    by_author = ByAuthor()
    by_retention = ByRetention()


ItemRef = tuple[str, str, str]  # (platform, account id, item id)


def item_key(platform: str, account_id: str, item_id: str) -> str:
    return f"ITEM#{platform}#{account_id}#{item_id}"


def thread_key(platform: str, account_id: str, root_id: str) -> str:
    return f"THREAD#{platform}#{account_id}#{root_id}"


def account_key(platform: str, account_id: str) -> str:
    return f"ACCOUNT#{platform}#{account_id}"


def author_key(platform: str, author_id: str) -> str:
    return f"AUTHOR#{platform}#{author_id}"


@dataclass(frozen=True)
class Stored:
    history: ItemHistory
    revision: int
    custody: tuple[str, ...] = ()
    retention: ItemRetention | None = None


def _record(
    history: ItemHistory, revision: int, custody: tuple[str, ...], retention: ItemRetention | None
) -> ContentRecord:
    item = history.current
    when = format_time(item.created_at or history.versions[0].effective_at)
    order = f"{when}#{item.item_id}"
    root = item.post_id or item.parent_id or item.item_id
    author_id = item.author.id if item.author else None
    eligible = retention.eligible_key if retention is not None else None
    return ContentRecord(
        pk=item_key(item.platform, item.account_id, item.item_id),
        sk=META,
        revision=revision,
        custody=list(custody),
        platform=str(item.platform),
        account_id=item.account_id,
        item_id=item.item_id,
        state=str(item.state),
        history=history.model_dump_json(),
        thread_pk=thread_key(item.platform, item.account_id, root),
        thread_sk=order,
        account_pk=account_key(item.platform, item.account_id),
        account_sk=order,
        author_pk=author_key(item.platform, author_id) if author_id else None,
        author_sk=order if author_id else None,
        retention=retention.model_dump_json() if retention is not None else None,
        retention_pk=eligible[0] if eligible else None,
        retention_sk=f"{eligible[1]}#{item_key(item.platform, item.account_id, item.item_id)}"
        if eligible
        else None,
    )


def _history(record: ContentRecord) -> ItemHistory:
    return ItemHistory.model_validate_json(record.history)


def _stored(record: ContentRecord) -> Stored:
    retention = ItemRetention.model_validate_json(record.retention) if record.retention else None
    return Stored(
        _history(record), int(record.revision), tuple(str(c) for c in record.custody or ()), retention
    )


def _between(sort: Any, low: str | None, high: str | None) -> Any:
    """A sort-key condition from ``low`` to ``high`` (a formatted time: every order key that starts with it is
    included), either end open when None."""
    top = f"{high}~" if high is not None else None
    if low is not None and top is not None:
        return sort.between(low, top)
    if low is not None:
        return sort >= low
    if top is not None:
        return sort <= top
    return None


class ContentStore:
    def __init__(self) -> None:
        dynamo.bind(ContentRecord, TABLE)
        dynamo.bind(ActivityRecord, TABLE)

    def get(self, platform: str, account_id: str, item_id: str) -> Stored | None:
        try:
            record = ContentRecord.get(item_key(platform, account_id, item_id), META, consistent_read=True)
        except ContentRecord.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise Unavailable("the content index could not be read") from exc
        return _stored(record)

    def get_many(self, keys: Iterable[ItemRef]) -> dict[ItemRef, Stored]:
        """The stored items among ``keys`` ((platform, account id, item id)), read consistently in batches of 100
        (BatchGetItem; PynamoDB asks again for any keys DynamoDB left unprocessed)."""
        wanted = {item_key(*key): key for key in keys}
        try:
            records = ContentRecord.batch_get([(pk, META) for pk in wanted], consistent_read=True)
            return {wanted[record.pk]: _stored(record) for record in records}
        except PynamoDBException as exc:
            raise Unavailable("the content index could not be read") from exc

    def save(
        self,
        history: ItemHistory,
        expected_revision: int | None,
        custody: tuple[str, ...] = (),
        retention: ItemRetention | None = None,
    ) -> None:
        """Write ``history`` if the item is still at ``expected_revision`` (None: only if it is new).

        ``custody`` is the item's whole list of audit locators (the stored ones plus the new event's);
        ``retention`` its retention as it is now.

        Raises Conflict when another writer got there first (read it again), Unavailable when DynamoDB fails.
        """
        record = _record(history, (expected_revision or 0) + 1, custody, retention)
        condition = (
            ContentRecord.pk.does_not_exist()
            if expected_revision is None
            else ContentRecord.revision == expected_revision
        )
        try:
            record.save(condition=condition)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(f"item {history.item_id} changed meanwhile") from exc
            raise Unavailable("the content index could not be written") from exc

    def _query(
        self, index: GlobalSecondaryIndex[ContentRecord], key: str, limit: int | None
    ) -> Iterator[ContentItem]:
        try:
            for record in index.query(key, limit=limit):
                yield _history(record).current
        except PynamoDBException as exc:
            raise Unavailable("the content index could not be read") from exc

    def thread(
        self, platform: Platform, account_id: str, root_id: str, limit: int | None = None
    ) -> list[ContentItem]:
        """A thread's items (every one, page by page, unless ``limit``)."""
        return list(self._query(ContentRecord.by_thread, thread_key(platform, account_id, root_id), limit))

    def account_items(self, platform: Platform, account_id: str, limit: int = 500) -> list[ContentItem]:
        return list(self._query(ContentRecord.by_account, account_key(platform, account_id), limit))

    def author_recent(self, platform: Platform, author_id: str, since: str, limit: int) -> list[ContentItem]:
        """An author's items posted at or after ``since`` (a formatted time), newest first, at most ``limit``:
        DynamoDB reads only those, however many older ones the author has."""
        try:
            records = ContentRecord.by_author.query(
                author_key(platform, author_id),
                ContentRecord.author_sk >= since,
                scan_index_forward=False,
                limit=limit,
            )
            return [_history(record).current for record in records]
        except PynamoDBException as exc:
            raise Unavailable("the content index could not be read") from exc

    def delete(self, platform: str, account_id: str, item_id: str) -> None:
        """Remove an item's record for good (its disposition: the archive's versions are deleted with it)."""
        try:
            ContentRecord(pk=item_key(platform, account_id, item_id), sk=META).delete()
        except PynamoDBException as exc:
            raise Unavailable("the content index could not be written") from exc

    # ----------------------------------------------------------------------------------------- retention
    def due(self, dan: str, until: str, *, page_size: int = 200) -> Iterator[Stored]:
        """The items of series ``dan`` whose retention ended at or before ``until`` (a formatted time), oldest
        first, from the sparse by-retention index: only items no hold is on and not disposed of are in it."""
        try:
            for record in ContentRecord.by_retention.query(
                f"RET#{dan}", ContentRecord.retention_sk <= f"{until}~", page_size=page_size
            ):
                yield _stored(record)
        except PynamoDBException as exc:
            raise Unavailable("the content index could not be read") from exc

    def in_account(
        self, platform: str, account_id: str, *, date_from: str | None = None, date_to: str | None = None
    ) -> Iterator[Stored]:
        """An account's items, oldest first, posted within [date_from, date_to] (formatted times) if given."""
        condition = _between(ContentRecord.account_sk, date_from, date_to)
        yield from self._stored_query(ContentRecord.by_account, account_key(platform, account_id), condition)

    def by_author_of(self, platform: str, author_id: str) -> Iterator[Stored]:
        yield from self._stored_query(ContentRecord.by_author, author_key(platform, author_id), None)

    def _stored_query(
        self, index: GlobalSecondaryIndex[ContentRecord], key: str, condition: Any
    ) -> Iterator[Stored]:
        try:
            for record in index.query(key, condition):
                yield _stored(record)
        except PynamoDBException as exc:
            raise Unavailable("the content index could not be read") from exc

    # ----------------------------------------------------------------------------------------- activity
    def note_activity(self, platform: str, account_id: str, at: str) -> None:
        """Record that the account itself posted at ``at`` (a formatted time), unless a later activity is there."""
        record = ActivityRecord(pk=activity_key(platform, account_id), sk=META, latest=at)
        try:
            record.save(condition=ActivityRecord.pk.does_not_exist() | (ActivityRecord.latest < at))
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise Unavailable("the account's activity could not be recorded") from exc
        except PynamoDBException as exc:
            raise Unavailable("the account's activity could not be recorded") from exc

    def activity(self, accounts: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The latest own post (formatted time) of each (platform, account id) that has one (PynamoDB reads them
        100 keys to a BatchGetItem)."""
        keys = [(activity_key(p, a), META) for p, a in dict.fromkeys(accounts)]
        found: dict[tuple[str, str], str] = {}
        try:
            for record in ActivityRecord.batch_get(keys):
                _, platform, account_id = str(record.pk).split("#", 2)
                found[(platform, account_id)] = str(record.latest)
        except PynamoDBException as exc:
            raise Unavailable("the accounts' activity could not be read") from exc
        return found

    # ----------------------------------------------------------------------------------------- search
    def ordered(
        self,
        by: str,
        key: str,
        *,
        after: str | None,
        start: str | None,
        end: str | None,
        page_size: int = 100,
    ) -> Iterator[tuple[str, Stored]]:
        """(order key, item) of one account's or author's partition (``by`` is ``account`` or ``author``), oldest
        first, posted within [start, end] (formatted times), strictly after the order key ``after`` (a cursor).
        Lazy: DynamoDB is asked for ``page_size`` items at a time, only as the caller reads on."""
        index, sort = (
            (ContentRecord.by_account, ContentRecord.account_sk)
            if by == "account"
            else (ContentRecord.by_author, ContentRecord.author_sk)
        )
        condition = _between(sort, after if after is not None else start, end)
        try:
            # page_size: what DynamoDB returns per request; a caller that stops after N items asks for N (+1).
            for record in index.query(key, condition, page_size=page_size):
                order = str(record.account_sk if by == "account" else record.author_sk)
                if after is not None and order <= after:
                    continue
                yield order, _stored(record)
        except PynamoDBException as exc:
            raise Unavailable("the content index could not be read") from exc
