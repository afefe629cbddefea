"""The hash chain itself: canonical JSON, entry hashes, details validation and verification."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.domain.audit import (
    GENESIS_HASH,
    MAX_DETAILS_BYTES,
    AnchoredHead,
    AuditEntry,
    StoredEntry,
    canonical_json,
    entry_content,
    format_time,
    hash_content,
    new_entry,
    verify_chain,
)
from shared.errors import BadRequest

T0 = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
CHAIN = 2


# --------------------------------------------------------------------------------------------- helpers
def build_chain(
    n: int, *, chain: int = CHAIN, start: int = 1, after: AuditEntry | None = None, prefix: str = "e"
) -> list[AuditEntry]:
    """``n`` honest entries, numbered from ``start``, linked on ``after`` (or genesis)."""
    entries: list[AuditEntry] = []
    prev_hash = after.hash if after else GENESIS_HASH
    for i in range(n):
        seq = start + i
        entry = new_entry(
            chain=chain,
            seq=seq,
            prev_hash=prev_hash,
            entry_id=f"{prefix}{seq}-{chain}",
            at=T0 + timedelta(seconds=seq),
            actor=f"user:u{seq % 3}",
            action="account.approved" if seq % 2 else "comment.hidden",
            resource=f"account:{seq}",
            details={"n": seq, "note": f"entry {seq}"},
        )
        entries.append(entry)
        prev_hash = entry.hash
    return entries


def stored(entries: list[AuditEntry], *, renumber: bool = True) -> list[StoredEntry]:
    """Entries as storage returns them; with ``renumber`` each sits at its list position (seq = index + 1)."""
    out = []
    for pos, entry in enumerate(entries, start=1):
        seq = pos if renumber else entry.seq
        out.append(
            StoredEntry(seq=seq, raw_key=f"SEQ#{seq:012d}", entry=entry.model_copy(update={"seq": seq}))
        )
    return out


def anchored(entry: AuditEntry, name: str = "anchors/a1.json") -> AnchoredHead:
    return AnchoredHead(anchor=name, anchored_at=format_time(T0), seq=entry.seq, hash=entry.hash)


# --------------------------------------------------------------------------------------------- canonical JSON
def test_canonical_json_is_independent_of_key_order() -> None:
    # Given the same object built in two key orders, nested
    a = {"b": 1, "a": {"y": [1, 2], "x": None}}
    b = {"a": {"x": None, "y": [1, 2]}, "b": 1}

    # When both are made canonical
    # Then the bytes are identical, sorted and compact
    assert canonical_json(a) == canonical_json(b) == b'{"a":{"x":null,"y":[1,2]},"b":1}'


def test_canonical_json_writes_unicode_as_utf8_not_escapes() -> None:
    # Given text outside ASCII (accents, CJK, an emoji beyond the BMP)
    value = {"name": "Zoë 学校 🏫"}

    # When made canonical
    out = canonical_json(value)

    # Then it is the raw UTF-8 bytes, without \u escapes, and reads back to the same text
    assert out == '{"name":"Zoë 学校 🏫"}'.encode()
    assert b"\\u" not in out
    assert json.loads(out) == value


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_canonical_json_refuses_nan_and_infinities(bad: float) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical_json({"x": bad})


def test_canonical_json_refuses_lone_surrogates() -> None:
    # A lone surrogate is not Unicode text: it cannot be written as UTF-8, so it cannot be hashed.
    with pytest.raises(ValueError, match="surrogate"):
        canonical_json({"x": "\ud800"})


# --------------------------------------------------------------------------------------------- hashing
def _content_kwargs() -> dict[str, Any]:
    return {
        "chain": 1,
        "entry_id": "id-1",
        "at": T0,
        "actor": "user:alice",
        "action": "account.approved",
        "resource": "account:7",
        "details": {"by": "alice", "n": 1},
        "prev_hash": "a" * 64,
    }


CHANGED_FIELDS: dict[str, Any] = {
    "chain": 2,
    "entry_id": "id-2",
    "at": T0 + timedelta(microseconds=1),
    "actor": "user:bob",
    "action": "account.revoked",
    "resource": "account:8",
    "details": {"by": "alice", "n": 2},
    "prev_hash": "b" * 64,
}


def test_every_content_field_is_covered_by_the_hash() -> None:
    # The list of changed fields must name every hashed field, or a new field could escape the hash.
    assert {("id" if k == "entry_id" else k) for k in CHANGED_FIELDS} == set(
        entry_content(**_content_kwargs())
    )


@pytest.mark.parametrize("field", sorted(CHANGED_FIELDS))
def test_changing_any_one_content_field_changes_the_hash(field: str) -> None:
    # Given an entry's content and its hash
    original = hash_content(entry_content(**_content_kwargs()))

    # When exactly one field changes
    changed = hash_content(entry_content(**{**_content_kwargs(), field: CHANGED_FIELDS[field]}))

    # Then the hash changes
    assert changed != original


def test_hash_does_not_depend_on_the_time_zone_the_time_was_given_in() -> None:
    # Given the same instant in UTC and in UTC-5
    eastern = T0.astimezone(timezone(timedelta(hours=-5)))

    # Then the hashed content and so the hash are the same
    assert entry_content(**{**_content_kwargs(), "at": eastern}) == entry_content(**_content_kwargs())


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


def test_new_entry_hash_is_the_hash_of_its_content() -> None:
    entry = build_chain(1)[0]
    assert entry.hash == hash_content(entry.content()) == entry.computed_hash()
    assert entry.prev_hash == GENESIS_HASH


# --------------------------------------------------------------------------------------------- details
def _entry_with(details: dict[Any, Any]) -> AuditEntry:
    return new_entry(
        chain=0,
        seq=1,
        prev_hash=GENESIS_HASH,
        entry_id="x",
        at=T0,
        actor="user:a",
        action="a.b",
        resource="r:1",
        details=details,
    )


@pytest.mark.parametrize(
    ("details", "where"),
    [
        ({"amount": 1.5}, "details.amount"),
        ({"deep": {"list": [1, 0.25]}}, r"details.deep.list\[1\]"),
        ({"x": float("nan")}, "details.x"),
        ({"x": float("inf")}, "details.x"),
    ],
)
def test_details_with_fractional_or_non_finite_numbers_are_refused(
    details: dict[str, Any], where: str
) -> None:
    with pytest.raises(BadRequest, match=where):
        _entry_with(details)


def test_details_with_whole_floats_are_accepted_and_hash_stably() -> None:
    entry = _entry_with({"count": 3.0})
    assert entry.computed_hash() == entry.hash


@pytest.mark.parametrize("details", [{1: "a"}, {"outer": {(1, 2): "a"}}, {"outer": [{None: 1}]}])
def test_details_with_non_string_keys_are_refused(details: dict[Any, Any]) -> None:
    with pytest.raises(BadRequest, match="keys must be strings"):
        _entry_with(details)


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, object(), datetime(2026, 1, 1, tzinfo=UTC)])
def test_details_with_non_json_values_are_refused(value: Any) -> None:
    with pytest.raises(BadRequest, match="unsupported type"):
        _entry_with({"v": value})


@pytest.mark.parametrize("details", [{"text": "bad \ud800 half"}, {"bad \udfff key": 1}])
def test_details_with_lone_surrogates_are_refused_as_bad_requests(details: dict[str, Any]) -> None:
    # Text decoded from JSON escapes can hold half a surrogate pair; it must be refused, not crash hashing.
    with pytest.raises(BadRequest):
        _entry_with(details)


def test_oversized_details_are_refused_and_the_limit_is_inclusive() -> None:
    # Given details whose canonical JSON is exactly the limit, and one byte more
    overhead = len(canonical_json({"blob": ""}))
    at_limit = {"blob": "x" * (MAX_DETAILS_BYTES - overhead)}
    over = {"blob": "x" * (MAX_DETAILS_BYTES - overhead + 1)}
    assert len(canonical_json(at_limit)) == MAX_DETAILS_BYTES

    # Then the first is sealed and the second refused, naming the limit
    assert _entry_with(at_limit).computed_hash()
    with pytest.raises(BadRequest, match=str(MAX_DETAILS_BYTES)):
        _entry_with(over)


def test_oversize_is_measured_in_utf8_bytes_not_characters() -> None:
    # 3-byte characters: fewer characters than the limit, more bytes
    with pytest.raises(BadRequest, match="limit"):
        _entry_with({"blob": "学" * (MAX_DETAILS_BYTES // 3 + 10)})


# --------------------------------------------------------------------------------------------- verification
def test_an_honest_chain_verifies() -> None:
    entries = build_chain(6)
    report = verify_chain(CHAIN, stored(entries))
    assert report.ok
    assert report.problem is None
    assert (report.entries, report.head_seq, report.head_hash) == (6, 6, entries[-1].hash)


def test_an_empty_chain_verifies_at_genesis() -> None:
    report = verify_chain(CHAIN, [])
    assert report.ok
    assert (report.entries, report.head_seq, report.head_hash) == (0, 0, GENESIS_HASH)


def test_an_entry_stored_in_another_chain_is_an_edit() -> None:
    entries = build_chain(3, chain=1)
    report = verify_chain(CHAIN, stored(entries))
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == ("edited", 1)


def test_an_item_whose_key_is_not_a_position_is_an_insertion() -> None:
    entries = stored(build_chain(3))
    forged = StoredEntry(seq=None, raw_key="SEQ#zzz", entry=entries[1].entry)
    report = verify_chain(CHAIN, [*entries, forged])
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == ("inserted", 4)
    assert "SEQ#zzz" in report.problem.message


def test_an_unreadable_item_is_an_edit_at_its_position() -> None:
    entries = stored(build_chain(3))
    entries[1] = StoredEntry(
        seq=2, raw_key="SEQ#000000000002", entry=None, error="unreadable entry (ValueError)"
    )
    report = verify_chain(CHAIN, entries)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == ("edited", 2)


def test_deleting_a_run_of_entries_names_the_whole_gap() -> None:
    entries = build_chain(7)
    report = verify_chain(CHAIN, stored([*entries[:2], *entries[5:]], renumber=False))
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == ("deleted", 3)
    assert "seqs 3-5" in report.problem.message


# --------------------------------------------------------------------------------------------- mutations (property)
EDITABLE = ["id", "at", "actor", "action", "resource", "details", "prev_hash", "hash", "chain"]


def _edited(entry: AuditEntry, field: str) -> AuditEntry:
    changes: dict[str, Any] = {
        "id": entry.id + "-forged",
        "at": entry.at + timedelta(seconds=1),
        "actor": "user:mallory",
        "action": "account.deleted",
        "resource": entry.resource + "0",
        "details": {**entry.details, "n": -1},
        "prev_hash": "f" * 64 if entry.prev_hash != "f" * 64 else "e" * 64,
        "hash": "f" * 64,
        "chain": entry.chain + 1,
    }
    return entry.model_copy(update={field: changes[field]})


chain_lengths = st.integers(min_value=3, max_value=12)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(data=st.data(), n=chain_lengths)
def test_a_chain_built_with_new_entry_verifies(data: st.DataObject, n: int) -> None:
    chain = data.draw(st.integers(min_value=0, max_value=63))
    entries = build_chain(n, chain=chain)
    report = verify_chain(chain, stored(entries))
    assert report.ok, report.problem
    assert (report.entries, report.head_seq) == (n, n)


@FAST
@given(data=st.data(), n=chain_lengths)
def test_editing_any_field_of_any_entry_is_reported_as_edited_there(data: st.DataObject, n: int) -> None:
    # Given an honest chain, one entry of which has one field changed in storage
    entries = build_chain(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    field = data.draw(st.sampled_from(EDITABLE), label="field")
    entries[i] = _edited(entries[i], field)

    # When verified
    report = verify_chain(CHAIN, stored(entries))

    # Then the problem is an edit at that entry
    assert not report.ok
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq, report.problem.entry_id) == (
        "edited",
        i + 1,
        entries[i].id,
    )
    assert report.head_seq == i


@FAST
@given(data=st.data(), n=chain_lengths)
def test_deleting_one_entry_is_reported_as_deleted_at_its_seq(data: st.DataObject, n: int) -> None:
    # Given an honest chain with one entry (not the last: nothing but an anchor can see that) removed
    entries = build_chain(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 2), label="index")
    del entries[i]

    report = verify_chain(CHAIN, stored(entries, renumber=False))

    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == ("deleted", i + 1)
    assert f"seq {i + 1} deleted" in report.problem.message


@FAST
@given(data=st.data(), n=chain_lengths)
def test_inserting_a_forged_entry_and_renumbering_is_reported_as_inserted(
    data: st.DataObject, n: int
) -> None:
    # Given an honest chain with a forged entry put before entry p and everything after it renumbered;
    # the forger either links it properly to its predecessor or does not bother
    entries = build_chain(n)
    p = data.draw(st.integers(min_value=0, max_value=n - 1), label="position")
    links = data.draw(st.booleans(), label="forged entry links to its predecessor")
    forged = new_entry(
        chain=CHAIN,
        seq=p + 1,
        prev_hash=(entries[p - 1].hash if p else GENESIS_HASH) if links else "c" * 64,
        entry_id="forged",
        at=T0,
        actor="user:mallory",
        action="account.approved",
        resource="account:999",
        details={},
    )
    entries.insert(p, forged)

    report = verify_chain(CHAIN, stored(entries))

    # Then the forged entry is named, at the position it was put
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq, report.problem.entry_id) == ("inserted", p + 1, "forged")


@FAST
@given(data=st.data(), n=chain_lengths)
def test_swapping_two_adjacent_entries_is_reported_as_reordered(data: st.DataObject, n: int) -> None:
    entries = build_chain(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 2), label="index")
    entries[i], entries[i + 1] = entries[i + 1], entries[i]

    report = verify_chain(CHAIN, stored(entries))

    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq, report.problem.entry_id) == (
        "reordered",
        i + 1,
        entries[i].id,
    )


@FAST
@given(data=st.data(), n=st.integers(min_value=4, max_value=12))
def test_moving_an_entry_far_is_reported_as_reordered_where_the_order_first_breaks(
    data: st.DataObject, n: int
) -> None:
    # Given an honest chain with one entry moved at least two places, forwards or backwards
    entries = build_chain(n)
    src = data.draw(st.integers(min_value=0, max_value=n - 1), label="from")
    dst = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda d: abs(d - src) >= 2), label="to")
    moved = entries.pop(src)
    entries.insert(dst, moved)

    report = verify_chain(CHAIN, stored(entries))

    # Then it is a reordering, reported at the first position whose entry changed
    first = min(src, dst)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq, report.problem.entry_id) == (
        "reordered",
        first + 1,
        entries[first].id,
    )


def test_deleting_an_entry_and_renumbering_the_rest_is_reported_as_relinked() -> None:
    entries = build_chain(6)
    del entries[2]
    report = verify_chain(CHAIN, stored(entries))
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq, report.problem.entry_id) == ("relinked", 3, "e4-2")


# --------------------------------------------------------------------------------------------- anchors
@FAST
@given(data=st.data(), n=st.integers(min_value=2, max_value=12))
def test_a_tail_rewritten_with_fresh_hashes_is_caught_by_an_anchor(data: st.DataObject, n: int) -> None:
    # Given an anchor at seq k, and every entry from seq m <= k onwards rewritten and re-hashed consistently
    honest = build_chain(n)
    k = data.draw(st.integers(min_value=1, max_value=n), label="anchored seq")
    m = data.draw(st.integers(min_value=1, max_value=k), label="first rewritten seq")
    rewritten = build_chain(n - m + 1, start=m, after=honest[m - 2] if m > 1 else None, prefix="r")
    tampered = honest[: m - 1] + rewritten
    assert verify_chain(CHAIN, stored(tampered)).ok  # links alone cannot see it

    # When verified against the anchor
    report = verify_chain(CHAIN, stored(tampered), [anchored(honest[k - 1])])

    # Then the anchored entry is reported rewritten
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq, report.problem.entry_id) == (
        "rewritten",
        k,
        tampered[k - 1].id,
    )
    assert "anchors/a1.json" in report.problem.message


@FAST
@given(data=st.data(), n=st.integers(min_value=2, max_value=12))
def test_a_tail_cut_off_below_an_anchor_is_reported_truncated(data: st.DataObject, n: int) -> None:
    # Given an anchor at seq k and the chain cut back to seq t < k
    entries = build_chain(n)
    k = data.draw(st.integers(min_value=1, max_value=n), label="anchored seq")
    t = data.draw(st.integers(min_value=0, max_value=k - 1), label="kept")

    report = verify_chain(CHAIN, stored(entries[:t]), [anchored(entries[k - 1])])

    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == ("truncated", t + 1)
    assert f"seq {k}" in report.problem.message
    assert report.head_seq == t


def test_anchors_at_or_below_the_head_are_all_checked_and_agree() -> None:
    entries = build_chain(5)
    heads = [anchored(entries[1], "anchors/a.json"), anchored(entries[3], "anchors/b.json")]
    report = verify_chain(CHAIN, stored(entries), heads)
    assert report.ok
    assert report.anchors_checked == 2


def test_entries_appended_after_the_newest_anchor_are_fine() -> None:
    entries = build_chain(5)
    report = verify_chain(CHAIN, stored(entries), [anchored(entries[1])])
    assert report.ok
    assert report.anchors_checked == 1


def test_a_replayed_copy_of_a_later_entry_is_reported_as_inserted() -> None:
    # Given entry 5 copied in at position 2 (everything after renumbered)
    entries = build_chain(6)
    entries.insert(1, entries[4])

    report = verify_chain(CHAIN, stored(entries))

    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq, report.problem.entry_id) == ("inserted", 2, "e5-2")
    assert "copy" in report.problem.message


def test_a_forged_entry_linked_to_its_predecessor_is_named_not_the_honest_entry_after_it() -> None:
    # Given a forged entry at seq 3 that links properly to seq 2, the honest entries renumbered after it
    entries = build_chain(5)
    forged = new_entry(
        chain=CHAIN,
        seq=3,
        prev_hash=entries[1].hash,
        entry_id="forged",
        at=T0,
        actor="user:mallory",
        action="account.approved",
        resource="account:999",
        details={},
    )
    entries.insert(2, forged)

    report = verify_chain(CHAIN, stored(entries))

    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq, report.problem.entry_id) == ("inserted", 3, "forged")
    assert report.problem.message.startswith("entry forged at seq 3 was inserted")
