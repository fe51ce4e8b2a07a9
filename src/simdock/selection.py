"""What a listing selects: jobs or runs by owner, status, type, tag, machine, job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from simdock.domain import RunStatus
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


def _check_filters(*values: str | None) -> None:
    for value in values:
        if value is not None:
            check_text(value, "a filter")
