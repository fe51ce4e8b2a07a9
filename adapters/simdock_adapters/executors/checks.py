"""Checking a run's parameters with its handler before it is queued, where no run executes.

Both handler executors (threads and child processes) check the same way: the
handler's own ``validate``, then its memory estimate against what one run may
use on this platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simdock.errors import InvalidParameters, SimdockError
from simdock.handlers import SimulationHandler, SimulationHandlerRegistry
from simdock.ports import ParameterCheck

MIB = 1024 * 1024


def handler_checker(registry: SimulationHandlerRegistry, simulation_type: str,
                    max_run_memory: int | None) -> ParameterCheck | None:
    """How to check parameters of ``simulation_type``; None when its handler checks nothing.

    Raises UnknownSimulationType at once for a type that is not registered.
    """
    handler = registry.get(simulation_type)
    kind = type(handler)
    if kind.validate is SimulationHandler.validate and (
            not max_run_memory or kind.memory_needed is SimulationHandler.memory_needed):
        return None  # the handler checks nothing

    def check(parameters: Mapping[str, Any]) -> None:
        try:
            handler.validate(parameters)
            needed = handler.memory_needed(parameters) if max_run_memory else None
        except SimdockError:
            raise
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise InvalidParameters(str(exc)) from exc
        if needed is not None and max_run_memory and needed > max_run_memory:
            raise InvalidParameters(
                f"these parameters need about {needed / MIB:,.0f} MiB, more than the "
                f"{max_run_memory / MIB:,.0f} MiB one run may use here "
                f"(MAX_RUN_MEMORY_MB): ask for a smaller problem")

    return check
