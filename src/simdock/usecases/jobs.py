"""Changing and deleting submissions (jobs) once they were made (seed 002's PUT and DELETE)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from simdock import blob_keys
from simdock.domain import Job
from simdock.domain.parameters import validate_parameters
from simdock.errors import Conflict, InvalidTransition, SimdockError
from simdock.ports import BlobStore, Clock, StopSignals
from simdock.scope import UnitsOfWork
from simdock.specs import SpecCache
from simdock.usecases.access import load_job
from simdock.usecases.cancel import BY_REQUEST
from simdock.usecases.machines import Machines
from simdock.usecases.reusing import removable_runs
from simdock.usecases.submit import check_machine, check_tags

log = logging.getLogger(__name__)


class Keep(Enum):
    """The value of a field an update leaves as it is."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


@dataclass(frozen=True, kw_only=True)
class UpdateJob:
    """Change what an owner may change on a submission; a field left at KEEP is kept.

    ``machine_id`` places every unfinished run of the job on that machine (None
    unplaces them); runs that finished keep the machine they ran on. A job's
    status is not among these: it follows its runs (cancel has its own use case).
    """

    job_id: str
    owner_id: str | None
    name: str | Keep | None = KEEP
    tags: Sequence[str] | Keep = KEEP
    metadata: Mapping[str, Any] | Keep = KEEP
    machine_id: str | Keep | None = KEEP


@dataclass(frozen=True)
class Jobs:
    """Changing and deleting jobs."""

    uow: UnitsOfWork
    blobs: BlobStore
    clock: Clock
    machines: Machines
    specs: SpecCache
    stops: StopSignals

    def update_job(self, cmd: UpdateJob) -> Job:
        """Store a new name, tags or metadata, then place the job's unfinished runs.

        Whatever can refuse the update is checked before anything is stored: a bad
        value, an unknown machine or one in maintenance, a placement when no run is
        left unfinished (Conflict). A run that finishes while the others are placed
        keeps its machine.
        """
        tags = cmd.tags if cmd.tags is KEEP else check_tags(cmd.tags)
        metadata = cmd.metadata if cmd.metadata is KEEP else validate_parameters(cmd.metadata,
                                                                                 "metadata")
        if isinstance(cmd.name, str):
            validate_parameters({"name": cmd.name}, "name")
        placing: list[str] = []
        with self.uow() as uow:
            job = load_job(uow, cmd.job_id, cmd.owner_id)
            if cmd.machine_id is not KEEP:
                if cmd.machine_id is not None:
                    check_machine(uow, cmd.machine_id)
                placing = [run.id for run in uow.runs.for_job(job.id) if not run.terminal]
                if not placing:
                    raise Conflict(f"job '{job.id}' has no unfinished run to place: its runs keep "
                                   "the machine they ran on")
            if cmd.name is not KEEP:
                job.name = cmd.name
            if tags is not KEEP:
                job.tags = tags
            if metadata is not KEEP:
                job.metadata = dict(metadata)
            uow.jobs.update(job)
            uow.commit()
        if cmd.machine_id is not KEEP:
            for run_id in placing:
                try:
                    self.machines.place_run(run_id, cmd.machine_id, cmd.owner_id)
                except InvalidTransition:
                    continue
        return job

    def delete_job(self, job_id: str | int, owner_id: str | None,
                   cancelling: bool = False) -> Job:
        """Delete a finished job with its runs, their logs, metric points, results and
        artifacts; returns the job as it was.

        A job with runs queued or running is refused (Conflict: cancel it first), unless
        ``cancelling``: then they are cancelled and the job deleted in the same transaction,
        all or nothing (runs executing elsewhere stop at their worker's next beat). Its
        blobs (under ``runs/<run id>/`` and ``jobs/<job id>/``) are removed once the
        deletion is committed, but for the runs another run reuses (they go with the last
        run that refers to them); reports already generated from it keep their documents.
        """
        with self.uow() as uow:
            job = load_job(uow, job_id, owner_id)
            cancelled: Sequence[str] = ()
            if cancelling:
                cancelled = uow.runs.cancel_unfinished(self.clock.now(), BY_REQUEST,
                                                       job_id=job.id)
            else:
                counts = uow.runs.counts(job_id=job.id)
                unfinished = sum(n for status, n in counts.items() if not status.terminal)
                if unfinished:
                    raise Conflict(f"job '{job_id}' has {unfinished} run(s) queued or running: "
                                   "cancel it first, then delete it")
            deleted = uow.runs.for_job(job.id)
            uow.jobs.delete(job.id)
            removable = removable_runs(uow, deleted)
            uow.commit()
        self.stops.signal_cancels(cancelled)
        self.specs.forget(job.id)
        remove_blobs(self.blobs, blob_keys.job_prefixes(job.id, sorted(removable)))
        return job


def remove_blobs(blobs: BlobStore, prefixes: Sequence[str]) -> None:
    """Delete every blob under these prefixes, as far as the store lets us.

    Called after the records that referred to them are gone: a store that
    fails now leaves unreferenced bytes behind (logged), never a reference to
    missing ones.
    """
    for prefix in prefixes:
        try:
            for key in blobs.list(prefix):
                blobs.delete(key)
        except (SimdockError, OSError) as exc:
            log.warning("could not remove the blobs under %s: %s", prefix, exc)
