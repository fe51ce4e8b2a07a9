"""What executing handlers in child processes costs, next to threads, and what it buys.

Through the executors themselves (no store, no dispatch), with a context that
keeps what it is told, as medians of ``--repeat``:

- per run: ``--runs`` no-op runs one after the other, in a thread (the
  baseline) and in a warm child process; the difference is the price of a
  process per run slot;
- a small heat1d run (real numpy work, a few hundred reports) both ways;
- the first run of a new executor (a child interpreter starting, importing
  numpy);
- a cancel of a run whose handler never reports: how long until ``execute``
  returns, and how many such handlers ran on to their end anyway (a thread
  cannot be stopped; a child is killed).

    python -m benchmarks.bench_isolation [--runs 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from benchmarks.handlers import MarkingSleep
from benchmarks.measure import machine, median, repeated, spread
from simdock.errors import RunCancelled
from simdock.handlers import SimulationHandlerRegistry
from simdock.ports import ExecutionTask, Executor
from simdock_adapters.executors.inprocess import InProcessExecutor
from simdock_adapters.executors.processes import ProcessExecutor
from simdock_adapters.plugins import installed_simulations

HEAT = {"spatial_steps": 2001, "time_steps": 400, "end_time": 1e-6}
#: How long a cancelled silent handler would sleep if nothing stopped it, seconds.
SLEEP = 3.0


class Keeper:
    """A run context that keeps counts of what it is told, and can be cancelled."""

    def __init__(self, workdir: Path) -> None:
        self.run_id, self.job_id, self.workdir = "run-bench", "job-bench", workdir
        self.reports = 0
        self._cancelled = threading.Event()

    def __call__(self, fraction: float) -> None:
        self.progress(fraction)

    def progress(self, fraction: float) -> None:
        self.reports += 1
        if self._cancelled.is_set():
            raise RunCancelled("cancelled")

    def log(self, message: str, stream: str = "stdout") -> None:
        self.reports += 1

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        self.reports += 1

    def artifact(self, name: str, data: bytes | Path, content_type: str | None = None) -> None:
        self.reports += 1

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()


def task(simulation_type: str, parameters: dict[str, Any]) -> ExecutionTask:
    return ExecutionTask("run-bench", "job-bench", simulation_type, parameters, 1, 600.0)


def timed(executor: Executor, simulation_type: str, parameters: dict[str, Any], runs: int,
          workdir: Path) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        executor.execute(task(simulation_type, parameters), Keeper(workdir))
    return (time.perf_counter() - started) / runs


def cancel_latency(executor: Executor, workdir: Path, mark: Path) -> float:
    """Seconds from a cancel to ``execute`` returning, for a handler that never reports."""
    context = Keeper(workdir)
    cancelled_at: list[float] = []

    def cancel() -> None:
        cancelled_at.append(time.perf_counter())
        context.cancel()

    threading.Timer(0.5, cancel).start()
    with contextlib.suppress(RunCancelled):
        executor.execute(task("marking", {"seconds": SLEEP, "mark": str(mark)}), context)
    return time.perf_counter() - cancelled_at[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"handlers in threads and in child processes; {machine()}")
    registry = SimulationHandlerRegistry(SimulationHandlerRegistry.default(),
                                         installed_simulations())
    with TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        threads = InProcessExecutor(registry)
        processes = ProcessExecutor(registry, preload=["simdock_sim.handlers"])
        try:
            processes.execute(task("heat1d", HEAT), Keeper(workdir))  # warm: imports done
            figures: dict[str, Callable[[Executor], float]] = {
                "no-op run": lambda e: timed(e, "noop", {"i": 1}, args.runs, workdir),
                "heat1d run (2001 x 400)": lambda e: timed(e, "heat1d", HEAT, 20, workdir),
            }
            for label, measure in figures.items():
                in_threads = repeated(args.repeat, lambda m=measure: m(threads))  # type: ignore[misc]
                in_children = repeated(args.repeat, lambda m=measure: m(processes))  # type: ignore[misc]
                base, cost = median(in_threads), median(in_children)
                print(f"  {label}: thread {spread([t * 1e6 for t in in_threads], ' us', 0)}; "
                      f"child process {spread([t * 1e6 for t in in_children], ' us', 0)}; "
                      f"x{cost / base:.2f}, +{(cost - base) * 1e6:.0f} us per run")
        finally:
            processes.close()

        def first_run() -> float:
            fresh = ProcessExecutor(registry)
            try:
                started = time.perf_counter()
                fresh.execute(task("noop", {}), Keeper(workdir))
                return time.perf_counter() - started
            finally:
                fresh.close()

        print(f"  first run of a new process executor (a child starting): "
              f"{spread(repeated(args.repeat, first_run), ' s')}")
        registry.register("marking", MarkingSleep())
        for name, make in (("thread", lambda: InProcessExecutor(registry)),
                           ("child process", lambda: ProcessExecutor(registry))):
            executor = make()
            marks = [workdir / f"{name}-{i}.mark" for i in range(max(3, args.repeat))]
            latencies = [cancel_latency(executor, workdir, mark) for mark in marks]
            time.sleep(SLEEP + 0.5)  # long enough for every handler left running to end
            if isinstance(executor, ProcessExecutor):
                executor.close()
            print(f"  cancel of a silent run, {name}: returns after "
                  f"{spread(latencies, ' s')}; handlers that ran on to their end anyway: "
                  f"{sum(mark.exists() for mark in marks)} of {len(marks)}")
    print(f"  after: {machine()}")


if __name__ == "__main__":
    main()
