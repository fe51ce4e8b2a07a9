"""Sweeps as specifications: what a job stores once, and each run's parameters derived from it.

A job keeps one :class:`SweepSpec` (a base, plus an explicit list, grid axes
or zipped lists); each of its runs keeps only its index. The parameters of
run ``i`` are ``spec.parameters(i)``, computed when the run executes or is
shown, so storing a sweep costs the size of its request, not variants x base.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simdock.domain.bounds import MAX_SWEEP_VARIANTS
from simdock.domain.listing import json_size
from simdock.domain.parameters import validate_parameters
from simdock.domain.replication import Replication, replicate_seed
from simdock.domain.resources import Resources
from simdock.errors import InvalidSweep, LimitExceeded, ValidationError

__all__ = ["MAX_SWEEP_VARIANTS", "SweepSpec", "check_sweep", "expand"]


@dataclass(frozen=True)
class SweepSpec:
    """One run (``base`` alone) or one of three ways to describe variants over ``base``.

    - ``variants``: an explicit list of parameter sets (seed 001's ``sweep``);
    - ``grid``: axes whose cartesian product gives the variants (last axis fastest);
    - ``zipped``: equal-length lists taken position by position.
    """

    variants: Sequence[Mapping[str, Any]] | None = None
    grid: Mapping[str, Sequence[Any]] | None = None
    zipped: Mapping[str, Sequence[Any]] | None = None
    base: Mapping[str, Any] = field(default_factory=dict)
    #: What each run may use where it executes in isolation (container runs), as granted
    #: at submission; None for runs that execute without such limits.
    resources: Resources | None = None
    #: Adaptive replication: each variant (a *point*) is run again with new seeds until
    #: its metric is known precisely enough (:mod:`simdock.domain.replication`). Run
    #: ``index`` is replicate ``index // points`` of point ``index % points``; its seed,
    #: under ``seed_parameter``, is derived from the job's ``seed``.
    replication: Replication | None = None
    seed: int | None = None
    seed_parameter: str | None = None

    @classmethod
    def single(cls, parameters: Mapping[str, Any]) -> SweepSpec:
        """The specification of a job of one run with ``parameters``."""
        return cls(base=parameters)

    @property
    def is_sweep(self) -> bool:
        return not (self.variants is None and self.grid is None and self.zipped is None)

    def count(self) -> int:
        """How many runs this spec gives, without building them (a replicated one: its
        points' first replicates; more are added as they are decided)."""
        return self._count * self.replication.min if self.replication else self._count

    @property
    def points(self) -> int:
        """How many parameter points (variants) this spec has, each replicated or not."""
        return self._count

    def point_of(self, index: int) -> tuple[int, int]:
        """The point and the replicate (0 for a spec without replication) of run ``index``."""
        replicate, point = divmod(index, self._count) if self.replication else (0, index)
        return point, replicate

    def index_of(self, point: int, replicate: int) -> int:
        """The index of replicate ``replicate`` of point ``point``."""
        return replicate * self._count + point

    @functools.cached_property
    def _count(self) -> int:
        if self.variants is not None:
            return len(self.variants)
        if self.grid is not None:
            return math.prod(len(axis) for axis in self.grid.values()) if self.grid else 0
        if self.zipped is not None:
            lengths = {len(axis) for axis in self.zipped.values()}
            return lengths.pop() if len(lengths) == 1 else 0
        return 1

    def varied(self, index: int) -> dict[str, Any]:
        """What run ``index`` sets over the base: its list item as given, or its axis values
        (and, replicated, its seed)."""
        if self.replication is not None:
            point, replicate = self.point_of(index)
            if not 0 <= replicate < self.replication.max:
                raise ValidationError(f"no run {index} in a job of {self._count} points "
                                      f"of at most {self.replication.max} replicates")
            return {**self._varied(point), str(self.seed_parameter):
                    replicate_seed(self.seed or 0, point, replicate)}
        return self._varied(index)

    def _varied(self, index: int) -> dict[str, Any]:
        if not 0 <= index < self._count:
            raise ValidationError(f"no variant {index} in a sweep of {self._count}")
        if self.variants is not None:
            return dict(self.variants[index])
        if self.grid is not None:
            positions = []
            for length in self._grid_lengths:
                index, position = divmod(index, length)
                positions.append(position)
            return {name: axis[position] for (name, axis), position
                    in zip(self._grid_axes, reversed(positions), strict=True)}
        if self.zipped is not None:
            return {name: axis[index] for name, axis in self.zipped.items()}
        return {}

    @functools.cached_property
    def _grid_axes(self) -> list[tuple[str, Sequence[Any]]]:
        return list((self.grid or {}).items())

    @functools.cached_property
    def _grid_lengths(self) -> list[int]:
        """The axes' lengths, last axis first (it varies fastest)."""
        return [len(axis) for _, axis in reversed(self._grid_axes)]

    def parameters(self, index: int) -> dict[str, Any]:
        """The full parameter set of run ``index``: its varied values merged over the base."""
        return {**self.base, **self.varied(index)}

    def parameter_sizes(self, index: int) -> dict[str, int]:
        """Bytes of JSON of each parameter of run ``index``; the base's are measured once
        per spec (a list of a sweep's runs shows the same base many times)."""
        varied = self.varied(index)
        return {**self._base_sizes, **{name: json_size(v) for name, v in varied.items()}}

    @functools.cached_property
    def _base_sizes(self) -> dict[str, int]:
        return {name: json_size(value) for name, value in self.base.items()}

    def all_parameters(self) -> Iterator[dict[str, Any]]:
        """Every run's parameter set, in order, one at a time."""
        return (self.parameters(index) for index in range(self.count()))

    def to_record(self) -> dict[str, Any]:
        """A JSON form for storage; axes are kept as ``[name, values]`` pairs because
        some stores (PostgreSQL's JSONB) do not keep the order of an object's keys."""
        record: dict[str, Any] = {"base": dict(self.base)}
        if self.variants is not None:
            record["variants"] = [dict(v) for v in self.variants]
        if self.grid is not None:
            record["grid"] = [[name, list(axis)] for name, axis in self.grid.items()]
        if self.zipped is not None:
            record["zip"] = [[name, list(axis)] for name, axis in self.zipped.items()]
        if self.resources is not None:
            record["resources"] = self.resources.to_record()
        if self.replication is not None:
            record["replicate"] = self.replication.to_record()
            record["seed"] = self.seed
            record["seed_parameter"] = self.seed_parameter
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> SweepSpec:
        def axes(key: str) -> dict[str, list[Any]] | None:
            pairs = record.get(key)
            return None if pairs is None else {name: values for name, values in pairs}

        replicate = record.get("replicate")
        return cls(variants=record.get("variants"), grid=axes("grid"), zipped=axes("zip"),
                   base=record.get("base") or {},
                   resources=Resources.from_record(record.get("resources")),
                   replication=None if replicate is None else Replication.parse(replicate),
                   seed=record.get("seed"), seed_parameter=record.get("seed_parameter"))


def check_sweep(spec: SweepSpec, limit: int = MAX_SWEEP_VARIANTS) -> SweepSpec:
    """``spec`` with its parts validated as JSON, or a clear refusal naming what is wrong.

    Nothing is expanded: a grid of a billion variants is refused by its count.
    """
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
    variants = None
    if spec.variants is not None:
        variants = [validate_parameters(v, f"sweep[{i}]") for i, v in enumerate(spec.variants)]
    return SweepSpec(variants=variants,
                     grid={n: list(a) for n, a in spec.grid.items()} if spec.grid else None,
                     zipped={n: list(a) for n, a in spec.zipped.items()} if spec.zipped else None,
                     base=base)


def expand(spec: SweepSpec, limit: int = MAX_SWEEP_VARIANTS) -> list[dict[str, Any]]:
    """The parameter set of every variant, in order, or a clear refusal."""
    return list(check_sweep(spec, limit).all_parameters())


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
