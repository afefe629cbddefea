"""Disposition proposal over 100,000 archived items of which 1,000 are eligible, on in-process moto.

The issue's target: "Disposition proposal over 100,000 archived items of which 1,000 are eligible: items read
<= 1.5x items eligible." The subject is :func:`shared.records_service.sweep` (holds, schedule, open batches, the
sparse by-retention index of each series, the proposal and its audit entry); what is held to the target is the
``items_read`` it counts, divided by the items eligible. The time of the sweep is reported beside a floor, a
``batch_get`` of the same eligible records in the same run, as context only (moto answers a GSI query by looking
at every item of the table, so on moto the sweep's time grows with the table whatever it reads).

The content table is seeded directly with ``ContentRecord.batch_write()`` (100,000 ingests would take too long),
under the default series GS50-01-12 (2 years after received or provided), in a shuffled order:

- ``eligible`` items (1,000): removed more than 2 years before "now", so their retention has ended;
- a few hundred (0.3%) removed as long ago but under a hold (``holds=("h1",)``): out of the index;
- half the items still visible: retention end unknown, out of the index;
- the rest removed within the last two years: in the series' index partition, but not due yet.

Each item is a valid history built with ``apply_event`` (an ``added`` comment, then for the removed ones a
``removed``) and its retention state computed from it by the schedule (``retention_state``). Building one costs
about a millisecond (event ids are content hashes, so a history cannot be copied with other ids), 100 s for all:
every eligible item has a history of its own, while the others reuse the body (history and retention JSON) of one
of ``POOL`` distinct histories of their kind, written under their own key (pk, item id, index sort keys). The sweep
never parses those: they are outside its key range or not in the index; they are there for the table's size.

Before each round the proposed batch of the previous one is deleted (the sweep skips items an open batch holds).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from bench.audit_bench import REGION, _environment, _timed

ACCOUNT = "1234567890321"  # a Facebook page no series is assigned to: the default series governs it
NOW = datetime(2029, 6, 1, 12, 0, tzinfo=UTC)
POOL = 1000  # distinct histories per kind of item that is never read by the sweep
ELIGIBLE, HELD, RECENT, VISIBLE = "eligible", "held", "recent", "visible"


def _kinds(items: int, eligible: int, rng: random.Random) -> list[str]:
    """The kind of each item, shuffled: eligible, held (0.3%), visible (half), the rest removed recently."""
    held = max(1, items * 3 // 1000)
    visible = items // 2
    recent = items - eligible - held - visible
    assert recent > 0, (items, eligible)
    kinds = [ELIGIBLE] * eligible + [HELD] * held + [VISIBLE] * visible + [RECENT] * recent
    rng.shuffle(kinds)
    return kinds


def _item(kind: str, item_id: str, rng: random.Random) -> Any:
    """A content record of ``kind``: a valid history (added, then removed unless visible) and its retention."""
    from shared.domain.content import Change, ContentEvent, apply_event
    from shared.domain.item_retention import ItemRetention, facts
    from shared.domain.retention import default_schedule, retention_state
    from shared.store.content_store import _record

    if kind in (ELIGIBLE, HELD):
        removed_at: datetime | None = NOW - timedelta(
            days=740 + rng.randrange(700), minutes=rng.randrange(1440)
        )
    elif kind == RECENT:
        removed_at = NOW - timedelta(days=5 + rng.randrange(700), minutes=rng.randrange(1440))
    else:
        removed_at = None
    created = (removed_at or NOW) - timedelta(days=1 + rng.randrange(60), minutes=rng.randrange(1440))
    common: dict[str, Any] = {"platform": "facebook", "account_id": ACCOUNT, "item_id": item_id}
    added = ContentEvent.create(
        **common,
        change=Change.ADDED,
        occurred_at=created,
        created_at=created,
        kind="comment",
        text=f"When is the bond meeting? ({item_id})",
        post_id=f"p-{rng.randrange(500)}",
        author={"id": f"user-{rng.randrange(5000)}", "name": "A Parent"},
    )
    history = apply_event(None, added).history
    if removed_at is not None:
        removed = ContentEvent.create(
            **common, change=Change.REMOVED, occurred_at=removed_at, changed_by="platform"
        )
        history = apply_event(history, removed).history
    state = retention_state(
        default_schedule(), "facebook", ACCOUNT, facts(history, created), now=created, current_lock=None
    )
    assert state.met(NOW) is (kind in (ELIGIBLE, HELD)), (kind, state)
    retention = ItemRetention(state=state, received_at=created, holds=("h1",) if kind == HELD else ())
    return _record(history, len(history.versions) + 1, (), retention)


def _renamed(template: Any, item_id: str) -> Any:
    """``template``'s record (same history and retention JSON) under another item's key and index sort keys."""
    from shared.store.content_store import ContentRecord, item_key

    attrs = dict(template.attribute_values)
    pk = item_key("facebook", ACCOUNT, item_id)
    attrs.update(pk=pk, item_id=item_id)
    for name in ("thread_sk", "account_sk", "author_sk"):
        if attrs.get(name):
            attrs[name] = f"{attrs[name].partition('#')[0]}#{item_id}"
    if attrs.get("retention_sk"):
        attrs["retention_sk"] = f"{attrs['retention_sk'].partition('#')[0]}#{pk}"
    return ContentRecord(**attrs)


def _seed(items: int, eligible: int) -> list[str]:
    """Write the table; the keys (pk) of the eligible items."""
    from shared.store.content_store import ContentRecord, ContentStore

    ContentStore()  # binds the model to the provisioned table
    rng = random.Random(20290601)
    pools: dict[str, list[Any]] = {HELD: [], RECENT: [], VISIBLE: []}
    eligible_keys: list[str] = []
    with ContentRecord.batch_write() as batch:
        for i, kind in enumerate(_kinds(items, eligible, rng)):
            item_id = f"c-{i:06d}"
            if kind == ELIGIBLE:
                record = _item(kind, item_id, rng)
                eligible_keys.append(record.pk)
            elif len(pools[kind]) < POOL:
                record = _item(kind, item_id, rng)
                pools[kind].append(record)
            else:
                record = _renamed(rng.choice(pools[kind]), item_id)
            batch.save(record)
    return eligible_keys


def run(items: int, eligible: int, rounds: int) -> list[dict[str, Any]]:
    _environment()
    from infrastructure.local.provision import provision
    from shared import records_service
    from shared.store import aws
    from shared.store.content_store import META, ContentRecord
    from shared.store.records_store import BATCHES, RecordsItem, RecordsStore

    with mock_aws():
        provisioned = provision(boto3.session.Session(region_name=REGION))
        os.environ.update(provisioned.env)
        aws.reset()
        start = time.perf_counter()
        eligible_keys = _seed(items, eligible)
        seed_seconds = time.perf_counter() - start
        RecordsStore()  # binds the records model

        def floor() -> None:
            found = list(ContentRecord.batch_get([(pk, META) for pk in eligible_keys]))
            assert len(found) == eligible, len(found)

        reads: list[int] = []

        def subject() -> None:
            out = records_service.sweep(now=NOW, limit=1000)
            assert len(out["batches"]) == 1, out
            proposed = records_service.get_batch(out["batches"][0])
            assert len(proposed.items) == eligible, len(proposed.items)
            reads.append(int(out["items_read"]))
            RecordsItem(pk=BATCHES, sk=proposed.id).delete()  # the next round finds no open batch

        floor_times, subject_times = [], []
        for _ in range(rounds):
            floor_times.append(_timed(floor))
            subject_times.append(_timed(subject))

    assert len(set(reads)) == 1, reads
    read = reads[0]
    seconds, floor_seconds = statistics.median(subject_times), statistics.median(floor_times)
    return [
        {
            "name": f"disposition proposal ({items // 1000}k items)",
            "entries": eligible,
            "items": items,
            "items_read": read,
            "eligible": eligible,
            "rate": round(eligible / seconds, 1),
            "floor": f"batch_get of the same {eligible} eligible records, same moto (time as context only)",
            "floor_rate": round(eligible / floor_seconds, 1),
            "ratio": round(read / eligible, 3),
            "target": "<= 1.5 (items read ÷ items eligible)",
            "seconds": round(seconds, 4),
            "floor_seconds": round(floor_seconds, 4),
            "time_ratio": round(seconds / floor_seconds, 3),
            "seed_seconds": round(seed_seconds, 1),
            "unit": "s",
        }
    ]


if __name__ == "__main__":
    for row in run(items=100_000, eligible=1000, rounds=3):
        print(row)
