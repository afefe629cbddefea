"""Export package of a public-records request: 20,000 items beside 2,000 (memory) and beside reading the same
archived objects (throughput), against a moto server in a process of its own.

The issue's target: "Export: 20,000 items — peak memory <= 1.3x that of a 2,000-item export measured in the same
run; throughput reported in items/s beside a floor of reading the same archived objects." The subject is
:func:`shared.export_service.build` end to end (the by-account search paged through, every version's archived
object read and hashed, the audit custody entries of each item resolved, the files written, the thread pages
grouped through SQLite, ``bagit.make_bag``, the zip, its upload in parts, the export recorded as ready).

- memory: the peak of the Python heap (``tracemalloc`` started just before ``build`` and stopped after it, so it
  counts only what the build allocates, in every thread) while building an export of ``small`` items and while
  building one of ``large`` items of another page, in the same run; held to the target is peak(large) ÷
  peak(small) <= 1.3. The moto server runs in a **separate process** (``python -m moto.server``) so that its
  storage (every S3 object and DynamoDB item) is not in the traced heap: in-process moto would measure moto.
  Both builds come after a first, untraced build (the throughput one), so lazy imports, clients and caches are
  warm in both and neither peak carries one-off costs.
- throughput: items per second of an untraced ``build`` of a fresh export of the ``large`` query beside a floor, a
  plain ``get_object`` + ``.read()`` of every version key of those items, one after the other with the same boto3
  client (``shared.store.aws.s3()``) against the same server, in items per second. Ratio = export rate ÷ floor
  rate, reported (no target): the export also reads the index, resolves custody and writes, zips and uploads.

The data: two Facebook pages, one with ``small`` items and one with ``large``, their created times spread evenly
over 360 days (inside the 400-day search span), in threads of ``THREAD`` items each (the page's post and its
comments, so the number of thread pages grows with the items as it does on a real page). Every tenth comment was
edited (two versions, two archived events). Each item has a history of its own (built with ``apply_event``: the
export reads each version's archived object under its item's key, so histories cannot be shared), written with
``ContentRecord.batch_write()``; every event is archived with ``archive.put_event`` (Object Lock, as the
processor writes it; a few threads, for the seeding only), and every ``CUSTODY`` items share one real
``content.recorded`` audit entry (as the processor writes one per chunk of a delivery) whose locator is their
``custody``.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.audit_bench import _environment
from bench.support import moto_server

SMALL_PAGE = "104000000000001"
LARGE_PAGE = "104000000000002"
START = datetime(2025, 3, 1, tzinfo=UTC)
SPAN = timedelta(days=360)
THREAD = 40  # items per thread: the post and its comments
EDITED_EVERY = 10  # every tenth comment was edited
CUSTODY = 100  # items per content.recorded audit entry
SEED_THREADS = 8


def _log(message: str) -> None:
    sys.stderr.write(f"[export_bench] {message}\n")
    sys.stderr.flush()


def _events(account_id: str, count: int) -> Iterator[list[Any]]:
    """The events of each of ``count`` items of one page, in created order (a post, then its comments)."""
    from shared.domain.content import Change, ContentEvent

    step = SPAN / count
    for i in range(count):
        created = START + step * i
        thread, position = divmod(i, THREAD)
        post_id = f"{account_id}_{thread:06d}"
        common: dict[str, Any] = {"platform": "facebook", "account_id": account_id}
        if position == 0:
            yield [
                ContentEvent.create(
                    **common,
                    item_id=post_id,
                    change=Change.ADDED,
                    occurred_at=created,
                    created_at=created,
                    kind="post",
                    text=f"Bond measure town hall, part {thread}: questions welcome below.",
                    author={"id": account_id, "name": "Steward High School"},
                    author_is_account=True,
                )
            ]
            continue
        item_id = f"{thread:06d}_{position:04d}"
        fields: dict[str, Any] = {
            **common,
            "item_id": item_id,
            "kind": "comment",
            "post_id": post_id,
            "created_at": created,
            "author": {"id": f"user-{(i * 7919) % 5000}", "name": "A Parent"},
        }
        added = ContentEvent.create(
            **fields,
            change=Change.ADDED,
            occurred_at=created,
            text=f"When is the bond meeting? Asking for the {position}th time ({item_id})",
        )
        if position % EDITED_EVERY:
            yield [added]
            continue
        edited = ContentEvent.create(
            **fields,
            change=Change.EDITED,
            occurred_at=created + timedelta(minutes=30),
            text=f"When is the bond meeting? Found it, thanks ({item_id})",
        )
        yield [added, edited]


def _seed_page(account_id: str, count: int, now: datetime, pool: ThreadPoolExecutor) -> list[str]:
    """Index, archive and audit ``count`` items of one page; the archive keys of every version."""
    from shared import audit
    from shared.domain.content import apply_event
    from shared.store import archive
    from shared.store.content_store import ContentRecord, _record

    keys: list[str] = []
    chunk: list[list[Any]] = []

    def flush(batch: Any) -> None:
        events = [e for item in chunk for e in item]
        entry = audit.append(
            "system:processor",
            "content.recorded",
            f"delivery:bench-{account_id}-{len(keys)}",
            {
                "delivery": f"deliveries/bench/{account_id}/{len(keys)}.json",
                "events": [
                    {
                        "event_id": e.event_id,
                        "item": f"facebook:{account_id}:{e.item_id}",
                        "change": str(e.change),
                    }
                    for e in events
                ],
            },
        )
        custody = (audit.locator(entry),)
        for item in chunk:
            history = None
            for event in item:
                history = apply_event(history, event).history
            assert history is not None
            batch.save(_record(history, len(item), custody, None))
        written = list(pool.map(lambda e: archive.put_event(e, now), events))
        assert all(written), "an event was archived already"
        keys.extend(archive.event_key(e) for e in events)
        chunk.clear()

    with ContentRecord.batch_write() as batch:
        for item in _events(account_id, count):
            chunk.append(item)
            if len(chunk) == CUSTODY:
                flush(batch)
        if chunk:
            flush(batch)
    return keys


def _export(who: Any, request_id: str, account_id: str) -> str:
    """A new export of the whole page (queued; the benchmark builds it itself)."""
    from shared import export_service, search_service

    query = search_service.checked_query(
        account=f"facebook:{account_id}", date_from=START, date_to=START + SPAN + timedelta(days=1)
    )
    return export_service.request_export(who, request_id, query, None).id


def _traced_build(request_id: str, export_id: str) -> tuple[int, int, float, int]:
    """(peak bytes of the Python heap during the build, bytes traced when it began, seconds, items)."""
    from shared import export_service

    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    out = export_service.build(request_id, export_id)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, base, seconds, int(out["items"])


def _prepare(who: Any, small: int, large: int) -> tuple[float, list[str], str]:
    """Seed both pages and open the records request: (seconds, the large page's archive keys, request id)."""
    from shared import requests_service

    started = time.perf_counter()
    now = datetime.now(UTC)
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        _seed_page(SMALL_PAGE, small, now, pool)
        large_keys = _seed_page(LARGE_PAGE, large, now, pool)
    seed_seconds = time.perf_counter() - started
    _log(f"seeded {small} + {large} items in {seed_seconds:.1f} s")

    request_id = requests_service.create(
        who,
        requester="J. Smith",
        received_on=datetime.now(UTC).date(),
        text="All comments on the high school's Facebook pages about the bond measure",
        jurisdiction="WA",
        scope=None,
    ).request.id

    return seed_seconds, large_keys, request_id


def run(small: int, large: int) -> list[dict[str, Any]]:
    _environment()
    from shared import export_service
    from shared.catalogue import Role
    from shared.identity import Identity
    from shared.settings import get_settings
    from shared.store import archive, aws
    from shared.store.content_store import ContentStore

    who = Identity(
        subject="sub-bench",
        username="records.lee",
        email="records.lee@district.example.org",
        roles=frozenset({Role.RECORDS}),
    )
    with moto_server():
        ContentStore()  # binds the model to the provisioned table

        seed_seconds, large_keys, request_id = _prepare(who, small, large)

        # The floor: every archived object of the large page's items, read one after the other, same client.
        bucket = get_settings().bucket_name(archive.ARCHIVE)
        s3 = aws.s3()
        started = time.perf_counter()
        read_bytes = sum(len(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in large_keys)
        floor_seconds = time.perf_counter() - started
        _log(f"floor: {len(large_keys)} objects ({read_bytes} bytes) in {floor_seconds:.1f} s")

        # The throughput: untraced (it also warms imports, clients and caches for both traced builds).
        export_id = _export(who, request_id, LARGE_PAGE)
        started = time.perf_counter()
        out = export_service.build(request_id, export_id)
        seconds = time.perf_counter() - started
        assert out["state"] == "ready", out
        assert out["items"] == large, out
        built = export_service.get(request_id, export_id)
        assert built.versions == len(large_keys), (built.versions, len(large_keys))
        _log(f"throughput build: {large} items in {seconds:.1f} s ({built.size} bytes zipped)")

        small_peak, small_base, small_seconds, small_items = _traced_build(
            request_id, _export(who, request_id, SMALL_PAGE)
        )
        assert small_items == small, small_items
        _log(f"traced build of {small}: peak {small_peak} bytes ({small_seconds:.1f} s)")
        large_peak, large_base, large_seconds, large_items = _traced_build(
            request_id, _export(who, request_id, LARGE_PAGE)
        )
        assert large_items == large, large_items
        _log(f"traced build of {large}: peak {large_peak} bytes ({large_seconds:.1f} s)")

    rate, floor_rate = large / seconds, large / floor_seconds
    return [
        {
            "name": f"export peak memory ({large // 1000}k vs {small // 1000}k)",
            "items": large,
            "floor_items": small,
            "peak_bytes": large_peak,
            "floor_peak_bytes": small_peak,
            "base_bytes": large_base,
            "floor_base_bytes": small_base,
            "rate": round(large_peak / 1024, 1),
            "floor_rate": round(small_peak / 1024, 1),
            "unit": "kB",
            "ratio": round(large_peak / small_peak, 3),
            "target": "<= 1.3 (peak Python heap ÷ that of the small export)",
            "floor": f"tracemalloc peak of build() of a {small}-item export, same run (moto in its own process)",
        },
        {
            "name": f"export throughput ({large // 1000}k items)",
            "items": large,
            "versions": len(large_keys),
            "rate": round(rate, 1),
            "floor_rate": round(floor_rate, 1),
            "ratio": round(rate / floor_rate, 3),
            "target": "reported (no target; items/s ÷ floor items/s)",
            "floor": f"plain get_object + read of the {len(large_keys)} archived versions, same client and server",
            "seconds": round(seconds, 2),
            "floor_seconds": round(floor_seconds, 2),
            "seed_seconds": round(seed_seconds, 1),
        },
    ]


if __name__ == "__main__":
    for row in run(small=2000, large=20_000):
        print(row)
