"""Run records and sweep cursors in DynamoDB (catalogue table ``runs``).

* ``pk = RUN#<sweep>``, ``sk = <run id>``: one item per run (JSON in ``body``); run ids begin with their start
  time, so they sort by it and the newest are read first.
* ``pk = CURSOR#<sweep>``, ``sk = <key>``: where a sweep got to for one subject (e.g. a YouTube channel's newest
  comment seen), read and written by the sweep as it goes.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from shared.domain.runs import Run
from shared.errors import Unavailable
from shared.store import dynamo

TABLE = "runs"


class RunItem(Model):
    class Meta:
        table_name = "unbound-runs"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    body = UnicodeAttribute()


class RunStore:
    def __init__(self) -> None:
        dynamo.bind(RunItem, TABLE)

    def save(self, run: Run) -> None:
        try:
            RunItem(pk=f"RUN#{run.sweep}", sk=run.id, body=run.model_dump_json()).save()
        except PynamoDBException as exc:
            raise Unavailable("the run record could not be written") from exc

    def runs(self, sweep: str, limit: int = 20) -> list[Run]:
        """The sweep's latest runs, newest first."""
        try:
            return [
                Run.model_validate_json(i.body)
                for i in RunItem.query(f"RUN#{sweep}", scan_index_forward=False, limit=limit)
            ]
        except PynamoDBException as exc:
            raise Unavailable("the run records could not be read") from exc

    def run(self, sweep: str, run_id: str) -> Run | None:
        try:
            return Run.model_validate_json(RunItem.get(f"RUN#{sweep}", run_id, consistent_read=True).body)
        except RunItem.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise Unavailable("the run record could not be read") from exc

    def cursor(self, sweep: str, key: str) -> str | None:
        try:
            return str(RunItem.get(f"CURSOR#{sweep}", key, consistent_read=True).body)
        except RunItem.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise Unavailable("the sweep's cursor could not be read") from exc

    def set_cursor(self, sweep: str, key: str, value: str) -> None:
        try:
            RunItem(pk=f"CURSOR#{sweep}", sk=key, body=value).save()
        except PynamoDBException as exc:
            raise Unavailable("the sweep's cursor could not be written") from exc
