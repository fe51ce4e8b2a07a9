"""What the store counts and summarises of runs without reading them whole."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simdock.domain import Payload, Run, RunStatus


@dataclass(frozen=True)
class RunTally:
    """A job's runs counted by status, and the sum of their progress by status."""

    counts: Mapping[RunStatus, int] = field(default_factory=dict)
    progress: Mapping[RunStatus, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutline:
    """What a job's summary shows of its runs, read without reading the runs whole: their
    ids in index order, when the first started and the last finished, and the error of
    the first run (by index) that has one."""

    ids: Sequence[str] = field(default_factory=list)
    first_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    first_error: str | None = None

    @classmethod
    def of(cls, runs: Sequence[Run]) -> RunOutline:
        """The outline of runs already read (in index order)."""
        ordered = sorted(runs, key=lambda run: run.index)
        return cls(ids=[run.id for run in ordered],
                   first_started_at=min((r.started_at for r in ordered if r.started_at),
                                        default=None),
                   last_finished_at=max((r.finished_at for r in ordered if r.finished_at),
                                        default=None),
                   first_error=next((run.error for run in ordered if run.error), None))


@dataclass(frozen=True, slots=True)
class RunLine:
    """What a listing of many runs shows of each, read without reading the runs whole.

    ``parameters`` is the run's own payload (None where its job's specification gives
    them): an inline one holds its value still encoded (:class:`~simdock.codec.JsonText`),
    so that a listing of a thousand runs sends their parameters on without reading them.
    """

    id: str
    number: int | None
    job_id: str
    owner_id: str
    index: int
    status: RunStatus
    attempts: int
    created_at: datetime
    finished_at: datetime | None
    parameters: Payload | None
    metadata: Mapping[str, Any]


@dataclass(frozen=True)
class RunStatistics:
    """Counts by status and timings over a set of runs."""

    counts: Mapping[RunStatus, int]
    mean_duration_seconds: float | None
    total: int
