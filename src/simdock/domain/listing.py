"""What a list shows of a run's parameters: those that fit a bound, the rest by size.

Seed 000 keeps a payload inline in the store up to PARAMETERS_SIZE_THRESHOLD bytes
of JSON and puts a larger one in the blob store. Lists of runs follow the same
bound: a run's parameters are shown whole while their JSON fits it; past it the
smallest are shown while they fit together and each of the others is
:class:`Omitted`, with its size, for the reader to fetch the whole set by the run.
A single run is always shown whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Omitted:
    """A parameter a list leaves out: how many bytes of JSON it is."""

    size: int


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON (as the store and the API write it)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                          default=str).encode())


def within(parameters: Mapping[str, Any], sizes: Mapping[str, int], bound: int
           ) -> dict[str, Any]:
    """``parameters`` as a list shows them: whole while their JSON fits ``bound``, else
    the smallest that fit together and :class:`Omitted` for each of the others, in
    their order. ``sizes`` are the parameters' own sizes (:func:`json_size`)."""
    # Each costs "name":value and a comma; the object adds its braces and drops one comma.
    weights = {name: sizes[name] + json_size(name) + 2 for name in parameters}
    if sum(weights.values()) + 1 <= bound or not parameters:
        return dict(parameters)
    kept: set[str] = set()
    used = 1
    for name in sorted(parameters, key=lambda n: weights[n]):
        if used + weights[name] > bound:
            break
        kept.add(name)
        used += weights[name]
    return {name: value if name in kept else Omitted(sizes[name])
            for name, value in parameters.items()}
