"""Adaptive replication as runs end: each replicate's end is counted at its point, in the
transaction that records it, and the point decides there whether it needs another batch.

Counting and deciding happen in the unit of work that stores the run's end, with the
point locked (:meth:`~simdock.repositories.PointRepository.lock`): the last replicate of a
batch to end sees every other one's end, so each batch is decided once, and a batch is
added only if that transaction commits. A worker killed before its commit leaves the
run to be taken back and run again; one killed after it has already added the batch.
Cancelling a job adds nothing: its runs are stopped, not ended by a worker, so no point
decides again (a retry of a failed replicate counts it again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simdock.domain import JobKind, Run, RunStatus, SweepSpec
from simdock.domain.replication import PointSummary, ReplicatePoint, metric_of
from simdock.outbox import OutboxUnitOfWork
from simdock.payloads import PayloadStore
from simdock.ports import Clock, IdGenerator
from simdock.repositories import UnitOfWork
from simdock.scope import UnitsOfWork
from simdock.usecases.access import load_job
from simdock.usecases.queries import Queries


@dataclass(frozen=True)
class PointView:
    """A point of a replicated job as a summary shows it: its parameters and where its
    replicates stand."""

    point: int
    parameters: dict[str, object]
    state: ReplicatePoint
    summary: PointSummary


@dataclass(frozen=True)
class JobReplication:
    """A job's replication as its specification says (None for a job not replicated: then
    no point), and its points."""

    job_id: str
    spec: SweepSpec | None
    points: list[PointView]


@dataclass(frozen=True)
class Replicating:
    """Replicated jobs' points: counted as replicates end, batches added as they decide."""

    uow: UnitsOfWork
    clock: Clock
    ids: IdGenerator
    payloads: PayloadStore
    queries: Queries

    def ended(self, uow: OutboxUnitOfWork, runs: Sequence[Run]) -> list[str]:
        """Count the ends of ``runs`` (each succeeded or failed, in ``uow``, not yet
        committed) at their points, and add each point's next batch where it needs one,
        dispatched once ``uow`` commits; returns the ids of the runs added (none for runs of
        jobs not replicated).

        Call it last before the commit: each point is locked once, in (job, point) order,
        and held until the commit, so a point is held only for what the transaction has
        left, and two transactions never each hold a point the other waits for.
        """
        ends: dict[tuple[str, int], list[Run]] = {}
        specs = self.queries.job_specs(
            list({run.job_id for run in runs if run.parameters is None}), uow)
        for run in runs:
            spec = specs.get(run.job_id)  # a run with its own parameters has none
            if spec is None or spec.replication is None:
                continue
            ends.setdefault((run.job_id, spec.point_of(run.index)[0]), []).append(run)
        added: list[str] = []
        for job_id in sorted({job_id for job_id, _ in ends}):
            spec = specs[job_id]
            replication = spec.replication
            assert replication is not None
            numbers = sorted(number for job, number in ends if job == job_id)
            values = {number: [self._value(run, replication.metric)
                               for run in ends[job_id, number]] for number in numbers}
            locked = uow.points.lock(job_id, numbers)
            for number, point in locked.items():
                for succeeded, value in values[number]:
                    point.count(succeeded, value)
                added += self._add(uow, spec, ends[job_id, number][0], number,
                                   point.settle(replication))
            uow.points.update(list(locked.values()))
        uow.dispatch_runs(added)
        return added

    def _value(self, run: Run, metric: str) -> tuple[bool, float | None]:
        """Whether a replicate that ended succeeded, and its metric's value (None: it failed,
        or its result has no number under ``metric``)."""
        if run.status is not RunStatus.SUCCEEDED:
            return False, None
        return True, metric_of(self.payloads.load(run.result), metric)

    def retried(self, uow: UnitOfWork, runs: Sequence[Run]) -> None:
        """These runs, which had failed or were cancelled, are being queued again: a failed
        replicate no longer counts at its point (a cancelled one never did)."""
        for run in runs:
            if run.status is not RunStatus.FAILED or run.parameters is not None:
                continue
            spec = self.queries.job_specs([run.job_id], uow)[run.job_id]
            if spec.replication is None:
                continue
            number = spec.point_of(run.index)[0]
            point = uow.points.lock(run.job_id, [number]).get(number)
            if point is not None and point.failed > 0:
                point.uncount_failure()
                uow.points.update([point])

    def points(self, job_id: str, owner_id: str | None) -> list[PointView]:
        """A job's points with their parameters (the seed left out), in point order; none
        for a job that is not replicated."""
        return self.summary(job_id, owner_id).points

    def summary(self, job_id: str, owner_id: str | None) -> JobReplication:
        """A job's replication (None for a job not replicated) and its points."""
        with self.uow() as uow:
            job = load_job(uow, job_id, owner_id)
            found = uow.points.list(job.id)
        if job.kind is JobKind.OPEN:  # its runs bring their own parameters: no specification
            return JobReplication(job.id, None, [])
        spec = self.queries.job_spec(job.id)
        if spec.replication is None:
            return JobReplication(job.id, None, [])
        return JobReplication(job.id, spec, [
            PointView(point.point, _point_parameters(spec, point.point), point,
                      point.summary(spec.replication)) for point in found])

    def _add(self, uow: UnitOfWork, spec: SweepSpec, ended: Run, point: int,
             replicates: range) -> list[str]:
        if not replicates:
            return []
        now = self.clock.now()
        uow.jobs.reserve_runs(ended.job_id, len(replicates))  # the job's count of runs
        runs = [Run(id=run_id, job_id=ended.job_id, owner_id=ended.owner_id,
                    simulation_type=ended.simulation_type,
                    index=spec.index_of(point, replicate), created_at=now, updated_at=now,
                    machine_id=ended.machine_id, timeout_seconds=ended.timeout_seconds)
                for replicate, run_id in zip(replicates, self.ids.new_many(
                    "run", len(replicates)), strict=True)]
        uow.runs.add_many(runs)
        return [run.id for run in runs]


def _point_parameters(spec: SweepSpec, point: int) -> dict[str, object]:
    parameters = spec.parameters(spec.index_of(point, 0))
    parameters.pop(str(spec.seed_parameter), None)
    return parameters
