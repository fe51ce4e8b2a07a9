"""A report's parameter points: its runs grouped by what they computed, seeds aside.

Runs of a job that differ only in their seed (a replicated job's replicates, a sweep that
varies nothing but the seed, the runs the epx client makes of one configuration's
``n_reps``) are one point: each numeric result field is summarised over the point's
succeeded runs as n, mean, standard deviation and the Student-t interval of the mean at
95% (n of 2 or more), and so is each daily series (an epidemic curve), day by day. A
sweep whose runs all differ has a point per run (n 1, no interval).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simdock.domain.replication import Moments, is_number, t_quantile

#: The confidence of the intervals a report shows.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class FieldSummary:
    """One numeric result field over a point's succeeded runs."""

    n: int
    mean: float
    std: float | None
    #: The interval of the mean (None below two values).
    low: float | None
    high: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> FieldSummary:
        moments = Moments.of(values)
        std = moments.std
        if std is None:
            return cls(moments.n, moments.mean, None, None, None)
        half = t_quantile(0.5 + CONFIDENCE / 2, moments.n - 1) * std / math.sqrt(moments.n)
        return cls(moments.n, moments.mean, std, moments.mean - half, moments.mean + half)

    @property
    def half_width(self) -> float | None:
        return None if self.low is None or self.high is None else (self.high - self.low) / 2

    def to_record(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "std": self.std, "low": self.low,
                "high": self.high}


@dataclass
class Point:
    """The runs of one job that computed the same thing but for their seeds."""

    job_id: str
    parameters: dict[str, Any]
    runs: int = 0
    succeeded: int = 0
    values: dict[str, list[float]] = field(default_factory=dict)
    #: Each daily series' values, by name, then by day: one value per run that has it.
    series: dict[str, dict[float, list[float]]] = field(default_factory=dict)

    @property
    def flat(self) -> dict[str, Any]:
        """Its parameters' leaves by path (``config.batch_size``, ``fredArgs[1].value``):
        what a table or a plot names a point by."""
        return flatten(self.parameters)

    def fields(self) -> dict[str, FieldSummary]:
        return {name: FieldSummary.of(values) for name, values in self.values.items()}

    def curves(self) -> dict[str, list[tuple[float, FieldSummary]]]:
        """Each daily series over the point's runs: by day, n, mean and interval."""
        return {name: [(day, FieldSummary.of(values)) for day, values in sorted(days.items())]
                for name, days in self.series.items()}

    def to_record(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "parameters": self.parameters, "flat": self.flat,
                "runs": self.runs,
                "succeeded": self.succeeded,
                "fields": {name: s.to_record() for name, s in self.fields().items()},
                "curves": {name: [{"day": day, **s.to_record()} for day, s in days]
                           for name, days in self.curves().items()}}


def points(entries: Sequence[Mapping[str, Any]]) -> list[Point]:
    """The points of a report's entries (one per run: ``job_id``, ``parameters``, ``status``,
    ``result``, ``seed_parameter``, the parameter its seed is in, and ``point_parameters``,
    its parameters without the seed as its handler reads them; ``series``, its daily series
    by name), in order of their first run. A result field that only repeats the run's
    parameter of its name (or its seed) is left out."""
    found: dict[tuple[str, str], Point] = {}
    for entry in entries:
        seed = entry.get("seed_parameter")
        given = entry.get("parameters") or {}
        parameters = entry.get("point_parameters")
        if parameters is None:
            parameters = {k: v for k, v in given.items() if k != seed}
        key = (str(entry["job_id"]), json.dumps(parameters, sort_keys=True, default=str))
        point = found.setdefault(key, Point(key[0], parameters))
        point.runs += 1
        if entry.get("status") != "succeeded":
            continue
        point.succeeded += 1
        for name, value in numeric_fields(entry.get("result")).items():
            if name != seed and given.get(name) != value:  # a parameter echoed is no answer
                point.values.setdefault(name, []).append(float(value))
        for name, pairs in (entry.get("series") or {}).items():
            days = point.series.setdefault(name, {})
            for day, value in pairs:
                days.setdefault(day, []).append(value)
    return list(found.values())


def numeric_fields(result: Any, prefix: str = "") -> dict[str, float]:
    """The finite numbers of a result, nested objects' fields named with dots (arrays
    left out)."""
    if is_number(result) and not prefix:
        return {"result": float(result)}
    if not isinstance(result, Mapping):
        return {}
    found: dict[str, float] = {}
    for key, value in result.items():
        if isinstance(value, Mapping):
            found.update(numeric_fields(value, f"{prefix}{key}."))
        elif is_number(value):
            found[f"{prefix}{key}"] = float(value)
    return found


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """The leaves of a JSON value by path: object keys joined by dots, list items by
    ``[index]``."""
    if isinstance(value, Mapping):
        found: dict[str, Any] = {}
        for key, item in value.items():
            found.update(flatten(item, f"{path}.{key}" if path else str(key)))
        return found
    if isinstance(value, list):
        found = {}
        for index, item in enumerate(value):
            found.update(flatten(item, f"{path}[{index}]"))
        return found
    return {path: value}


def varied(found: Sequence[Point]) -> list[str]:
    """The parameter leaves (:func:`flatten`) whose value differs between points, in order
    of first appearance."""
    flats = [point.flat for point in found]
    names = list(dict.fromkeys(name for flat in flats for name in flat))
    return [name for name in names
            if len({json.dumps(flat.get(name), sort_keys=True, default=str)
                    for flat in flats}) > 1]
