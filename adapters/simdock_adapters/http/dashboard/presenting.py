"""How the dashboard's templates write values: times, durations, shares, JSON, statuses."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from simdock.usecases.plots import ResultPlot


def when(moment: datetime | None) -> str:
    """A time as people read it, in UTC ("" when not set)."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(moment: datetime | None) -> str:
    """A time for a ``<time datetime=...>`` attribute."""
    return moment.astimezone(UTC).isoformat() if moment is not None else ""


def took(start: datetime | None, end: datetime | None) -> str:
    """How long from ``start`` to ``end`` (to now while running), as 1 h 2 min or 3.4 s."""
    if start is None:
        return ""
    return duration((end or datetime.now(UTC)) - start)


def duration(span: timedelta | float | None) -> str:
    if span is None:
        return ""
    seconds = span.total_seconds() if isinstance(span, timedelta) else float(span)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {seconds} s"


def percent(share: float | None) -> str:
    return f"{100 * (share or 0.0):.0f}%"


def pretty(value: Any) -> str:
    """A value as indented JSON (the template escapes it)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=False)


def compact(value: Any) -> str:
    """A value as one line of JSON (the template escapes it)."""
    return json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))


def status_word(status: Enum | str) -> str:
    """A status (a run's, a report's, an attempt's outcome) as the pages write it."""
    return str(status.value) if isinstance(status, Enum) else str(status)


def thousands(number: int) -> str:
    return f"{number:,}"


def plot_json(plot: ResultPlot) -> dict[str, Any]:
    """A results plot as the page's script draws it (columns, as uPlot takes them)."""
    return {"varied": plot.varied, "results": plot.results, "x": plot.x, "y": plot.y,
            "numeric": plot.numeric, "every": plot.every, "read": plot.read,
            "xs": [p.x for p in plot.points], "mean": [p.mean for p in plot.points],
            "low": [p.low for p in plot.points], "high": [p.high for p in plot.points],
            "runs": [p.runs for p in plot.points], "axes": plot.axes, "lines": plot.lines}


#: The filters the templates use, by name.
FILTERS: dict[str, Callable[..., str]] = {
    "when": when, "iso": iso, "percent": percent, "pretty": pretty, "compact": compact,
    "status_word": status_word, "thousands": thousands, "duration": duration, "took": took}
