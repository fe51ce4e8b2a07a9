"""Executes registered handlers in this process, each in a thread with a time limit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simdock.errors import (
    ExecutionError,
    HandlerFailed,
    InvalidParameters,
    RunTimedOut,
    SimdockError,
)
from simdock.handlers import SimulationHandler, SimulationHandlerRegistry
from simdock.ports import ExecutionTask, ParameterCheck, RunContext
from simdock_adapters.executors.threads import CachedThreads
from simdock_adapters.executors.tracebacks import handler_traceback

MIB = 1024 * 1024


class InProcessExecutor:
    """Runs the handler registered for a run's simulation type.

    Each execution runs on a pooled daemon thread while the caller waits, so
    that the time limit can be enforced: when it passes, the run fails with a
    timeout and its context is cancelled, so the handler's next progress
    report stops it. A handler that never reports progress keeps its thread
    until it returns; its result is discarded.
    """

    def __init__(self, registry: SimulationHandlerRegistry,
                 max_run_memory: int | None = None) -> None:
        """``max_run_memory``: the bytes one run may need (its handler's estimate), or None."""
        self.registry = registry
        self.max_run_memory = max_run_memory
        self._threads = CachedThreads()

    def checker(self, simulation_type: str) -> ParameterCheck | None:
        handler = self.registry.get(simulation_type)
        kind = type(handler)
        if kind.validate is SimulationHandler.validate and (
                not self.max_run_memory or kind.memory_needed is SimulationHandler.memory_needed):
            return None  # the handler checks nothing

        def check(parameters: Mapping[str, Any]) -> None:
            try:
                handler.validate(parameters)
                needed = handler.memory_needed(parameters) if self.max_run_memory else None
            except SimdockError:
                raise
            except (ValueError, TypeError, KeyError, OverflowError) as exc:
                raise InvalidParameters(str(exc)) from exc
            if needed is not None and self.max_run_memory and needed > self.max_run_memory:
                raise InvalidParameters(
                    f"these parameters need about {needed / MIB:,.0f} MiB, more than the "
                    f"{self.max_run_memory / MIB:,.0f} MiB one run may use here "
                    f"(MAX_RUN_MEMORY_MB): ask for a smaller problem")

        return check

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
        context.log(handler_traceback(error), "stderr")
        raise HandlerFailed(f"{type(error).__name__}: {error}") from error
