"""The audit trail in DynamoDB: hash-chained entries appended with conditional writes.

Layout of the ``audit`` table: partition ``CHAIN#0003`` holds chain 3; sort key ``SEQ#000000000042`` is the
entry's position. An append writes position head+1 only if it is free (``attribute_not_exists``), so each chain
stays linear however many writers race; a writer that loses re-reads the head and tries again, on another
chain if there are several. The ``by-resource`` index lists a resource's entries by time.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError, PynamoDBException, QueryError, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    ChainHead,
    StoredEntry,
    canonical_json,
    format_time,
    new_entry,
    now,
)
from shared.errors import Conflict, Unavailable
from shared.store import dynamo

TABLE = "audit"
# A writer that loses the race for a position re-reads the head and tries again (on a random chain), with
# jittered exponential backoff capped at MAX_BACKOFF_SECONDS.
MAX_ATTEMPTS = 20
MAX_BACKOFF_SECONDS = 0.1
MAX_SEQ = 10**12 - 1
CONDITIONAL_FAILED = "ConditionalCheckFailed"

# Adds the caller's own writes to the transaction that appends the audit entry.
TransactionPart = Callable[[TransactWrite], None]


class ByResource(GlobalSecondaryIndex["AuditItem"]):
    class Meta:
        index_name = "by-resource"
        projection = AllProjection()

    resource = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class AuditItem(Model):
    class Meta:
        table_name = "unbound-audit"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    id = UnicodeAttribute()
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    resource = UnicodeAttribute()
    details = UnicodeAttribute()
    prev_hash = UnicodeAttribute()
    hash = UnicodeAttribute()

    by_resource = ByResource()


def chain_key(chain: int) -> str:
    return f"CHAIN#{chain:04d}"


def seq_key(seq: int) -> str:
    return f"SEQ#{seq:012d}"


def parse_seq(sk: str) -> int | None:
    prefix, _, digits = sk.partition("#")
    if prefix != "SEQ" or len(digits) != 12 or not digits.isdigit():
        return None
    return int(digits)


def _to_item(entry: AuditEntry) -> AuditItem:
    return AuditItem(
        pk=chain_key(entry.chain),
        sk=seq_key(entry.seq),
        id=entry.id,
        at=format_time(entry.at),
        actor=entry.actor,
        action=entry.action,
        resource=entry.resource,
        details=canonical_json(entry.details).decode(),
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


def _to_stored(item: AuditItem) -> StoredEntry:
    seq = parse_seq(item.sk)
    try:
        chain = int(item.pk.removeprefix("CHAIN#"))
        entry = AuditEntry(
            chain=chain,
            seq=seq if seq is not None else 1,
            id=item.id,
            at=datetime.fromisoformat(item.at),
            actor=item.actor,
            action=item.action,
            resource=item.resource,
            details=json.loads(item.details),
            prev_hash=item.prev_hash,
            hash=item.hash,
        )
    except (ValidationError, ValueError, TypeError, AttributeError) as exc:
        return StoredEntry(
            seq=seq, raw_key=item.sk, entry=None, error=f"unreadable entry ({exc.__class__.__name__})"
        )
    return StoredEntry(seq=seq, raw_key=item.sk, entry=entry)


# Entries of a resource read per request when all of them are wanted.
RESOURCE_PAGE = 500


class AuditLog:
    """Appends to and reads the audit chains. One instance per process is enough (it caches chain heads)."""

    def __init__(
        self,
        chains: int,
        *,
        clock: Callable[[], datetime] = now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        rng: random.Random | None = None,
    ) -> None:
        self.chains = chains
        self._clock = clock
        self._new_id = new_id
        self._rng = rng or random.Random()  # noqa: S311 - spreading load, not security
        self._heads: dict[int, ChainHead] = {}
        dynamo.bind(AuditItem, TABLE)

    # ----------------------------------------------------------------------------------------- append
    def append(
        self,
        actor: str,
        action: str,
        resource: str,
        details: dict[str, Any] | None = None,
        *,
        also: Sequence[TransactionPart] = (),
    ) -> AuditEntry:
        """Append one entry; with ``also``, in one transaction with the caller's writes (all or nothing).

        Raises Conflict when one of the caller's own conditions fails, Unavailable when DynamoDB does.
        """
        details = details or {}
        for attempt in range(MAX_ATTEMPTS):
            chain = self._rng.randrange(self.chains)
            head = self._heads.get(chain) or self.head(chain)
            entry = new_entry(
                chain=chain,
                seq=head.seq + 1,
                prev_hash=head.hash,
                entry_id=self._new_id(),
                at=self._clock(),
                actor=actor,
                action=action,
                resource=resource,
                details=details,
            )
            if self._write(entry, also):
                self._heads[chain] = ChainHead(chain=chain, seq=entry.seq, hash=entry.hash)
                return entry
            self._heads.pop(chain, None)
            time.sleep(self._rng.uniform(0, min(MAX_BACKOFF_SECONDS, 0.002 * 2**attempt)))
        raise Unavailable("the audit trail is busy; nothing was changed, try again")

    def _write(self, entry: AuditEntry, also: Sequence[TransactionPart]) -> bool:
        """Write the entry; False if its position was taken by another writer."""
        item = _to_item(entry)
        free = AuditItem.pk.does_not_exist()
        try:
            if not also:
                item.save(condition=free)
                return True
            with TransactWrite(connection=dynamo.connection()) as tx:
                for part in also:
                    part(tx)
                tx.save(item, condition=free)
            return True
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise Unavailable("the audit trail could not be written; nothing was changed") from exc
        except TransactWriteError as exc:
            if not any(r is not None and r.code == CONDITIONAL_FAILED for r in exc.cancellation_reasons):
                raise Unavailable("the change could not be written; nothing was changed") from exc
            # PynamoDB sends condition checks, deletes, puts and updates in that order, whatever order they were
            # added in, so a reason's position does not say which item failed. The stored head does: if the
            # entry's position is taken, this writer lost the race (retry); otherwise the caller's condition failed.
            if self.head(entry.chain).seq >= entry.seq:
                return False
            raise Conflict("the change conflicts with the current state; nothing was changed") from exc

    # ----------------------------------------------------------------------------------------- read
    def head(self, chain: int) -> ChainHead:
        """The newest entry of a chain, read consistently (genesis if the chain is empty)."""
        try:
            # Only well-formed positions: an item planted under a key like "SEQ#zzz" must not hide the head.
            for item in AuditItem.query(
                chain_key(chain),
                AuditItem.sk.between(seq_key(1), seq_key(MAX_SEQ)),
                scan_index_forward=False,
                limit=1,
                consistent_read=True,
            ):
                seq = parse_seq(item.sk)
                if seq is not None:
                    return ChainHead(chain=chain, seq=seq, hash=item.hash)
        except PynamoDBException as exc:
            raise Unavailable("the audit trail could not be read") from exc
        return ChainHead(chain=chain, seq=0, hash=GENESIS_HASH)

    def heads(self) -> list[ChainHead]:
        return [self.head(chain) for chain in range(self.chains)]

    def entries(self, chain: int) -> Iterator[StoredEntry]:
        """Every item of a chain in stored order, whether or not it parses."""
        try:
            for item in AuditItem.query(chain_key(chain), consistent_read=True, page_size=500):
                yield _to_stored(item)
        except QueryError as exc:
            raise Unavailable("the audit trail could not be read") from exc

    def at_many(self, positions: Iterable[tuple[int, int]]) -> dict[tuple[int, int], AuditEntry]:
        """The entries at these (chain, seq) positions that exist and parse, read consistently in batches of 100."""
        keys = {(chain_key(chain), seq_key(seq)): (chain, seq) for chain, seq in positions}
        try:
            items = AuditItem.batch_get(list(keys), consistent_read=True)
            found = {keys[(item.pk, item.sk)]: _to_stored(item).entry for item in items}
        except PynamoDBException as exc:
            raise Unavailable("the audit trail could not be read") from exc
        return {position: entry for position, entry in found.items() if entry is not None}

    def for_resource(self, resource: str, limit: int = 100) -> list[AuditEntry]:
        """A resource's first ``limit`` entries, oldest first (for chains of custody)."""
        return list(itertools.islice(self.all_for_resource(resource), limit))

    def all_for_resource(self, resource: str) -> Iterator[AuditEntry]:
        """Every entry of a resource, oldest first, read page by page as the caller goes on."""
        try:
            for item in AuditItem.by_resource.query(resource, page_size=RESOURCE_PAGE):
                entry = _to_stored(item).entry
                if entry is not None:
                    yield entry
        except QueryError as exc:
            raise Unavailable("the audit trail could not be read") from exc
