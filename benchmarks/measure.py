"""What every benchmark prints its figures with: medians of repeats, and what else ran.

Figures are medians of at least three repetitions (the spread is printed too),
and each benchmark says the machine's load before and after it ran, so a
figure taken beside other work is known as such.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def repeated(times: int, measure: Callable[[], T]) -> list[T]:
    """``measure()`` run ``times`` times (at least three)."""
    return [measure() for _ in range(max(3, times))]


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def spread(values: list[float], unit: str = "", digits: int = 3) -> str:
    """``median (min-max)`` of the repetitions."""
    return (f"{median(values):.{digits}f}{unit} ({min(values):.{digits}f}-"
            f"{max(values):.{digits}f}{unit}, median of {len(values)})")


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0 to 1) of ``samples``, as the nearest sample at or above it."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(samples: int, action: Callable[[], object]) -> tuple[float, float]:
    """p50 and p95 in milliseconds of ``action`` run ``samples`` times after 5 of warm-up."""
    for _ in range(5):
        action()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def machine() -> str:
    """The machine's cores and load averages (1, 5, 15 minutes)."""
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} cores, load {one:.2f} {five:.2f} {fifteen:.2f}"
