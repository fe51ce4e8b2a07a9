"""Epidemic curves: a run's daily series in FRED's output layout, read from its artifacts.

FRED (and the stand-in model) writes each condition's daily counts as
``DAILY/<condition>.<state>.txt`` (people in the state that day), ``.new<state>`` (those
who entered it) and ``.tot<state>`` (entered so far), one ``<sim day> <value>`` line a
day. A report of such runs shows the state counts and the daily entries: the epidemic
curves.
"""

from __future__ import annotations

import re

#: An artifact holding a curve, and the curve's name (``<condition>.<state>``).
CURVE = re.compile(r"(?:^|/)DAILY/(?P<name>[^/.]+\.(?!tot)[^/.]+)\.txt$")
#: A curve file larger than this is not read (a day is a line of a few bytes).
MAX_CURVE_BYTES = 1 << 20


def curve_name(artifact: str) -> str | None:
    """The curve an artifact holds (``INF.I``, ``INF.newI``), or None."""
    found = CURVE.search(artifact)
    return found["name"] if found else None


def parse_curve(text: str) -> list[list[float]]:
    """The ``[day, value]`` pairs of a curve file; lines that are not two numbers are
    left out."""
    pairs = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        try:
            pairs.append([float(parts[0]), float(parts[1])])
        except ValueError:
            continue
    return pairs
