"""Scheduled runs as a service: every sweep runs inside :func:`recorded`, which keeps its run record, emits its
metrics and lets the next run pick up where a failed one stopped.

    with runs.recorded("abandoned-accounts") as run:
        for account in accounts:
            run.saw()
            try:
                ...
                run.did()
            except StewardError as exc:
                run.problem(account.id, exc.message)   # one account's error does not stop the sweep
        run.cursor = {}                                 # finished: nothing to resume

A scheduled handler calls ``runs.execute(sweep, work)``, which runs ``work(recorder)`` inside :func:`recorded` and
answers the run's summary with its id.

A run is saved when it starts (``running``) and when it ends: ``succeeded``, ``partial`` (problems met) or
``failed`` (an error stopped it; the error is re-raised after the record is saved, so the schedule's own retry
and dead-letter queue see it too). Metrics per sweep (dimension ``sweep``): ``RunItemsSeen``, ``RunActions``,
``RunErrors`` and ``RunsFailed``; a CloudWatch alarm on ``RunsFailed`` (``infrastructure/constructs/alarms.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from shared import catalogue
from shared.domain.runs import Run
from shared.errors import NotFound, StewardError
from shared.observability import logger, metrics
from shared.store.run_store import RunStore

RUN_METRICS = ("RunItemsSeen", "RunActions", "RunErrors", "RunsFailed")


def store() -> RunStore:
    return RunStore()


def _now() -> datetime:
    return datetime.now(UTC)


class Recorder:
    """The run in progress: count what is seen and done, note problems, set the cursor and the summary."""

    def __init__(self, run: Run, resume: dict[str, str]) -> None:
        self.run = run
        self.resume = resume  # the cursor the previous run left, if it did not finish ({} otherwise)
        self.cursor: dict[str, str] = dict(resume)
        self.summary: dict[str, Any] = {}

    def saw(self, count: int = 1) -> None:
        self.run = self.run.model_copy(update={"seen": self.run.seen + count})

    def did(self, count: int = 1) -> None:
        self.run = self.run.model_copy(update={"actions": self.run.actions + count})

    def problem(self, subject: str, error: str) -> None:
        logger.warning("sweep problem", extra={"sweep": self.run.sweep, "subject": subject, "error": error})
        self.run = self.run.problem(subject, error)

    def checkpoint(self) -> None:
        """Save progress now (a long sweep calls this now and then, so a crash loses little)."""
        store().save(self._current())

    def _current(self) -> Run:
        return self.run.model_copy(update={"cursor": self.cursor, "summary": self.summary})


@contextmanager
def recorded(sweep: str, now: datetime | None = None) -> Iterator[Recorder]:
    started = now or _now()
    previous = store().runs(sweep, limit=1)
    resume = dict(previous[0].cursor) if previous and previous[0].cursor else {}
    run = Run(id=f"{started:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}", sweep=sweep, started_at=started)
    recorder = Recorder(run, resume)
    store().save(
        recorder._current()
    )  # carries the resume cursor on, should this run die before its first save
    try:
        yield recorder
    except Exception as exc:
        message = exc.message if isinstance(exc, StewardError) else f"{exc.__class__.__name__}: {exc}"
        final = recorder._current().finished(_now(), error=message)
        _emit(final)
        store().save(final)
        raise
    final = recorder._current().finished(_now())
    _emit(final)
    store().save(final)
    logger.info("sweep run finished", extra={"run": final.model_dump(mode="json", exclude={"problems"})})


def execute(sweep: str, work: Callable[[Recorder], None], now: datetime | None = None) -> dict[str, Any]:
    """One recorded run of ``sweep``: ``work`` counts on the recorder and sets its summary (and cursor); returns
    the summary with the run's id (what a scheduled handler answers)."""
    with recorded(sweep, now) as recorder:
        work(recorder)
    return {"run": recorder.run.id, **recorder.summary}


def _emit(run: Run) -> None:
    metrics.add_dimension(name="sweep", value=run.sweep)
    for name, value in zip(
        RUN_METRICS, (run.seen, run.actions, run.errors, int(run.error is not None)), strict=True
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


class RunList(BaseModel):
    runs: list[Run]


def _recorded(sweep: str) -> str:
    """``sweep`` if it is a schedule; NotFound naming those that are."""
    known = sorted(s.key for s in catalogue.SCHEDULES)
    if sweep not in known:
        raise NotFound(f"there is no sweep {sweep!r}; the sweeps are: {', '.join(known)}")
    return sweep


def runs_of(sweep: str, limit: int = 20) -> RunList:
    return RunList(runs=store().runs(_recorded(sweep), limit))


def run_of(sweep: str, run_id: str) -> Run:
    found = store().run(_recorded(sweep), run_id)
    if found is None:
        raise NotFound(f"sweep {sweep} has no run {run_id}")
    return found
