"""Whether attempts at runs are over for good, for what they left outside the store.

An attempt is one worker's execution of a run (``Run.attempts`` counts them).
What it started elsewhere, such as a container on a shared engine, must go once
the attempt can no longer record anything: its run was taken back (queued
again, or claimed by another attempt), cancelled, or finished by another
attempt. The store says which; whoever finds such leftovers removes them. A run
the store does not know is not this store's: what was started for it is left
alone (another deployment may share the engine).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from simdock.repositories import UnitOfWorkFactory


class Attempt(NamedTuple):
    """One attempt at a run: which run, its number, and the worker making it."""

    run_id: str
    number: int
    worker: str


@dataclass(frozen=True)
class Leftovers:
    """Whether attempts at runs are over for good, for what they left outside the store."""

    autocommit_uow: UnitOfWorkFactory | None
    store: UnitOfWorkFactory

    def dead_attempts(self, attempts: Iterable[Attempt]) -> set[Attempt]:
        """Those of ``attempts`` that are over for good: their run is not running as that
        attempt of that worker (``Run.held_by``). A run still held by its attempt is not over,
        even when its worker has gone silent: its lease decides that, and once it is taken back
        the attempt is over. Runs this store does not know are never counted."""
        wanted = list(dict.fromkeys(attempts))
        if not wanted:
            return set()
        factory = self.autocommit_uow or self.store  # reading only
        dead: set[Attempt] = set()
        with factory() as uow:
            for attempt in wanted:
                run = uow.runs.get(attempt.run_id)
                if run is not None and not run.held_by(attempt.worker, attempt.number):
                    dead.add(attempt)
        return dead
