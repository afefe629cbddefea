"""The audit log on DynamoDB (moto): appends, reads, concurrency and transactions with the caller's writes."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from infrastructure.local.provision import Provisioned
from shared import audit
from shared.domain.audit import GENESIS_HASH, AuditEntry, verify_chain
from shared.errors import BadRequest, Conflict, Unavailable
from shared.store import dynamo
from shared.store.audit_log import AuditItem, AuditLog
from tests.integration.conftest import REGION, Stores, inject_error


def chain_seqs(stores: Stores, chain: int) -> list[int]:
    return [int(i["sk"]["S"].removeprefix("SEQ#")) for i in stores.chain_items(chain)]


# --------------------------------------------------------------------------------------------- round trip
def test_entries_round_trip_through_dynamodb_exactly(moto_env: Provisioned) -> None:
    # Given entries with awkward details (unicode, nesting, big and whole-float numbers, nulls)
    log = AuditLog(1)
    details = [
        {"name": "Zoë 学校 🏫", "nested": {"list": [1, None, True, "x"]}},
        {"big": 2**63 + 1, "whole": 3.0, "empty": {}},
        {},
    ]

    # When appended and read back
    appended = [
        log.append("user:alice", "account.approved", f"account:{i}", d) for i, d in enumerate(details)
    ]
    read = [s.entry for s in log.entries(0)]

    # Then each is read back equal to what was written, and still hashes to its hash
    assert read == appended
    assert all(e is not None and e.computed_hash() == e.hash for e in read)
    assert [e.seq for e in appended] == [1, 2, 3]
    assert appended[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in appended[1:]] == [e.hash for e in appended[:-1]]


def test_append_and_verify_over_the_configured_number_of_chains(
    chains: Callable[[int], None], stores: Stores, fresh_audit: None
) -> None:
    # Given STEWARD_AUDIT_CHAINS=3
    chains(3)

    # When 30 entries are appended through the facade
    appended = [audit.append(f"user:u{i % 4}", "comment.hidden", f"comment:{i}", {"i": i}) for i in range(30)]

    # Then they went to chains 0-2 only, each chain is 1..n without gaps, and everything verifies
    assert {e.chain for e in appended} <= {0, 1, 2}
    assert {i["pk"]["S"] for i in stores.items()} <= {"CHAIN#0000", "CHAIN#0001", "CHAIN#0002"}
    for c in range(3):
        seqs = chain_seqs(stores, c)
        assert seqs == list(range(1, len(seqs) + 1))
    report = audit.verify()
    assert report.ok
    assert [c.chain for c in report.chains] == [0, 1, 2]
    assert sum(c.entries for c in report.chains) == 30
    heads = {c.chain: c.head_hash for c in report.chains}
    for c in range(3):
        last = [e for e in appended if e.chain == c]
        assert heads[c] == (last[-1].hash if last else GENESIS_HASH)


def test_a_fresh_log_continues_each_chain_from_its_stored_head(moto_env: Provisioned) -> None:
    # Given two entries written by one process
    first = AuditLog(1)
    first.append("user:a", "x.one", "r:1")
    second_entry = first.append("user:a", "x.two", "r:1")

    # When a new process (empty head cache) appends
    entry = AuditLog(1).append("user:b", "x.three", "r:1")

    # Then it links to the stored head
    assert (entry.seq, entry.prev_hash) == (3, second_entry.hash)


def test_entries_of_a_resource_are_listed_oldest_first(moto_env: Provisioned) -> None:
    ticks = iter(datetime(2026, 5, 1, 12, m, tzinfo=UTC) for m in range(10))
    rng = random.Random(1)
    log = AuditLog(3, clock=lambda: next(ticks), rng=rng)
    written = [log.append("user:a", f"step.{i}", "case:42" if i % 2 else "case:7") for i in range(6)]

    found = log.for_resource("case:42")

    assert [e.id for e in found] == [e.id for e in written if e.resource == "case:42"]


def test_details_that_cannot_be_audited_are_refused_before_anything_is_written(
    moto_env: Provisioned, stores: Stores
) -> None:
    with pytest.raises(BadRequest):
        AuditLog(1).append("user:a", "x.y", "r:1", {"amount": 0.5})
    assert stores.items() == []


# --------------------------------------------------------------------------------------------- concurrency
@pytest.fixture
def atomic_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB checks a write's condition and writes the item as one atomic step; moto's backend does not (two
    threads can both pass ``attribute_not_exists`` and the second overwrites the first). Give moto the service's
    guarantee, so the test measures Steward's protocol and not moto's missing lock."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.mark.usefixtures("atomic_writes")
def test_concurrent_appends_from_stale_logs_all_land_and_keep_every_chain_linear(
    moto_env: Provisioned, stores: Stores
) -> None:
    # Given four writers, each with its own log whose cached heads go stale as soon as the others write
    writers, per_writer, chain_count = 4, 8, 3
    logs = [AuditLog(chain_count, rng=random.Random(seed)) for seed in range(writers)]
    for log in logs:
        log.append("user:warmup", "x.warm", "r:warm")
    start = threading.Barrier(writers)
    written: list[AuditEntry] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def write(n: int, log: AuditLog) -> None:
        start.wait()
        try:
            for i in range(per_writer):
                entry = log.append(f"user:w{n}", "x.race", f"r:{n}", {"i": i})
                with lock:
                    written.append(entry)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    # When they all append at once
    threads = [threading.Thread(target=write, args=(n, log)) for n, log in enumerate(logs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then every append landed exactly once, no position was written twice, and every chain verifies
    assert failures == []
    assert len(written) == writers * per_writer
    assert len(stores.items()) == writers * per_writer + writers
    assert len({(e.chain, e.seq) for e in written}) == len(written)
    for c in range(chain_count):
        seqs = chain_seqs(stores, c)
        assert seqs == list(range(1, len(seqs) + 1))
    reader = AuditLog(chain_count)
    for c in range(chain_count):
        assert verify_chain(c, reader.entries(c)).ok


# --------------------------------------------------------------------------------------------- transactions
class Account(Model):
    """A stand-in for a domain table written in the same transaction as the audit entry."""

    class Meta:
        table_name = "steward-test-accounts"
        region = REGION

    pk = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute()


@pytest.fixture
def accounts(moto_env: Provisioned, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Account]]:
    """A fresh stand-in table for this test (named like the test's other resources, apart from the catalogue's own
    ``accounts`` table), holding one pending account."""
    monkeypatch.setattr(
        Account.Meta, "table_name", moto_env.env["STEWARD_TABLE_AUDIT"].replace("audit", "standin-accounts")
    )
    Account._connection = None
    Account.create_table(billing_mode="PAY_PER_REQUEST", wait=False)
    Account(pk="account:1", state="pending").save()
    yield Account
    Account._connection = None


def approve(account: str) -> Callable[[TransactWrite], None]:
    def part(tx: TransactWrite) -> None:
        tx.update(
            Account(pk=account), actions=[Account.state.set("approved")], condition=Account.state == "pending"
        )

    return part


def test_also_commits_the_callers_change_and_the_entry_together(
    accounts: type[Account], stores: Stores
) -> None:
    log = AuditLog(1)

    entry = log.append(
        "user:alice", "account.approved", "account:1", {"was": "pending"}, also=[approve("account:1")]
    )

    assert accounts.get("account:1").state == "approved"
    assert [s.entry for s in log.entries(0)] == [entry]


def must_be_pending(account: str) -> Callable[[TransactWrite], None]:
    def part(tx: TransactWrite) -> None:
        tx.condition_check(Account, account, condition=Account.state == "pending")

    return part


def open_account(account: str) -> Callable[[TransactWrite], None]:
    def part(tx: TransactWrite) -> None:
        tx.save(Account(pk=account, state="pending"), condition=Account.pk.does_not_exist())

    return part


# PynamoDB orders a transaction's items by kind (condition checks, deletes, puts, updates), so the audit entry's
# put can come before, between or after the caller's items: each kind of caller item is tried.
@pytest.mark.parametrize(
    "part",
    [approve("account:1"), must_be_pending("account:1"), open_account("account:1")],
    ids=["update", "condition_check", "put"],
)
def test_a_failed_domain_condition_is_a_conflict_and_writes_neither(
    accounts: type[Account], stores: Stores, part: Callable[[TransactWrite], None]
) -> None:
    # Given the account is no longer pending (and exists)
    accounts(pk="account:1", state="revoked").save()
    log = AuditLog(1)
    log.append("user:alice", "x.before", "r:1")
    before = stores.items()

    # When a change that needs it pending (or absent) is appended with its entry
    with pytest.raises(Conflict, match="nothing was changed"):
        log.append("user:alice", "account.changed", "account:1", also=[part])

    # Then neither the change nor the entry exists
    assert accounts.get("account:1").state == "revoked"
    assert stores.items() == before
    assert log.head(0).seq == 1


def test_a_dynamodb_failure_in_the_transaction_is_unavailable_and_writes_neither(
    accounts: type[Account], stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given DynamoDB fails every transaction
    failing = Connection(region=REGION)
    injected = inject_error(failing.client, "TransactWriteItems", "InternalServerError")
    monkeypatch.setattr(dynamo, "connection", lambda: failing)
    log = AuditLog(1)

    # When an approval is appended with its entry
    with pytest.raises(Unavailable):
        log.append("user:alice", "account.approved", "account:1", also=[approve("account:1")])

    # Then it was tried once (a failure is not a lost race), and nothing was written
    assert injected.calls == 1
    assert accounts.get("account:1").state == "pending"
    assert stores.items() == []


def test_a_transaction_that_loses_the_position_race_retries_and_applies_the_change_once(
    accounts: type[Account], stores: Stores
) -> None:
    # Given a log whose cached head is stale: another writer took the next position meanwhile
    stale = AuditLog(1)
    stale.append("user:a", "x.first", "r:1")
    other = AuditLog(1).append("user:b", "x.second", "r:1")

    # When the stale log appends an approval with its entry
    entry = stale.append("user:alice", "account.approved", "account:1", also=[approve("account:1")])

    # Then the entry went after the other writer's, and the change applied once
    assert (entry.seq, entry.prev_hash) == (3, other.hash)
    assert accounts.get("account:1").state == "approved"
    assert chain_seqs(stores, 0) == [1, 2, 3]


def test_a_dynamodb_failure_on_a_plain_append_is_unavailable(moto_env: Provisioned, stores: Stores) -> None:
    log = AuditLog(1)
    injected = inject_error(AuditItem._get_connection().connection.client, "PutItem", "InternalServerError")

    with pytest.raises(Unavailable, match="nothing was changed"):
        log.append("user:a", "x.y", "r:1")

    assert injected.calls == 1
    assert stores.items() == []


def test_a_dynamodb_failure_reading_the_head_is_unavailable(moto_env: Provisioned) -> None:
    log = AuditLog(1)
    inject_error(
        AuditItem._get_connection().connection.client, "Query", "ProvisionedThroughputExceededException", 400
    )

    with pytest.raises(Unavailable, match="could not be read"):
        log.append("user:a", "x.y", "r:1")
    with pytest.raises(Unavailable):
        list(log.entries(0))
