"""Where a handler cannot reach a child process, and how the process executor says so.

A child process imports a handler's class by name; a class defined in the
submitting script or notebook (``__main__``) is not that child's. Seen: such a
handler, run from a script, failed every run with "Can't get attribute ... on
<module '__main__'>" although the parent could pickle it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from simdock.errors import ExecutorUnavailable
from simdock.handlers import ProgressCallback, SimulationHandler, SimulationHandlerRegistry
from simdock.ports import ExecutionTask
from simdock_adapters.executors.inprocess import InProcessExecutor
from simdock_adapters.executors.processes import ProcessExecutor
from tests.contract.test_executor import RecordingContext


def answer(self: SimulationHandler, job_id: str, simulation_type: str,
           parameters: Mapping[str, Any], progress_callback: ProgressCallback | None = None
           ) -> Any:
    return {"answer": 42}


#: A handler class as a script run with ``python script.py`` defines it.
Scripted = type("Scripted", (SimulationHandler,), {"execute": answer, "__module__": "__main__"})


def task() -> ExecutionTask:
    return ExecutionTask("run-1", "job-1", "scripted", {}, 1, 10.0)


def test_a_handler_of_main_runs_in_the_fallback_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    registry = SimulationHandlerRegistry()
    registry.register("scripted", Scripted())
    executor = ProcessExecutor(registry, fallback=InProcessExecutor(registry))
    try:
        with caplog.at_level(logging.WARNING):
            result = executor.execute(task(), RecordingContext("run-1", "job-1", tmp_path))
    finally:
        executor.close()
    assert result == {"answer": 42}
    assert "cannot run in a child process" in caplog.text and "in a thread" in caplog.text


def test_without_a_fallback_it_is_refused_saying_why(tmp_path: Path) -> None:
    registry = SimulationHandlerRegistry()
    registry.register("scripted", Scripted())
    executor = ProcessExecutor(registry)
    try:
        with pytest.raises(ExecutorUnavailable, match="importable module"):
            executor.execute(task(), RecordingContext("run-1", "job-1", tmp_path))
    finally:
        executor.close()
