"""Fair turns for claiming queued runs: round the owners, then round each owner's jobs.

One user's sweep of 100,000 runs never keeps another user's single run (or
the same user's other job) waiting behind it: every claim goes to the next
owner (in id order, wrapping) who has queued runs, and within an owner to its
next job. The turns are this process's; each worker process keeps its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from simdock.domain import Run
from simdock.repositories import UnitOfWork

#: A batch of runs should take about this long, so that prefetched runs wait briefly.
BATCH_SECONDS = 0.02
MAX_BATCH = 16
MAX_JOB_TURNS = 4096


class FairQueue:
    """Whose turn it is, for the claims of one process, and how many runs to claim at once.

    The turn moves to the next owner (in id order, wrapping) with queued runs at
    every claim, and within an owner to its next job; when only one job has
    queued runs, the rest of a batch comes from it in one statement.
    """

    def __init__(self) -> None:
        self._owner: str | None = None
        self._jobs: OrderedDict[str, str] = OrderedDict()
        self._seconds_per_run = BATCH_SECONDS
        self._lock = threading.Lock()

    def claim(self, uow: UnitOfWork, worker: str, now: datetime, limit: int,
              lease_until: datetime | None = None) -> list[Run]:
        """Claim up to ``limit`` queued runs, one turn each, fairly, held until
        ``lease_until``."""
        claimed: list[Run] = []
        for _ in range(2 * limit + 4):  # a bound: claims lost to other workers cost a turn
            if len(claimed) >= limit:
                break
            turn = self._next_turn(uow)
            if turn is None:
                break
            owner_id, job_id, sole = turn
            wanted = limit - len(claimed) if sole else 1
            claimed.extend(uow.runs.claim_queued(owner_id, job_id, worker, now, wanted,
                                                 lease_until))
        return claimed

    def _next_turn(self, uow: UnitOfWork) -> tuple[str, str, bool] | None:
        """The owner and job whose turn it is, and whether no one else has queued runs."""
        previous_owner = self._owner
        owner = uow.runs.next_queued_owner(previous_owner)
        if owner is None and previous_owner is not None:
            owner = uow.runs.next_queued_owner(None)
        if owner is None:
            return None
        previous_job = self._jobs.get(owner)
        job = uow.runs.next_queued_job(owner, previous_job)
        if job is None and previous_job is not None:
            job = uow.runs.next_queued_job(owner, None)
        if job is None:
            return None
        self._owner = owner
        self._jobs[owner] = job
        self._jobs.move_to_end(owner)
        while len(self._jobs) > MAX_JOB_TURNS:
            self._jobs.popitem(last=False)
        return owner, job, owner == previous_owner and job == previous_job

    def batch_size(self) -> int:
        """How many runs to claim at once: one for runs that take a while, more for short ones."""
        with self._lock:
            return max(1, min(MAX_BATCH, int(BATCH_SECONDS / self._seconds_per_run)))

    def observe(self, seconds: float, runs: int) -> None:
        """Learn how long runs take (a moving average over recent batches)."""
        if runs:
            with self._lock:
                self._seconds_per_run = 0.7 * self._seconds_per_run + 0.3 * (seconds / runs)
