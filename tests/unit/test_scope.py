"""A scope's use cases share one unit of work: commits land, leftovers are rolled back."""

from __future__ import annotations

import threading

import pytest

from simdock.domain import Machine, RunStatus
from simdock.errors import NotFound
from simdock.repositories import UnitOfWork
from simdock.usecases.submit import SubmitRun
from tests.unit.fakes import make_platform


def test_use_cases_in_a_scope_share_one_unit_of_work() -> None:
    platform = make_platform()
    opened = []
    base_factory = platform.store

    def counting() -> UnitOfWork:
        opened.append(1)
        return base_factory()

    platform = make_platform(store=counting)
    with platform.units.scope():
        submission = platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}))
        platform.queries.get_job(submission.job.id, "usr-1")
        platform.queries.get_run(submission.run_ids[0], "usr-1")
    assert len(opened) == 1
    assert platform.queries.get_run(submission.run_ids[0], None).status is RunStatus.QUEUED
    assert len(opened) == 2  # outside the scope, a block opens its own


def test_what_is_left_uncommitted_is_rolled_back_when_the_scope_ends() -> None:
    platform = make_platform()
    with platform.units.scope(), platform.uow() as uow:
        uow.machines.add(Machine("mach-1", "m", "cpu", None, 1.0, platform.clock.now()))
    with platform.uow() as uow:
        assert uow.machines.get("mach-1") is None


def test_an_error_in_a_block_rolls_back_and_the_scope_goes_on() -> None:
    platform = make_platform()
    with platform.units.scope():
        with pytest.raises(NotFound):
            platform.queries.get_run("run-missing", "usr-1")
        submission = platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}))
    assert platform.queries.get_job(submission.job.id, "usr-1").job.run_count == 1


def test_between_blocks_the_store_is_free_for_others() -> None:
    platform = make_platform()
    with platform.units.scope():
        platform.queries.statistics(None)
        done = threading.Event()

        def elsewhere() -> None:
            with platform.uow() as uow:
                uow.commit()
            done.set()

        worker = threading.Thread(target=elsewhere)
        worker.start()
        assert done.wait(2), "a finished block still holds the store"
        worker.join()
        platform.queries.statistics(None)


def test_a_scope_is_its_threads_alone() -> None:
    platform = make_platform()
    seen: list[UnitOfWork] = []

    def elsewhere() -> None:
        with platform.uow() as uow:
            seen.append(uow._entered)

    with platform.units.scope():
        with platform.uow() as uow:
            inside = uow._entered
        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()
    assert seen and seen[0] is not inside


def test_work_a_dispatcher_executes_in_the_callers_thread_is_outside_its_scope() -> None:
    # An inline dispatch executes the run then and there, in the request's thread: the
    # run's own units of work must not join the request's scope (its one connection).
    from simdock_adapters.dispatch.inline import InlineDispatcher

    store_of = make_platform().store
    opened: list[int] = []

    def counting() -> UnitOfWork:
        opened.append(1)
        return store_of()

    dispatcher = InlineDispatcher(heartbeat_seconds=60)
    platform = make_platform(store=counting, dispatcher=dispatcher)
    try:
        with platform.units.scope():
            submission = platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}))
            in_scope = len(opened)
        assert in_scope > 1, "the inline execution joined the request's unit of work"
        run = platform.queries.get_run(submission.run_ids[0], "usr-1")
        assert run.status is RunStatus.SUCCEEDED
    finally:
        dispatcher.close()
