"""A worker as its heartbeats describe it: where it runs, what it takes, what it holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WorkerBeat:
    """What a worker said of itself at its last heartbeat."""

    #: The worker's name (``host:pid``), as runs it holds name it.
    name: str
    host: str
    started_at: datetime
    last_beat: datetime
    #: How many runs it held (claimed, executing) at that beat.
    held: int
    #: How many runs it executes at once.
    slots: int
    #: The queues it takes work from (``simulations``, ``reports``).
    queues: tuple[str, ...] = ()
