"""The memory store's index of queued runs: by owner and job, in the order they were added
(lowest number first).

It lets fair claiming find the next owner, the next job and its first queued
run without scanning every run. Entries are removed lazily: a run that left
the queue (claimed, cancelled, rolled back) is dropped when it is next met.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable

from simdock.domain import Run

Alive = Callable[[str], bool]


class QueuedRuns:
    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, str]]] = {}
        self._owner_of: dict[str, str] = {}
        self._jobs: dict[str, list[str]] = {}
        self._owners: list[str] = []

    def push(self, run: Run) -> None:
        """Remember a queued run (again, after a rollback or a requeue: duplicates are dropped
        when met)."""
        heap = self._heaps.get(run.job_id)
        if heap is None:
            heap = self._heaps[run.job_id] = []
            self._owner_of[run.job_id] = run.owner_id
            jobs = self._jobs.get(run.owner_id)
            if jobs is None:
                jobs = self._jobs[run.owner_id] = []
                bisect.insort(self._owners, run.owner_id)
            bisect.insort(jobs, run.job_id)
        heapq.heappush(heap, (run.number or 0, run.id))

    def next_owner(self, after: str | None, alive: Alive) -> str | None:
        start = 0 if after is None else bisect.bisect_right(self._owners, after)
        for owner in list(self._owners[start:]):
            if any(self._live(job, alive) for job in list(self._jobs.get(owner, ()))):
                return owner
        return None

    def next_job(self, owner: str, after: str | None, alive: Alive) -> str | None:
        jobs = self._jobs.get(owner, [])
        start = 0 if after is None else bisect.bisect_right(jobs, after)
        for job in list(jobs[start:]):
            if self._live(job, alive):
                return job
        return None

    def pop(self, job: str, limit: int, alive: Alive) -> list[str]:
        """Up to ``limit`` of the job's queued runs, lowest number first, taken off the index."""
        taken: list[str] = []
        while len(taken) < limit and self._live(job, alive):
            _, run_id = heapq.heappop(self._heaps[job])
            if run_id not in taken:
                taken.append(run_id)
        return taken

    def _live(self, job: str, alive: Alive) -> bool:
        """Whether the job still has a queued run; forgets it (and its owner) when not."""
        heap = self._heaps.get(job)
        while heap and not alive(heap[0][1]):
            heapq.heappop(heap)
        if heap:
            return True
        if heap is not None:
            self._forget(job)
        return False

    def _forget(self, job: str) -> None:
        del self._heaps[job]
        owner = self._owner_of.pop(job)
        jobs = self._jobs[owner]
        jobs.pop(bisect.bisect_left(jobs, job))
        if not jobs:
            del self._jobs[owner]
            self._owners.pop(bisect.bisect_left(self._owners, owner))
