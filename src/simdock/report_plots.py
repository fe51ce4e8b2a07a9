"""The plots of a summary report, as PNG images drawn by matplotlib (``simdock[plot]``).

- Each numeric result field's mean against each varied numeric parameter, a line per
  combination of the other varied parameters, the 95% interval of each mean as error
  bars (points of one run have none).
- The convergence curves (metric by step) of the runs that reported metrics.
- Each daily series (an epidemic curve) by day, a line per point: the mean of its runs,
  the 95% interval as a band around it.

Without matplotlib there are no plots, and the report says how to get them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simdock.domain.replication import is_number
from simdock.report_points import Point

#: At most this many plots of means, fields and parameters taken in order.
MAX_PLOTS = 12
#: At most this many lines in a plot (the rest are left out, and the caption says so).
MAX_LINES = 8
#: At most this many metrics get a convergence plot.
MAX_METRICS = 4


@dataclass(frozen=True)
class Plot:
    """One image of a report: what it shows, and its PNG bytes."""

    caption: str
    png: bytes


def available() -> bool:
    """Whether plots can be drawn here (matplotlib is installed)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def mean_plots(found: Sequence[Point], names: Sequence[str]) -> list[Plot]:
    """Each numeric field's mean (unless the same at every point) against each of ``names``
    (the varied parameters) whose values are all numbers."""
    fields = [field for field in dict.fromkeys(f for point in found for f in point.values)
              if len({round(s.mean, 12) for point in found
                      if (s := point.fields().get(field)) is not None}) > 1]  # not constant
    numeric = [name for name in names
               if all(is_number(point.flat.get(name)) for point in found)]
    plots: list[Plot] = []
    for field in fields:
        for name in numeric:
            if len(plots) == MAX_PLOTS:
                return plots
            plots.append(_mean_plot(found, field, name, [n for n in names if n != name]))
    return plots


def _mean_plot(found: Sequence[Point], field: str, name: str, others: Sequence[str]
               ) -> Plot:
    lines: dict[str, list[tuple[float, float, float]]] = {}
    for point in found:
        summary = point.fields().get(field)
        if summary is None:
            continue
        flat = point.flat
        label = ", ".join(f"{other}={_short(flat.get(other))}" for other in others)
        lines.setdefault(label, []).append(
            (float(flat[name]), summary.mean, summary.half_width or 0.0))
    figure, axes = _figure()
    for label, values in list(lines.items())[:MAX_LINES]:
        values.sort()
        axes.errorbar([v[0] for v in values], [v[1] for v in values],
                      yerr=[v[2] for v in values], marker="o", markersize=3, capsize=3,
                      linewidth=1, label=label or None)
    axes.set_xlabel(name)
    axes.set_ylabel(f"mean {field}")
    if any(lines) and len(lines) > 1:
        axes.legend(fontsize=7)
    left = f" ({len(lines) - MAX_LINES} more lines left out)" if len(lines) > MAX_LINES else ""
    return Plot(f"{field} against {name}: mean and 95% interval{left}", _png(figure))


def convergence_plots(curves: Sequence[tuple[str, Mapping[str, Sequence[Sequence[float]]]]]
                      ) -> list[Plot]:
    """A plot per metric (the first few) of each run's curve: ``curves`` holds, for each run
    that reported metrics, its label and its points by metric name ([step, value])."""
    metrics = list(dict.fromkeys(name for _, by_name in curves for name in by_name))
    plots = []
    for metric in metrics[:MAX_METRICS]:
        figure, axes = _figure()
        runs = [(label, by_name[metric]) for label, by_name in curves if metric in by_name]
        for label, points in runs[:MAX_LINES]:
            axes.plot([p[0] for p in points], [p[1] for p in points], linewidth=1,
                      label=label)
        axes.set_xlabel("step")
        axes.set_ylabel(metric)
        axes.legend(fontsize=7)
        left = f" (the first {MAX_LINES} of {len(runs)} runs)" if len(runs) > MAX_LINES else ""
        plots.append(Plot(f"convergence of {metric}, by run{left}", _png(figure)))
    return plots


def curve_plots(found: Sequence[Point], names: Sequence[str]) -> list[Plot]:
    """A plot per daily series (counts first, then daily entries; the first few): a line
    per point (labelled by ``names``, the varied parameters) with its interval band."""
    series = sorted(dict.fromkeys(n for point in found for n in point.series),
                    key=lambda n: (".new" in n, n))
    plots = []
    for name in series[:MAX_METRICS]:
        figure, axes = _figure()
        drawn = [point for point in found if name in point.series][:MAX_LINES]
        for number, point in enumerate(drawn):
            days = point.curves()[name]
            flat = point.flat
            label = ", ".join(f"{n}={_short(flat.get(n))}" for n in names) \
                or f"point {number + 1}"
            line = axes.plot([d for d, _ in days], [s.mean for _, s in days], linewidth=1,
                             label=f"{label} (n={max(s.n for _, s in days)})")[0]
            axes.fill_between([d for d, _ in days],
                              [s.low if s.low is not None else s.mean for _, s in days],
                              [s.high if s.high is not None else s.mean for _, s in days],
                              color=line.get_color(), alpha=0.2, linewidth=0)
        axes.set_xlabel("day")
        axes.set_ylabel(name)
        axes.legend(fontsize=7)
        plots.append(Plot(f"{name} by day: the mean of each point's runs, its 95% interval "
                          "shaded", _png(figure)))
    return plots


def _figure() -> tuple[Any, Any]:
    from matplotlib.figure import Figure  # drawn without a display or pyplot's state

    figure = Figure(figsize=(6.4, 3.6), dpi=110, layout="constrained")
    axes = figure.add_subplot()
    axes.grid(True, linewidth=0.4, alpha=0.5)
    return figure, axes


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 24 else text[:23] + "…"
