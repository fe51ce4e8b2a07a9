"""The Executor contract: checking and executing runs, for every executor adapter.

Adapters come from ``EXECUTOR_ADAPTERS`` in ``tests/contract/adapters.py``;
each is given a fresh :class:`SimulationHandlerRegistry` holding the test
handlers below, and a :class:`RecordingContext` (a fake of the RunContext
port) to report back to.
"""

from __future__ import annotations

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
from tests.contract.adapters import EXECUTOR_ADAPTERS, apply_known_bugs


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


def as_context(callback: ProgressCallback | None) -> RunContext:
    assert isinstance(callback, RecordingContext)
    return callback


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


def test_execute_returns_the_handlers_value(
    executor: Executor, context: RecordingContext
) -> None:
    result = executor.execute(task("echo", {"alpha": 0.5, "steps": [1, 2]}), context)

    assert result == {"run_id": "run-1", "simulation_type": "echo",
                      "parameters": {"alpha": 0.5, "steps": [1, 2]}}


def test_execute_returns_none_when_the_handler_returns_nothing(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext
) -> None:
    registry.register("quiet", FunctionHandler(lambda p, cb: None))

    assert executor.execute(task("quiet"), context) is None


def test_execute_without_a_time_limit_runs_to_completion(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext
) -> None:
    def slow(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
        time.sleep(0.05)
        return "done"

    registry.register("slow", FunctionHandler(slow))

    assert executor.execute(task("slow", timeout_seconds=None), context) == "done"


def test_the_context_given_is_the_handlers_progress_callback(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext
) -> None:
    received: list[object] = []

    def report(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
        received.append(callback)
        assert callback is not None
        callback(0.25)
        callback(0.75)
        run_context = as_context(callback)
        run_context.log("halfway")
        run_context.metric("loss", 0.5, 3)
        run_context.artifact("notes.txt", b"hello")
        return "ok"

    registry.register("reporting", FunctionHandler(report))

    assert executor.execute(task("reporting"), context) == "ok"
    assert received == [context]
    assert context.progress_reports == [0.25, 0.75]
    assert context.logs == [("stdout", "halfway")]
    assert context.metrics == [("loss", 0.5, 3)]
    assert context.artifacts == {"notes.txt": b"hello"}


def explode(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
    raise RuntimeError("boom")


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
    assert context.text("stdout") == ""


def test_a_handler_running_past_its_time_limit_times_out_and_is_cancelled(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext
) -> None:
    release = threading.Event()

    def hang(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
        release.wait(10)
        return "too late"

    registry.register("hang", FunctionHandler(hang))
    started = time.monotonic()
    try:
        with pytest.raises(RunTimedOut) as raised:
            executor.execute(task("hang", timeout_seconds=0.2), context)
        elapsed = time.monotonic() - started
    finally:
        release.set()

    assert "0.2" in raised.value.message
    assert context.cancelled
    assert elapsed < 5


@pytest.mark.parametrize("error_class", [RunCancelled, RunTimedOut, HandlerFailed, ExecutionError])
def test_an_execution_error_from_the_handler_propagates_as_is(
    executor: Executor, registry: SimulationHandlerRegistry, context: RecordingContext,
    error_class: type[ExecutionError],
) -> None:
    error = error_class("run 'run-1' was stopped")

    def stop(parameters: Mapping[str, Any], callback: ProgressCallback | None) -> Any:
        raise error

    registry.register("stopping", FunctionHandler(stop))

    with pytest.raises(error_class) as raised:
        executor.execute(task("stopping"), context)

    assert raised.value is error


def test_execute_of_an_unregistered_type_raises_unknown_simulation_type(
    executor: Executor, context: RecordingContext
) -> None:
    with pytest.raises(UnknownSimulationType):
        executor.execute(task("no-such-type"), context)
