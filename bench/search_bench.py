"""Search by account and date range over 100,000 indexed items, on in-process moto.

The issue's target: "Search: for account + date range queries over 100,000 indexed items, items read <= 1.5x items
returned." The subject is :func:`shared.search_service.search` (``account`` + ``date_from``/``date_to``, no state
or keyword filter, ``context=False``), paged through **all** of its results with ``limit=100``; what is held to
the target is the sum of the ``items_read`` of every page, divided by the hits returned. Windows of several widths
(a day, a week, a month, a quarter), each asked of a few accounts, are summed.

Beside it, ``dynamo_items_read`` counts what DynamoDB itself returned to those searches (the ``Count`` of every
Query call the content model made), as a cross-check of the service's own count. The time per returned item is
reported beside a floor, a plain ``ContentRecord.by_account.query`` of the same ranges iterated to the end in the
same run, as context only (moto answers a GSI query by looking at every item of the table).

The content table is seeded directly with ``ContentRecord.batch_write()`` (as ``bench.disposition_bench`` does):
``items`` comments spread over 20 Facebook pages (one page holds ~5,000 items at 100,000), each with a distinct
created time (to the microsecond) drawn over two years, so the by-account index orders each page's items by
``account_sk`` = "<created time>#<item id>". Every item whose created time falls in a searched window of its page
has a history of its own (an ``added`` comment built with ``apply_event``); the others, which no search parses,
reuse the history of one of ``POOL`` items of their page under their own key and index sort keys (building a
history costs about a millisecond, 100 s for all).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from bench.audit_bench import REGION, _environment

ACCOUNTS = 20
POOL = 50  # distinct histories per account for the items no search parses
START = datetime(2027, 6, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
LIMIT = 100
# (name, width in days, accounts asked (index in ACCOUNTS), first day of the window (days after START))
WINDOWS: tuple[tuple[str, int, tuple[int, ...], int], ...] = (
    ("day", 1, (0, 7, 13), 100),
    ("week", 7, (1, 8, 14), 250),
    ("month", 30, (2, 9, 15), 400),
    ("quarter", 91, (3, 10, 16), 550),
)


def _account_id(n: int) -> str:
    return f"10{n + 4_000_000_000_000:013d}"


def _queries() -> list[tuple[str, str, datetime, datetime]]:
    """(window name, account id, date_from, date_to) of every search."""
    return [
        (
            name,
            _account_id(n),
            START + timedelta(days=first),
            START + timedelta(days=first + width) - timedelta(microseconds=1),
        )
        for name, width, accounts, first in WINDOWS
        for n in accounts
    ]


def _item(account_id: str, item_id: str, created: datetime, rng: random.Random) -> Any:
    """A comment's record: a valid history (added) created at ``created``."""
    from shared.domain.content import Change, ContentEvent, apply_event
    from shared.store.content_store import _record

    added = ContentEvent.create(
        platform="facebook",
        account_id=account_id,
        item_id=item_id,
        change=Change.ADDED,
        occurred_at=created,
        created_at=created,
        kind="comment",
        text=f"When is the bond meeting? ({item_id})",
        post_id=f"{account_id}_p{rng.randrange(500)}",
        author={"id": f"user-{rng.randrange(5000)}", "name": "A Parent"},
    )
    return _record(apply_event(None, added).history, 1, (), None)


def _renamed(template: Any, item_id: str, created: datetime) -> Any:
    """``template``'s record (same history JSON) under another item's key and index sort keys."""
    from shared.domain.content import format_time
    from shared.store.content_store import ContentRecord, item_key

    attrs = dict(template.attribute_values)
    order = f"{format_time(created)}#{item_id}"
    attrs.update(pk=item_key("facebook", attrs["account_id"], item_id), item_id=item_id)
    attrs.update(thread_sk=order, account_sk=order, author_sk=order)
    return ContentRecord(**attrs)


def _times(count: int, rng: random.Random) -> list[datetime]:
    """``count`` distinct created times (microseconds) over SPAN from START, in a random order."""
    span = int(SPAN.total_seconds() * 1_000_000)
    chosen: set[int] = set()
    while len(chosen) < count:
        chosen.add(rng.randrange(span))
    ordered = sorted(chosen)
    rng.shuffle(ordered)
    return [START + timedelta(microseconds=us) for us in ordered]


def _seed(items: int) -> int:
    """Write the table; how many items fall in the searched windows (each with a history of its own)."""
    from shared.store.content_store import ContentRecord, ContentStore

    ContentStore()  # binds the model to the provisioned table
    rng = random.Random(20290601)
    windows: dict[str, list[tuple[datetime, datetime]]] = {}
    for _, account_id, low, high in _queries():
        windows.setdefault(account_id, []).append((low, high))
    pools: dict[str, list[Any]] = {}
    in_windows = 0
    with ContentRecord.batch_write() as batch:
        for i, created in enumerate(_times(items, rng)):
            account_id = _account_id(i % ACCOUNTS)
            item_id = f"{account_id}_c{i:07d}"
            pool = pools.setdefault(account_id, [])
            if any(low <= created <= high for low, high in windows.get(account_id, ())):
                record = _item(account_id, item_id, created, rng)
                in_windows += 1
            elif len(pool) < POOL:
                record = _item(account_id, item_id, created, rng)
                pool.append(record)
            else:
                record = _renamed(rng.choice(pool), item_id, created)
            batch.save(record)
    return in_windows


def _search_all(account_id: str, low: datetime, high: datetime) -> tuple[int, int]:
    """(items read, hits) of one search paged to its end."""
    from shared.search_service import search

    read = hits = 0
    cursor: str | None = None
    while True:
        page = search(
            account=f"facebook:{account_id}",
            date_from=low,
            date_to=high,
            limit=LIMIT,
            cursor=cursor,
            context=False,
        )
        read += page.items_read
        hits += len(page.hits)
        assert all(low <= h.created_at <= high for h in page.hits if h.created_at), account_id
        if page.next_cursor is None:
            return read, hits
        cursor = page.next_cursor


def _floor_all(account_id: str, low: datetime, high: datetime) -> int:
    """The records of the same range, by a plain by-account query."""
    from shared.domain.content import format_time
    from shared.store.content_store import ContentRecord, account_key

    condition = ContentRecord.account_sk.between(format_time(low), f"{format_time(high)}~")
    return sum(1 for _ in ContentRecord.by_account.query(account_key("facebook", account_id), condition))


class _Counter:
    """The items DynamoDB returned to the content model's Query calls (a botocore after-call hook)."""

    def __init__(self) -> None:
        self.items = 0
        self.calls = 0

    def __call__(self, parsed: dict[str, Any], **_: Any) -> None:
        self.items += int(parsed.get("Count", 0))
        self.calls += 1

    @contextmanager
    def watch(self) -> Iterator[None]:
        from shared.store.content_store import ContentRecord

        events = ContentRecord._get_connection().connection.client.meta.events
        events.register("after-call.dynamodb.Query", self)
        try:
            yield
        finally:
            events.unregister("after-call.dynamodb.Query", self)


def run(items: int, rounds: int) -> list[dict[str, Any]]:
    _environment()
    from infrastructure.local.provision import provision
    from shared.store import aws

    queries = _queries()
    with mock_aws():
        provisioned = provision(boto3.session.Session(region_name=REGION))
        os.environ.update(provisioned.env)
        aws.reset()
        start = time.perf_counter()
        in_windows = _seed(items)
        seed_seconds = time.perf_counter() - start

        counter = _Counter()
        subject_times, floor_times = [], []
        # (items read, hits, DynamoDB items, DynamoDB queries) of each round
        reads: list[tuple[int, int, int, int]] = []
        per_window: dict[str, list[int]] = {}
        floor_found = 0
        for _ in range(rounds):
            floor_found = 0
            started = time.perf_counter()
            for _, account_id, low, high in queries:
                floor_found += _floor_all(account_id, low, high)
            floor_times.append(time.perf_counter() - started)

            read = hits = 0
            per_window = {}
            counter.items = counter.calls = 0
            with counter.watch():
                started = time.perf_counter()
                for name, account_id, low, high in queries:
                    r, h = _search_all(account_id, low, high)
                    read, hits = read + r, hits + h
                    window = per_window.setdefault(name, [0, 0])
                    window[0], window[1] = window[0] + r, window[1] + h
                subject_times.append(time.perf_counter() - started)
            reads.append((read, hits, counter.items, counter.calls))

    assert len(set(reads)) == 1, reads
    read, hits, dynamo_items, dynamo_calls = reads[0]
    assert hits == floor_found == in_windows, (hits, floor_found, in_windows)
    seconds, floor_seconds = statistics.median(subject_times), statistics.median(floor_times)
    return [
        {
            "name": f"search account + dates ({items // 1000}k items)",
            "items": items,
            "accounts": ACCOUNTS,
            "searches": len(queries),
            "windows": {
                name: {"items_read": r, "returned": h, "ratio": round(r / h, 3) if h else None}
                for name, (r, h) in per_window.items()
            },
            "items_read": read,
            "returned": hits,
            "dynamo_items_read": dynamo_items,
            "dynamo_queries": dynamo_calls,
            "dynamo_ratio": round(dynamo_items / hits, 3),
            # Held to the target: what DynamoDB actually returned to the searches (the service's own count,
            # items_read, is reported beside it).
            "ratio": round(dynamo_items / hits, 3),
            "service_ratio": round(read / hits, 3),
            "target": "<= 1.5 (items DynamoDB returned ÷ items returned)",
            "floor": "plain ContentRecord.by_account.query of the same ranges, same moto (time as context only)",
            "rate": round(hits / seconds, 1),
            "floor_rate": round(floor_found / floor_seconds, 1),
            "seconds": round(seconds / hits, 5),
            "floor_seconds": round(floor_seconds / floor_found, 5),
            "time_ratio": round(seconds / floor_seconds, 3),
            "total_seconds": round(seconds, 2),
            "floor_total_seconds": round(floor_seconds, 2),
            "seed_seconds": round(seed_seconds, 1),
            "unit": "s",
        }
    ]


if __name__ == "__main__":
    for row in run(items=100_000, rounds=1):
        print(row)
