"""Scheduled runs (pure): what one run of a sweep did, and how its state follows from that.

Every scheduled sweep (``catalogue.SCHEDULES``) keeps a run record: when it started and finished, what it saw
and did, the problems it met (one account's platform error does not stop the sweep: it is a problem of the run,
which ends ``partial``), and whether it failed. A run that failed or was cut short leaves its ``cursor``, from which the next run picks up.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEMS_KEPT = 100
ERROR_CHARS = 500


class RunState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished, but some subjects failed (each is a problem of the run)
    FAILED = "failed"  # stopped by an error; the next run resumes from the cursor


class RunProblem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str = Field(max_length=300, description="What failed: an account, an item, a step")
    error: str = Field(max_length=ERROR_CHARS)


class Run(BaseModel):
    """One run of one sweep."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    sweep: str
    started_at: datetime
    finished_at: datetime | None = None
    state: RunState = RunState.RUNNING
    seen: int = Field(default=0, description="Subjects looked at (accounts, threads, items)")
    actions: int = Field(default=0, description="Changes made (flags, escalations, comments captured, ...)")
    errors: int = Field(default=0, description="Problems met; the first PROBLEMS_KEPT are listed")
    problems: tuple[RunProblem, ...] = ()
    cursor: dict[str, str] = Field(
        default_factory=dict, description="Where the next run picks up, if anywhere"
    )
    summary: dict[str, Any] = Field(default_factory=dict, description="What the sweep reports of itself")
    error: str | None = Field(default=None, max_length=ERROR_CHARS, description="Why a failed run stopped")

    def problem(self, subject: str, error: str) -> Run:
        kept = (
            self.problems
            if len(self.problems) >= PROBLEMS_KEPT
            else (
                *self.problems,
                RunProblem(subject=subject[:300], error=error[:ERROR_CHARS]),
            )
        )
        return self.model_copy(update={"errors": self.errors + 1, "problems": kept})

    def finished(self, at: datetime, error: str | None = None) -> Run:
        if error is not None:
            state = RunState.FAILED
        else:
            state = RunState.PARTIAL if self.errors else RunState.SUCCEEDED
        return self.model_copy(
            update={"finished_at": at, "state": state, "error": error[:ERROR_CHARS] if error else None}
        )
