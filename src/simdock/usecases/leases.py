"""Leases: a run being executed is held by its worker, and taken back when it is lost.

A claim holds a run until ``now + lease_seconds``. Every process beats
(:meth:`Leases.heartbeat`) every ``heartbeat_seconds``: it renews the leases of the
runs it holds, stops those the store says it no longer holds (cancelled
elsewhere, or taken back), and takes back runs whose lease lapsed (their
worker was killed or its host lost): requeued, after a backoff that grows
with each loss, or failed once ``max_attempts`` attempts were lost.
Attempts are counted in the store at each claim, so a broker's redelivery
of a message never counts as a retry. A claim whose commit went unanswered
(:meth:`Leases.commit_claims`) is undone at the next beat that reaches the store,
if the store made it: queued again at once, its attempt not counted.

After an outage a process renews first and takes back only once it has
reached the store for a whole lease (:mod:`simdock.contact`): a run is taken
back when its worker stayed silent for a lease while the store could be
reached, never because nobody could renew. Timing, with the defaults
(``LEASE_SECONDS`` 10, ``HEARTBEAT_SECONDS`` 1): once the store is back, live
workers renew within a beat (about 1 s); runs of a worker lost meanwhile are
taken back about one lease (10 s) after the store came back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from simdock.domain import Run, RunStatus
from simdock.domain.worker import WorkerBeat
from simdock.errors import ConcurrencyConflict, ServiceUnavailable
from simdock.execution import Execution
from simdock.limits import Limits
from simdock.ports import Clock
from simdock.repositories import UnitOfWork
from simdock.scope import UnitsOfWork
from simdock.usecases.replicating import Replicating
from simdock.usecases.requeue import back_to_queue

log = logging.getLogger(__name__)

#: Lapsed runs taken back per beat (the rest at the next one).
RECOVER_BATCH = 200
#: The longest a lost run waits before it is queued again.
MAX_BACKOFF_SECONDS = 60.0
#: How long a silent worker stays listed in the store before it is forgotten.
FORGET_WORKERS_AFTER = timedelta(days=1)


def backoff(attempts: int) -> timedelta:
    """How long after its lease lapsed a run lost ``attempts`` times waits to be requeued:
    at once after the first loss, then 2, 4, 8... seconds."""
    seconds = 0.0 if attempts <= 1 else min(MAX_BACKOFF_SECONDS, 2.0 ** (attempts - 1))
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Leases:
    """The leases of the runs this process executes, and taking back the runs of lost
    workers."""

    uow: UnitsOfWork
    clock: Clock
    limits: Limits
    execution: Execution
    replicating: Replicating

    def lease_until(self) -> datetime:
        """Until when a run claimed now is held without a renewal."""
        return self.clock.now() + timedelta(seconds=self.limits.lease_seconds)

    def heartbeat(self) -> list[str]:
        """Renew this process's leases, stop what it no longer holds, take back lapsed runs
        (once the store has been reached for a lease: see :mod:`simdock.contact`).

        Returns the ids of the runs queued again (already dispatched).
        """
        try:
            self.renew_leases()
            self.record_beat()
            released = self.release_unconfirmed()
            return released + self.recover_lapsed()
        except ServiceUnavailable:
            self.execution.contact.lost()
            raise

    def record_beat(self) -> WorkerBeat:
        """Say in the store that this worker is alive, where, and how busy (what the
        workers page lists), and forget the workers silent for a day (an indexed delete
        that finds nothing almost always)."""
        now = self.clock.now()
        execution = self.execution
        if execution.started_at is None:
            execution.started_at = now
        worker = WorkerBeat(name=execution.worker_name,
                            host=execution.worker_name.rsplit(":", 1)[0],
                            started_at=execution.started_at, last_beat=now,
                            held=len(execution.held.snapshot()), slots=execution.slots,
                            queues=execution.queues)
        with self.uow() as uow:
            uow.workers.beat(worker)
            uow.workers.forget(now - FORGET_WORKERS_AFTER)
            uow.commit()
        return worker

    def commit_claims(self, uow: UnitOfWork, runs: Sequence[Run]) -> None:
        """Commit the claim of ``runs``. When the store's answer is lost (it went away at
        that moment), the claims are noted as unconfirmed before the error goes on: the store
        may hold them for this process, which is not executing them."""
        try:
            uow.commit()
        except ServiceUnavailable:
            self.execution.held.unconfirmed(runs)
            raise

    def release_unconfirmed(self) -> list[str]:
        """Queue again at once the runs whose claim by this process was committed unknown to
        it (:meth:`commit_claims`), without counting an attempt; instead of their lease
        lapsing and the run counting as lost. Returns their ids."""
        claims = self.execution.held.unconfirmed_snapshot()
        if not claims:
            return []
        released: list[str] = []
        now = self.clock.now()
        with self.uow() as uow:
            for run_id, attempt in claims.items():
                run = uow.runs.get(run_id)
                if run is None or not run.held_by(self.execution.worker_name, attempt):
                    continue  # never committed, or taken back or cancelled since
                run.release(now)
                try:
                    uow.runs.update(run)
                except ConcurrencyConflict:
                    continue  # changed meanwhile (cancelled, taken back): no longer ours
                back_to_queue(uow, [run])
                released.append(run_id)
                log.warning("run %s: its claim was committed unknown to this worker; queued "
                            "again", run_id)
            uow.dispatch_runs(released)
            uow.commit()
        self.execution.held.settle(claims)
        return released

    def renew_leases(self) -> set[str]:
        """Extend the leases of the runs this process holds; returns the runs it lost, whose
        handlers are told to stop (their writes would be refused anyway)."""
        held = self.execution.held.snapshot()
        if not held:
            return set()
        with self.uow() as uow:
            kept = uow.runs.renew(self.execution.worker_name, held, self.lease_until())
            uow.commit()
        lost = set(held) - kept
        if lost:
            self.execution.held.release(lost)
            for run_id in lost:
                self.execution.signal_cancels([run_id])
        return lost

    def recover_lapsed(self) -> list[str]:
        """Take back runs whose lease lapsed: requeue them (with backoff) or, after
        ``max_attempts`` lost attempts, fail them saying so. Returns the requeued ids.

        Nothing is taken back until this process has reached the store for a whole lease
        after it last could not: live workers renew first. A run this process is executing
        is never taken back by it, whatever its lease says (a renewal that waited for the
        store may have left it out)."""
        now = self.clock.now()
        requeued: list[str] = []
        with self.uow() as uow:
            lapsed = uow.runs.lapsed(now, RECOVER_BATCH)
            self.execution.contact.reached(now)
            if not self.execution.contact.steady(now, timedelta(seconds=self.limits.lease_seconds)):
                return []
            taken_back: list[Run] = []
            for run in lapsed:
                assert run.lease_expires_at is not None
                if run.worker == self.execution.worker_name and self.execution.held.holds(run):
                    continue  # executing here: alive, whatever its lease says (renewed next beat)
                if run.attempts >= self.limits.max_attempts:
                    run.fail(f"worker lost {run.attempts} times", now)
                elif now >= run.lease_expires_at + backoff(run.attempts):
                    log.warning("run %s: worker %s lost (attempt %d); queued again",
                                run.id, run.worker, run.attempts)
                    run.requeue(now)
                else:
                    continue
                try:
                    uow.runs.update(run)
                except ConcurrencyConflict:
                    continue  # another process took it back first, or its worker finished it
                taken_back.append(run)
                if run.status is RunStatus.QUEUED:
                    requeued.append(run.id)
            back_to_queue(uow, taken_back)
            uow.dispatch_runs(requeued)
            self.replicating.ended(uow, [run for run in taken_back
                                         if run.status is RunStatus.FAILED])
            uow.commit()
        return requeued
