"""A sweep's results as a plot draws them: a numeric result against a varied parameter,
aggregated in the store and here so that a page never receives more than a few thousand
points, whatever the sweep's size.

A numeric result is a number under a name in a run's result (an object kept inline).
At most ``MAX_RUNS`` runs are read: a larger sweep is sampled by index (every n-th
run), which a grid visits evenly. Each value of the parameter is one point (the mean,
the least and the most of the result over its runs, and how many); past
``MAX_POINTS`` values a numeric parameter is binned into that many equal ranges. With
two or more varied parameters, up to ``MAX_POINTS`` runs are also given whole (their
numeric parameters and the result): the lines of a parallel-coordinates view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simdock.domain import RunStatus, SweepSpec
from simdock.domain.replication import is_number
from simdock.errors import ValidationError
from simdock.paging import Ordering, PageRequest
from simdock.payloads import PayloadStore
from simdock.scope import UnitsOfWork
from simdock.selection import RunQuery
from simdock.usecases.access import load_job
from simdock.usecases.queries import Queries

#: The most points (values of the parameter, or runs as lines) a plot receives.
MAX_POINTS = 2000
#: The most runs a plot reads.
MAX_RUNS = 5_000


@dataclass(frozen=True)
class ResultPoint:
    """A value of the parameter (or a bin's middle) and the result over its runs."""

    x: Any
    mean: float
    low: float
    high: float
    runs: int


@dataclass(frozen=True)
class ResultPlot:
    """What a job's results plot draws, and what else it could draw."""

    #: The parameters the job varies, and the numeric results its runs have.
    varied: list[str]
    results: list[str]
    x: str | None = None
    y: str | None = None
    points: list[ResultPoint] = field(default_factory=list)
    #: Whether the points' x are numbers (else categories, in their order).
    numeric: bool = True
    #: Every ``every``-th run was read: ``read`` runs with a value.
    every: int = 1
    read: int = 0
    #: Parallel coordinates: the numeric varied parameters, then the result; a line each.
    axes: list[str] = field(default_factory=list)
    lines: list[list[float]] = field(default_factory=list)


@dataclass(frozen=True)
class Plots:
    """A job's results, aggregated for plotting."""

    uow: UnitsOfWork
    payloads: PayloadStore
    queries: Queries

    def result_plot(self, job_id: str, owner_id: str | None, x: str | None = None,
                    y: str | None = None) -> ResultPlot:
        """The plot of result ``y`` against parameter ``x`` (the first of each when None);
        a ValidationError naming what the job has when ``x`` or ``y`` is not one of them."""
        with self.uow() as uow:
            job = load_job(uow, job_id, owner_id)
            first = uow.runs.list(RunQuery(job_id=job.id, statuses=frozenset(
                {RunStatus.SUCCEEDED}), order=Ordering("index", descending=False),
                page=PageRequest(1, 1))).items
        spec = self.queries.job_spec(job.id)
        varied = varied_names(spec)
        sample = self.payloads.load(first[0].result) if first else None
        results = sorted(name for name, value in (sample or {}).items()
                         if is_number(value)) if isinstance(sample, dict) else []
        x, y = _chosen(x, varied, "parameter"), _chosen(y, results, "result")
        if x is None or y is None:
            return ResultPlot(varied, results, x, y)
        every = max(1, math.ceil(job.run_count / MAX_RUNS))
        with self.uow() as uow:
            values = uow.runs.numeric_results(job.id, y, every)
        points, numeric = aggregate([(spec.varied(i).get(x), v) for i, v in values])
        axes = [name for name in varied
                if values and is_number(spec.varied(values[0][0]).get(name))]
        lines = _lines(spec, axes, values) if len(axes) >= 2 else []
        return ResultPlot(varied, results, x, y, points, numeric, every, len(values),
                          [*axes, y] if lines else [], lines)


def varied_names(spec: SweepSpec) -> list[str]:
    """The parameters a sweep varies, in the order its specification names them."""
    names: dict[str, None] = {}
    for axes in (spec.grid, spec.zipped):
        names.update(dict.fromkeys(axes or {}))
    for variant in spec.variants or ():
        names.update(dict.fromkeys(variant))
    return list(names)


def aggregate(pairs: Sequence[tuple[Any, float]]) -> tuple[list[ResultPoint], bool]:
    """One point per value of x (binned past MAX_POINTS numeric values); whether x is
    numeric."""
    numeric = all(is_number(x) for x, _ in pairs)
    groups: dict[Any, list[float]] = {}
    for x, value in pairs:
        groups.setdefault(x if numeric else _label(x), []).append(value)
    if numeric and len(groups) > MAX_POINTS:
        low, high = min(groups), max(groups)
        width = (high - low) / MAX_POINTS
        binned: dict[Any, list[float]] = {}
        for x, found in groups.items():
            slot = min(MAX_POINTS - 1, int((x - low) / width))
            binned.setdefault(low + (slot + 0.5) * width, []).extend(found)
        groups = binned
    keys = sorted(groups) if numeric else list(groups)[:MAX_POINTS]
    return [ResultPoint(key, sum(groups[key]) / len(groups[key]), min(groups[key]),
                        max(groups[key]), len(groups[key])) for key in keys], numeric


def _lines(spec: SweepSpec, axes: list[str], values: Sequence[tuple[int, float]]
           ) -> list[list[float]]:
    step = max(1, math.ceil(len(values) / MAX_POINTS))
    return [[float(spec.varied(index)[name]) for name in axes] + [value]
            for index, value in values[::step]]


def _chosen(name: str | None, names: list[str], what: str) -> str | None:
    if name is None:
        return names[0] if names else None
    if name not in names:
        known = ", ".join(names) or "none"
        raise ValidationError(f"no {what} named {name!r} to plot; this job's: {known}")
    return name


def _label(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
