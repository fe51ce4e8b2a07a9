"""What every benchmark prints its figures with: medians of repeats, and what else ran.

Figures are medians of at least three repetitions (the spread is printed too),
and each benchmark says the machine's load before and after it ran, so a
figure taken beside other work is known as such.
"""

from __future__ import annotations

import os
import statistics
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


def machine() -> str:
    """The machine's cores and load averages (1, 5, 15 minutes)."""
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} cores, load {one:.2f} {five:.2f} {fifteen:.2f}"
