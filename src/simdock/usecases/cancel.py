"""Cancelling work that has not finished."""

from __future__ import annotations

from collections.abc import Sequence

from simdock.domain import RunStatus
from simdock.errors import ConcurrencyConflict, InvalidTransition
from simdock.platform import Platform
from simdock.usecases.access import load_job, load_run


def cancel_job(job_id: str | int, owner_id: str | None, platform: Platform) -> list[str]:
    """Cancel every queued or running run of a job; returns the ids cancelled.

    Runs that already finished keep their outcome. Cancelling a finished job
    is not an error: nothing is left to cancel.
    """
    cancelled: list[str] = []
    with platform.uow() as uow:
        job = load_job(uow, job_id, owner_id)
        run_ids = [r.id for r in uow.runs.for_job(job.id) if not r.terminal]
    for run_id in run_ids:
        if _cancel(run_id, owner_id, platform):
            cancelled.append(run_id)
    return cancelled


def cancel_run(run_id: str, owner_id: str | None, platform: Platform) -> bool:
    """Cancel one run; False if it had already finished."""
    with platform.uow() as uow:
        load_run(uow, run_id, owner_id)
    return _cancel(run_id, owner_id, platform)


def cancel_runs(runs: Sequence[str | int], owner_id: str | None, platform: Platform
                ) -> tuple[list[str], dict[str, str]]:
    """Cancel these runs (ids or numbers); returns the ids cancelled and, by id, why the
    others were not (already finished). An unknown run (or another user's) is NotFound,
    and then nothing is cancelled."""
    with platform.uow() as uow:
        found = [load_run(uow, ref, owner_id) for ref in dict.fromkeys(runs)]
    cancelled: list[str] = []
    refused: dict[str, str] = {}
    for run in found:
        if _cancel(run.id, owner_id, platform):
            cancelled.append(run.id)
        else:
            refused[run.id] = "it had already finished"
    return cancelled, refused


def _cancel(run_id: str, owner_id: str | None, platform: Platform) -> bool:
    for _ in range(5):
        try:
            with platform.uow() as uow:
                run = load_run(uow, run_id, owner_id)
                if run.terminal:
                    return False
                was_running = run.status is RunStatus.RUNNING
                run.cancel(platform.clock.now())
                uow.runs.update(run)
                uow.commit()
        except ConcurrencyConflict:
            continue
        except InvalidTransition:
            return False
        if was_running:
            platform.signal_cancel(run_id)
        return True
    return False
