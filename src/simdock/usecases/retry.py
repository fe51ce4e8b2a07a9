"""Retrying runs that failed or were cancelled: the same run, queued again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simdock.conflicts import retry_on_conflict
from simdock.domain.status import RETRYABLE_RUN_STATUSES
from simdock.errors import Conflict
from simdock.ports import Clock
from simdock.scope import UnitsOfWork
from simdock.usecases.access import load_job, load_run
from simdock.usecases.replicating import Replicating
from simdock.usecases.requeue import back_to_queue


@dataclass(frozen=True)
class Retrying:
    """Retrying runs that failed or were cancelled: the same run, queued again."""

    uow: UnitsOfWork
    clock: Clock
    replicating: Replicating

    def retry_runs(self, runs: Sequence[str | int], owner_id: str | None
                   ) -> list[str]:
        """Queue these runs (ids or numbers) again, keeping their ids; returns the ids queued.

        All or none: an unknown run (or another user's) is NotFound, one that did not fail
        and was not cancelled is a Conflict, and then nothing is queued. A run keeps the
        attempts it made; its next attempt writes under keys of its own.
        """
        def queue_again() -> list[str]:
            with self.uow() as uow:
                found = [load_run(uow, ref, owner_id) for ref in dict.fromkeys(runs)]
                for run in found:
                    if run.status not in RETRYABLE_RUN_STATUSES:
                        raise Conflict(f"run '{run.number or run.id}' is {run.status.value}: "
                                       "only failed or cancelled runs are retried")
                self.replicating.retried(uow, found)
                for run in found:
                    run.retry(self.clock.now())
                    uow.runs.update(run)
                back_to_queue(uow, found)
                uow.dispatch_runs([run.id for run in found])
                uow.commit()
            return [run.id for run in found]

        return retry_on_conflict(queue_again, "the runs to retry")

    def retry_jobs(self, job_ids: Sequence[str | int], owner_id: str | None) -> list[str]:
        """Queue again the failed and cancelled runs of each of these jobs (all looked up
        first: an unknown one is NotFound before anything is queued); returns their ids."""
        with self.uow() as uow:
            jobs = [load_job(uow, job_id, owner_id).id for job_id in dict.fromkeys(job_ids)]
        return [run for job_id in jobs for run in self.retry_job(job_id, owner_id)]

    def retry_job(self, job_id: str | int, owner_id: str | None) -> list[str]:
        """Queue every failed or cancelled run of a job again (:meth:`retry_runs`); returns
        the ids queued, none when no run of it failed or was cancelled."""
        with self.uow() as uow:
            job = load_job(uow, job_id, owner_id)
            retryable = [run.id for run in uow.runs.for_job(job.id)
                         if run.status in RETRYABLE_RUN_STATUSES]
        return self.retry_runs(retryable, owner_id) if retryable else []
