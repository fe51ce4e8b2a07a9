"""Cancelling work that has not finished."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simdock.ports import Clock, StopSignals
from simdock.scope import UnitsOfWork
from simdock.usecases.access import load_job, load_run

#: Why a run cancelled by its owner stopped.
BY_REQUEST = "cancelled by request"


@dataclass(frozen=True)
class Cancelling:
    """Cancelling work that has not finished."""

    uow: UnitsOfWork
    clock: Clock
    stops: StopSignals

    def cancel_job(self, job_id: str | int, owner_id: str | None) -> list[str]:
        """Cancel every queued or running run of a job, in one statement whatever the job's
        size; returns the ids cancelled.

        Runs that already finished keep their outcome. Cancelling a finished job is not an
        error: nothing is left to cancel. Runs executing here stop at once; runs executing
        elsewhere at their worker's next beat, when it renews its leases.
        """
        with self.uow() as uow:
            job = load_job(uow, job_id, owner_id)
            cancelled = list(uow.runs.cancel_unfinished(self.clock.now(), BY_REQUEST,
                                                        job_id=job.id))
            uow.commit()
        self.stops.signal_cancels(cancelled)
        return cancelled

    def cancel_jobs(self, job_ids: Sequence[str | int], owner_id: str | None) -> list[str]:
        """Cancel the unfinished runs of each of these jobs (:meth:`cancel_job`, a job at a
        time); returns the ids of every run cancelled. Every job is looked up first, so an
        unknown one (or another user's) is NotFound before anything is cancelled."""
        with self.uow() as uow:
            jobs = [load_job(uow, job_id, owner_id).id for job_id in dict.fromkeys(job_ids)]
        return [run for job_id in jobs for run in self.cancel_job(job_id, owner_id)]

    def cancel_run(self, run_id: str, owner_id: str | None) -> bool:
        """Cancel one run; False if it had already finished."""
        cancelled, _ = self.cancel_runs([run_id], owner_id)
        return bool(cancelled)

    def cancel_runs(self, runs: Sequence[str | int], owner_id: str | None
                    ) -> tuple[list[str], dict[str, str]]:
        """Cancel these runs (ids or numbers); returns the ids cancelled and, by id, why the
        others were not (already finished). An unknown run (or another user's) is NotFound,
        and then nothing is cancelled."""
        with self.uow() as uow:
            found = [load_run(uow, ref, owner_id) for ref in dict.fromkeys(runs)]
            cancelled = list(uow.runs.cancel_unfinished(self.clock.now(), BY_REQUEST,
                                                        run_ids=[run.id for run in found]))
            uow.commit()
        self.stops.signal_cancels(cancelled)
        done = set(cancelled)
        return cancelled, {run.id: "it had already finished" for run in found
                           if run.id not in done}
