"""Dispatches collected by a unit of work are sent after it commits, and never otherwise."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from simdock.domain import RunStatus
from simdock.errors import ServiceUnavailable
from simdock.outbox import OutboxUnitOfWork
from simdock.platform import Platform
from simdock.usecases.submit import SubmitRun
from simdock_adapters.memory import MemoryStore, MemoryUnitOfWork
from tests.unit.fakes import make_platform, switchable


class Recording:
    """A sender that looks in the store when it is told to dispatch."""

    def __init__(self, platform: Platform | None = None) -> None:
        self.platform = platform
        self.sent: list[tuple[str, list[str]]] = []
        self.visible: list[bool] = []

    def dispatch_runs(self, run_ids: Sequence[str]) -> None:
        self.sent.append(("runs", list(run_ids)))
        if self.platform is not None:
            with self.platform.store() as uow:
                self.visible.append(all(uow.runs.get(r) is not None for r in run_ids))

    def dispatch_report(self, report_id: str) -> None:
        self.sent.append(("report", [report_id]))

    def bind(self, work: object) -> None:
        return None


def test_a_submissions_runs_are_sent_once_they_can_be_seen() -> None:
    sender = Recording()
    platform = make_platform(dispatcher=sender)
    sender.platform = platform
    submission = platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}))
    assert sender.sent == [("runs", submission.run_ids)]
    assert sender.visible == [True]


def test_nothing_is_sent_without_a_commit_or_after_a_rollback() -> None:
    store = MemoryStore()
    sender = Recording()
    with OutboxUnitOfWork(MemoryUnitOfWork(store), sender) as uow:
        uow.dispatch_runs(["run-1"])
    with OutboxUnitOfWork(MemoryUnitOfWork(store), sender) as uow:
        uow.dispatch_report("rpt-1")
        uow.rollback()
        uow.commit()
    assert sender.sent == []


def test_a_commit_that_fails_sends_nothing() -> None:
    class Failing(MemoryUnitOfWork):
        def commit(self) -> None:
            raise ServiceUnavailable("the store went away")

    sender = Recording()
    with pytest.raises(ServiceUnavailable), \
            OutboxUnitOfWork(Failing(MemoryStore()), sender) as uow:
        uow.dispatch_runs(["run-1"])
        uow.commit()
    assert sender.sent == []


def test_a_submission_refused_by_the_store_sends_nothing() -> None:
    sender = Recording()
    platform = make_platform(dispatcher=sender)
    sender.platform = platform
    working = switchable(platform).factory

    class FailsOnCommit(MemoryUnitOfWork):
        def commit(self) -> None:
            raise ServiceUnavailable("the store went away")

    switchable(platform).factory = lambda: FailsOnCommit(working().store)  # type: ignore[attr-defined]
    with pytest.raises(ServiceUnavailable):
        platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}))
    assert sender.sent == []
    with working() as uow:
        assert uow.runs.counts().get(RunStatus.QUEUED, 0) == 0


def test_dispatches_are_sent_once_the_unit_of_work_has_let_go_of_the_store() -> None:
    # Seen: an inline dispatch executed the run while the submitting unit of work still held
    # the memory store's lock; the handler's thread waited on it for good.
    seen: list[bool] = []

    class ExecutesElsewhere(Recording):
        def dispatch_runs(self, run_ids: Sequence[str]) -> None:
            def look() -> None:
                with platform.store() as uow:
                    seen.append(all(uow.runs.get(r) is not None for r in run_ids))

            worker = threading.Thread(target=look)
            worker.start()
            worker.join(5)
            assert not worker.is_alive(), "the store was still held by the sender's caller"

    platform = make_platform(dispatcher=ExecutesElsewhere())
    platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}))
    assert seen == [True]


class Failing:
    """A sender whose broker is away: every dispatch raises."""

    def __init__(self) -> None:
        self.tries = 0
        self.away = True

    def dispatch_runs(self, run_ids: Sequence[str]) -> None:
        self.tries += 1
        if self.away:
            raise ConnectionError("the broker hangs up")

    def dispatch_report(self, report_id: str) -> None:
        self.dispatch_runs([report_id])

    def bind(self, work: object) -> None:
        return None


def test_a_sender_that_fails_fails_no_submission_and_is_logged_once_while_it_lasts(
        caplog: pytest.LogCaptureFixture) -> None:
    # Seen before: the sender's error left the unit of work after its commit, so the
    # caller (an HTTP request) failed although the submission was stored.
    caplog.set_level("INFO", "simdock.outbox")
    sender = Failing()
    platform = make_platform(dispatcher=sender)
    submissions = [platform.submitting.submit_run(SubmitRun("usr-1", "echo", {"i": i}))
                   for i in range(20)]
    assert sender.tries == 20
    with platform.uow() as uow:
        stored = [uow.runs.get(s.run_ids[0]) for s in submissions]
    assert [r.status for r in stored if r is not None] == [RunStatus.QUEUED] * 20
    failures = [r for r in caplog.records if r.name == "simdock.outbox"]
    assert len(failures) == 1 and "the broker hangs up" in failures[0].getMessage()

    sender.away = False  # the broker is back
    platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}))
    ends = [r for r in caplog.records if r.name == "simdock.outbox"][1:]
    assert [r.getMessage() for r in ends] == ["dispatching committed work works again"]
