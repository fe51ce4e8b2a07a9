"""The job: one submission, with one run or many (a sweep)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class JobKind(StrEnum):
    SINGLE = "single"
    SWEEP = "sweep"


@dataclass(eq=False)
class Job:
    """A submission. Its status is derived from its runs, never stored."""

    id: str
    owner_id: str
    simulation_type: str
    kind: JobKind
    run_count: int
    created_at: datetime
    name: str | None = None
    tags: tuple[str, ...] = ()
    metadata: dict[str, object] = field(default_factory=dict)
    number: int | None = None
