"""What one run may use where it executes in isolation (a container): memory, CPUs, processes.

A job may ask for its own, within the platform's maximum; what it leaves out is
the platform's default. The effective resources are part of a container run's
record and of the task its executor gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from simdock.errors import LimitExceeded, ValidationError

#: The least a run can be given: below these no program starts.
MINIMUM = {"memory_mb": 16, "cpus": 0.01, "pids": 8}


@dataclass(frozen=True)
class Resources:
    """Memory (MiB, no swap), CPUs and processes of one run; None: not said."""

    memory_mb: int | None = None
    cpus: float | None = None
    pids: int | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> Resources | None:
        """Resources from their JSON form (None stays None); refuses unknown names."""
        if record is None:
            return None
        if not isinstance(record, Mapping):
            raise ValidationError("resources must be an object of memory_mb, cpus and pids")
        unknown = set(record) - {f.name for f in fields(cls)}
        if unknown:
            raise ValidationError(f"unknown resources {sorted(unknown)}; expected memory_mb, "
                                  "cpus, pids")
        return cls(**record)

    def to_record(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    def within(self, maximum: Resources) -> Resources:
        """These resources, checked: each a positive number no larger than ``maximum``'s."""
        for f in fields(self):
            value, most = getattr(self, f.name), getattr(maximum, f.name)
            if value is None:
                continue
            kind = float if f.name == "cpus" else int
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or (kind is int and not float(value).is_integer()):
                what = "number" if kind is float else "whole number"
                raise ValidationError(f"resources.{f.name} must be a {what}, got {value!r}")
            if value < MINIMUM[f.name]:
                raise ValidationError(f"resources.{f.name} must be at least "
                                      f"{MINIMUM[f.name]:g}, got {value:g}")
            if most is not None and value > most:
                raise LimitExceeded(f"resources.{f.name} may be at most {most:g} here, "
                                    f"got {value:g}")
        return Resources(
            memory_mb=None if self.memory_mb is None else int(self.memory_mb),
            cpus=None if self.cpus is None else float(self.cpus),
            pids=None if self.pids is None else int(self.pids))

    def over(self, defaults: Resources) -> Resources:
        """These resources, with what they leave out taken from ``defaults``."""
        return Resources(**{f.name: getattr(defaults, f.name) if getattr(self, f.name) is None
                            else getattr(self, f.name) for f in fields(self)})
