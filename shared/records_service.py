"""Records management as a service: the retention schedule, each item's retention, legal holds and disposition.
Called by ``functions.records_api`` (people) and ``functions.retention_worker`` (jobs and the daily sweep).

- **Schedule.** Every change is a new version, written only if its number is free, with its audit entry in one
  transaction (``retention.*`` on ``retention:schedule``). Items keep the series and version that governed them.
- **Holds.** Placing or releasing one is recorded and audited at once; the work on the archive (S3 Object Lock
  legal hold on every version of every item in scope, or off where no other hold remains) is a job on the
  ``retention`` queue, idempotent, which marks each item (an item under a hold leaves the by-retention index, so
  it is never proposed). Versions archived later are put with the legal hold already on (``shared.ingest``).
- **Disposition.** The sweep reads, per series, only the items of the sparse by-retention index whose retention
  ended (never a Scan) and proposes a batch of those no hold covers. ``records`` approves (each item checked
  again: one put under a hold or whose retention was extended since the proposal is dropped with the reason) or
  rejects. Approval hands the batch to the worker, which deletes every version (S3 itself refuses anything still
  locked) or, for an archival series, writes a transfer package instead; then the destruction log entry, the
  batch's new state and the audit entry are written in one transaction.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from shared import audit
from shared.domain import retention as domain
from shared.domain.content import format_time
from shared.domain.item_retention import Disposed, ItemRetention, ref
from shared.domain.retention import Batch, BatchState, Candidate, Disposition, Hold, HoldKind, Schedule
from shared.errors import BadRequest, Conflict, NotFound
from shared.identity import Identity
from shared.observability import logger
from shared.settings import get_settings
from shared.store import archive, exports, queues
from shared.store.content_store import ContentStore, Stored, item_key
from shared.store.records_store import RecordsStore, Revised

SCHEDULE_RESOURCE = "retention:schedule"
SWEEPER = "system:disposition-sweep"
WORKER = "system:retention-worker"
ATTEMPTS = 5
# Holds placed this recently are applied again by the sweep: an item archived while the hold's job ran could
# have been indexed after the job read its account (the job is idempotent, so this only closes that window).
REAPPLY_WINDOW = timedelta(days=2)


def _now() -> datetime:
    return datetime.now(UTC)


def records() -> RecordsStore:
    return RecordsStore()


def content() -> ContentStore:
    return ContentStore()


# --------------------------------------------------------------------------------------------- jobs
class RetentionJob(BaseModel):
    """A message on the ``retention`` queue."""

    job: Literal["apply_hold", "release_hold", "dispose"]
    id: str = Field(min_length=1, max_length=128)


def parse_job(body: str) -> RetentionJob:
    try:
        return RetentionJob.model_validate_json(body)
    except ValidationError:
        raise BadRequest("not a retention job") from None


def enqueue(job: RetentionJob) -> None:
    queues.send("retention", [job.model_dump_json()], what=f"{job.job} job")


def run_job(job: RetentionJob) -> dict[str, Any]:
    if job.job == "apply_hold":
        return apply_hold(job.id)
    if job.job == "release_hold":
        return release_hold_job(job.id)
    return dispose(job.id)


# --------------------------------------------------------------------------------------------- schedule
def schedule() -> Schedule:
    return records().schedule()


def schedule_version(version: int) -> Schedule:
    found = records().schedule_version(version)
    if found is None:
        raise NotFound(f"no version {version} of the retention schedule")
    return found


def _change_schedule(
    who: Identity, after: Schedule, before: Schedule, action: str, details: dict[str, Any]
) -> Schedule:
    if after is before:
        return before
    try:
        audit.append(
            who.actor,
            f"retention.{action}",
            SCHEDULE_RESOURCE,
            {"version": after.version, "previous_version": before.version, **details, "note": after.note},
            also=[records().schedule_part(after)],
        )
    except Conflict:
        raise Conflict(
            f"the retention schedule changed meanwhile (version {after.version} exists); read it and try again"
        ) from None
    return after


def put_series(who: Identity, dan: str, data: dict[str, Any], note: str = "") -> Schedule:
    series = domain.parse_series({**data, "dan": dan})
    before = schedule()
    after = domain.put_series(before, series, actor=who.actor, roles=who.roles, at=_now(), note=note)
    return _change_schedule(who, after, before, "series_changed", {"series": series.model_dump(mode="json")})


def set_default(who: Identity, dan: str, note: str = "") -> Schedule:
    before = schedule()
    after = domain.set_default(before, dan, actor=who.actor, roles=who.roles, at=_now(), note=note)
    return _change_schedule(who, after, before, "default_changed", {"default_series": dan})


def assign(who: Identity, platform: str, account_id: str, dan: str, note: str = "") -> Schedule:
    before = schedule()
    after = domain.assign(
        before, platform, account_id, dan, actor=who.actor, roles=who.roles, at=_now(), note=note
    )
    return _change_schedule(
        who,
        after,
        before,
        "account_assigned",
        {"account": domain.account_key(platform, account_id), "dan": dan},
    )


# --------------------------------------------------------------------------------------------- an item
class VersionLock(BaseModel):
    key: str
    version_id: str
    retain_until: datetime | None
    legal_hold: bool


class RetentionView(BaseModel):
    item: str
    dan: str
    series_title: str
    schedule_version: int
    trigger: str
    retain_until: datetime | None = Field(
        description="When retention is met; null while the trigger has not come"
    )
    lock_until: datetime = Field(description="The Object Lock (COMPLIANCE) date every archived version holds")
    received_at: datetime
    holds: list[dict[str, str]]
    disposed: str | None
    batch_id: str | None
    versions: list[VersionLock] = Field(description="Each archived version as S3 holds it")


def item_retention(platform: str, account_id: str, item_id: str) -> RetentionView:
    stored = content().get(platform, account_id, item_id)
    if stored is None or stored.retention is None:
        raise NotFound(f"no archived item {platform}:{account_id}:{item_id}")
    kept = stored.retention
    held = {h.value.id: h.value for h in records().holds()}
    series_title = _series_title(kept.state.dan, kept.state.schedule_version)
    versions = []
    for v in archive.all_versions(platform, account_id, item_id):
        until, held_on = archive.lock_of(v)
        versions.append(
            VersionLock(key=v.key, version_id=v.version_id, retain_until=until, legal_hold=held_on)
        )
    return RetentionView(
        item=f"{platform}:{account_id}:{item_id}",
        dan=kept.state.dan,
        series_title=series_title,
        schedule_version=kept.state.schedule_version,
        trigger=str(kept.state.trigger),
        retain_until=kept.state.retain_until,
        lock_until=kept.state.lock_until,
        received_at=kept.received_at,
        holds=[{"id": h, "matter": held[h].matter if h in held else "?"} for h in kept.holds],
        disposed=str(kept.disposed) if kept.disposed else None,
        batch_id=kept.batch_id,
        versions=versions,
    )


def _series_title(dan: str, version: int) -> str:
    governed = records().schedule_version(version) or schedule()
    try:
        return governed.get(dan).title
    except BadRequest:
        return dan


def _update(stored: Stored, change: Any) -> ItemRetention | None:
    """Apply ``change(retention) -> retention`` to an item with optimistic concurrency (re-read on conflict)."""
    item = stored.history.current
    for _ in range(ATTEMPTS):
        if stored.retention is None:
            return None
        after: ItemRetention = change(stored.retention)
        if after == stored.retention:
            return after
        try:
            content().save(stored.history, stored.revision, stored.custody, after)
            return after
        except Conflict:
            fresh = content().get(str(item.platform), item.account_id, item.item_id)
            if fresh is None:
                return None
            stored = fresh
    raise Conflict(f"item {item.item_id} kept changing; the job will be retried")


# --------------------------------------------------------------------------------------------- holds
class HoldView(BaseModel):
    hold: Hold
    active: bool


def place_hold(who: Identity, matter: str, reason: str, scope: dict[str, Any]) -> HoldView:
    hold = domain.place_hold(
        hold_id=uuid.uuid4().hex,
        matter=matter,
        reason=reason,
        scope=domain.parse_scope(scope),
        kind=HoldKind.LITIGATION,
        actor=who.actor,
        roles=who.roles,
        at=_now(),
    )
    audit.append(
        who.actor,
        "hold.placed",
        f"hold:{hold.id}",
        {"matter": hold.matter, "reason": hold.reason, "scope": hold.scope.model_dump(mode="json")},
        also=[records().hold_part(hold, None)],
    )
    enqueue(RetentionJob(job="apply_hold", id=hold.id))
    return HoldView(hold=hold, active=True)


def holds() -> list[HoldView]:
    return [HoldView(hold=h.value, active=h.value.active) for h in records().holds()]


def _hold(hold_id: str) -> Revised[Hold]:
    found = records().hold(hold_id)
    if found is None:
        raise NotFound(f"no hold {hold_id}")
    return found


def get_hold(hold_id: str) -> HoldView:
    found = _hold(hold_id).value
    return HoldView(hold=found, active=found.active)


def release_hold(who: Identity, hold_id: str, reason: str) -> HoldView:
    stored = _hold(hold_id)
    after = domain.release_hold(stored.value, actor=who.actor, roles=who.roles, at=_now(), reason=reason)
    audit.append(
        who.actor,
        "hold.released",
        f"hold:{hold_id}",
        {"matter": after.matter, "reason": after.release_reason},
        also=[records().hold_part(after, stored.revision)],
    )
    enqueue(RetentionJob(job="release_hold", id=hold_id))
    return HoldView(hold=after, active=False)


def _in_scope(hold: Hold) -> Iterator[Stored]:
    """Every indexed item a hold's scope names (through the indexes; items listed twice come once)."""
    scope = hold.scope
    start = format_time(scope.date_from) if scope.date_from else None
    end = format_time(scope.date_to) if scope.date_to else None
    seen: set[str] = set()
    streams: list[Iterable[Stored]] = []
    for account in scope.accounts:
        platform, _, account_id = account.partition(":")
        streams.append(content().in_account(platform, account_id, date_from=start, date_to=end))
    for author in scope.authors:
        platform, _, author_id = author.partition(":")
        streams.append(content().by_author_of(platform, author_id))
    for key in scope.item_ids:
        platform, _, rest = key.partition(":")
        account_id, _, item_id = rest.partition(":")
        found = content().get(platform, account_id, item_id)
        streams.append([found] if found else [])
    # The scope alone, whatever the hold's state: a released hold covers nothing any more, but its release job
    # needs the items its scope names.
    for stream in streams:
        for stored in stream:
            item = stored.history.current
            key = item_key(item.platform, item.account_id, item.item_id)
            if key not in seen and domain.in_scope(scope, ref(stored.history)):
                seen.add(key)
                yield stored


def apply_hold(hold_id: str) -> dict[str, Any]:
    """Legal hold on every version of every item in the hold's scope, attachments included; each item marked
    (idempotent)."""
    hold = _hold(hold_id).value
    if not hold.active:
        return {"hold": hold_id, "items": 0, "note": "released before it was applied"}
    items = versions = 0
    for stored in _in_scope(hold):
        item = stored.history.current
        found = archive.all_versions(str(item.platform), item.account_id, item.item_id)
        archive.set_legal_hold(found, True)
        _update(stored, lambda r: r.model_copy(update={"holds": tuple(sorted({*r.holds, hold_id}))}))
        items, versions = items + 1, versions + len(found)
    audit.append(WORKER, "hold.applied", f"hold:{hold_id}", {"items": items, "versions": versions})
    logger.info("hold applied", extra={"hold": hold_id, "items": items, "versions": versions})
    return {"hold": hold_id, "items": items, "versions": versions}


def release_hold_job(hold_id: str) -> dict[str, Any]:
    """The released hold comes off each item it was on; legal hold off the versions no other hold keeps."""
    hold = _hold(hold_id).value
    items = unlocked = 0
    for stored in _in_scope(hold):
        if stored.retention is None or hold_id not in stored.retention.holds:
            continue
        kept = _update(
            stored, lambda r: r.model_copy(update={"holds": tuple(h for h in r.holds if h != hold_id)})
        )
        items += 1
        if kept is not None and not kept.holds:
            item = stored.history.current
            archive.set_legal_hold(
                archive.all_versions(str(item.platform), item.account_id, item.item_id), False
            )
            unlocked += 1
    audit.append(WORKER, "hold.lifted", f"hold:{hold_id}", {"items": items, "unlocked": unlocked})
    return {"hold": hold_id, "items": items, "unlocked": unlocked}


# --------------------------------------------------------------------------------------------- disposition
def sweep(now: datetime | None = None, *, limit: int = 1000, reapply: bool = False) -> dict[str, Any]:
    """Propose one batch per series of items whose retention is met, that no hold covers and that no open batch
    holds already. The scheduled worker (``reapply``) first applies recent holds again (see REAPPLY_WINDOW)."""
    at = now or _now()
    active = [h.value for h in records().holds() if h.value.active]
    for hold in active if reapply else ():
        if at - hold.placed_at <= REAPPLY_WINDOW:
            apply_hold(hold.id)
    governing = schedule()
    pending = {
        c.item.key
        for b in records().batches()
        if b.state in (BatchState.PROPOSED, BatchState.APPROVED)
        for c in b.items
    }
    read = 0
    proposed: list[str] = []
    for series in governing.series:
        candidates: list[Candidate] = []
        for stored in content().due(series.dan, format_time(at)):
            read += 1
            kept = stored.retention
            if kept is None or kept.state.retain_until is None:
                continue
            item = ref(stored.history)
            if item.key in pending:
                continue
            candidates.append(
                Candidate(
                    item=item,
                    dan=series.dan,
                    schedule_version=kept.state.schedule_version,
                    retain_until=kept.state.retain_until,
                )
            )
            if len(candidates) >= limit:
                break
        batch = domain.propose(
            series, governing.version, candidates, active, now=at, batch_id=_batch_id(at), limit=limit
        )
        if batch is None:
            continue
        audit.append(
            SWEEPER,
            "disposition.proposed",
            f"batch:{batch.id}",
            {"dan": batch.dan, "items": len(batch.items), "schedule_version": batch.schedule_version},
            also=[records().batch_part(batch, None)],
        )
        proposed.append(batch.id)
    logger.info("disposition sweep", extra={"items_read": read, "batches": proposed})
    return {"items_read": read, "batches": proposed}


def _batch_id(at: datetime) -> str:
    return f"{at.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}"


def batches(state: BatchState | None = None) -> list[Batch]:
    return [b for b in records().batches() if state is None or b.state is state]


def _batch(batch_id: str) -> Revised[Batch]:
    found = records().batch(batch_id)
    if found is None:
        raise NotFound(f"no disposition batch {batch_id}")
    return found


def get_batch(batch_id: str) -> Batch:
    return _batch(batch_id).value


def approve(who: Identity, batch_id: str, note: str = "") -> Batch:
    stored = _batch(batch_id)
    batch = stored.value
    active = [h.value for h in records().holds() if h.value.active]
    now_retained: dict[str, datetime | None] = {}
    held_now: dict[str, tuple[str, ...]] = {}
    for candidate, found in _stored_items(batch):
        if found is not None and found.retention is not None and found.retention.disposed is None:
            now_retained[candidate.item.key] = found.retention.state.retain_until
            held_now[candidate.item.key] = tuple(found.retention.holds)
    after = domain.approve(
        batch,
        actor=who.actor,
        roles=who.roles,
        at=_now(),
        holds=active,
        retention_now=now_retained,
        held_now=held_now,
    )
    audit.append(
        who.actor,
        "disposition.approved",
        f"batch:{batch_id}",
        {
            "dan": after.dan,
            "items": len(after.items),
            "dropped": [d.model_dump(mode="json") for d in after.dropped],
            "note": note,
        },
        also=[records().batch_part(after, stored.revision)],
    )
    enqueue(RetentionJob(job="dispose", id=batch_id))
    return after


def reject(who: Identity, batch_id: str, reason: str) -> Batch:
    stored = _batch(batch_id)
    after = domain.reject(stored.value, actor=who.actor, roles=who.roles, at=_now(), reason=reason)
    audit.append(
        who.actor,
        "disposition.rejected",
        f"batch:{batch_id}",
        {"dan": after.dan, "items": len(after.items), "reason": reason},
        also=[records().batch_part(after, stored.revision)],
    )
    return after


def dispose(batch_id: str) -> dict[str, Any]:
    """Carry out an approved batch: delete every version of each item (or write the transfer package), then the
    destruction log entry, the batch's state and the audit entry in one transaction. Idempotent."""
    stored = _batch(batch_id)
    batch = stored.value
    if batch.state is BatchState.EXECUTED:
        return {"batch": batch_id, "note": "already executed"}
    if batch.state is not BatchState.APPROVED:
        raise Conflict(f"batch {batch_id} is {batch.state}, not approved")
    at = _now()
    transfer = batch.series.disposition is Disposition.TRANSFER
    method = (
        "transfer package (BagIt bag, zipped, with the SHA-256 of each archived object as stored) to the exports "
        "bucket for the state archives"
        if transfer
        else "deletion of every archived version (events and attachments) from the Object Lock bucket and of the "
        "index record"
    )
    items = _stored_items(batch)
    batch = _drop_held(batch, items)
    package = _transfer(batch) if transfer else None
    kept = {candidate.item.key for candidate in batch.items}
    for candidate, found in items:
        item = candidate.item
        if item.key not in kept or found is None or found.retention is None:
            continue
        if transfer:
            _update(
                found, lambda r: r.model_copy(update={"disposed": Disposed.TRANSFERRED, "batch_id": batch_id})
            )
        else:
            archive.delete_versions(archive.all_versions(item.platform, item.account_id, item.item_id))
            content().delete(item.platform, item.account_id, item.item_id)
    entry = domain.destruction_log_entry(batch, executed_at=at, method=method)
    if package is not None:
        entry["transfer_package"] = package
    done = domain.executed(batch, at=at)
    audit.append(
        WORKER,
        "disposition.executed",
        f"batch:{batch_id}",
        entry,
        also=[
            records().log_part(f"{format_time(at)}#{batch_id}", json.dumps(entry, sort_keys=True)),
            records().batch_part(done, stored.revision),
        ],
    )
    logger.info(
        "disposition executed", extra={"batch": batch_id, "items": len(batch.items), "transfer": transfer}
    )
    return {"batch": batch_id, "items": len(batch.items), "transfer": transfer}


def _stored_items(batch: Batch) -> list[tuple[Candidate, Stored | None]]:
    """Each item of the batch with its index record as it is now (None if gone), read in batches of 100."""
    found = content().get_many((c.item.platform, c.item.account_id, c.item.item_id) for c in batch.items)
    return [(c, found.get((c.item.platform, c.item.account_id, c.item.item_id))) for c in batch.items]


def _drop_held(batch: Batch, items: list[tuple[Candidate, Stored | None]]) -> Batch:
    """The batch without the items a hold came onto after the approval (each dropped with the reason)."""
    kept: list[Candidate] = []
    dropped = list(batch.dropped)
    for candidate, found in items:
        if found is not None and found.retention is not None and found.retention.holds:
            dropped.append(
                domain.Dropped(item=candidate.item.key, reason="placed under a hold after the approval")
            )
        else:
            kept.append(candidate)
    if len(kept) == len(batch.items):
        return batch
    return batch.model_copy(update={"items": tuple(kept), "dropped": tuple(dropped)})


def _transfer(batch: Batch) -> dict[str, str]:
    """The transfer package: a BagIt bag (RFC 8493, made by the ``bagit`` library, as export packages are) of every
    archived event of every item, copied byte for byte (so its SHA-256 manifest is that of the objects S3 keeps),
    with the batch as ``data/batch.json``; zipped on local disk and uploaded from there in parts."""
    name = f"transfer-{batch.id}"
    files = 0
    with tempfile.TemporaryDirectory(prefix="steward-transfer-") as work:
        root = os.path.join(work, name)
        os.makedirs(root)
        for candidate in batch.items:
            item = candidate.item
            for key in sorted(
                {v.key for v in archive.versions(item.platform, item.account_id, item.item_id)}
            ):
                if key.startswith("/") or ".." in key.split("/"):
                    continue
                body = archive.read_bytes(key)
                if body is None:
                    continue
                target = os.path.join(root, key)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as out:
                    out.write(body)
                files += 1
        with open(os.path.join(root, "batch.json"), "w", encoding="utf-8") as out:
            out.write(batch.model_dump_json(indent=2))
        published = exports.publish_bag(
            root,
            name=name,
            key=f"transfers/{batch.id}.zip",
            info={
                "Source-Organization": get_settings().organization,
                "External-Identifier": batch.id,
                "External-Description": f"Disposition batch {batch.id}: series {batch.dan} transferred to the "
                "state archives",
                "Item-Count": str(len(batch.items)),
            },
            what="transfer package",
        )
    return {"key": published.key, "sha256": published.sha256, "files": str(files)}


def destruction_log(limit: int = 500) -> list[dict[str, Any]]:
    return [json.loads(body) for body in records().destruction_log(limit)]
