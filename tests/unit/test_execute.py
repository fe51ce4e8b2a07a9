"""Executing runs: outcomes, what runs emit, failures, timeouts and cancellation."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from simdock.domain import RunStatus
from simdock.errors import RunCancelled, RunTimedOut
from simdock.platform import Platform
from simdock.ports import RunContext
from simdock.usecases.submit import SubmitRun
from tests.unit.fakes import (
    FakeExecutor,
    QueueDispatcher,
    make_platform,
    switchable,
    work_of,
)


def run_one(platform: Platform, simulation_type: str, parameters: dict[str, Any] | None = None
            ) -> str:
    submission = platform.submitting.submit_run(
        SubmitRun("usr-1", simulation_type, parameters or {}))
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    return submission.run_ids[0]


def chatty(parameters: Mapping[str, Any], context: RunContext) -> Any:
    context.log("starting\nsecond line")
    for step in range(3):
        context.metric("loss", 1.0 / (step + 1))
        context(0.25 * (step + 1))
    context.artifact("notes/a.txt", b"hello")
    (context.workdir / "field.npy").write_bytes(b"npy")
    return {"array": np.linspace(0, 1, 5), "value": 2.5}


def test_a_successful_run_keeps_result_progress_logs_metrics_and_artifacts() -> None:
    platform = make_platform(FakeExecutor({"chatty": chatty}))
    run_id = run_one(platform, "chatty")
    run = platform.queries.get_run(run_id, "usr-1")
    assert run.status is RunStatus.SUCCEEDED and run.progress == 1.0 and run.attempts == 1
    result = platform.queries.decoded_result(run_id, "usr-1")
    np.testing.assert_allclose(result["array"], np.linspace(0, 1, 5))
    assert [line.message for line in platform.queries.run_logs(run_id, "usr-1")] == [
        "starting", "second line"]
    assert [a.name for a in platform.queries.run_artifacts(run_id, "usr-1")] == [
        "field.npy", "notes/a.txt"]
    _, content = platform.queries.artifact_content(run_id, "notes/a.txt", "usr-1")
    assert content == b"hello"

    series = platform.metrics.metric_series(run_id, "usr-1", "loss")
    assert [p.step for p in series.points] == [0, 1, 2] and series.complete


def test_a_handler_that_raises_fails_its_run_with_the_message() -> None:
    def boom(parameters: Mapping[str, Any], context: RunContext) -> Any:
        raise RuntimeError("the solver diverged")

    platform = make_platform(FakeExecutor({"boom": boom, "echo": lambda p, c: {"ok": 1}}))
    failed = platform.submitting.submit_run(SubmitRun("usr-1", "boom", {})).run_ids[0]
    fine = platform.submitting.submit_run(SubmitRun("usr-1", "echo", {})).run_ids[0]
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    run = platform.queries.get_run(failed, None)
    assert run.status is RunStatus.FAILED and "the solver diverged" in (run.error or "")
    assert platform.queries.get_run(fine, None).status is RunStatus.SUCCEEDED


def test_a_result_that_cannot_be_stored_fails_the_run_clearly() -> None:
    platform = make_platform(FakeExecutor({"bad": lambda p, c: {"s": {1, 2}}}))
    run = platform.queries.get_run(run_one(platform, "bad"), None)
    assert run.status is RunStatus.FAILED and "cannot be stored" in (run.error or "")


def test_a_timeout_fails_the_run_naming_the_limit() -> None:
    def slow(parameters: Mapping[str, Any], context: RunContext) -> Any:
        raise RunTimedOut("run exceeded its time limit of 1 s")

    platform = make_platform(FakeExecutor({"slow": slow}))
    run = platform.queries.get_run(run_one(platform, "slow"), None)
    assert run.status is RunStatus.FAILED and "time limit" in (run.error or "")


def test_executing_twice_executes_once() -> None:
    executor = FakeExecutor({"echo": lambda p, c: {}})
    platform = make_platform(executor)
    run_id = run_one(platform, "echo")
    assert work_of(platform).executing.execute_run(run_id) is None
    assert executor.executed == [run_id]


def test_a_run_cancelled_while_queued_is_never_executed() -> None:
    executor = FakeExecutor({"echo": lambda p, c: {}})
    platform = make_platform(executor)
    submission = platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}))
    assert platform.cancelling.cancel_job(submission.job.id, "usr-1") == submission.run_ids
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    assert executor.executed == []
    assert platform.queries.get_job(submission.job.id, None).status is RunStatus.CANCELLED


def test_a_run_cancelled_while_running_stays_cancelled_and_its_result_is_dropped() -> None:
    started, release = threading.Event(), threading.Event()

    def waits(parameters: Mapping[str, Any], context: RunContext) -> Any:
        started.set()
        release.wait(5)
        return {"value": 1}

    platform = make_platform(FakeExecutor({"waits": waits}))
    run_id = platform.submitting.submit_run(SubmitRun("usr-1", "waits", {})).run_ids[0]
    worker = threading.Thread(target=work_of(platform).executing.execute_run, args=(run_id,))
    worker.start()
    assert started.wait(5)
    assert platform.cancelling.cancel_run(run_id, "usr-1")
    release.set()
    worker.join(5)
    run = platform.queries.get_run(run_id, None)
    assert run.status is RunStatus.CANCELLED and run.result is None


def test_a_cancelled_run_stops_at_its_next_progress_report() -> None:
    reached = []
    started = threading.Event()

    def loops(parameters: Mapping[str, Any], context: RunContext) -> Any:
        started.set()
        for i in range(1000):
            context(i / 1000)
            reached.append(i)
            time.sleep(0.005)
        return {}

    platform = make_platform(FakeExecutor({"loops": loops}))
    run_id = platform.submitting.submit_run(SubmitRun("usr-1", "loops", {})).run_ids[0]
    worker = threading.Thread(target=work_of(platform).executing.execute_run, args=(run_id,))
    worker.start()
    assert started.wait(5)
    platform.cancelling.cancel_run(run_id, "usr-1")
    worker.join(5)
    assert not worker.is_alive() and len(reached) < 1000
    assert platform.queries.get_run(run_id, None).status is RunStatus.CANCELLED


def test_cancel_from_elsewhere_is_noticed_through_the_repository() -> None:
    """A cancel in another process reaches the run at its next progress flush."""
    def loops(parameters: Mapping[str, Any], context: RunContext) -> Any:
        for i in range(1000):
            if i == 10:
                with platform.uow() as uow:  # what another process's cancel does
                    run = uow.runs.get(context.run_id)
                    assert run is not None
                    run.cancel(platform.clock.now())
                    uow.runs.update(run)
                    uow.commit()
            context(i / 1000)
        return {}

    platform = make_platform(FakeExecutor({"loops": loops}))
    run = platform.queries.get_run(run_one(platform, "loops"), None)
    assert run.status is RunStatus.CANCELLED


def test_cancelling_a_finished_job_changes_nothing() -> None:
    platform = make_platform()
    run_id = run_one(platform, "echo")
    run = platform.queries.get_run(run_id, None)
    assert platform.cancelling.cancel_job(run.job_id, "usr-1") == []
    assert not platform.cancelling.cancel_run(run_id, "usr-1")
    assert platform.queries.get_run(run_id, None).status is RunStatus.SUCCEEDED


def test_raising_run_cancelled_inside_a_handler_ends_the_run() -> None:
    def stops(parameters: Mapping[str, Any], context: RunContext) -> Any:
        raise RunCancelled("stopped")

    platform = make_platform(FakeExecutor({"stops": stops}))
    run = platform.queries.get_run(run_one(platform, "stops"), None)
    assert run.status is RunStatus.FAILED and run.error == "stopped"


@pytest.mark.parametrize("name", ["../escape", "/abs", "a/../../b", ""])
def test_artifact_names_cannot_escape(name: str) -> None:
    def writes(parameters: Mapping[str, Any], context: RunContext) -> Any:
        context.artifact(name, b"x")
        return {}

    platform = make_platform(FakeExecutor({"writes": writes}))
    run = platform.queries.get_run(run_one(platform, "writes"), None)
    assert run.status is RunStatus.FAILED and "invalid artifact name" in (run.error or "")


def test_files_with_awkward_names_are_kept_under_safe_names() -> None:
    def writes(parameters: Mapping[str, Any], context: RunContext) -> Any:
        (context.workdir / "final result.csv").write_text("x")
        (context.workdir / "a..b").write_text("y")
        return {}

    platform = make_platform(FakeExecutor({"writes": writes}))
    run_id = run_one(platform, "writes")
    assert platform.queries.get_run(run_id, None).status is RunStatus.SUCCEEDED
    assert [a.name for a in platform.queries.run_artifacts(run_id, None)] == [
        "a_b", "final_result.csv"]


def test_a_log_that_cannot_be_written_fails_the_run_instead_of_leaving_it_running() -> None:
    def logs(parameters: Mapping[str, Any], context: RunContext) -> Any:
        context.log("hello", stream="a-stream-name-that-is-too-long")
        return {}

    platform = make_platform(FakeExecutor({"logs": logs}))
    run = platform.queries.get_run(run_one(platform, "logs"), None)
    assert run.status is RunStatus.FAILED and "stream name" in (run.error or "")


def test_a_closed_platform_stops_holding_outcomes_the_store_cannot_take() -> None:
    # Seen: a worker whose platform was closed under it retried recording forever.
    from simdock.errors import ServiceUnavailable

    store_down = threading.Event()

    def closes_under_itself(parameters: Mapping[str, Any], context: RunContext) -> Any:
        store_down.set()
        platform.close()
        return {}

    platform = make_platform(FakeExecutor({"closes": closes_under_itself}))
    platform.submitting.submit_run(SubmitRun("usr-1", "closes", {}))
    working = switchable(platform).factory

    def uow() -> Any:
        if store_down.is_set():
            raise ServiceUnavailable("the store is closed")
        return working()

    switchable(platform).factory = uow
    done: list[int] = []
    work = work_of(platform)
    worker = threading.Thread(target=lambda: done.append(work.execute_next()), daemon=True)
    worker.start()
    worker.join(5.0)

    assert done == [1]
