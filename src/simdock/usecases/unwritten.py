"""What a run reported that the store has not kept yet, and how much of it is held.

A run's context buffers its progress, log lines, metric points and artifact
records and writes them every ``progress_interval_seconds``. While the store
cannot be reached they stay here (and the handler goes on), to be written when
it can, or with the run's outcome once it ends. An outage that lasts while a
run reports without end would fill memory: past ``MAX_HELD_LINES`` lines or
``MAX_HELD_POINTS`` points the oldest are let go, and the log says how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from simdock.domain import Artifact, MetricPoint, Run

#: The most log lines and metric points one run holds while the store is away.
MAX_HELD_LINES = 100_000
MAX_HELD_POINTS = 100_000

LogEntry = tuple[datetime, str, str]


@dataclass
class Unwritten:
    """Reports of one run waiting to be written, oldest first."""

    progress: float | None = None
    logs: list[LogEntry] = field(default_factory=list)
    metrics: list[MetricPoint] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    #: Lines and points let go because too many were held.
    dropped_lines: int = 0
    dropped_points: int = 0

    def __bool__(self) -> bool:
        return (self.progress is not None or bool(self.logs) or bool(self.metrics)
                or bool(self.artifacts) or bool(self.dropped_lines or self.dropped_points))

    def take(self) -> Unwritten:
        """Everything held, leaving this empty."""
        taken = Unwritten(self.progress, self.logs, self.metrics, self.artifacts,
                          self.dropped_lines, self.dropped_points)
        self.progress, self.logs, self.metrics, self.artifacts = None, [], [], []
        self.dropped_lines = self.dropped_points = 0
        return taken

    def followed_by(self, later: Unwritten) -> Unwritten:
        """These reports, then ``later``'s, as one."""
        combined = Unwritten(later.progress, list(later.logs), list(later.metrics),
                             list(later.artifacts), later.dropped_lines, later.dropped_points)
        combined.put_back(self)
        return combined

    def put_back(self, older: Unwritten) -> None:
        """Hold ``older`` (a write that failed) before what was reported since."""
        if older.progress is not None:
            self.progress = max(older.progress, self.progress or 0.0)
        self.logs[:0] = older.logs
        self.metrics[:0] = older.metrics
        self.artifacts[:0] = older.artifacts
        self.dropped_lines += older.dropped_lines
        self.dropped_points += older.dropped_points
        self.bound()

    def log_lines(self) -> list[LogEntry]:
        """The lines to write, led by one saying how many were let go, if any were."""
        if not self.dropped_lines or not self.logs:
            return self.logs
        note = (f"[{self.dropped_lines} earlier log lines were not kept: the store could not "
                "be reached while they were written]")
        return [(self.logs[0][0], "stderr", note), *self.logs]

    def bound(self) -> None:
        """Let the oldest lines and points go past what one run may hold."""
        if len(self.logs) > MAX_HELD_LINES:
            excess = len(self.logs) - MAX_HELD_LINES
            del self.logs[:excess]
            self.dropped_lines += excess
        if len(self.metrics) > MAX_HELD_POINTS:
            excess = len(self.metrics) - MAX_HELD_POINTS
            del self.metrics[:excess]
            self.dropped_points += excess


@dataclass(frozen=True)
class InDoubt:
    """The reports of a write whose commit went unanswered: kept or not, the run's stamp
    tells (each write stamps the run with a time of its own, ``Run.touch``)."""

    stamp: datetime
    reports: Unwritten

    def kept(self, run: Run) -> bool:
        """Whether the write got in: the run still bears its stamp."""
        return run.updated_at == self.stamp
