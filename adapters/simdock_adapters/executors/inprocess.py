"""Executes registered handlers in this process, each in a thread with a time limit."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

from simdock.errors import (
    ExecutionError,
    HandlerFailed,
    InvalidParameters,
    RunTimedOut,
    SimdockError,
)
from simdock.handlers import SimulationHandlerRegistry
from simdock.ports import ExecutionTask, RunContext
from simdock_adapters.executors.threads import CachedThreads


class InProcessExecutor:
    """Runs the handler registered for a run's simulation type.

    Each execution runs on a pooled daemon thread while the caller waits, so
    that the time limit can be enforced: when it passes, the run fails with a
    timeout and its context is cancelled, so the handler's next progress
    report stops it. A handler that never reports progress keeps its thread
    until it returns; its result is discarded.
    """

    def __init__(self, registry: SimulationHandlerRegistry) -> None:
        self.registry = registry
        self._threads = CachedThreads()

    def check(self, simulation_type: str, parameters: Mapping[str, Any]) -> None:
        handler = self.registry.get(simulation_type)
        try:
            handler.validate(parameters)
        except SimdockError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidParameters(str(exc)) from exc

    def simulation_types(self) -> list[str]:
        return list(self.registry.names())

    def execute(self, task: ExecutionTask, context: RunContext) -> Any:
        handler = self.registry.get(task.simulation_type)
        outcome = self._threads.submit(lambda: handler.execute(
            task.run_id, task.simulation_type, dict(task.parameters), context))
        if not outcome.done.wait(task.timeout_seconds):
            context.cancel()
            raise RunTimedOut(f"run exceeded its time limit of {task.timeout_seconds:g} s")
        error = outcome.error
        if error is None:
            return outcome.value
        if isinstance(error, ExecutionError):
            raise error
        context.log("".join(traceback.format_exception(error)).rstrip(), "stderr")
        raise HandlerFailed(f"{type(error).__name__}: {error}") from error
