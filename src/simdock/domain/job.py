"""The job: one submission, with one run or many (a sweep)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class JobKind(StrEnum):
    SINGLE = "single"
    SWEEP = "sweep"
    #: Made before its runs, which are added to it later, each with its own parameters
    #: (an Epistemix job: registered, given its input files, then sent run requests).
    OPEN = "open"


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
    #: Files its runs execute with: a name in the run's input directory -> a blob key.
    input_files: dict[str, str] = field(default_factory=dict)
