"""The store going away under executing runs: nothing they report is lost, nothing re-runs.

Seen with PostgreSQL cut for 10 s and 60 s under a sweep: runs failed for good with
"cannot reach the database", runs whose workers were alive were executed twice, and a
run lost the metric points it reported last.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import pytest

from simdock.domain import MetricPoint, Run, RunStatus
from simdock.errors import ServiceUnavailable
from simdock.platform import Platform
from simdock.ports import RunContext
from simdock.repositories import UnitOfWork
from simdock.usecases.submit import SubmitRun
from simdock_adapters.memory import MemoryStore, MemoryUnitOfWork
from tests.unit.fakes import FakeExecutor, execution_of, make_platform, switchable, work_of
from tests.unit.test_leases import claim_and_die, clock, stored, submitted


class Unreachable(MemoryUnitOfWork):
    """A store that cannot be reached: every unit of work fails as it begins."""

    def __enter__(self) -> Unreachable:
        raise ServiceUnavailable("the database is unavailable", "connection refused")


class Switch:
    """The platform's store, which a test takes away and brings back."""

    def __init__(self, platform: Platform) -> None:
        self.store = switchable(platform)
        self.working = self.store.factory

    def down(self) -> None:
        store: MemoryStore = self.working().store  # type: ignore[attr-defined]
        self.store.factory = lambda: Unreachable(store)

    def up(self) -> None:
        self.store.factory = self.working


def claimed(platform: Platform, run_id: str) -> Run:
    """The run, claimed by this process as its worker does before executing it."""
    with platform.uow() as uow:
        run = uow.runs.claim(run_id, execution_of(platform).worker_name, platform.clock.now(),
                             work_of(platform).leases.lease_until())
        uow.commit()
    assert run is not None
    execution_of(platform).held.hold([run])
    return run


def reporting(during: Callable[[], None]) -> Callable[[Mapping[str, Any], RunContext], Any]:
    """A handler reporting five ticks, calling ``during`` after the second."""

    def handler(parameters: Mapping[str, Any], context: RunContext) -> Any:
        for tick in range(5):
            context.log(f"tick {tick}")
            context.metric("tick", float(tick), tick)
            context.progress((tick + 1) / 5)
            if tick == 1:
                during()
        return {"ticks": 5}

    return handler


def test_what_a_run_reports_while_the_store_is_away_is_kept_and_it_succeeds() -> None:
    switch: Switch | None = None

    def outage() -> None:
        assert switch is not None
        switch.down()

    platform = make_platform(FakeExecutor({"ticks": reporting(outage)}))
    switch = Switch(platform)
    run_id = platform.submitting.submit_run(SubmitRun("usr-1", "ticks", {})).run_ids[0]
    run = claimed(platform, run_id)

    # the store goes away after the second tick
    outcome = work_of(platform).executing.execute_claimed(run)
    assert (outcome.error, outcome.handed_back) == (None, False)
    assert len(outcome.unwritten.logs) == 3 and len(outcome.unwritten.metrics) == 3

    switch.up()
    assert work_of(platform).executing.record_outcomes([outcome]) == [RunStatus.SUCCEEDED]
    with platform.uow() as uow:
        assert [line.message for line in uow.logs.list(run_id)] == [
            f"tick {tick}" for tick in range(5)]
        assert [(p.step, p.value) for p in uow.metrics.list(run_id)] == [
            (tick, float(tick)) for tick in range(5)]
    finished = stored(platform, run_id)
    assert (finished.status, finished.attempts, finished.progress) == (
        RunStatus.SUCCEEDED, 1, 1.0)


def needs_inputs(parameters: Mapping[str, Any], context: RunContext) -> Any:
    return {"inputs": sorted(path.name for path in context.inputs.iterdir())}


@pytest.mark.parametrize("needed", ["parameters", "inputs"])
def test_a_run_that_cannot_read_what_it_needs_goes_back_to_the_queue_uncounted(
        needed: str) -> None:
    platform = make_platform(FakeExecutor({"echo": needs_inputs}))
    switch = Switch(platform)
    run_id = submitted(platform)
    if needed == "parameters":
        platform.specs.clear()  # read from the store, not remembered from submission
    run = claimed(platform, run_id)
    switch.down()

    # its parameters cannot be read
    outcome = work_of(platform).executing.execute_claimed(run)

    assert (outcome.handed_back, outcome.error) == (True, None)
    switch.up()
    assert work_of(platform).executing.record_outcomes([outcome]) == [RunStatus.QUEUED]
    again = stored(platform, run_id)
    assert (again.status, again.attempts, again.worker, again.error) == (
        RunStatus.QUEUED, 0, None, None)
    assert work_of(platform).executing.execute_run(run_id) is RunStatus.SUCCEEDED
    assert stored(platform, run_id).attempts == 1


def test_after_an_outage_runs_are_taken_back_only_once_the_store_was_reached_for_a_lease(
        ) -> None:
    platform = make_platform()
    switch = Switch(platform)
    lost, alive = submitted(platform), submitted(platform)
    claim_and_die(platform, lost)
    with platform.uow() as uow:  # another process's platform, sharing the store
        held = uow.runs.claim(alive, "alive:2", platform.clock.now(),
                              work_of(platform).leases.lease_until())
        uow.commit()
    assert held is not None
    lease = platform.limits.lease_seconds

    switch.down()
    clock(platform).advance(60)  # an outage six leases long: every lease lapses
    try:
        work_of(platform).leases.heartbeat()
    except ServiceUnavailable:
        pass
    else:
        raise AssertionError("the store was away")
    switch.up()

    assert work_of(platform).leases.heartbeat() == []  # back: nothing is taken back yet
    clock(platform).advance(1)
    with platform.uow() as uow:  # the live worker's first beat since the store came back
        assert uow.runs.renew("alive:2", {alive: 1},
                              platform.clock.now() + timedelta(seconds=lease)) == {alive}
        uow.commit()
    clock(platform).advance(lease - 2)
    assert work_of(platform).leases.heartbeat() == []
    clock(platform).advance(1.5)
    # silent for a lease while the store answered
    assert work_of(platform).leases.heartbeat() == [lost]
    assert stored(platform, alive).worker == "alive:2"


def test_a_run_queued_again_starts_its_metric_series_afresh() -> None:
    # Seen after kill -9 of a worker: 154 points for 100 steps, the dead attempt's beside
    # the new one's.
    platform = make_platform()
    run_id = submitted(platform)
    dead = claim_and_die(platform, run_id)
    with platform.uow() as uow:
        uow.metrics.append([MetricPoint(run_id, "loss", step, 9.0, platform.clock.now())
                            for step in range(3)])
        uow.commit()
    clock(platform).advance(platform.limits.lease_seconds + 1)

    assert work_of(platform).leases.heartbeat() == [run_id]

    with platform.uow() as uow:
        assert uow.metrics.list(run_id) == []
    assert dead.attempts == 1


def test_a_retried_run_starts_its_metric_series_afresh() -> None:
    def fails(parameters: Mapping[str, Any], context: RunContext) -> Any:
        context.metric("loss", 1.0, 0)
        raise RuntimeError("diverged")

    platform = make_platform(FakeExecutor({"fails": fails}))
    run_id = submitted(platform, "fails")
    assert work_of(platform).executing.execute_run(run_id) is RunStatus.FAILED
    with platform.uow() as uow:
        assert len(uow.metrics.list(run_id)) == 1

    platform.retrying.retry_runs([run_id], None)

    run: Run = stored(platform, run_id)
    assert run.status is RunStatus.QUEUED
    with platform.uow() as uow:
        assert uow.metrics.list(run_id) == []


def losing(store: MemoryStore, lose: list[bool], kept: bool) -> Callable[[], UnitOfWork]:
    """Units of work whose commit, each time ``lose`` holds an entry, is answered by a
    dropped connection: after the commit was made (``kept``), or before."""

    class Losing(MemoryUnitOfWork):
        def commit(self) -> None:
            if lose:
                lose.pop()
                if kept:
                    super().commit()
                raise ServiceUnavailable("the connection dropped while committing")
            super().commit()

    return lambda: Losing(store)


@pytest.mark.parametrize("kept", [True, False], ids=["commit made", "commit not made"])
def test_a_write_whose_commit_went_unanswered_is_neither_repeated_nor_lost(kept: bool
                                                                           ) -> None:
    # Seen: after a cut, a run had its last metric point twice: the write had been kept,
    # its answer lost, and it was written again.
    lose: list[bool] = []

    def ticks(parameters: Mapping[str, Any], context: RunContext) -> Any:
        for tick in range(4):
            context.log(f"tick {tick}")
            context.metric("tick", float(tick), tick)
            if tick == 1:
                lose.append(True)  # this tick's write is answered by a dropped connection
            context.flush()  # type: ignore[attr-defined]
        return {}

    platform = make_platform(FakeExecutor({"ticks": ticks}))
    store: MemoryStore = platform.store().store  # type: ignore[attr-defined]
    switchable(platform).factory = losing(store, lose, kept)
    run_id = submitted(platform, "ticks")

    assert work_of(platform).executing.execute_run(run_id) is RunStatus.SUCCEEDED

    with platform.uow() as uow:
        assert [line.message for line in uow.logs.list(run_id)] == [
            f"tick {tick}" for tick in range(4)]
        assert [p.step for p in uow.metrics.list(run_id)] == [0, 1, 2, 3]


@pytest.mark.parametrize("kept", [True, False], ids=["commit made", "commit not made"])
def test_an_outcome_whose_commit_went_unanswered_is_recorded_once(kept: bool) -> None:
    def fails(parameters: Mapping[str, Any], context: RunContext) -> Any:
        switch.down()  # what it reports last is unwritten: it goes with the outcome
        context.log("about to fail")
        context.artifact("partial.txt", b"so far")
        raise RuntimeError("diverged")

    platform = make_platform(FakeExecutor({"fails": fails}))
    switch = Switch(platform)
    store: MemoryStore = platform.store().store  # type: ignore[attr-defined]
    lose: list[bool] = []

    run_id = submitted(platform, "fails")
    run = claimed(platform, run_id)
    outcome = work_of(platform).executing.execute_claimed(run)
    assert outcome.unwritten.logs and outcome.unwritten.artifacts
    switchable(platform).factory = losing(store, lose, kept)
    lose.append(True)

    with pytest.raises(ServiceUnavailable):
        work_of(platform).executing.record_outcomes([outcome])
    assert work_of(platform).executing.record_outcomes([outcome]) == [RunStatus.FAILED]

    failed = stored(platform, run_id)
    assert (failed.status, failed.error) == (RunStatus.FAILED, "RuntimeError: diverged")
    with platform.uow() as uow:
        kept_file = uow.artifacts.get(run_id, "partial.txt")
        assert kept_file is not None and platform.blobs.get(kept_file.blob_key) == b"so far"
        assert [line.message for line in uow.logs.list(run_id)].count("about to fail") == 1


def test_what_a_run_reported_as_it_was_cancelled_is_kept() -> None:
    # Seen: a stopped run's own log lost the lines its handler wrote last.
    def stopped(parameters: Mapping[str, Any], context: RunContext) -> Any:
        context.log("before")
        with platform.uow() as uow:  # cancelled through another process: the store only
            run = uow.runs.get(context.run_id)
            assert run is not None
            run.cancel(platform.clock.now())
            uow.runs.update(run)
            uow.commit()
        context.log("after")  # reported before the attempt learns of the cancel: kept
        assert context.cancelled
        context.log("later")  # reported once it knew: not kept
        context.metric("loss", 0.5, 0)
        context.progress(0.5)
        return {}

    platform = make_platform(FakeExecutor({"stopped": stopped}))
    run_id = submitted(platform, "stopped")

    assert work_of(platform).executing.execute_run(run_id) is RunStatus.CANCELLED

    with platform.uow() as uow:
        assert [line.message for line in uow.logs.list(run_id)] == ["before", "after"]
        assert uow.metrics.list(run_id) == []


def test_a_process_never_takes_back_a_run_it_is_executing() -> None:
    # Seen on SQLite held by another writer for 10 s: a beat's renewal waited out the
    # lock, leaving out a run claimed meanwhile, and the same beat took that run back
    # from its own live worker: executed twice.
    platform = make_platform()
    run_id = submitted(platform)
    claimed(platform, run_id)
    clock(platform).advance(platform.limits.lease_seconds + 5)

    assert work_of(platform).leases.recover_lapsed() == []

    assert stored(platform, run_id).status is RunStatus.RUNNING
    execution_of(platform).held.release([run_id])  # its worker is gone: now it is taken back
    assert work_of(platform).leases.recover_lapsed() == [run_id]
