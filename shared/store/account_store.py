"""The official-account registry in DynamoDB (catalogue table ``accounts``).

Two kinds of item share an account's partition ``pk = ACCOUNT#<id>``:

* the account itself, ``sk = META``: the domain :class:`~shared.domain.accounts.Account` as JSON with a revision,
  and sparse index keys so the register can be searched by school (``by-school``, case-insensitive), platform
  (``by-platform``) and status (``by-status``) without a Scan;
* one item per steward, ``sk = STEWARD#<email>``, carrying only the ``by-steward`` index key: a list attribute
  cannot be a key, so "the accounts this person stewards" is a Query on that index and a batch read of the
  accounts it names.

Every index sorts by the same unique order key (request time, then id), so a listing resumes after the last
account it returned, newest first. Writes are optimistic: an account carries a revision and a save succeeds only
if the revision it read is still there (a new account only if there is none). The steward items are written in
the same transaction as their account (:meth:`AccountStore.save_part`, joined to the audit entry's transaction).

Offboarding adds two more kinds of item, found through the same ``by-steward`` index (no new index, no Scan):

* ``pk = ACCOUNT#<id>``, ``sk = CHECKOUT#<email>``, ``steward_pk = CHECKOUT#<email>``: this person checked the
  account's credential out of the vault (written in the checkout's transaction, :meth:`AccountStore.reach_part`),
  so offboarding them rotates it whatever their steward role;
* ``pk = OFFBOARDING#<email>``, ``sk = OFFBOARDING``: what offboarding that person did (the report as JSON), so a
  repeated offboarding answers the same and re-sends the rotations.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.domain.accounts import Account, AccountPlatform, AccountStatus, normalize_email
from shared.domain.content import format_time
from shared.errors import Unavailable
from shared.store import dynamo

TABLE = "accounts"
META = "META"
STEWARD = "STEWARD#"
CHECKOUT = "CHECKOUT#"
OFFBOARDING = "OFFBOARDING"
BATCH_GET_MAX = 100  # DynamoDB's BatchGetItem limit


class BySchool(GlobalSecondaryIndex["AccountRecord"]):
    class Meta:
        index_name = "by-school"
        projection = AllProjection()

    school_pk = UnicodeAttribute(hash_key=True)
    order_key = UnicodeAttribute(range_key=True)


class ByPlatform(GlobalSecondaryIndex["AccountRecord"]):
    class Meta:
        index_name = "by-platform"
        projection = AllProjection()

    platform_pk = UnicodeAttribute(hash_key=True)
    order_key = UnicodeAttribute(range_key=True)


class ByStatus(GlobalSecondaryIndex["AccountRecord"]):
    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status_pk = UnicodeAttribute(hash_key=True)
    order_key = UnicodeAttribute(range_key=True)


class BySteward(GlobalSecondaryIndex["AccountRecord"]):
    class Meta:
        index_name = "by-steward"
        projection = KeysOnlyProjection()

    steward_pk = UnicodeAttribute(hash_key=True)
    order_key = UnicodeAttribute(range_key=True)


class AccountRecord(Model):
    class Meta:
        table_name = "unbound-accounts"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    revision = NumberAttribute(null=True)
    body = UnicodeAttribute(null=True)
    # An account's document, zlib-compressed JSON (its history grows with every change: compressed it stays far
    # from DynamoDB's 400 KB item limit, and every read and write moves a quarter of the bytes).
    doc = BinaryAttribute(null=True, legacy_encoding=False)
    order_key = UnicodeAttribute(null=True)
    school_pk = UnicodeAttribute(null=True)
    platform_pk = UnicodeAttribute(null=True)
    status_pk = UnicodeAttribute(null=True)
    steward_pk = UnicodeAttribute(null=True)

    by_school = BySchool()
    by_platform = ByPlatform()
    by_status = ByStatus()
    by_steward = BySteward()


def account_key(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def school_key(school: str) -> str:
    return f"SCHOOL#{' '.join(school.split()).casefold()}"


def platform_key(platform: AccountPlatform | str) -> str:
    return f"PLATFORM#{platform}"


def status_key(status: AccountStatus | str) -> str:
    return f"STATUS#{status}"


def steward_key(email: str) -> str:
    return f"STEWARD#{normalize_email(email)}"


def checkout_key(email: str) -> str:
    """The sort key of the item saying a person checked out an account's credential; the item sits in the person's
    ``by-steward`` partition (:func:`steward_key`) beside their steward items, so one query finds both."""
    return f"{CHECKOUT}{normalize_email(email)}"


def offboarding_key(email: str) -> str:
    return f"{OFFBOARDING}#{normalize_email(email)}"


def order_key(account: Account) -> str:
    """The sort key of an account in every index: request time, then id (unique, so a listing resumes after it)."""
    return f"{format_time(account.requested_at)}#{account.id}"


def pack(account: Account) -> bytes:
    return zlib.compress(account.model_dump_json().encode(), 6)


def unpack(record: AccountRecord) -> Account:
    """The account an item holds (compressed ``doc``; an item written before compression holds ``body``)."""
    if record.doc is not None:
        return Account.model_validate_json(zlib.decompress(record.doc))
    return Account.model_validate_json(str(record.body))


def _id_of(pk: str) -> str:
    return pk.removeprefix("ACCOUNT#")


@dataclass(frozen=True)
class StoredAccount:
    account: Account
    revision: int


def _record(account: Account, revision: int) -> AccountRecord:
    attrs = account.index_attributes()
    return AccountRecord(
        pk=account_key(account.id),
        sk=META,
        revision=revision,
        doc=pack(account),
        order_key=order_key(account),
        school_pk=school_key(attrs["school"]),
        platform_pk=platform_key(attrs["platform"]),
        status_pk=status_key(attrs["status"]),
    )


def _steward_record(account: Account, email: str) -> AccountRecord:
    return AccountRecord(
        pk=account_key(account.id),
        sk=f"{STEWARD}{email}",
        order_key=order_key(account),
        steward_pk=steward_key(email),
    )


class AccountStore:
    def __init__(self) -> None:
        dynamo.bind(AccountRecord, TABLE)

    # ------------------------------------------------------------------------------------------- one account
    def get(self, account_id: str) -> StoredAccount | None:
        try:
            record = AccountRecord.get(account_key(account_id), META, consistent_read=True)
        except AccountRecord.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise Unavailable("the account registry could not be read") from exc
        return StoredAccount(unpack(record), int(record.revision or 0))

    def save_part(self, account: Account, before: StoredAccount | None) -> Callable[[TransactWrite], None]:
        """The conditional write of ``account`` (over ``before``, as read; None: only if it is new) with its
        steward index items, as a part of someone else's transaction (the audit entry's)."""
        revision = (before.revision if before else 0) + 1
        condition = (
            AccountRecord.pk.does_not_exist() if before is None else AccountRecord.revision == before.revision
        )
        record = _record(account, revision)
        old = set(before.account.steward_emails) if before else set()
        new = set(account.steward_emails)
        added = [_steward_record(account, e) for e in sorted(new - old)]
        removed = [_steward_record(account, e) for e in sorted(old - new)]

        def part(tx: TransactWrite) -> None:
            tx.save(record, condition=condition)
            for item in added:
                tx.save(item)
            for item in removed:
                tx.delete(item)

        return part

    # ------------------------------------------------------------------------------------------- searches
    def newest_first(
        self,
        index: str,
        key: str,
        *,
        before: str | None = None,
        school: str | None = None,
        platform: str | None = None,
        status: str | None = None,
        page_size: int = 50,
    ) -> Iterator[tuple[str, Account]]:
        """(order key, account) of one index partition, newest first, after ``before`` (lazily, page by page).

        ``index`` is ``school``, ``platform``, ``status`` or ``steward``; ``key`` the partition's value
        (:func:`school_key`...). ``school``, ``platform`` and ``status`` narrow the result (on the server for the
        account indexes; after the batch read for the steward index, whose items hold only keys)."""
        if index == "steward":
            yield from self._by_steward(
                key, before=before, school=school, platform=platform, status=status, page_size=page_size
            )
            return
        gsi: GlobalSecondaryIndex[AccountRecord] = {
            "school": AccountRecord.by_school,
            "platform": AccountRecord.by_platform,
            "status": AccountRecord.by_status,
        }[index]
        sort = AccountRecord.order_key
        filters: Any = None
        for attr, value in (
            (AccountRecord.school_pk, school_key(school) if school is not None else None),
            (AccountRecord.platform_pk, platform_key(platform) if platform is not None else None),
            (AccountRecord.status_pk, status_key(status) if status is not None else None),
        ):
            if value is not None:
                same = attr == value
                filters = same if filters is None else filters & same
        try:
            for record in gsi.query(
                key,
                sort < before if before is not None else None,
                filter_condition=filters,
                scan_index_forward=False,
                page_size=page_size,
            ):
                yield str(record.order_key), unpack(record)
        except PynamoDBException as exc:
            raise Unavailable("the account registry could not be read") from exc

    def _by_steward(
        self,
        key: str,
        *,
        before: str | None,
        school: str | None,
        platform: str | None,
        status: str | None,
        page_size: int,
    ) -> Iterator[tuple[str, Account]]:
        def wanted(account: Account) -> bool:
            return (
                (school is None or school_key(account.school) == school_key(school))
                and (platform is None or str(account.platform) == str(platform))
                and (status is None or str(account.status) == str(status))
            )

        try:
            chunk: list[tuple[str, str]] = []
            for record in AccountRecord.by_steward.query(
                key,
                AccountRecord.order_key < before if before is not None else None,
                scan_index_forward=False,
                page_size=page_size,
            ):
                if not str(record.sk).startswith(STEWARD):
                    continue  # a checkout item (reach_part): not a steward
                chunk.append((str(record.order_key), _id_of(record.pk)))
                if len(chunk) >= page_size:
                    yield from (pair for pair in self._read_all(chunk) if wanted(pair[1]))
                    chunk = []
            if chunk:
                yield from (pair for pair in self._read_all(chunk) if wanted(pair[1]))
        except PynamoDBException as exc:
            raise Unavailable("the account registry could not be read") from exc

    def _read_all(self, found: list[tuple[str, str]]) -> list[tuple[str, Account]]:
        """The accounts named by (order key, id) pairs, in that order (one batch read; a missing one is left out)."""
        accounts: dict[str, Account] = {}
        for record in AccountRecord.batch_get([(account_key(i), META) for _, i in found]):
            accounts[_id_of(record.pk)] = unpack(record)
        return [(order, accounts[i]) for order, i in found if i in accounts]

    # ------------------------------------------------------------------------------------------- offboarding
    def reach_part(self, account_id: str, email: str, at: datetime) -> Callable[[TransactWrite], None]:
        """The item saying ``email`` checked out the credential of ``account_id`` (found by :meth:`reach`), as a
        part of the checkout's transaction. Its sort key in the index is the checkout time; a later checkout by the
        same person replaces it. Searches by steward skip it."""
        record = AccountRecord(
            pk=account_key(account_id),
            sk=checkout_key(email),
            order_key=f"{format_time(at)}#{account_id}",
            steward_pk=steward_key(email),
        )

        def part(tx: TransactWrite) -> None:
            tx.save(record)

        return part

    def reach(self, email: str) -> tuple[list[str], list[str]]:
        """(the accounts ``email`` stewards, the accounts whose credential they checked out), by id in index order,
        from one query of their ``by-steward`` partition. The index is eventually consistent: an item written a
        moment ago may be missing."""
        stewards, checkouts = steward_key(email), checkout_key(email)
        stewarded: list[str] = []
        checked_out: list[str] = []
        try:
            for record in AccountRecord.by_steward.query(steward_key(email)):
                if record.sk == stewards:
                    stewarded.append(_id_of(record.pk))
                elif record.sk == checkouts:
                    checked_out.append(_id_of(record.pk))
        except PynamoDBException as exc:
            raise Unavailable("the account registry could not be read") from exc
        return stewarded, checked_out

    def get_many(self, account_ids: Collection[str]) -> dict[str, StoredAccount]:
        """The accounts with their revisions, by id (consistent batch reads; a missing one is left out)."""
        found: dict[str, StoredAccount] = {}
        ids = sorted(set(account_ids))
        try:
            for start in range(0, len(ids), BATCH_GET_MAX):
                keys = [(account_key(i), META) for i in ids[start : start + BATCH_GET_MAX]]
                for record in AccountRecord.batch_get(keys, consistent_read=True):
                    found[_id_of(record.pk)] = StoredAccount(unpack(record), int(record.revision or 0))
        except PynamoDBException as exc:
            raise Unavailable("the account registry could not be read") from exc
        return found

    def put(self, account: Account, before: StoredAccount) -> bool:
        """Write ``account`` alone (one conditional put) over ``before`` as read; False if it changed meanwhile.
        The steward index items are the caller's to keep in step (:meth:`delete_index_items`)."""
        try:
            _record(account, before.revision + 1).save(condition=AccountRecord.revision == before.revision)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise Unavailable("the account registry could not be written") from exc
        except PynamoDBException as exc:
            raise Unavailable("the account registry could not be written") from exc
        return True

    def delete_index_items(self, keys: Sequence[tuple[str, str]]) -> None:
        """Delete index items by (account id, sort key), 25 to a batch write (unprocessed ones are retried)."""
        try:
            with AccountRecord.batch_write() as batch:
                for account_id, sk in keys:
                    batch.delete(AccountRecord(pk=account_key(account_id), sk=sk))
        except PynamoDBException as exc:
            raise Unavailable("the account registry could not be written") from exc

    def config(self, name: str) -> str | None:
        """A stored configuration document (JSON), e.g. the abandoned-account sweep's thresholds."""
        try:
            record = AccountRecord.get(f"CONFIG#{name}", "CONFIG", consistent_read=True)
        except AccountRecord.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise Unavailable("the configuration could not be read") from exc
        return str(record.body)

    def save_config(self, name: str, body: str) -> None:
        try:
            AccountRecord(pk=f"CONFIG#{name}", sk="CONFIG", body=body).save()
        except PynamoDBException as exc:
            raise Unavailable("the configuration could not be written") from exc

    def offboarding(self, email: str) -> str | None:
        """The stored report of an earlier offboarding of ``email`` (JSON), if any."""
        try:
            record = AccountRecord.get(offboarding_key(email), OFFBOARDING, consistent_read=True)
        except AccountRecord.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise Unavailable("the account registry could not be read") from exc
        return str(record.body)

    def save_offboarding(self, email: str, body: str) -> None:
        try:
            AccountRecord(pk=offboarding_key(email), sk=OFFBOARDING, body=body).save()
        except PynamoDBException as exc:
            raise Unavailable("the offboarding record could not be written") from exc
