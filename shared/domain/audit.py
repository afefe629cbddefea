"""The hash-chained audit trail: entries, hashing and verification. Pure logic, no AWS.

Each chain is a sequence of entries numbered 1, 2, 3, ...; an entry's hash is SHA-256 over the canonical JSON
(RFC 8785 style: sorted keys, no insignificant whitespace, UTF-8) of its content, and its content includes
the previous entry's hash. Several chains run side by side so appends do not queue behind one another.

Verification walks a chain in stored order and reports the first entry that was edited, deleted, inserted or
reordered. The sequence number is the storage position and is deliberately *not* hashed: the order is proven
by the hash links alone, which is what lets verification tell an insertion or a reordering from an edit.
Anchors (the chain heads copied to write-once storage) catch what links alone cannot: a tail rewritten with
fresh hashes, or entries cut off the end.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import BadRequest

GENESIS_HASH = "0" * 64
MAX_DETAILS_BYTES = 32 * 1024

JsonScalar = str | int | bool | None
ProblemKind = Literal["edited", "deleted", "inserted", "reordered", "relinked", "rewritten", "truncated"]


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, compact separators, UTF-8, no NaN or infinities."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _check_text(text: str, path: str) -> None:
    """Text must be encodable as UTF-8: a lone surrogate (half of a pair, e.g. from a "\\ud800" JSON escape)
    is not, and would make hashing fail."""
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise BadRequest(f"audit {path} is not valid Unicode text (it holds a lone surrogate)") from exc


def _check_json(value: Any, path: str = "details") -> None:
    """Audit details are plain JSON without floats (floats do not survive a DynamoDB round trip exactly)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise BadRequest(f"audit {path} keys must be strings, got {type(k).__name__}")
            _check_text(k, f"{path} key")
            _check_json(v, f"{path}.{k}")
    elif isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_json(v, f"{path}[{i}]")
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise BadRequest(f"audit {path} must not be a fractional number; use a string")
    elif not isinstance(value, str | int | bool | type(None)):
        raise BadRequest(f"audit {path} has unsupported type {type(value).__name__}")


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    chain: int = Field(ge=0)
    seq: int = Field(ge=1)
    id: str = Field(min_length=1)
    at: datetime
    actor: str = Field(min_length=1, max_length=256)
    action: str = Field(min_length=1, max_length=128)
    resource: str = Field(min_length=1, max_length=512)
    details: dict[str, Any]
    prev_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")

    def content(self) -> dict[str, Any]:
        return entry_content(
            chain=self.chain,
            entry_id=self.id,
            at=self.at,
            actor=self.actor,
            action=self.action,
            resource=self.resource,
            details=self.details,
            prev_hash=self.prev_hash,
        )

    def computed_hash(self) -> str:
        return hash_content(self.content())


def format_time(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_content(
    *,
    chain: int,
    entry_id: str,
    at: datetime,
    actor: str,
    action: str,
    resource: str,
    details: dict[str, Any],
    prev_hash: str,
) -> dict[str, Any]:
    """The hashed part of an entry (everything but its own hash and its storage position)."""
    return {
        "chain": chain,
        "id": entry_id,
        "at": format_time(at),
        "actor": actor,
        "action": action,
        "resource": resource,
        "details": details,
        "prev_hash": prev_hash,
    }


def hash_content(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def new_entry(
    *,
    chain: int,
    seq: int,
    prev_hash: str,
    entry_id: str,
    at: datetime,
    actor: str,
    action: str,
    resource: str,
    details: dict[str, Any],
) -> AuditEntry:
    """Seal a new entry on top of ``prev_hash``. Raises BadRequest for details that cannot be audited."""
    _check_json(details)
    size = len(canonical_json(details))
    if size > MAX_DETAILS_BYTES:
        raise BadRequest(f"audit details are {size} bytes; the limit is {MAX_DETAILS_BYTES}")
    content = entry_content(
        chain=chain,
        entry_id=entry_id,
        at=at,
        actor=actor,
        action=action,
        resource=resource,
        details=details,
        prev_hash=prev_hash,
    )
    return AuditEntry(seq=seq, hash=hash_content(content), **{**content, "at": at})


# --------------------------------------------------------------------------------------------- verification
@dataclass(frozen=True)
class ChainHead:
    chain: int
    seq: int
    hash: str


@dataclass(frozen=True)
class AnchoredHead:
    """A chain head as recorded in one anchor object."""

    anchor: str
    anchored_at: str
    seq: int
    hash: str


class Problem(BaseModel):
    kind: ProblemKind
    chain: int
    seq: int
    entry_id: str | None = None
    message: str


class ChainReport(BaseModel):
    chain: int
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    anchors_checked: int
    problem: Problem | None = None


class StoredEntry(BaseModel):
    """An entry as read back from storage: the key it sits under may not parse, its fields may be wrong."""

    seq: int | None
    raw_key: str
    entry: AuditEntry | None
    error: str | None = None


def verify_chain(
    chain: int, stored: Iterable[StoredEntry], anchors: Iterable[AnchoredHead] = ()
) -> ChainReport:
    """Walk one chain in stored order; report the first entry that breaks it.

    ``stored`` must be in ascending storage order. Memory stays constant: only a one-entry look-ahead and,
    once a broken link is found, the one hash being searched for are kept.
    """
    pending = sorted(anchors, key=lambda a: a.seq)
    checked = 0
    prev = ChainHead(chain=chain, seq=0, hash=GENESIS_HASH)
    # The entry before ``prev`` (its hash) and ``prev``'s id: enough to see that ``prev`` itself was inserted.
    before_prev: str | None = None
    prev_id: str | None = None
    count = 0
    it: Iterator[StoredEntry] = iter(stored)
    current = next(it, None)

    def report(problem: Problem | None) -> ChainReport:
        return ChainReport(
            chain=chain,
            ok=problem is None,
            entries=count,
            head_seq=prev.seq,
            head_hash=prev.hash,
            anchors_checked=checked,
            problem=problem,
        )

    while current is not None:
        following = next(it, None)
        count += 1
        entry = current.entry
        expected_seq = prev.seq + 1
        if current.seq is None:
            return report(
                Problem(
                    kind="inserted",
                    chain=chain,
                    seq=expected_seq,
                    message=f"item {current.raw_key!r} was inserted: it is not a position in the chain",
                )
            )
        if entry is None:
            return report(
                Problem(
                    kind="edited",
                    chain=chain,
                    seq=current.seq,
                    message=f"the entry at seq {current.seq} was edited: {current.error}",
                )
            )
        if current.seq != entry.seq or entry.chain != chain:
            return report(
                Problem(
                    kind="edited",
                    chain=chain,
                    seq=current.seq,
                    entry_id=entry.id,
                    message=f"entry {entry.id} at seq {current.seq} claims chain {entry.chain} seq {entry.seq}",
                )
            )
        if current.seq > expected_seq:
            missing = (
                f"seq {expected_seq}"
                if current.seq == expected_seq + 1
                else f"seqs {expected_seq}-{current.seq - 1}"
            )
            return report(
                Problem(
                    kind="deleted",
                    chain=chain,
                    seq=expected_seq,
                    message=f"{missing} deleted: the chain jumps from seq {prev.seq} to seq {current.seq}",
                )
            )
        if entry.computed_hash() != entry.hash:
            return report(
                Problem(
                    kind="edited",
                    chain=chain,
                    seq=entry.seq,
                    entry_id=entry.id,
                    message=f"entry {entry.id} at seq {entry.seq} was edited: its content no longer has its hash",
                )
            )
        if entry.prev_hash != prev.hash:
            return report(_classify_broken_link(chain, prev, prev_id, before_prev, entry, following, it))
        before_prev, prev_id = prev.hash, entry.id
        prev = ChainHead(chain=chain, seq=entry.seq, hash=entry.hash)
        while pending and pending[0].seq <= prev.seq:
            anchor = pending.pop(0)
            checked += 1
            if anchor.seq == prev.seq and anchor.hash != prev.hash:
                return report(
                    Problem(
                        kind="rewritten",
                        chain=chain,
                        seq=prev.seq,
                        entry_id=entry.id,
                        message=(
                            f"entry {entry.id} at seq {prev.seq} differs from anchor {anchor.anchor} "
                            f"({anchor.anchored_at}): the chain was rewritten at or before seq {prev.seq}"
                        ),
                    )
                )
        current = following

    if pending:
        anchor = pending[-1]
        return report(
            Problem(
                kind="truncated",
                chain=chain,
                seq=prev.seq + 1,
                message=(
                    f"anchor {anchor.anchor} ({anchor.anchored_at}) recorded seq {anchor.seq} but the chain ends "
                    f"at seq {prev.seq}: entries after seq {prev.seq} were deleted"
                ),
            )
        )
    return report(None)


def _classify_broken_link(
    chain: int,
    prev: ChainHead,
    prev_id: str | None,
    before_prev: str | None,
    entry: AuditEntry,
    following: StoredEntry | None,
    rest: Iterator[StoredEntry],
) -> Problem:
    """``entry`` is intact but does not link to ``prev``: tell an insertion from a reordering from a rewrite."""
    nxt = following.entry if following else None
    if nxt is not None and nxt.hash == entry.prev_hash and nxt.prev_hash == prev.hash:
        return Problem(
            kind="reordered",
            chain=chain,
            seq=entry.seq,
            entry_id=entry.id,
            message=f"entries at seq {entry.seq} and {nxt.seq} were swapped: entry {entry.id} belongs after {nxt.id}",
        )
    # An entry whose predecessor is stored later was moved up (or its predecessor moved down), unless the very
    # same entry is stored again later: then this one is a copy inserted here.
    predecessor: StoredEntry | None = None
    later = [following] if following else []
    for candidate in itertools.chain(later, rest):  # streamed: (*later, *rest) would hold the whole chain
        if candidate.entry is None:
            continue
        if candidate.entry.hash == entry.hash:
            return Problem(
                kind="inserted",
                chain=chain,
                seq=entry.seq,
                entry_id=entry.id,
                message=f"entry {entry.id} at seq {entry.seq} was inserted: it is a copy of seq {candidate.seq}",
            )
        if predecessor is None and candidate.entry.hash == entry.prev_hash:
            predecessor = candidate
    if predecessor is not None and predecessor.entry is not None:
        return Problem(
            kind="reordered",
            chain=chain,
            seq=entry.seq,
            entry_id=entry.id,
            message=(
                f"entry {entry.id} at seq {entry.seq} was reordered: it follows entry {predecessor.entry.id}, "
                f"which is stored later at seq {predecessor.seq}"
            ),
        )
    if nxt is not None and nxt.prev_hash == prev.hash:
        return Problem(
            kind="inserted",
            chain=chain,
            seq=entry.seq,
            entry_id=entry.id,
            message=f"entry {entry.id} at seq {entry.seq} was inserted: the next entry links past it to seq {prev.seq}",
        )
    if before_prev is not None and entry.prev_hash == before_prev:
        return Problem(
            kind="inserted",
            chain=chain,
            seq=prev.seq,
            entry_id=prev_id,
            message=(
                f"entry {prev_id} at seq {prev.seq} was inserted: entry {entry.id} after it links past it "
                f"to seq {prev.seq - 1}"
            ),
        )
    return Problem(
        kind="relinked",
        chain=chain,
        seq=entry.seq,
        entry_id=entry.id,
        message=(
            f"entry {entry.id} at seq {entry.seq} does not follow seq {prev.seq}: the entry at seq {prev.seq} "
            "was rewritten with a new hash, or an entry between them was deleted and the rest renumbered"
        ),
    )


def now() -> datetime:
    return datetime.now(UTC)
