"""Anchor documents and the checks on the anchors themselves."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.anchor import (
    ANCHOR_PREFIX,
    AnchorDocument,
    AnchorLink,
    StoredAnchor,
    anchor_key,
    check_anchors,
    new_anchor,
    sha256,
)
from shared.domain.audit import GENESIS_HASH, AnchoredHead, ChainHead

T0 = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def write_anchors(count: int) -> list[StoredAnchor]:
    """``count`` anchors as an honest writer leaves them: each links to the one before with its SHA-256."""
    out: list[StoredAnchor] = []
    previous: AnchorLink | None = None
    for i in range(count):
        at = T0 + timedelta(hours=i)
        doc = new_anchor(
            at=at,
            organization="Test District",
            reason="scheduled",
            previous=previous,
            heads=[
                ChainHead(chain=0, seq=i, hash=f"{i:064x}"),
                ChainHead(chain=1, seq=i + 1, hash=f"{i + 1:064x}"),
            ],
        )
        key = anchor_key(at, f"u{i}")
        body = doc.to_bytes()
        out.append(StoredAnchor(key=key, original=body, versions=1, hidden=False))
        previous = AnchorLink(key=key, sha256=sha256(body))
    return out


def test_anchor_keys_sort_in_time_order_under_the_prefix() -> None:
    keys = [anchor_key(T0 + timedelta(microseconds=d), "zzz") for d in (0, 1, 10**6, 10**9)]
    assert keys == sorted(keys)
    assert all(k.startswith(f"{ANCHOR_PREFIX}2026/2026") and k.endswith("-zzz.json") for k in keys)


def test_anchor_document_bytes_are_canonical_and_read_back() -> None:
    doc = write_anchors(2)[1]
    parsed = AnchorDocument.model_validate_json(doc.original)
    assert parsed.to_bytes() == doc.original
    assert json.loads(doc.original)["previous"]["key"].startswith(ANCHOR_PREFIX)


def test_honest_anchors_have_no_problems_and_give_each_chains_heads() -> None:
    # Given three honest anchors
    stored = write_anchors(3)

    # When checked
    report, by_chain = check_anchors(stored)

    # Then no problems; the latest is the last key; heads at seq 0 (empty chains) are not recorded
    assert report.problems == []
    assert (report.count, report.latest) == (3, stored[-1].key)
    assert [h.seq for h in by_chain[0]] == [1, 2]
    assert [h.seq for h in by_chain[1]] == [1, 2, 3]
    assert by_chain[1][0] == AnchoredHead(
        anchor=stored[0].key, anchored_at="2026-03-01T08:30:00.000000Z", seq=1, hash=f"{1:064x}"
    )


def test_no_anchors_at_all() -> None:
    report, by_chain = check_anchors([])
    assert (report.count, report.latest, report.problems, by_chain) == (0, None, [], {})


def test_an_overwritten_anchor_is_reported_and_its_original_is_still_used() -> None:
    stored = write_anchors(2)
    stored[0] = stored[0].model_copy(update={"versions": 2})

    report, by_chain = check_anchors(stored)

    assert [(p.kind, p.anchor) for p in report.problems] == [("anchor_overwritten", stored[0].key)]
    assert "2 versions" in report.problems[0].message
    assert by_chain[1][0].anchor == stored[0].key


def test_a_hidden_anchor_is_reported() -> None:
    stored = write_anchors(2)
    stored[1] = stored[1].model_copy(update={"hidden": True})

    report, _ = check_anchors(stored)

    assert [(p.kind, p.anchor) for p in report.problems] == [("anchor_hidden", stored[1].key)]


def test_an_anchor_whose_predecessor_is_missing_names_the_missing_key() -> None:
    # Given three anchors, the middle one gone
    stored = write_anchors(3)
    missing = stored.pop(1)

    report, _ = check_anchors(stored)

    assert [(p.kind, p.anchor) for p in report.problems] == [("anchor_missing", missing.key)]
    assert stored[1].key in report.problems[0].message


def test_an_anchor_whose_predecessor_bytes_differ_is_reported() -> None:
    # Given an anchor whose predecessor's original bytes are not what it recorded
    stored = write_anchors(2)
    doc = AnchorDocument.model_validate_json(stored[0].original)
    forged = doc.model_copy(update={"reason": "forged"}).to_bytes()
    stored[0] = stored[0].model_copy(update={"original": forged})

    report, _ = check_anchors(stored)

    assert [(p.kind, p.anchor) for p in report.problems] == [("anchor_missing", stored[0].key)]


@pytest.mark.parametrize("body", [b"not json", b"{}", json.dumps({"version": 2}).encode()])
def test_an_unreadable_anchor_is_reported(body: bytes) -> None:
    stored = [StoredAnchor(key=f"{ANCHOR_PREFIX}bad.json", original=body, versions=1, hidden=False)]
    report, by_chain = check_anchors(stored)
    assert [p.kind for p in report.problems] == ["anchor_unreadable"]
    assert by_chain == {}


def test_first_anchor_on_genesis_records_no_heads() -> None:
    doc = new_anchor(
        at=T0,
        organization="o",
        reason="r",
        previous=None,
        heads=[ChainHead(chain=0, seq=0, hash=GENESIS_HASH)],
    )
    report, by_chain = check_anchors(
        [StoredAnchor(key=anchor_key(T0, "a"), original=doc.to_bytes(), versions=1, hidden=False)]
    )
    assert report.problems == []
    assert by_chain == {}
