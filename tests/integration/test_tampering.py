"""Tampering with the stored trail through plain boto3 (as someone with table or bucket access would), then
verifying through the audit facade."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shared import audit
from shared.domain.audit import AuditEntry, ChainReport, new_entry, verify_chain
from shared.store.audit_log import _to_item
from tests.integration.conftest import Stores

ENTRIES = 6


@pytest.fixture
def trail(chains: Callable[[int], None], stores: Stores, fresh_audit: None) -> list[AuditEntry]:
    """One chain of six honest entries."""
    chains(1)
    return [
        audit.append(f"user:u{i}", "account.approved", f"account:{i}", {"i": i})
        for i in range(1, ENTRIES + 1)
    ]


def only_chain() -> tuple[audit.VerifyReport, ChainReport]:
    report = audit.verify()
    assert len(report.chains) == 1
    return report, report.chains[0]


def key(seq: int) -> dict[str, Any]:
    return {"pk": {"S": "CHAIN#0000"}, "sk": {"S": f"SEQ#{seq:012d}"}}


def item_at(stores: Stores, seq: int) -> dict[str, Any]:
    item: dict[str, Any] = stores.ddb.get_item(TableName=stores.table, Key=key(seq), ConsistentRead=True)[
        "Item"
    ]
    return item


def put_entry(stores: Stores, entry: AuditEntry) -> None:
    stores.ddb.put_item(TableName=stores.table, Item=_to_item(entry).serialize())


def test_an_untouched_trail_verifies(trail: list[AuditEntry]) -> None:
    report, chain = only_chain()
    assert report.ok
    assert (chain.entries, chain.head_seq, chain.head_hash) == (ENTRIES, ENTRIES, trail[-1].hash)


def test_editing_one_items_details_names_that_entry(trail: list[AuditEntry], stores: Stores) -> None:
    # Given the details of the entry at seq 3 changed in the table
    stores.ddb.update_item(
        TableName=stores.table,
        Key=key(3),
        UpdateExpression="SET details = :d",
        ExpressionAttributeValues={":d": {"S": json.dumps({"i": 300})}},
    )

    # When verified
    report, chain = only_chain()

    # Then the edit is reported at that entry
    assert not report.ok
    assert chain.problem is not None
    assert (chain.problem.kind, chain.problem.seq, chain.problem.entry_id) == ("edited", 3, trail[2].id)
    assert trail[2].id in chain.problem.message


def test_an_item_that_no_longer_parses_is_an_edit(trail: list[AuditEntry], stores: Stores) -> None:
    stores.ddb.update_item(
        TableName=stores.table,
        Key=key(4),
        UpdateExpression="SET details = :d",
        ExpressionAttributeValues={":d": {"S": "{not json"}},
    )
    _, chain = only_chain()
    assert chain.problem is not None
    assert (chain.problem.kind, chain.problem.seq) == ("edited", 4)


def test_deleting_one_item_is_reported_deleted_at_its_seq(trail: list[AuditEntry], stores: Stores) -> None:
    stores.ddb.delete_item(TableName=stores.table, Key=key(3))

    report, chain = only_chain()

    assert not report.ok
    assert chain.problem is not None
    assert (chain.problem.kind, chain.problem.seq) == ("deleted", 3)


def test_swapping_two_items_is_reported_reordered(trail: list[AuditEntry], stores: Stores) -> None:
    # Given the contents of seq 3 and seq 4 exchanged (keys kept)
    third, fourth = item_at(stores, 3), item_at(stores, 4)
    stores.ddb.put_item(TableName=stores.table, Item={**fourth, **key(3)})
    stores.ddb.put_item(TableName=stores.table, Item={**third, **key(4)})

    report, chain = only_chain()

    assert not report.ok
    assert chain.problem is not None
    assert (chain.problem.kind, chain.problem.seq, chain.problem.entry_id) == ("reordered", 3, trail[3].id)


def rewrite_from(stores: Stores, seq: int) -> list[AuditEntry]:
    """Rewrite every entry from ``seq`` on with a changed first entry and freshly computed hashes."""
    stored = [s.entry for s in audit.log().entries(0)]
    assert all(e is not None for e in stored)
    honest = [e for e in stored if e is not None]
    rewritten: list[AuditEntry] = []
    prev_hash = honest[seq - 2].hash
    for original in honest[seq - 1 :]:
        details = {**original.details, "rewritten": True} if original.seq == seq else original.details
        entry = new_entry(
            chain=0,
            seq=original.seq,
            prev_hash=prev_hash,
            entry_id=original.id,
            at=original.at,
            actor=original.actor,
            action=original.action,
            resource=original.resource,
            details=details,
        )
        put_entry(stores, entry)
        rewritten.append(entry)
        prev_hash = entry.hash
    return rewritten


def test_a_tail_rewritten_with_fresh_hashes_after_an_anchor_is_caught_by_it(
    trail: list[AuditEntry], stores: Stores
) -> None:
    # Given an anchor of the head (seq 6; the anchor's own entry becomes seq 7)
    anchored = audit.anchor("user:records", "weekly")
    # ... and then the tail from seq 4 rewritten with consistent fresh hashes
    rewritten = rewrite_from(stores, 4)
    assert verify_chain(0, audit.log().entries(0)).ok  # the links alone cannot see it

    # When verified against the anchors
    report, chain = only_chain()

    # Then the rewrite is caught at the anchored seq, naming the anchor
    assert not report.ok
    assert chain.problem is not None
    assert (chain.problem.kind, chain.problem.seq, chain.problem.entry_id) == (
        "rewritten",
        6,
        rewritten[2].id,
    )
    assert anchored.key in chain.problem.message
    assert report.anchors.problems == []


def test_entries_deleted_off_the_end_after_an_anchor_are_reported_truncated(
    trail: list[AuditEntry], stores: Stores
) -> None:
    # Given an anchor of seq 6, then seqs 5, 6 and 7 (the anchor's own entry) deleted
    anchored = audit.anchor("user:records", "weekly")
    for seq in (5, 6, 7):
        stores.ddb.delete_item(TableName=stores.table, Key=key(seq))

    report, chain = only_chain()

    assert not report.ok
    assert chain.problem is not None
    assert (chain.problem.kind, chain.problem.seq) == ("truncated", 5)
    assert anchored.key in chain.problem.message


def test_a_new_version_written_over_an_anchor_is_reported_and_cannot_hide_a_rewrite(
    trail: list[AuditEntry], stores: Stores
) -> None:
    # Given an anchor, a rewritten tail, and the anchor overwritten with the rewritten head
    anchored = audit.anchor("user:records", "weekly")
    rewritten = rewrite_from(stores, 2)
    original = json.loads(stores.s3.get_object(Bucket=stores.bucket, Key=anchored.key)["Body"].read())
    forged = {**original, "chains": [{"chain": 0, "seq": 6, "hash": rewritten[4].hash}]}
    stores.s3.put_object(Bucket=stores.bucket, Key=anchored.key, Body=json.dumps(forged).encode())

    # When verified
    report, chain = only_chain()

    # Then the overwrite is reported, and the original version still catches the rewrite
    assert not report.ok
    assert [(p.kind, p.anchor) for p in report.anchors.problems] == [("anchor_overwritten", anchored.key)]
    assert chain.problem is not None
    assert (chain.problem.kind, chain.problem.seq) == ("rewritten", 6)


def test_an_anchor_hidden_behind_a_delete_marker_is_reported_and_still_used(
    trail: list[AuditEntry], stores: Stores
) -> None:
    # Given an anchor hidden by a plain delete (Object Lock allows the marker, not the removal)
    anchored = audit.anchor("user:records", "weekly")
    stores.s3.delete_object(Bucket=stores.bucket, Key=anchored.key)
    for seq in (6, 7):
        stores.ddb.delete_item(TableName=stores.table, Key=key(seq))

    # When verified
    report, chain = only_chain()

    # Then the marker is reported, and the hidden anchor still catches the truncation
    assert not report.ok
    assert [(p.kind, p.anchor) for p in report.anchors.problems] == [("anchor_hidden", anchored.key)]
    assert chain.problem is not None
    assert (chain.problem.kind, chain.problem.seq) == ("truncated", 6)


def test_verifying_one_chain_reports_only_that_chain(
    chains: Callable[[int], None], stores: Stores, fresh_audit: None
) -> None:
    # Given two chains with entries, one of them tampered with
    chains(2)
    written = [audit.append("user:a", "x.y", f"r:{i}") for i in range(12)]
    victim = written[0].chain
    stores.ddb.delete_item(
        TableName=stores.table, Key={"pk": {"S": f"CHAIN#{victim:04d}"}, "sk": {"S": f"SEQ#{1:012d}"}}
    )

    # When each chain is verified alone
    bad, good = audit.verify(victim), audit.verify(1 - victim)

    # Then only the tampered one fails
    assert [c.chain for c in bad.chains] == [victim]
    assert not bad.ok
    assert bad.chains[0].problem is not None
    assert (bad.chains[0].problem.kind, bad.chains[0].problem.seq) == ("deleted", 1)
    assert [c.chain for c in good.chains] == [1 - victim]
    assert good.ok


def test_an_item_planted_after_the_head_neither_hides_it_nor_stops_appends(
    chains: Callable[[int], None], fresh_audit: None, stores: Stores
) -> None:
    # Given a one-chain trail with an item planted under a key that sorts after every real position
    chains(1)
    first = audit.append("user:a", "x.y", "r:1")
    planted = {**stores.chain_items(0)[0], "sk": {"S": "SEQ#zzz"}}
    stores.ddb.put_item(TableName=stores.table, Item=planted)

    # When a fresh writer appends
    audit.reset()
    second = audit.append("user:a", "x.y", "r:2")

    # Then it follows the real head, and verify reports the planted item as inserted
    assert (second.seq, second.prev_hash) == (2, first.hash)
    report = audit.verify()
    problem = report.chains[0].problem
    assert problem is not None
    assert problem.kind == "inserted"
