"""Executing a run: claim it, execute it, keep what it produced, record its outcome.

Executing and recording are apart so that a worker can record the outcomes
of several runs in one transaction (:mod:`simdock.usecases.worker_loop`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simdock import blob_keys, codec
from simdock.conflicts import retry_on_conflict
from simdock.domain import Payload, Run, RunStatus
from simdock.domain.images import image_of
from simdock.domain.run_identity import run_identity
from simdock.errors import (
    ConcurrencyConflict,
    ExecutionError,
    RunCancelled,
    RunHandedBack,
    ServiceUnavailable,
    SimdockError,
)
from simdock.execution import Execution
from simdock.handlers import SimulationHandlerRegistry
from simdock.limits import Limits
from simdock.outbox import OutboxUnitOfWork
from simdock.payloads import PayloadStore
from simdock.ports import BlobStore, Clock, ExecutionTask, Executor
from simdock.scope import UnitsOfWork
from simdock.usecases.archives import Archives
from simdock.usecases.leases import Leases
from simdock.usecases.queries import Queries
from simdock.usecases.recording import ExecutionContext, Recording, add_records, note_progress
from simdock.usecases.replicating import Replicating
from simdock.usecases.requeue import back_to_queue
from simdock.usecases.unwritten import InDoubt, Unwritten

log = logging.getLogger(__name__)

#: How long to wait before trying again to record outcomes while the store is away.
RECORD_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
NOT_HELD = "no longer held by this worker"
HANDED_BACK = "[stopped before it ended, without an outcome; queued again, no attempt counted]"


@dataclass
class Outcome:
    """How an execution ended: a stored result, the error to fail the run with, or the run
    handed back to the queue; with what it reported that the store has not kept yet."""

    run: Run
    result: Payload | None = None
    error: str | None = None
    #: The run goes back to the queue, its attempt not counted (see RunHandedBack).
    handed_back: bool = False
    unwritten: Unwritten = field(default_factory=Unwritten)
    #: The reports of the run's last write, whose commit went unanswered.
    in_doubt: InDoubt | None = None
    #: The identity of what a succeeded run executed, where it is not the one it was
    #: queued with (its job's input files were replaced meanwhile): it succeeds with this.
    executed_as: str | None = None
    #: When the outcome is recorded: the same for every try, so that a try whose commit
    #: went unanswered is recognised by the next one.
    stamp: datetime | None = None


@dataclass(frozen=True)
class Executing:
    """Executing the runs this process claimed, and recording their outcomes."""

    uow: UnitsOfWork
    archives: Archives
    blobs: BlobStore
    clock: Clock
    execution: Execution
    executor: Executor
    leases: Leases
    limits: Limits
    payloads: PayloadStore
    queries: Queries
    recording: Recording
    replicating: Replicating
    simulations: SimulationHandlerRegistry

    def execute_run(self, run_id: str) -> RunStatus | None:
        """Execute a queued run once; returns its final status, or None if not ours.

        Safe to call more than once for the same run (redelivery): only the
        caller that claims the run executes it. A run cancelled while executing
        stays cancelled whatever the handler returns.
        """
        with self.uow() as uow:
            run = uow.runs.claim(run_id, self.execution.worker_name, self.clock.now(),
                                 self.leases.lease_until())
            self.leases.commit_claims(uow, [run] if run is not None else [])
        if run is None:
            return None
        self.execution.held.hold([run])
        return self.record_when_possible([self.execute_claimed(run)])[0]

    def execute_claimed(self, run: Run) -> Outcome:
        """Execute a run this worker has claimed; the outcome is not recorded yet.

        A run this process no longer holds (cancelled, or taken back while it waited in a
        claimed batch) is not executed; one claimed while this process is shutting down is
        handed back.
        """
        outcome = Outcome(run)
        if not self.execution.held.holds(run):
            outcome.error = NOT_HELD
            return outcome
        if self.execution.draining:  # this process is shutting down: another will execute it
            outcome.handed_back = True
            return outcome
        context = self.recording.context(run.id, run.job_id, run.attempts, run.worker)
        self.execution.track(run.id, context)
        try:
            task = ExecutionTask(
                run_id=run.id,
                job_id=run.job_id,
                simulation_type=run.simulation_type,
                parameters=self.queries.run_parameters(run),
                attempt=run.attempts,
                timeout_seconds=run.timeout_seconds or self.limits.default_timeout_seconds,
                image=image_of(run.simulation_type),
                resources=self.queries.run_resources(run),
            )
            value = self.executor.execute(task, context)
            outcome.result = self._store_result(run, value)
            outcome.executed_as = self._executed_as(run, task, context)
            context.collect_workdir()
        except RunCancelled as exc:
            if context.handed_back:
                outcome.handed_back = True
            else:
                outcome.error = exc.message
                _keep_what_it_left(context)  # a stopped run keeps its logs so far
        except (RunHandedBack, ServiceUnavailable) as exc:
            # What the run needed could not be had from the store or the blobs: not the run's
            # fault. It goes back to the queue, to execute again once they are reachable.
            log.warning("run %s is queued again: %s", run.id, exc)
            outcome.handed_back = True
        except SimdockError as exc:
            outcome.error = exc.message
            _keep_what_it_left(context)
        except Exception as exc:  # a failing run must never take the worker down
            log.exception("run %s failed outside its handler", run.id)
            outcome.error = f"{type(exc).__name__}: {exc}"
            _keep_what_it_left(context)
        finally:
            self.execution.track(run.id, None)
            context.discard_workdir()
            try:
                context.flush(now=True)
            except Exception:  # what could not be written must not keep the run running
                log.exception("could not write the last logs and metrics of run %s", run.id)
            # Written with the outcome, once the store can be reached.
            outcome.unwritten, outcome.in_doubt = context.unwritten()
        if (outcome.error is not None or outcome.handed_back) and outcome.result is not None:
            self.payloads.discard(outcome.result)
            outcome.result = None
        if not outcome.handed_back:
            self._archive(run, outcome)
        return outcome

    def _executed_as(self, run: Run, task: ExecutionTask, context: ExecutionContext
                     ) -> str | None:
        """The identity of what ``run`` executed, when it is not the one it was queued with:
        the input files it fetched are not those it was added with (they were uploaded
        again since). None when they are, or it fetched none, or it has no identity."""
        if run.identity is None or context.input_digests is None:
            return None
        executed = run_identity(run.simulation_type, self.executor.declared(run.simulation_type),
                                task.parameters, context.input_digests)
        return executed if executed != run.identity else None

    def _archive(self, run: Run, outcome: Outcome) -> None:
        """Build the run's results archive now, before it is seen finished, where its handler
        asks for that; a failure here leaves it to be built on first demand."""
        handler = self.simulations.find(run.simulation_type)
        if handler is None or not handler.archives_results or outcome.error == NOT_HELD:
            return
        try:
            self.archives.attempt_archive(run)
        except (SimdockError, OSError) as exc:
            log.warning("could not build the results archive of run %s: %s", run.id, exc)

    def record_when_possible(self, outcomes: list[Outcome]
                             ) -> list[RunStatus | None]:
        """Record the outcomes, holding on to them while the store cannot be reached: a run
        that has finished must not stay running because its end came during an outage.
        Once the platform is closed its store is not coming back: the outcomes are given up
        (the runs' leases lapse and they are taken back)."""
        attempt = 0
        while True:
            try:
                return self.record_outcomes(outcomes)
            except ServiceUnavailable as exc:
                if self.execution.closed:
                    log.warning("the platform closed before the outcomes of %d run(s) could be "
                                "recorded: %s", len(outcomes), exc)
                    return [None] * len(outcomes)
                if attempt == 0:
                    log.warning("keeping the outcomes of %d run(s) until the store is back: %s",
                                len(outcomes), exc)
                self.clock.sleep(RECORD_RETRY_SECONDS[min(attempt,
                                                              len(RECORD_RETRY_SECONDS) - 1)])
                attempt += 1

    def record_outcomes(self, outcomes: Sequence[Outcome]
                        ) -> list[RunStatus | None]:
        """Finish each run with its outcome, all in one transaction; returns their statuses.

        A run still running as this worker claimed it is finished at once; one that
        changed meanwhile (progress written, cancelled) is read again. Only the attempt
        that still holds the run records it: a run cancelled, or taken back and given to
        another attempt, keeps what it has and this outcome's result is discarded, so
        exactly one result is kept. Recording twice is harmless.
        """
        statuses: dict[str, RunStatus | None] = {}
        recorded: dict[str, bool] = {}
        # In id order, the order a heartbeat renewing them locks them in: never one waiting
        # for a run the other holds while holding one it waits for.
        pending = sorted(outcomes, key=lambda outcome: outcome.run.id)
        for outcome in pending:
            outcome.stamp = outcome.stamp or self.clock.now()
        def record_all() -> None:
            with self.uow() as uow:
                ended: list[Run] = []
                for outcome in pending:
                    statuses[outcome.run.id], recorded[outcome.run.id] = self._record(
                        uow, outcome, ended)
                self.replicating.ended(uow, ended)  # last: its points are held until the commit
                uow.commit()

        retry_on_conflict(record_all, f"the outcome of runs {[o.run.id for o in pending]}")
        for outcome in pending:
            if not recorded[outcome.run.id]:  # what a stale attempt stored is let go
                if outcome.result is not None:
                    self.payloads.discard(outcome.result)
                for artifact in outcome.unwritten.artifacts:
                    self.blobs.delete(artifact.blob_key)
        self.execution.held.release(o.run.id for o in pending)
        return [statuses[o.run.id] for o in outcomes]

    def _record(self, uow: OutboxUnitOfWork, outcome: Outcome, ended: list[Run]
                ) -> tuple[RunStatus | None, bool]:
        """The run's status after recording ``outcome``, and whether this outcome was kept (it
        finished the run, or its files were kept for a run stopped while this attempt held
        it); a run it succeeds or fails is added to ``ended``."""
        run = outcome.run
        worker, attempt = run.worker, run.attempts
        if run.status is RunStatus.RUNNING and self._finish(uow, run, outcome, ended):
            return run.status, True
        stored = uow.runs.get(run.id)
        if stored is None:
            return None, False
        if _recorded_already(stored, outcome):
            return stored.status, True
        finished = stored.held_by(worker, attempt)
        if finished:
            self._finish(uow, stored, outcome, ended, guarded=False)
        elif outcome.unwritten and stored.left_by(worker, attempt):
            # Stopped while this attempt held it: what it reported last shows how far it got.
            add_records(uow, run.id, outcome.unwritten)
            finished = True
        outcome.run = stored
        return stored.status, finished

    def _finish(self, uow: OutboxUnitOfWork, run: Run, outcome: Outcome, ended: list[Run],
                guarded: bool = True) -> bool:
        """Succeed, fail or hand back ``run``, with what it reported and the store has not
        kept yet (added to ``ended`` unless handed back); False when ``guarded`` and it
        changed since it was read."""
        assert outcome.stamp is not None
        now = outcome.stamp
        unwritten = outcome.unwritten
        if outcome.in_doubt is not None and not outcome.in_doubt.kept(run):
            unwritten = outcome.in_doubt.reports.followed_by(unwritten)
        if outcome.handed_back:
            unwritten = Unwritten(logs=[*unwritten.logs, (now, "stderr", HANDED_BACK)],
                                  artifacts=unwritten.artifacts,
                                  dropped_lines=unwritten.dropped_lines)
        note_progress(run, unwritten, self.clock.now())
        if outcome.handed_back:
            run.release(now)
        elif outcome.error is None and outcome.result is not None:
            run.succeed(outcome.result, now, outcome.executed_as)
        else:
            run.fail(outcome.error or "the run ended without a result", now)
        try:
            uow.runs.update(run)
        except ConcurrencyConflict:
            if not guarded:
                raise
            return False
        add_records(uow, run.id, unwritten)
        if outcome.handed_back:
            back_to_queue(uow, [run])
            uow.dispatch_runs([run.id])
        else:
            ended.append(run)
        return True

    def _store_result(self, run: Run, value: Any) -> Payload:
        """Store the result under a key of its own attempt: a late attempt's result never
        overwrites the one kept."""
        try:
            encoded = codec.encode(value)
        except SimdockError as exc:
            raise ExecutionError(
                f"the handler returned a result that cannot be stored: {exc}") from exc
        return self.payloads.store(blob_keys.run_result(run.id, run.attempts), encoded)


def _keep_what_it_left(context: ExecutionContext) -> None:
    """A failed run keeps the files it left (its logs, partial outputs): they say why it
    failed. Keeping them must not hide the failure itself."""
    try:
        context.collect_workdir()
    except (SimdockError, OSError) as exc:
        log.warning("could not keep the files run %s left: %s", context.run_id, exc)


def _recorded_already(stored: Run, outcome: Outcome) -> bool:
    """Whether an earlier try, whose commit went unanswered, recorded ``outcome``: the run
    has its result, or was finished (or queued again) at the outcome's own time."""
    if outcome.result is not None and stored.result == outcome.result:
        return True
    return stored.status is not RunStatus.RUNNING and stored.updated_at == outcome.stamp
