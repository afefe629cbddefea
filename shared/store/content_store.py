"""Content items in DynamoDB: one record per item holding its whole version history, indexed so an item, a thread,
an account's items by date and an author's items can each be read with a Query (never a Scan).

Writes are optimistic: each record carries a revision, and a save succeeds only if the revision it read is still
there (or, for a new item, only if there is none), so two processors recording events of the same item never lose
one another's event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.domain.content import ContentItem, ItemHistory, Platform, format_time
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

    by_thread = ByThread()
    by_account = ByAccount()
    by_author = ByAuthor()


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


def _record(history: ItemHistory, revision: int, custody: tuple[str, ...]) -> ContentRecord:
    item = history.current
    when = format_time(item.created_at or history.versions[0].effective_at)
    order = f"{when}#{item.item_id}"
    root = item.post_id or item.parent_id or item.item_id
    author_id = item.author.id if item.author else None
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
    )


def _history(record: ContentRecord) -> ItemHistory:
    return ItemHistory.model_validate_json(record.history)


class ContentStore:
    def __init__(self) -> None:
        dynamo.bind(ContentRecord, TABLE)

    def get(self, platform: str, account_id: str, item_id: str) -> Stored | None:
        try:
            record = ContentRecord.get(item_key(platform, account_id, item_id), META, consistent_read=True)
        except ContentRecord.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise Unavailable("the content index could not be read") from exc
        return Stored(_history(record), int(record.revision), tuple(str(c) for c in record.custody or ()))

    def save(
        self, history: ItemHistory, expected_revision: int | None, custody: tuple[str, ...] = ()
    ) -> None:
        """Write ``history`` if the item is still at ``expected_revision`` (None: only if it is new).

        ``custody`` is the item's whole list of audit locators (the stored ones plus the new event's).

        Raises Conflict when another writer got there first (read it again), Unavailable when DynamoDB fails.
        """
        record = _record(history, (expected_revision or 0) + 1, custody)
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
        self, index: GlobalSecondaryIndex[ContentRecord], key: str, limit: int
    ) -> Iterator[ContentItem]:
        try:
            for record in index.query(key, limit=limit):
                yield _history(record).current
        except PynamoDBException as exc:
            raise Unavailable("the content index could not be read") from exc

    def thread(
        self, platform: Platform, account_id: str, root_id: str, limit: int = 500
    ) -> list[ContentItem]:
        return list(self._query(ContentRecord.by_thread, thread_key(platform, account_id, root_id), limit))

    def account_items(self, platform: Platform, account_id: str, limit: int = 500) -> list[ContentItem]:
        return list(self._query(ContentRecord.by_account, account_key(platform, account_id), limit))

    def author_items(self, platform: Platform, author_id: str, limit: int = 500) -> list[ContentItem]:
        return list(self._query(ContentRecord.by_author, author_key(platform, author_id), limit))
