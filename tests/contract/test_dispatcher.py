"""The Dispatcher contract: dispatched ids reach the bound workers, for every dispatcher.

Adapters come from ``DISPATCHER_ADAPTERS`` in ``tests/contract/adapters.py``.
The worker functions here only record the ids they were handed (thread-safe),
so the tests assert on what arrived, not on how.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from simdock.ports import Dispatcher
from tests.contract.adapters import DISPATCHER_ADAPTERS, apply_known_bugs

JOIN_TIMEOUT = 10.0


class Recorder:
    """Worker functions that record the ids they receive.

    ``fail_on`` ids raise after being recorded; ``block_on`` ids wait until
    :meth:`release` is called.
    """

    def __init__(self, fail_on: frozenset[str] = frozenset(),
                 block_on: frozenset[str] = frozenset()) -> None:
        self.fail_on = fail_on
        self.block_on = block_on
        self.released = threading.Event()
        self.blocked = threading.Event()
        self._lock = threading.Lock()
        self.runs: list[str] = []
        self.reports: list[str] = []

    def run_worker(self, run_id: str) -> None:
        self._handle(run_id, self.runs)

    def report_worker(self, report_id: str) -> None:
        self._handle(report_id, self.reports)

    def _handle(self, item: str, into: list[str]) -> None:
        if item in self.block_on:
            self.blocked.set()
            self.released.wait(JOIN_TIMEOUT)
        with self._lock:
            into.append(item)
        if item in self.fail_on:
            raise RuntimeError(f"worker failed on {item}")

    def release(self) -> None:
        self.released.set()

    def received_runs(self) -> list[str]:
        with self._lock:
            return list(self.runs)

    def received_reports(self) -> list[str]:
        with self._lock:
            return list(self.reports)


@pytest.fixture(params=list(DISPATCHER_ADAPTERS))
def dispatcher(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Dispatcher]:
    adapter_id: str = request.param
    apply_known_bugs(request, adapter_id)
    with DISPATCHER_ADAPTERS[adapter_id].make(tmp_path) as dispatcher:
        yield dispatcher


@pytest.fixture
def background(request: pytest.FixtureRequest, dispatcher: Dispatcher) -> bool:
    """Whether this dispatcher runs work outside the caller's thread."""
    return DISPATCHER_ADAPTERS[request.node.callspec.params["dispatcher"]].background


def bound(dispatcher: Dispatcher, recorder: Recorder) -> Dispatcher:
    dispatcher.bind(recorder.run_worker, recorder.report_worker)
    return dispatcher


def batches(ids: list[str], sizes: list[int]) -> Iterator[list[str]]:
    start = 0
    for size in sizes:
        yield ids[start:start + size]
        start += size
    assert start == len(ids)


# -- delivery --------------------------------------------------------------


def test_a_dispatched_run_reaches_the_run_worker(dispatcher: Dispatcher) -> None:
    recorder = Recorder()
    bound(dispatcher, recorder).dispatch_runs(["run-1"])

    assert dispatcher.join(JOIN_TIMEOUT)
    assert recorder.received_runs() == ["run-1"]
    assert recorder.received_reports() == []


def test_every_dispatched_run_reaches_the_run_worker_exactly_once(dispatcher: Dispatcher) -> None:
    recorder = Recorder()
    run_ids = [f"run-{i:03d}" for i in range(500)]
    bound(dispatcher, recorder)

    for batch in batches(run_ids, [1, 2, 47, 100, 150, 200]):
        dispatcher.dispatch_runs(batch)

    assert dispatcher.join(JOIN_TIMEOUT)
    received = Counter(recorder.received_runs())
    assert set(received) == set(run_ids)
    assert set(received.values()) == {1}


def test_an_empty_batch_dispatches_nothing(dispatcher: Dispatcher) -> None:
    recorder = Recorder()
    bound(dispatcher, recorder).dispatch_runs([])

    assert dispatcher.join(JOIN_TIMEOUT)
    assert recorder.received_runs() == []


def test_dispatched_reports_reach_the_report_worker_only(dispatcher: Dispatcher) -> None:
    recorder = Recorder()
    bound(dispatcher, recorder)

    for i in range(20):
        dispatcher.dispatch_report(f"rep-{i:02d}")

    assert dispatcher.join(JOIN_TIMEOUT)
    assert sorted(recorder.received_reports()) == [f"rep-{i:02d}" for i in range(20)]
    assert recorder.received_runs() == []


def test_runs_and_reports_dispatched_together_each_reach_their_worker(
    dispatcher: Dispatcher,
) -> None:
    recorder = Recorder()
    bound(dispatcher, recorder)

    for i in range(10):
        dispatcher.dispatch_runs([f"run-{i}a", f"run-{i}b"])
        dispatcher.dispatch_report(f"rep-{i}")

    assert dispatcher.join(JOIN_TIMEOUT)
    assert sorted(recorder.received_runs()) == sorted(
        f"run-{i}{s}" for i in range(10) for s in "ab")
    assert sorted(recorder.received_reports()) == sorted(f"rep-{i}" for i in range(10))


# -- failing workers -------------------------------------------------------


def test_a_run_worker_that_raises_for_one_id_does_not_stop_the_others(
    dispatcher: Dispatcher,
) -> None:
    recorder = Recorder(fail_on=frozenset({"run-02"}))
    bound(dispatcher, recorder)

    with contextlib.suppress(RuntimeError):
        dispatcher.dispatch_runs(["run-01", "run-02", "run-03"])
    with contextlib.suppress(RuntimeError):
        dispatcher.dispatch_runs(["run-04"])

    assert dispatcher.join(JOIN_TIMEOUT)
    assert sorted(recorder.received_runs()) == ["run-01", "run-02", "run-03", "run-04"]


def test_a_report_worker_that_raises_for_one_id_does_not_stop_the_others(
    dispatcher: Dispatcher,
) -> None:
    recorder = Recorder(fail_on=frozenset({"rep-1"}))
    bound(dispatcher, recorder)

    for report_id in ("rep-1", "rep-2", "rep-3"):
        with contextlib.suppress(RuntimeError):
            dispatcher.dispatch_report(report_id)

    assert dispatcher.join(JOIN_TIMEOUT)
    assert sorted(recorder.received_reports()) == ["rep-1", "rep-2", "rep-3"]


def test_dispatch_does_not_raise_when_a_worker_fails(dispatcher: Dispatcher) -> None:
    recorder = Recorder(fail_on=frozenset({"run-1", "rep-1"}))
    bound(dispatcher, recorder)

    dispatcher.dispatch_runs(["run-1"])
    dispatcher.dispatch_report("rep-1")

    assert dispatcher.join(JOIN_TIMEOUT)
    assert recorder.received_runs() == ["run-1"]
    assert recorder.received_reports() == ["rep-1"]


# -- join and close --------------------------------------------------------


def test_join_returns_true_when_nothing_was_dispatched(dispatcher: Dispatcher) -> None:
    bound(dispatcher, Recorder())

    assert dispatcher.join(1.0) is True


def test_join_returns_true_once_the_work_is_done(dispatcher: Dispatcher) -> None:
    recorder = Recorder()
    bound(dispatcher, recorder).dispatch_runs([f"run-{i}" for i in range(50)])
    dispatcher.dispatch_report("rep-1")

    assert dispatcher.join(JOIN_TIMEOUT) is True
    assert len(recorder.received_runs()) == 50
    assert recorder.received_reports() == ["rep-1"]


def test_join_without_a_timeout_waits_for_the_work(dispatcher: Dispatcher) -> None:
    recorder = Recorder()
    bound(dispatcher, recorder).dispatch_runs([f"run-{i}" for i in range(20)])

    assert dispatcher.join() is True
    assert len(recorder.received_runs()) == 20


def test_join_returns_false_while_a_worker_is_busy(dispatcher: Dispatcher, background: bool
                                                   ) -> None:
    if not background:
        pytest.skip("this dispatcher runs work in the caller's thread: dispatch returns "
                    "only when the work is done, so join never has anything to wait for")
    recorder = Recorder(block_on=frozenset({"run-slow"}))
    bound(dispatcher, recorder)
    try:
        dispatcher.dispatch_runs(["run-slow"])
        assert recorder.blocked.wait(JOIN_TIMEOUT)

        assert dispatcher.join(0.2) is False
        assert recorder.received_runs() == []
    finally:
        recorder.release()

    assert dispatcher.join(JOIN_TIMEOUT) is True
    assert recorder.received_runs() == ["run-slow"]


def test_join_returns_false_while_a_report_worker_is_busy(dispatcher: Dispatcher,
                                                          background: bool) -> None:
    if not background:
        pytest.skip("this dispatcher runs work in the caller's thread")
    recorder = Recorder(block_on=frozenset({"rep-slow"}))
    bound(dispatcher, recorder)
    try:
        dispatcher.dispatch_report("rep-slow")
        assert recorder.blocked.wait(JOIN_TIMEOUT)

        assert dispatcher.join(0.2) is False
    finally:
        recorder.release()

    assert dispatcher.join(JOIN_TIMEOUT) is True
    assert recorder.received_reports() == ["rep-slow"]


def test_close_is_idempotent(dispatcher: Dispatcher) -> None:
    bound(dispatcher, Recorder())

    dispatcher.close()
    dispatcher.close()


def test_close_after_work_is_idempotent(dispatcher: Dispatcher) -> None:
    recorder = Recorder()
    bound(dispatcher, recorder).dispatch_runs(["run-1", "run-2"])
    assert dispatcher.join(JOIN_TIMEOUT)

    dispatcher.close()
    dispatcher.close()

    assert sorted(recorder.received_runs()) == ["run-1", "run-2"]


def test_close_of_an_unbound_dispatcher_is_harmless(dispatcher: Dispatcher) -> None:
    dispatcher.close()
    dispatcher.close()
