"""A fault is logged once when it starts, in summaries while it lasts, once when it ends."""

from __future__ import annotations

import logging
import time

import pytest

from simdock.faults import FaultFilter, FaultLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, dict[str, object]]]:
    return [(r.getMessage(), getattr(r, "fields", {})) for r in caplog.records]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def faults(clock: Clock) -> FaultLog:
    return FaultLog(logging.getLogger("tests.faults"), summary_seconds=30, quiet_seconds=15,
                    clock=clock, background=False)


def test_a_fault_repeated_a_thousand_times_is_one_line_then_summaries_then_its_end(
        faults: FaultLog, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "tests.faults")
    for i in range(1000):  # 70 s of a fault seen 14 times a second
        clock.now = 1000.0 + i * 0.07
        faults.failed("the database is unavailable", "the database is unavailable: %s",
                      f"detail {i}", fields={"request_id": f"r{i}"})
        faults.tick()
    assert faults.recovered("the database is unavailable")
    logged = lines(caplog)
    assert len(logged) == 1 + 2 + 1  # started, a summary at 30 s and at 60 s, ended
    assert logged[0] == ("the database is unavailable: detail 0",
                         {"request_id": "r0", "fault": "the database is unavailable",
                          "fault_state": "started"})
    assert [f["fault_state"] for _, f in logged] == ["started", "continues", "continues",
                                                      "ended"]
    assert "in the last 30 s" in logged[1][0]
    assert sum(int(f["count"]) for _, f in logged[1:3]) + 1 == logged[2][1]["total"]  # type: ignore[call-overload]
    assert logged[3][1]["total"] == 1000
    assert "is over" in logged[3][0] and "1000 time(s)" in logged[3][0]


def test_a_fault_not_seen_for_the_quiet_period_ends_and_a_new_one_starts_afresh(
        faults: FaultLog, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "tests.faults")
    assert faults.failed("broker", "cannot send: %s", "refused")
    assert not faults.failed("broker", "cannot send: %s", "refused")
    clock.now += 14
    assert faults.tick() == pytest.approx(1.0)
    assert faults.is_open("broker")
    clock.now += 1
    assert faults.tick() is None
    assert not faults.is_open("broker")
    assert faults.failed("broker", "cannot send: %s", "refused again")
    logged = [m for m, _ in lines(caplog)]
    assert logged == ["cannot send: refused",
                      "broker has not happened for 15 s: it happened 2 time(s) in 0 s",
                      "cannot send: refused again"]


def test_kinds_are_apart_and_a_recovery_of_nothing_open_logs_nothing(
        faults: FaultLog, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "tests.faults")
    assert faults.failed("a", "a failed")
    assert faults.failed("b", "b failed")
    assert faults.recovered("a", "a is back after %d", 3)
    assert not faults.recovered("a")
    assert not faults.recovered("never")
    assert [m for m, _ in lines(caplog)] == ["a failed", "b failed", "a is back after 3"]
    assert faults.is_open("b")


def test_a_summary_with_nothing_to_count_is_not_written(
        clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "tests.faults")
    slow = FaultLog(logging.getLogger("tests.faults"), summary_seconds=30, quiet_seconds=45,
                    clock=clock, background=False)
    slow.failed("x", "x failed")
    clock.now += 20
    slow.occurred("x")
    clock.now += 10  # 30 s since it started: one more since then
    slow.tick()
    clock.now += 30  # a summary is due, with nothing to say: none is written
    slow.tick()
    clock.now += 5  # 45 s without it: over
    slow.tick()
    states = [f["fault_state"] for _, f in lines(caplog)]
    assert states == ["started", "continues", "ended"]


def test_the_background_thread_writes_the_end_of_a_quiet_fault(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "tests.faults")
    faults = FaultLog(logging.getLogger("tests.faults"), summary_seconds=0.2,
                      quiet_seconds=0.3)
    for _ in range(5):
        faults.failed("flaky", "flaky failed")
        time.sleep(0.1)
    deadline = time.monotonic() + 5
    while faults.is_open("flaky"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    states = [f["fault_state"] for _, f in lines(caplog)]
    assert states[0] == "started" and states[-1] == "ended"
    assert "continues" in states
    assert len(states) <= 5


def test_a_filter_lets_the_first_of_a_library_s_repeated_warnings_through_and_counts_the_rest(
        clock: Clock) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    folding = FaultFilter(FaultLog(logging.getLogger("tests.faults"), clock=clock,
                                   background=False))
    handler.addFilter(folding)
    library = logging.getLogger("tests.library.consumer")
    library.addHandler(handler)
    library.propagate = False
    library.setLevel(logging.INFO)
    try:
        for attempt in range(50):
            library.critical("Consumer encountered a connection error: %s", f"refused {attempt}")
            library.info("reconnecting")
        library.error("something else: %s", "once")
        clock.now += 60
        folding.faults.tick()
    finally:
        library.removeHandler(handler)
    messages = [r.getMessage() for r in records]
    assert messages[0] == "Consumer encountered a connection error: refused 0"
    assert records[0].fields["fault_state"] == "started"  # type: ignore[attr-defined]
    assert messages.count("reconnecting") == 50
    assert "something else: once" in messages
    ends = [r for r in records if getattr(r, "fields", {}).get("fault_state") == "ended"]
    assert len(ends) == 1 and ends[0].name == "tests.library.consumer"  # once: no end
    assert "50 time(s)" in ends[0].getMessage()
    assert len(records) == 1 + 50 + 1 + 1
