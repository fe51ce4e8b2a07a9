"""Executes registered handlers in this process, each in a thread with a time limit."""

from __future__ import annotations

import threading
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


class InProcessExecutor:
    """Runs the handler registered for a run's simulation type.

    Each execution gets its own daemon thread so that the time limit can be
    enforced: when it passes, the run fails with a timeout and its context is
    cancelled, so the handler's next progress report stops it. A handler that
    never reports progress keeps its thread until it returns; its result is
    discarded.
    """

    def __init__(self, registry: SimulationHandlerRegistry) -> None:
        self.registry = registry

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
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                outcome["value"] = handler.execute(
                    task.run_id, task.simulation_type, dict(task.parameters), context)
            except BaseException as exc:  # handed to the waiting thread
                outcome["error"] = exc

        thread = threading.Thread(target=call, name=f"simdock-{task.run_id}", daemon=True)
        thread.start()
        thread.join(task.timeout_seconds)
        if thread.is_alive():
            context.cancel()
            raise RunTimedOut(f"run exceeded its time limit of {task.timeout_seconds:g} s")
        error = outcome.get("error")
        if error is None:
            return outcome.get("value")
        if isinstance(error, ExecutionError):
            raise error
        context.log("".join(traceback.format_exception(error)).rstrip(), "stderr")
        raise HandlerFailed(f"{type(error).__name__}: {error}") from error
