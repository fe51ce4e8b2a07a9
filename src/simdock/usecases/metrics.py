"""Metric series of runs (convergence: a loss over steps)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from simdock.domain import MetricPoint
from simdock.errors import ValidationError
from simdock.platform import Platform
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


MAX_NAME = 200
MAX_STEP = 2**31 - 1


def utc(at: datetime | None, what: str = "time") -> datetime | None:
    """``at`` in UTC; a time without a zone is taken as UTC."""
    if at is None:
        return None
    try:
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except OverflowError:
        raise ValidationError(f"{what} {at.isoformat()} is out of range") from None


def append_metric(cmd: AppendMetric, platform: Platform) -> MetricPoint:
    if not isinstance(cmd.name, str) or not cmd.name.strip() or len(cmd.name) > MAX_NAME:
        raise ValidationError(f"metric name must be a non-empty string of at most {MAX_NAME} "
                              "characters")
    if isinstance(cmd.value, bool) or not isinstance(cmd.value, int | float) \
            or not math.isfinite(cmd.value):
        raise ValidationError(f"metric value must be a finite number, got {cmd.value!r}")
    if cmd.step is not None and (isinstance(cmd.step, bool) or not isinstance(cmd.step, int)
                                 or not 0 <= cmd.step <= MAX_STEP):
        raise ValidationError(f"metric step must be an integer from 0 to {MAX_STEP}, "
                              f"got {cmd.step!r}")
    at = utc(cmd.at, "metric timestamp")
    with platform.uow() as uow:
        load_run(uow, cmd.run_id, cmd.owner_id)
        step = cmd.step
        if step is None:
            existing = uow.metrics.list(cmd.run_id, cmd.name)
            step = existing[-1].step + 1 if existing else 0
        point = MetricPoint(cmd.run_id, cmd.name, step, float(cmd.value),
                            at or platform.clock.now())
        uow.metrics.append([point])
        uow.commit()
    return point


def metric_series(run_id: str, owner_id: str | None, platform: Platform,
                  name: str | None = None, since_step: int | None = None,
                  since: datetime | None = None) -> MetricSeries:
    """A run's points (all, or after a step or a time); complete once the run finished."""
    since = utc(since, "since")
    if since_step is not None:
        since_step = min(since_step, MAX_STEP)
    with platform.uow() as uow:
        run = load_run(uow, run_id, owner_id)
        points = uow.metrics.list(run_id, name, since_step, since)
    return MetricSeries(points, run.terminal)
