"""Records management in DynamoDB (catalogue table ``records``): the retention schedule's versions, the legal
holds, the disposition batches and the destruction log. Every item is JSON in ``body``; writes are conditional.

* ``pk = SCHEDULE``, ``sk = V#<version, zero-padded>``: every version of the schedule, never overwritten (a new
  version is written only if its number is free, so two concurrent edits cannot both become version N).
* ``pk = HOLDS``, ``sk = <hold id>``: the holds (a district has tens, not thousands; one Query lists them), with a
  revision for the release.
* ``pk = BATCHES``, ``sk = <batch id>``: the disposition batches, with a revision.
* ``pk = DESTRUCTION``, ``sk = <executed at>#<batch id>``: the destruction log, oldest first.
* ``pk = REQUESTS``, ``sk = <request id>``: public-records requests (ids sort by the date received), with a
  revision. One Query lists them: a district answers hundreds a year, not millions.
* ``pk = EXPORTS``, ``sk = <request id>#<export id>``: each request's export packages, with a revision; one
  Query (begins_with) lists a request's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, PynamoDBException
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.domain.package import Export
from shared.domain.requests import RecordsRequest
from shared.domain.retention import Batch, Hold, Schedule, default_schedule
from shared.errors import Conflict, Unavailable
from shared.store import dynamo

TABLE = "records"
SCHEDULE, HOLDS, BATCHES, DESTRUCTION = "SCHEDULE", "HOLDS", "BATCHES", "DESTRUCTION"
REQUESTS, EXPORTS = "REQUESTS", "EXPORTS"
# How long a process trusts the schedule and the holds it read (the processor reads them for every delivery).
CACHE_SECONDS = 10.0

_M = TypeVar("_M", bound=BaseModel)


class RecordsItem(Model):
    class Meta:
        table_name = "unbound-records"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    revision = NumberAttribute(default=1)
    body = UnicodeAttribute()


def version_key(version: int) -> str:
    return f"V#{version:08d}"


@dataclass(frozen=True)
class Revised(Generic[_M]):
    """A stored model and the revision it was read at (the condition of the next write)."""

    value: _M
    revision: int


class RecordsStore:
    def __init__(self) -> None:
        dynamo.bind(RecordsItem, TABLE)

    # ------------------------------------------------------------------------------------------- schedule
    def schedule(self) -> Schedule:
        """The schedule in force: the newest stored version, or the shipped defaults (version 1) if none is."""
        try:
            for item in RecordsItem.query(
                SCHEDULE, RecordsItem.sk.startswith("V#"), scan_index_forward=False, limit=1
            ):
                return Schedule.model_validate_json(item.body)
        except PynamoDBException as exc:
            raise Unavailable("the retention schedule could not be read") from exc
        return default_schedule()

    def schedule_version(self, version: int) -> Schedule | None:
        try:
            item = RecordsItem.get(SCHEDULE, version_key(version), consistent_read=True)
        except RecordsItem.DoesNotExist:
            return default_schedule() if version == 1 else None
        except PynamoDBException as exc:
            raise Unavailable("the retention schedule could not be read") from exc
        return Schedule.model_validate_json(item.body)

    def schedule_part(self, schedule: Schedule) -> Callable[[TransactWrite], None]:
        """The write of a new schedule version, only if that version number is free (part of the audit
        entry's transaction)."""
        item = RecordsItem(pk=SCHEDULE, sk=version_key(schedule.version), body=schedule.model_dump_json())

        def part(tx: TransactWrite) -> None:
            tx.save(item, condition=RecordsItem.pk.does_not_exist())

        return part

    # ------------------------------------------------------------------------------------------- holds
    def holds(self) -> list[Revised[Hold]]:
        try:
            return [
                Revised(Hold.model_validate_json(i.body), int(i.revision))
                for i in RecordsItem.query(HOLDS, consistent_read=True)
            ]
        except PynamoDBException as exc:
            raise Unavailable("the legal holds could not be read") from exc

    def hold(self, hold_id: str) -> Revised[Hold] | None:
        return _get(HOLDS, hold_id, Hold, "legal hold")

    def hold_part(self, hold: Hold, before: int | None) -> Callable[[TransactWrite], None]:
        return _part(HOLDS, hold.id, hold, before)

    # ------------------------------------------------------------------------------------------- batches
    def batch(self, batch_id: str) -> Revised[Batch] | None:
        return _get(BATCHES, batch_id, Batch, "disposition batch")

    def batches(self) -> Iterator[Batch]:
        """Every batch, newest first (batch ids sort by proposal time)."""
        try:
            for item in RecordsItem.query(BATCHES, scan_index_forward=False):
                yield Batch.model_validate_json(item.body)
        except PynamoDBException as exc:
            raise Unavailable("the disposition batches could not be read") from exc

    def batch_part(self, batch: Batch, before: int | None) -> Callable[[TransactWrite], None]:
        return _part(BATCHES, batch.id, batch, before)

    # ------------------------------------------------------------------------------------------- requests
    def request(self, request_id: str) -> Revised[RecordsRequest] | None:
        return _get(REQUESTS, request_id, RecordsRequest, "records request")

    def requests(self) -> Iterator[RecordsRequest]:
        """Every request, newest first."""
        try:
            for item in RecordsItem.query(REQUESTS, scan_index_forward=False):
                yield RecordsRequest.model_validate_json(item.body)
        except PynamoDBException as exc:
            raise Unavailable("the records requests could not be read") from exc

    def request_part(self, request: RecordsRequest, before: int | None) -> Callable[[TransactWrite], None]:
        return _part(REQUESTS, request.id, request, before)

    # ------------------------------------------------------------------------------------------- exports
    def export(self, request_id: str, export_id: str) -> Revised[Export] | None:
        return _get(EXPORTS, f"{request_id}#{export_id}", Export, "export")

    def exports(self, request_id: str) -> list[Export]:
        """A request's exports, oldest first."""
        try:
            return [
                Export.model_validate_json(i.body)
                for i in RecordsItem.query(EXPORTS, RecordsItem.sk.startswith(f"{request_id}#"))
            ]
        except PynamoDBException as exc:
            raise Unavailable("the exports could not be read") from exc

    def export_part(self, export: Export, before: int | None) -> Callable[[TransactWrite], None]:
        return _part(EXPORTS, f"{export.request_id}#{export.id}", export, before)

    def save_export(self, export: Export, before: int | None) -> int:
        """An export written alone (conditional on ``before``); its new revision. Conflict if it changed."""
        return _save(EXPORTS, f"{export.request_id}#{export.id}", export, before, f"export {export.id}")

    # ------------------------------------------------------------------------------------------- destruction log
    def log_part(self, sort_key: str, body: str) -> Callable[[TransactWrite], None]:
        item = RecordsItem(pk=DESTRUCTION, sk=sort_key, body=body)

        def part(tx: TransactWrite) -> None:
            tx.save(item, condition=RecordsItem.pk.does_not_exist())

        return part

    def destruction_log(self, limit: int = 500) -> list[str]:
        try:
            return [i.body for i in RecordsItem.query(DESTRUCTION, scan_index_forward=False, limit=limit)]
        except PynamoDBException as exc:
            raise Unavailable("the destruction log could not be read") from exc


def _get(pk: str, sk: str, model: type[_M], what: str) -> Revised[_M] | None:
    """The item at (``pk``, ``sk``) read consistently as ``model`` with its revision; None if there is none.
    Unavailable naming ``what`` if DynamoDB fails."""
    try:
        item = RecordsItem.get(pk, sk, consistent_read=True)
    except RecordsItem.DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise Unavailable(f"the {what} could not be read") from exc
    return Revised(model.model_validate_json(item.body), int(item.revision))


def _save(pk: str, sk: str, value: BaseModel, before: int | None, what: str) -> int:
    """``value`` written alone, only if its revision is still ``before`` (None: only if new); the new revision.
    Conflict naming ``what`` if it changed meanwhile."""
    item = RecordsItem(pk=pk, sk=sk, body=value.model_dump_json(), revision=(before or 0) + 1)
    condition = RecordsItem.pk.does_not_exist() if before is None else RecordsItem.revision == before
    try:
        item.save(condition=condition)
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict(f"{what} changed meanwhile; read it again") from None
        raise Unavailable(f"the {what} could not be written") from exc
    except PynamoDBException as exc:
        raise Unavailable(f"the {what} could not be written") from exc
    return (before or 0) + 1


def _part(pk: str, sk: str, value: BaseModel, before: int | None) -> Callable[[TransactWrite], None]:
    item = RecordsItem(pk=pk, sk=sk, body=value.model_dump_json(), revision=(before or 0) + 1)
    condition = RecordsItem.pk.does_not_exist() if before is None else RecordsItem.revision == before

    def part(tx: TransactWrite) -> None:
        tx.save(item, condition=condition)

    return part


# --------------------------------------------------------------------------------------------- cached reads
class _Cached:
    """The schedule and the active holds as the processor sees them: read at most every ``CACHE_SECONDS``."""

    def __init__(self) -> None:
        self._at = -1e9
        self._schedule: Schedule | None = None
        self._holds: list[Hold] = []

    def get(self) -> tuple[Schedule, list[Hold]]:
        now = time.monotonic()
        if self._schedule is None or now - self._at > CACHE_SECONDS:
            store = RecordsStore()
            self._schedule = store.schedule()
            self._holds = [h.value for h in store.holds() if h.value.active]
            self._at = now
        return self._schedule, self._holds

    def clear(self) -> None:
        self._schedule, self._at = None, -1e9


CACHE = _Cached()


def governing() -> tuple[Schedule, list[Hold]]:
    """(the schedule in force, the active holds), cached for a few seconds per process."""
    return CACHE.get()
