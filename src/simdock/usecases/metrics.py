"""Metric series of runs (convergence: a loss over steps)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from simdock.domain import MetricPoint
from simdock.domain.records import MAX_STEP
from simdock.errors import Conflict, ValidationError
from simdock.ports import Clock
from simdock.scope import UnitsOfWork
from simdock.usecases.access import load_run


@dataclass(frozen=True)
class AppendMetric:
    """Add a point to a run's series; ``step`` defaults to one after the last."""

    run_id: str
    owner_id: str | None
    name: str
    value: float
    step: int | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class MetricSeries:
    """Points of a run's metrics and whether more can still come."""

    points: list[MetricPoint]
    complete: bool


def utc(at: datetime | None, what: str = "time") -> datetime | None:
    """``at`` in UTC; a time without a zone is taken as UTC."""
    if at is None:
        return None
    try:
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except OverflowError:
        raise ValidationError(f"{what} {at.isoformat()} is out of range") from None


@dataclass(frozen=True)
class Metrics:
    """Metric series of runs (convergence: a loss over steps)."""

    uow: UnitsOfWork
    clock: Clock

    def append_metric(self, cmd: AppendMetric) -> MetricPoint:
        """Add a point to a run that has not finished (Conflict once it has: its series are
        complete, as :meth:`metric_series` says); the point itself checks its name, step and
        value (``MetricPoint``)."""
        at = utc(cmd.at, "metric timestamp") or self.clock.now()
        MetricPoint(cmd.run_id, cmd.name, cmd.step or 0, cmd.value, at)  # refuse bad input early
        with self.uow() as uow:
            run = load_run(uow, cmd.run_id, cmd.owner_id)
            if run.terminal:
                raise Conflict(f"run '{cmd.run_id}' is {run.status.value}: a finished run's "
                               "series are complete and take no more points")
            step = cmd.step
            if step is None:
                existing = uow.metrics.list(cmd.run_id, cmd.name)
                step = MetricPoint.step_after(existing[-1].step if existing else None)
            point = MetricPoint(cmd.run_id, cmd.name, step, cmd.value, at)
            uow.metrics.append([point])
            uow.commit()
        return point

    def metric_series(self, run_id: str, owner_id: str | None,
                      name: str | None = None, since_step: int | None = None,
                      since: datetime | None = None) -> MetricSeries:
        """A run's points (all, or after a step or a time); complete once the run finished."""
        since = utc(since, "since")
        if since_step is not None:
            since_step = min(since_step, MAX_STEP)
        with self.uow() as uow:
            run = load_run(uow, run_id, owner_id)
            points = uow.metrics.list(run_id, name, since_step, since)
        return MetricSeries(points, run.terminal)
