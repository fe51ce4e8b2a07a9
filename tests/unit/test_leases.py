"""Leases: a lost worker's runs are taken back, only the holding attempt writes."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from simdock.clock import ManualClock
from simdock.domain import Run, RunStatus
from simdock.domain.worker import WorkerBeat
from simdock.errors import RunCancelled, ServiceUnavailable
from simdock.platform import Platform
from simdock.ports import RunContext
from simdock.selection import RunQuery
from simdock.usecases.submit import SubmitRun
from simdock_adapters.memory import MemoryUnitOfWork
from tests.unit.fakes import (
    FakeExecutor,
    QueueDispatcher,
    execution_of,
    make_platform,
    switchable,
    work_of,
)


def clock(platform: Platform) -> ManualClock:
    assert isinstance(platform.clock, ManualClock)
    return platform.clock


def submitted(platform: Platform, simulation_type: str = "echo") -> str:
    return platform.submitting.submit_run(SubmitRun("usr-1", simulation_type, {})).run_ids[0]


def stored(platform: Platform, run_id: str) -> Run:
    with platform.uow() as uow:
        run = uow.runs.get(run_id)
    assert run is not None
    return run


def claim_and_die(platform: Platform, run_id: str, worker: str = "dead:1") -> Run:
    """A worker elsewhere claims the run and is never heard of again."""
    now = platform.clock.now()
    with platform.uow() as uow:
        run = uow.runs.claim(run_id, worker, now,
                             now + timedelta(seconds=platform.limits.lease_seconds))
        uow.commit()
    assert run is not None
    return run


def take_back(platform: Platform, run_id: str) -> None:
    """Another process takes the run back from this one (whose lease lapsed)."""
    with platform.uow() as uow:
        run = uow.runs.get(run_id)
        assert run is not None
        run.requeue(platform.clock.now())
        uow.runs.update(run)
        uow.commit()


def test_a_lost_workers_run_is_queued_again_and_done_by_another() -> None:
    platform = make_platform()
    run_id = submitted(platform)
    claim_and_die(platform, run_id)

    clock(platform).advance(platform.limits.lease_seconds - 1)
    assert work_of(platform).leases.heartbeat() == []
    clock(platform).advance(2)
    assert work_of(platform).leases.heartbeat() == [run_id]
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()

    run = stored(platform, run_id)
    assert (run.status, run.attempts, run.worker) == (RunStatus.SUCCEEDED, 2, "local")
    assert run.lease_expires_at is None


def test_a_run_lost_too_often_fails_saying_so_and_later_losses_wait_longer() -> None:
    platform = make_platform()
    run_id = submitted(platform)
    lease = platform.limits.lease_seconds
    claim_and_die(platform, run_id)
    clock(platform).advance(lease + 0.1)
    # the first loss: queued again at once
    assert work_of(platform).leases.recover_lapsed() == [run_id]

    claim_and_die(platform, run_id)
    clock(platform).advance(lease + 0.1)
    assert work_of(platform).leases.recover_lapsed() == []  # the second: after 2 s more
    clock(platform).advance(2)
    assert work_of(platform).leases.recover_lapsed() == [run_id]

    claim_and_die(platform, run_id)
    clock(platform).advance(lease + 0.1)
    assert work_of(platform).leases.recover_lapsed() == []
    run = stored(platform, run_id)
    assert (run.status, run.error, run.attempts) == (RunStatus.FAILED,
                                                     "worker lost 3 times", 3)


class AnswerLost(MemoryUnitOfWork):
    """A store that commits, and whose answer never reaches the worker."""

    def commit(self) -> None:
        super().commit()
        raise ServiceUnavailable("the connection dropped while committing")


@pytest.mark.parametrize("claim", [
    lambda run_id, platform: work_of(platform).execute_next(),
    lambda run_id, platform: work_of(platform).executing.execute_run(run_id),
], ids=["next queued", "by id"])
def test_a_claim_committed_unknown_to_its_worker_is_queued_again_without_an_attempt(
        claim: Any) -> None:
    # Seen: with PostgreSQL cut under a worker, a claim committed as the connection
    # dropped was left running by no one until its lease lapsed: executed twice.
    platform = make_platform()
    run_id = submitted(platform)
    working = switchable(platform).factory
    switchable(platform).factory = lambda: AnswerLost(working().store)  # type: ignore[attr-defined]
    with pytest.raises(ServiceUnavailable):
        claim(run_id, platform)
    switchable(platform).factory = working
    run = stored(platform, run_id)
    assert (run.status, run.worker, run.attempts) == (RunStatus.RUNNING, "local", 1)

    # the store answers again: the claim is undone
    assert work_of(platform).leases.heartbeat() == [run_id]
    run = stored(platform, run_id)
    assert (run.status, run.worker, run.attempts) == (RunStatus.QUEUED, None, 0)
    assert work_of(platform).leases.heartbeat() == []
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    run = stored(platform, run_id)
    assert (run.status, run.attempts) == (RunStatus.SUCCEEDED, 1)


def test_an_unconfirmed_claim_taken_back_meanwhile_is_left_to_its_new_holder() -> None:
    platform = make_platform()
    run_id = submitted(platform)
    working = switchable(platform).factory
    switchable(platform).factory = lambda: AnswerLost(working().store)  # type: ignore[attr-defined]
    with pytest.raises(ServiceUnavailable):
        work_of(platform).execute_next()
    switchable(platform).factory = working
    clock(platform).advance(platform.limits.lease_seconds + 1)
    # the store stayed away past the lease
    assert work_of(platform).leases.recover_lapsed() == [run_id]
    claim_and_die(platform, run_id, "other:2")

    assert work_of(platform).leases.heartbeat() == []
    run = stored(platform, run_id)
    assert (run.status, run.worker, run.attempts) == (RunStatus.RUNNING, "other:2", 2)
    assert execution_of(platform).held.unconfirmed_snapshot() == {}


def test_a_worker_that_beats_keeps_its_long_run() -> None:
    def long(parameters: Mapping[str, Any], context: RunContext) -> Any:
        for _ in range(4):  # 4 x 8 s: far beyond one lease, renewed at every beat
            clock(platform).advance(8)
            work_of(platform).leases.heartbeat()
        return {"done": True}

    platform = make_platform(FakeExecutor({"long": long}))
    run_id = submitted(platform, "long")
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()

    run = stored(platform, run_id)
    assert (run.status, run.attempts) == (RunStatus.SUCCEEDED, 1)


def test_an_attempt_taken_back_writes_nothing_and_its_result_is_not_kept() -> None:
    def overtaken(parameters: Mapping[str, Any], context: RunContext) -> Any:
        # Meanwhile this worker's lease lapsed and another process took the run back and
        # gave it to another worker.
        clock(platform).advance(platform.limits.lease_seconds + 1)
        take_back(platform, context.run_id)
        claim_and_die(platform, context.run_id, "other:2")
        context.log("a late line")
        context.metric("loss", 1.0)
        context.flush()  # type: ignore[attr-defined]
        assert context.cancelled
        return {"late": "x" * 200_000}  # a blob, not inline

    platform = make_platform(FakeExecutor({"overtaken": overtaken}))
    run_id = submitted(platform, "overtaken")

    assert work_of(platform).executing.execute_run(run_id) is RunStatus.RUNNING

    run = stored(platform, run_id)
    assert (run.status, run.worker, run.attempts, run.result) == (
        RunStatus.RUNNING, "other:2", 2, None)
    with platform.uow() as uow:
        assert uow.logs.list(run_id) == [] and uow.metrics.list(run_id) == []
    assert platform.blobs.list(f"runs/{run_id}/") == []
    assert execution_of(platform).held.snapshot() == {}


def test_a_cancel_made_elsewhere_reaches_the_handler_at_the_next_beat() -> None:
    started, stopped = threading.Event(), threading.Event()

    def waits(parameters: Mapping[str, Any], context: RunContext) -> Any:
        started.set()
        for _ in range(500):
            if context.cancelled:
                stopped.set()
                return None
            threading.Event().wait(0.01)
        return {}

    platform = make_platform(FakeExecutor({"waits": waits}))
    run_id = submitted(platform, "waits")
    worker = threading.Thread(target=work_of(platform).executing.execute_run, args=(run_id,))
    worker.start()
    assert started.wait(5)
    run = stored(platform, run_id)
    run.cancel(platform.clock.now())  # as another process's API would: the store only
    with platform.uow() as uow:
        uow.runs.update(run)
        uow.commit()

    assert work_of(platform).leases.renew_leases() == {run_id}
    assert stopped.wait(5)
    worker.join(5)
    assert stored(platform, run_id).status is RunStatus.CANCELLED


def test_a_stale_attempts_artifact_never_replaces_the_current_attempts_bytes() -> None:
    # Seen: the artifact's bytes were written under the run's key before the holder was
    # checked, so a stale attempt overwrote what the current attempt had kept.

    platform = make_platform()
    run_id = submitted(platform)
    first = claim_and_die(platform, run_id, "first:1")
    clock(platform).advance(platform.limits.lease_seconds + 1)
    work_of(platform).leases.recover_lapsed()
    second = claim_and_die(platform, run_id, "second:2")
    stale = platform.recording.context(run_id, first.job_id, first.attempts, "first:1")
    current = platform.recording.context(run_id, second.job_id, second.attempts, "second:2")

    current.artifact("out.txt", b"current")
    with pytest.raises(RunCancelled):
        stale.artifact("out.txt", b"stale")

    with platform.uow() as uow:
        kept = uow.artifacts.get(run_id, "out.txt")
    assert kept is not None and platform.blobs.get(kept.blob_key) == b"current"
    assert platform.blobs.list(f"runs/{run_id}/") == [kept.blob_key]
    assert stale.cancelled


def test_each_heartbeat_says_in_the_store_who_beats_where_and_how_busy() -> None:
    platform = make_platform()
    execution = execution_of(platform)
    execution.slots, execution.queues = 3, ("simulations",)
    started = platform.clock.now()
    work_of(platform).leases.heartbeat()
    clock(platform).advance(30)
    with platform.uow() as uow:  # a worker elsewhere, silent for more than a day
        uow.workers.beat(WorkerBeat("gone:9", "gone", started, started - timedelta(days=2),
                                    0, 1))
        uow.commit()
    claim_and_die(platform, submitted(platform), execution.worker_name)
    execution.held.hold([stored(platform, run.id) for run in platform.queries.list_runs(
        RunQuery(owner_id="usr-1")).items])

    work_of(platform).leases.heartbeat()

    with platform.uow() as uow:
        workers = uow.workers.since(started - timedelta(days=3))
    assert workers == [WorkerBeat(
        execution.worker_name, execution.worker_name.rsplit(":", 1)[0], started,
        started + timedelta(seconds=30), held=1, slots=3, queues=("simulations",))]
