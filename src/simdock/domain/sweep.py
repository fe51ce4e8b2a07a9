"""Sweeps: turning a specification into the list of parameter sets to run."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simdock.domain.parameters import validate_parameters
from simdock.errors import InvalidSweep, LimitExceeded

MAX_SWEEP_VARIANTS = 100_000


@dataclass(frozen=True)
class SweepSpec:
    """One of three ways to describe variants, each merged over ``base``.

    - ``variants``: an explicit list of parameter sets (seed 001's ``sweep``);
    - ``grid``: axes whose cartesian product gives the variants;
    - ``zipped``: equal-length lists taken position by position.
    """

    variants: Sequence[Mapping[str, Any]] | None = None
    grid: Mapping[str, Sequence[Any]] | None = None
    zipped: Mapping[str, Sequence[Any]] | None = None
    base: Mapping[str, Any] = field(default_factory=dict)

    def count(self) -> int:
        """How many variants this spec gives, without building them."""
        if self.variants is not None:
            return len(self.variants)
        if self.grid is not None:
            return math.prod(len(axis) for axis in self.grid.values()) if self.grid else 0
        if self.zipped is not None:
            lengths = {len(axis) for axis in self.zipped.values()}
            return lengths.pop() if len(lengths) == 1 else 0
        return 0


def expand(spec: SweepSpec, limit: int = MAX_SWEEP_VARIANTS) -> list[dict[str, Any]]:
    """The parameter set of every variant, in order, or a clear refusal."""
    given = [n for n, v in (("variants", spec.variants), ("grid", spec.grid),
                            ("zip", spec.zipped)) if v is not None]
    if len(given) != 1:
        raise InvalidSweep(
            "a sweep needs exactly one of: variants (a list), grid or zip; "
            f"got {', '.join(given) or 'none'}"
        )
    base = validate_parameters(spec.base, "base")
    if spec.grid is not None:
        _check_axes(spec.grid, "grid")
    if spec.zipped is not None:
        _check_axes(spec.zipped, "zip")
        lengths = {name: len(axis) for name, axis in spec.zipped.items()}
        if len(set(lengths.values())) > 1:
            raise InvalidSweep(f"zip axes must have equal lengths, got {lengths}")
    if spec.variants is not None and (
        isinstance(spec.variants, str | bytes | Mapping) or not isinstance(spec.variants, Sequence)
    ):
        raise InvalidSweep("sweep variants must be a list of JSON objects")
    count = spec.count()
    if count == 0:
        raise InvalidSweep("a sweep needs at least one variant")
    if count > limit:
        raise LimitExceeded(f"a sweep may have at most {limit} variants, got {count}")
    if spec.variants is not None:
        return [
            {**base, **validate_parameters(v, f"sweep[{i}]")} for i, v in enumerate(spec.variants)
        ]
    if spec.grid is not None:
        names = list(spec.grid)
        return [
            {**base, **dict(zip(names, combo, strict=True))}
            for combo in itertools.product(*(spec.grid[n] for n in names))
        ]
    assert spec.zipped is not None
    names = list(spec.zipped)
    return [
        {**base, **dict(zip(names, combo, strict=True))}
        for combo in zip(*(spec.zipped[n] for n in names), strict=True)
    ]


def _check_axes(axes: Mapping[str, Sequence[Any]], kind: str) -> None:
    if not isinstance(axes, Mapping) or not axes:
        raise InvalidSweep(f"{kind} must be a non-empty object of name -> list of values")
    for name, axis in axes.items():
        if not isinstance(name, str):
            raise InvalidSweep(f"{kind} axis names must be strings, got {name!r}")
        if isinstance(axis, str | bytes | Mapping) or not isinstance(axis, Sequence):
            raise InvalidSweep(f"{kind} axis '{name}' must be a list of values")
        if len(axis) == 0:
            raise InvalidSweep(f"{kind} axis '{name}' is empty")
        validate_parameters({name: list(axis)}, kind)
