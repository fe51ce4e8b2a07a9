"""What a listing selects: jobs or runs by owner, status, type, tag, machine, job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from simdock.domain import RunStatus
from simdock.domain.criteria import (
    Before,
    Condition,
    Equal,
    JobStatusIn,
    NotBefore,
    OneOf,
    RunOn,
    Tagged,
)
from simdock.domain.text import check_text
from simdock.paging import Ordering, PageRequest


@dataclass(frozen=True)
class RunQuery:
    """Filters for listing runs; ``None`` means no filter."""

    owner_id: str | None = None
    job_id: str | None = None
    statuses: frozenset[RunStatus] | None = None
    simulation_type: str | None = None
    tag: str | None = None
    machine_id: str | None = None
    order: Ordering = field(default_factory=Ordering)
    page: PageRequest = field(default_factory=PageRequest)

    def __post_init__(self) -> None:
        _check_filters(self.owner_id, self.job_id, self.simulation_type, self.tag,
                       self.machine_id)

    def conditions(self) -> tuple[Condition, ...]:
        """What a run must meet to be listed (every adapter applies these)."""
        return _given(Equal("owner_id", self.owner_id), Equal("job_id", self.job_id),
                      Equal("simulation_type", self.simulation_type),
                      Equal("machine_id", self.machine_id),
                      None if self.statuses is None else OneOf("status", self.statuses),
                      None if self.tag is None else Tagged(self.tag))


@dataclass(frozen=True)
class JobQuery:
    """Filters for listing jobs; status is the derived job status."""

    owner_id: str | None = None
    statuses: frozenset[RunStatus] | None = None
    simulation_type: str | None = None
    tag: str | None = None
    machine_id: str | None = None
    order: Ordering = field(default_factory=Ordering)
    page: PageRequest = field(default_factory=PageRequest)
    #: Tags every listed job has (besides ``tag``).
    tags: tuple[str, ...] = ()
    #: Jobs created at or after ``created_from`` and before ``created_before``.
    created_from: datetime | None = None
    created_before: datetime | None = None

    def __post_init__(self) -> None:
        _check_filters(self.owner_id, self.simulation_type, self.tag, self.machine_id,
                       *self.tags)

    def conditions(self) -> tuple[Condition, ...]:
        """What a job must meet to be listed (every adapter applies these)."""
        tags = dict.fromkeys(([self.tag] if self.tag is not None else []) + list(self.tags))
        return _given(Equal("owner_id", self.owner_id),
                      Equal("simulation_type", self.simulation_type),
                      *(Tagged(tag) for tag in tags),
                      None if self.created_from is None
                      else NotBefore("created_at", self.created_from),
                      None if self.created_before is None
                      else Before("created_at", self.created_before),
                      None if self.machine_id is None else RunOn(self.machine_id),
                      None if self.statuses is None else JobStatusIn(self.statuses))


def _given(*conditions: Condition | None) -> tuple[Condition, ...]:
    """The conditions a query sets: those given, and no ``Equal`` to None (no filter)."""
    return tuple(c for c in conditions
                 if c is not None and not (isinstance(c, Equal) and c.value is None))


def _check_filters(*values: str | None) -> None:
    for value in values:
        if value is not None:
            check_text(value, "a filter")
