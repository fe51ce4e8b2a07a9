"""The sample simulations as simdock handlers (installed as entry points)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simdock.handlers import ProgressCallback, SimulationHandler

from . import heat1d, monte_carlo


def _emit(callback: ProgressCallback | None, method: str, *args: Any) -> None:
    """Call a context method when the callback is a simdock run context."""
    target = getattr(callback, method, None)
    if target is not None:
        target(*args)


class Heat1DHandler(SimulationHandler):
    """Solves the 1-D heat equation; output files become the run's artifacts."""

    version = "1"

    def validate(self, parameters: Mapping[str, Any]) -> None:
        heat1d.Heat1DParameters.from_mapping(parameters)

    def memory_needed(self, parameters: Mapping[str, Any]) -> int:
        return heat1d.peak_bytes(heat1d.Heat1DParameters.from_mapping(parameters))

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        params = heat1d.Heat1DParameters.from_mapping(parameters)
        _emit(progress_callback, "log",
              f"heat1d: {params.spatial_steps} points x {params.time_steps} steps, "
              f"r = {params.r:.4f}")
        result = heat1d.solve(params, progress=progress_callback)
        workdir: Path | None = getattr(progress_callback, "workdir", None)
        if workdir is not None:
            for path in heat1d.write_outputs(result, workdir):
                _emit(progress_callback, "log", f"wrote {path.name}")
        for step, center in enumerate(result.series[:, 1]):
            _emit(progress_callback, "metric", "center_temp", float(center), step)
        summary = result.summary()
        _emit(progress_callback, "log", f"heat1d: done in {result.elapsed_seconds:.3f} s")
        return {**summary, "x": result.x, "times": result.times, "final": result.final}


class MonteCarloHandler(SimulationHandler):
    """Estimates pi by sampling, reporting the standard error as a convergence metric."""

    seed_parameter = "seed"
    version = "1"

    def validate(self, parameters: Mapping[str, Any]) -> None:
        monte_carlo.MonteCarloParameters.from_mapping(parameters)

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        params = monte_carlo.MonteCarloParameters.from_mapping(parameters)
        batches = 0

        def on_batch(done: int, estimate: float, std_error: float) -> None:
            nonlocal batches
            _emit(progress_callback, "metric", "std_error", std_error, batches)
            _emit(progress_callback, "metric", "estimate", estimate, batches)
            batches += 1
            if progress_callback is not None:
                progress_callback(done / params.iterations)

        return monte_carlo.run(params, on_batch=on_batch)


class NoOpHandler(SimulationHandler):
    """Does nothing and returns its parameters: for measuring simdock itself."""

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        return {"parameters": dict(parameters)}


#: The longest a ``sleep`` run may wait, seconds.
MAX_SLEEP_SECONDS = 86_400.0


class SleepHandler(SimulationHandler):
    """Waits ``seconds`` without reporting anything, as a simulation deep in native code
    does: for seeing how simdock stops runs that never report progress."""

    def validate(self, parameters: Mapping[str, Any]) -> None:
        _seconds(parameters)

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        seconds = _seconds(parameters)
        time.sleep(seconds)
        return {"slept_seconds": seconds}


#: The most ticks a ``ticks`` run may count, and the longest interval between two.
MAX_TICKS = 100_000
MAX_TICK_INTERVAL_SECONDS = 3600.0


class TicksHandler(SimulationHandler):
    """Counts ``ticks`` ticks ``interval`` seconds apart, reporting each one as progress, a
    log line and a point of the ``tick`` metric: for seeing what simdock keeps of what a
    run reports, through outages, restarts and cancels."""

    def validate(self, parameters: Mapping[str, Any]) -> None:
        _ticks(parameters)

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        ticks, interval = _ticks(parameters)
        for tick in range(ticks):
            time.sleep(interval)
            _emit(progress_callback, "log", f"tick {tick + 1} of {ticks}")
            _emit(progress_callback, "metric", "tick", float(tick + 1), tick)
            if progress_callback is not None:
                progress_callback((tick + 1) / ticks)
        return {"ticks": ticks, "interval": interval}


def _ticks(parameters: Mapping[str, Any]) -> tuple[int, float]:
    unknown = set(parameters) - {"ticks", "interval"}
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}; ticks takes 'ticks' and "
                         "'interval'")
    ticks, interval = parameters.get("ticks", 10), parameters.get("interval", 0.1)
    if isinstance(ticks, bool) or not isinstance(ticks, int) or not 1 <= ticks <= MAX_TICKS:
        raise ValueError(f"invalid parameter 'ticks': a whole number from 1 to {MAX_TICKS}, "
                         f"got {ticks!r}")
    if isinstance(interval, bool) or not isinstance(interval, int | float) \
            or not 0 <= interval <= MAX_TICK_INTERVAL_SECONDS:
        raise ValueError(f"invalid parameter 'interval': a number of seconds from 0 to "
                         f"{MAX_TICK_INTERVAL_SECONDS:g}, got {interval!r}")
    return ticks, float(interval)


def _seconds(parameters: Mapping[str, Any]) -> float:
    unknown = set(parameters) - {"seconds"}
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}; sleep takes 'seconds'")
    seconds = parameters.get("seconds", 1.0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) \
            or not 0 <= seconds <= MAX_SLEEP_SECONDS:
        raise ValueError(f"invalid parameter 'seconds': a number of seconds from 0 to "
                         f"{MAX_SLEEP_SECONDS:g}, got {seconds!r}")
    return float(seconds)
