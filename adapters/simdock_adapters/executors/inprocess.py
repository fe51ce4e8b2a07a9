"""Executes registered handlers in this process, each in a thread with a time limit."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from simdock.domain.run_identity import Declared
from simdock.errors import ExecutionError, HandlerFailed, RunCancelled, RunTimedOut
from simdock.handlers import SimulationHandler, SimulationHandlerRegistry
from simdock.ports import ExecutionTask, ParameterCheck, RunContext
from simdock_adapters.executors.checks import handler_checker
from simdock_adapters.executors.threads import CachedThreads
from simdock_adapters.executors.tracebacks import handler_traceback

#: How often a waiting run looks at its cancel flag and time limit.
POLL_SECONDS = 0.05


class InProcessExecutor:
    """Runs the handler registered for a run's simulation type.

    Each execution runs on a pooled daemon thread while the caller waits, so
    that the time limit and cancel reach the caller at once: the run ends
    (timed out, or cancelled) and the handler's next progress report stops
    it. A thread cannot be stopped: a handler that never reports progress
    keeps its thread until it returns, and its result is discarded
    (:class:`~simdock_adapters.executors.processes.ProcessExecutor` stops such
    handlers for good).
    """

    def __init__(self, registry: SimulationHandlerRegistry,
                 max_run_memory: int | None = None) -> None:
        """``max_run_memory``: the bytes one run may need (its handler's estimate), or None."""
        self.registry = registry
        self.max_run_memory = max_run_memory
        self._threads = CachedThreads()

    def checker(self, simulation_type: str) -> ParameterCheck | None:
        return handler_checker(self.registry, simulation_type, self.max_run_memory)

    def simulation_types(self) -> list[str]:
        return list(self.registry.names())

    def declared(self, simulation_type: str) -> Declared:
        handler: SimulationHandler = self.registry.get(simulation_type)
        return handler.declared()

    def unseeded(self, simulation_type: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        handler: SimulationHandler = self.registry.get(simulation_type)
        return handler.unseeded(parameters)

    def execute(self, task: ExecutionTask, context: RunContext) -> Any:
        handler = self.registry.get(task.simulation_type)
        outcome = self._threads.submit(lambda: handler.execute(
            task.run_id, task.simulation_type, dict(task.parameters), context))
        deadline = None if task.timeout_seconds is None \
            else time.monotonic() + task.timeout_seconds
        while not outcome.done.wait(_slice(deadline)):
            if context.cancelled:  # the handler stops at its next report, if it makes one
                raise RunCancelled(f"run '{task.run_id}' was cancelled")
            if deadline is not None and time.monotonic() >= deadline:
                context.cancel()
                raise RunTimedOut(f"run exceeded its time limit of {task.timeout_seconds:g} s")
        error = outcome.error
        if error is None:
            return outcome.value
        if isinstance(error, ExecutionError):
            raise error
        context.log(handler_traceback(error), "stderr")
        raise HandlerFailed(f"{type(error).__name__}: {error}") from error


def _slice(deadline: float | None) -> float:
    """How long to wait for the handler before looking at its cancel flag and deadline."""
    if deadline is None:
        return POLL_SECONDS
    return max(0.0, min(POLL_SECONDS, deadline - time.monotonic()))
