"""A run's metrics as a plot draws them: one x axis of steps, one column of values per name.

uPlot draws aligned columns (the same x for every series, null where a series has no
point). A series of many points is thinned to at most ``MAX_POINTS`` steps, keeping the
first and last, so a page never receives more than a plot can show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simdock.domain import MetricPoint

#: The most steps a plot receives.
MAX_POINTS = 2000


def aligned(points: Sequence[MetricPoint], complete: bool) -> dict[str, Any]:
    """``{"names": [...], "steps": [...], "values": [[...] per name], "complete": bool,
    "points": how many there were}``."""
    names = sorted({point.name for point in points})
    by_step: dict[int, dict[str, float]] = {}
    for point in points:
        by_step.setdefault(point.step, {})[point.name] = point.value
    steps = _thinned(sorted(by_step))
    return {"names": names, "steps": steps,
            "values": [[by_step[step].get(name) for step in steps] for name in names],
            "complete": complete, "points": len(points)}


def _thinned(steps: list[int]) -> list[int]:
    if len(steps) <= MAX_POINTS:
        return steps
    stride = -(-len(steps) // (MAX_POINTS - 1))
    kept = steps[::stride]
    return kept if kept[-1] == steps[-1] else [*kept, steps[-1]]
