"""The Executor contract: checking and executing runs, for every executor adapter.

Adapters come from ``EXECUTOR_ADAPTERS`` in ``tests/contract/adapters.py``;
each is given a fresh :class:`SimulationHandlerRegistry` holding the test
handlers below, and a :class:`RecordingContext` (a fake of the RunContext
port) to report back to.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from simdock.errors import (
    ExecutionError,
    HandlerFailed,
    InvalidParameters,
    RunCancelled,
    RunTimedOut,
    UnknownSimulationType,
)
from simdock.handlers import ProgressCallback, SimulationHandler, SimulationHandlerRegistry
from simdock.ports import ExecutionTask, Executor, RunContext
from tests.contract.adapters import (
    EXECUTOR_ADAPTERS,
    EXECUTORS_THAT_STOP_HANDLERS,
    apply_known_bugs,
)


class RecordingContext:
    """A RunContext that keeps what the handler reported, for assertions."""

    def __init__(self, run_id: str, job_id: str, workdir: Path) -> None:
        self.run_id = run_id
        self.job_id = job_id
        self.workdir = workdir
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self.progress_reports: list[float] = []
        self.logs: list[tuple[str, str]] = []
        self.metrics: list[tuple[str, float, int | None]] = []
        self.artifacts: dict[str, bytes] = {}

    def __call__(self, fraction: float) -> None:
        self.progress(fraction)

    def progress(self, fraction: float) -> None:
        with self._lock:
            self.progress_reports.append(fraction)
        if self.cancelled:
            raise RunCancelled(f"run '{self.run_id}' was cancelled")

    def log(self, message: str, stream: str = "stdout") -> None:
        with self._lock:
            self.logs.append((stream, message))

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        with self._lock:
            self.metrics.append((name, value, step))

    def artifact(self, name: str, data: bytes | Path, content_type: str | None = None) -> None:
        with self._lock:
            self.artifacts[name] = data.read_bytes() if isinstance(data, Path) else bytes(data)

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()

    def text(self, stream: str) -> str:
        with self._lock:
            return "\n".join(message for s, message in self.logs if s == stream)


Body = Callable[[Mapping[str, Any], ProgressCallback | None], Any]


class FunctionHandler(SimulationHandler):
    """A handler made of a function, with an optional validation function."""

    def __init__(self, body: Body, validate: Callable[[Mapping[str, Any]], None] | None = None
                 ) -> None:
        self.body = body
        self.validator = validate

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        return self.body(parameters, progress_callback)

    def validate(self, parameters: Mapping[str, Any]) -> None:
        if self.validator is not None:
            self.validator(parameters)


class EchoHandler(SimulationHandler):
    """Returns what it was given, so tests can see it arrived."""

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        return {"run_id": job_id, "simulation_type": simulation_type,
                "parameters": dict(parameters)}


@pytest.fixture
def registry() -> SimulationHandlerRegistry:
    registry = SimulationHandlerRegistry()
    registry.register("echo", EchoHandler())
    return registry


@pytest.fixture(params=list(EXECUTOR_ADAPTERS))
def executor(request: pytest.FixtureRequest, registry: SimulationHandlerRegistry,
             tmp_path: Path) -> Iterator[Executor]:
    adapter_id: str = request.param
    apply_known_bugs(request, adapter_id)
    with EXECUTOR_ADAPTERS[adapter_id](registry, tmp_path) as executor:
        yield executor


@pytest.fixture
def context(tmp_path: Path) -> RecordingContext:
    workdir = tmp_path / "work"
    workdir.mkdir()
    return RecordingContext("run-1", "job-1", workdir)


def task(simulation_type: str, parameters: Mapping[str, Any] | None = None,
         timeout_seconds: float | None = 10.0) -> ExecutionTask:
    return ExecutionTask(run_id="run-1", job_id="job-1", simulation_type=simulation_type,
                         parameters=dict(parameters or {}), attempt=1,
                         timeout_seconds=timeout_seconds)


# -- check -----------------------------------------------------------------


def test_simulation_types_lists_the_registered_names(
    executor: Executor, registry: SimulationHandlerRegistry
) -> None:
    registry.register("alpha", FunctionHandler(lambda p, cb: None))

    assert {"alpha", "echo"} <= set(executor.simulation_types())


def test_check_of_an_unregistered_type_raises_unknown_simulation_type_naming_the_known_ones(
    executor: Executor, registry: SimulationHandlerRegistry
) -> None:
    registry.register("alpha", FunctionHandler(lambda p, cb: None))

    with pytest.raises(UnknownSimulationType) as raised:
        executor.checker("no-such-type")({})

    assert "no-such-type" in raised.value.message
    assert "alpha" in raised.value.message
    assert "echo" in raised.value.message


def test_check_accepts_parameters_the_handler_accepts(executor: Executor) -> None:
    check = executor.checker("echo")  # None: this handler checks nothing, all are accepted
    assert check is None or check({"n": 3}) is None


def test_a_handler_that_checks_nothing_needs_no_check(executor: Executor) -> None:
    assert executor.checker("echo") is None


def test_check_turns_a_value_error_from_validate_into_invalid_parameters(
    executor: Executor, registry: SimulationHandlerRegistry
) -> None:
    def validate(parameters: Mapping[str, Any]) -> None:
        if parameters.get("n", 0) < 1:
            raise ValueError("n must be a positive integer")

    registry.register("counted", FunctionHandler(lambda p, cb: None, validate))

    executor.checker("counted")({"n": 1})
    with pytest.raises(InvalidParameters) as raised:
        executor.checker("counted")({"n": 0})

    assert "n must be a positive integer" in raised.value.message


def test_check_lets_invalid_parameters_from_validate_through(
    executor: Executor, registry: SimulationHandlerRegistry
) -> None:
    def validate(parameters: Mapping[str, Any]) -> None:
        raise InvalidParameters("parameter 'grid' is required")

    registry.register("strict", FunctionHandler(lambda p, cb: None, validate))

    with pytest.raises(InvalidParameters) as raised:
        executor.checker("strict")({})

    assert raised.value.message == "parameter 'grid' is required"


# -- execute ---------------------------------------------------------------
# Handlers are module-level functions: an executor may pickle a handler to execute it in
# another process, and what a handler sees there is reported back through the context.


def nothing(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
    return None


def nap(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
    time.sleep(parameters.get("seconds", 0.05))
    return "done"


def report(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
    assert callback is not None
    callback(0.25)
    callback(0.75)
    run_context = as_context_like(callback)
    run_context.log("halfway")
    run_context.metric("loss", 0.5, 3)
    run_context.artifact("notes.txt", b"hello")
    written = run_context.workdir / "kept.txt"
    written.write_text("from the handler")
    run_context.artifact("copied.txt", written)
    return {"run_id": run_context.run_id, "job_id": run_context.job_id}


def as_context_like(callback: ProgressCallback) -> RunContext:
    """The callback as the RunContext it is (here or a stand-in in another process)."""
    for name in ("log", "metric", "artifact", "workdir", "cancelled", "run_id", "job_id"):
        assert hasattr(callback, name), name
    return callback  # type: ignore[return-value]


def explode(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
    raise RuntimeError("boom")


def hang(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
    """Silent: never reports progress, so only its executor can stop it. Leaves a mark in
    ``mark`` if it ever gets to the end."""
    time.sleep(parameters["seconds"])
    Path(parameters["mark"]).write_text("finished")
    return "too late"


def count_to_cancel(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
    """Reports progress until told to stop."""
    assert callback is not None
    for step in range(1000):
        callback(step / 1000)
        time.sleep(0.01)
    return "never cancelled"


ERRORS: dict[str, type[ExecutionError]] = {
    cls.__name__: cls for cls in (RunCancelled, RunTimedOut, HandlerFailed, ExecutionError)}


def stop(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
    raise ERRORS[parameters["error"]]("run 'run-1' was stopped")


def end_process(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
    os._exit(3)


def unsendable(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
    return threading.Lock()


def test_execute_returns_the_handlers_value(
    executor: Executor, context: RecordingContext
) -> None:
    result = executor.execute(task("echo", {"alpha": 0.5, "steps": [1, 2]}), context)

    assert result == {"run_id": "run-1", "simulation_type": "echo",
                      "parameters": {"alpha": 0.5, "steps": [1, 2]}}


def test_execute_returns_none_when_the_handler_returns_nothing(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext
) -> None:
    registry.register("quiet", FunctionHandler(nothing))

    assert executor.execute(task("quiet"), context) is None


def test_execute_without_a_time_limit_runs_to_completion(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext
) -> None:
    registry.register("slow", FunctionHandler(nap))

    assert executor.execute(task("slow", timeout_seconds=None), context) == "done"


def test_what_the_handler_reports_reaches_the_context(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext
) -> None:
    registry.register("reporting", FunctionHandler(report))

    assert executor.execute(task("reporting"), context) == {"run_id": "run-1",
                                                            "job_id": "job-1"}
    assert context.progress_reports == [0.25, 0.75]
    assert context.logs == [("stdout", "halfway")]
    assert context.metrics == [("loss", 0.5, 3)]
    assert context.artifacts == {"notes.txt": b"hello", "copied.txt": b"from the handler"}
    assert (context.workdir / "kept.txt").read_text() == "from the handler"


def test_a_handler_exception_becomes_handler_failed_naming_it(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext
) -> None:
    registry.register("explosive", FunctionHandler(explode))

    with pytest.raises(HandlerFailed) as raised:
        executor.execute(task("explosive"), context)

    assert "RuntimeError: boom" in raised.value.message


def test_a_handler_exception_logs_its_traceback_to_stderr(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext
) -> None:
    registry.register("explosive", FunctionHandler(explode))

    with pytest.raises(HandlerFailed):
        executor.execute(task("explosive"), context)

    stderr = context.text("stderr")
    assert "Traceback (most recent call last)" in stderr
    assert "in explode" in stderr
    assert "RuntimeError: boom" in stderr
    assert "simdock_adapters" not in stderr  # the handler's frames, not the platform's
    assert context.text("stdout") == ""


def test_a_handler_running_past_its_time_limit_times_out_and_is_cancelled(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext,
    tmp_path: Path
) -> None:
    registry.register("hang", FunctionHandler(hang))
    started = time.monotonic()
    with pytest.raises(RunTimedOut) as raised:
        executor.execute(task("hang", {"seconds": 3, "mark": str(tmp_path / "mark")},
                              timeout_seconds=0.2), context)
    elapsed = time.monotonic() - started

    assert "0.2" in raised.value.message
    assert context.cancelled
    assert elapsed < 2


def test_a_cancel_returns_a_silent_handlers_run_at_once(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext,
    tmp_path: Path
) -> None:
    # Seen: a handler that never reported progress held its run (and its thread) after a
    # cancel until it returned by itself.
    registry.register("hang", FunctionHandler(hang))
    threading.Timer(0.3, context.cancel).start()
    started = time.monotonic()
    with pytest.raises(RunCancelled):
        executor.execute(task("hang", {"seconds": 3, "mark": str(tmp_path / "mark")},
                              timeout_seconds=None), context)

    assert time.monotonic() - started < 2


def test_a_cancel_stops_a_handler_at_its_next_progress_report(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext
) -> None:
    registry.register("counting", FunctionHandler(count_to_cancel))
    cancelled_at: list[float] = []

    def cancel_once_counting() -> None:
        while len(context.progress_reports) < 10:
            time.sleep(0.01)
        cancelled_at.append(time.monotonic())
        context.cancel()

    threading.Thread(target=cancel_once_counting, daemon=True).start()
    with pytest.raises(RunCancelled):
        executor.execute(task("counting", timeout_seconds=20), context)

    assert time.monotonic() - cancelled_at[0] < 2
    assert 10 <= len(context.progress_reports) < 1000


@pytest.mark.parametrize("error_class", [RunCancelled, RunTimedOut, HandlerFailed, ExecutionError])
def test_an_execution_error_from_the_handler_propagates_as_is(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext,
    error_class: type[ExecutionError],
) -> None:
    registry.register("stopping", FunctionHandler(stop))

    with pytest.raises(error_class) as raised:
        executor.execute(task("stopping", {"error": error_class.__name__}), context)

    assert type(raised.value) is error_class
    assert raised.value.message == "run 'run-1' was stopped"


def test_execute_of_an_unregistered_type_raises_unknown_simulation_type(
    executor: Executor, context: RecordingContext
) -> None:
    with pytest.raises(UnknownSimulationType):
        executor.execute(task("no-such-type"), context)


# -- what only executors with a process per handler can do -------------------


@pytest.fixture(params=sorted(EXECUTORS_THAT_STOP_HANDLERS))
def stopping_executor(request: pytest.FixtureRequest, registry: SimulationHandlerRegistry,
                      tmp_path: Path) -> Iterator[Executor]:
    with EXECUTOR_ADAPTERS[request.param](registry, tmp_path) as executor:
        yield executor


def test_a_cancelled_silent_handler_is_stopped_for_good(
    stopping_executor: Executor, registry: SimulationHandlerRegistry,
    context: RecordingContext, tmp_path: Path
) -> None:
    registry.register("hang", FunctionHandler(hang))
    mark = tmp_path / "mark"
    threading.Timer(0.3, context.cancel).start()
    with pytest.raises(RunCancelled):
        stopping_executor.execute(task("hang", {"seconds": 1.5, "mark": str(mark)},
                                       timeout_seconds=None), context)
    time.sleep(2)

    assert not mark.exists(), "the handler went on after its run was cancelled"
    # ...and the executor goes on executing runs.
    fresh = RecordingContext("run-2", "job-1", context.workdir)
    assert stopping_executor.execute(task("echo", {"n": 1}), fresh)["parameters"] == {"n": 1}


def test_a_handler_that_ends_its_process_fails_only_its_run(
    stopping_executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext
) -> None:
    registry.register("exiting", FunctionHandler(end_process))

    with pytest.raises(HandlerFailed) as raised:
        stopping_executor.execute(task("exiting"), context)

    assert "ended unexpectedly (exit code 3)" in raised.value.message
    assert stopping_executor.execute(task("echo", {"n": 2}), context)["parameters"] == {"n": 2}


def test_a_result_that_cannot_be_sent_back_fails_the_run_saying_so(
    stopping_executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext
) -> None:
    registry.register("unsendable", FunctionHandler(unsendable))

    with pytest.raises(HandlerFailed, match="cannot be sent back"):
        stopping_executor.execute(task("unsendable"), context)
