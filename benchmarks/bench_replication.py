"""Adaptive replication against a fixed sweep of the same runs, on the embedded default and
on two Dramatiq workers.

monte_carlo (100 iterations a run) at ``--points`` points, replicated until the 95%
interval of the estimate's mean is within a half-width that needs about
``--replicates`` replicates a point; then, as the baseline measured in the same run, a
fixed-count sweep of as many runs as the adaptive job made (each point given the
replicates it got). Prints wall times (median of ``--repeat``) and their ratio (target:
the adaptive job's overhead under 10%), and the runs made beside the runs the final
standard deviations say were needed, (t x s / h)**2 a point (target: within 20%).

The embedded default is SQLite with the platform's own threads; the Dramatiq setting is
PostgreSQL, Redis and ``--workers`` ``simdock worker`` processes of ``--threads`` threads.
Each job runs on a new store (and workers) of its own.

    python -m benchmarks.bench_replication [--points 10] [--replicates 1000] [--repeat 3]
                                           [--on embedded,dramatiq] [--workers 2]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import simdock
from benchmarks.dramatiq_workers import dramatiq_workers
from benchmarks.measure import machine, median, spread
from simdock.domain.replication import t_quantile

ITERATIONS = 100
#: The estimate's standard deviation at ITERATIONS samples: sqrt(pi (4 - pi) / n).
SIGMA = math.sqrt(math.pi * (4 - math.pi) / ITERATIONS)

Setting = Callable[[], contextlib.AbstractContextManager[simdock.Dock]]


def adaptive(dock: simdock.Dock, points: int, half_width: float, batch: int
             ) -> tuple[float, list[tuple[int, float]]]:
    """Seconds to the answer, and each point's replicates and final standard deviation."""
    started = time.perf_counter()
    job = dock.sweep("monte_carlo", grid={"config": [{"batch_size": 100 + p}
                                                     for p in range(points)]},
                     base={"iterations": ITERATIONS}, seed=1,
                     replicate={"metric": "estimate", "half_width": half_width,
                                "min": 10, "batch": batch, "max": 100_000})
    job.wait()
    took = time.perf_counter() - started
    table = job.summary()
    assert all(table["met"]), table.rows
    return took, [(int(row["replicates"]), float(row["std"])) for row in table.rows]


def fixed(dock: simdock.Dock, counts: list[int]) -> float:
    """Seconds to run a sweep giving each point the replicates the adaptive job gave it."""
    started = time.perf_counter()
    job = dock.sweep("monte_carlo", variants=[
        {"iterations": ITERATIONS, "config": {"batch_size": 100 + p}, "seed": r}
        for p, count in enumerate(counts) for r in range(count)], reuse=False)
    job.wait()
    assert job.status == "succeeded", job.status
    return time.perf_counter() - started


@contextlib.contextmanager
def embedded() -> Iterator[simdock.Dock]:
    """The embedded default: SQLite in a scratch folder, the platform's own threads."""
    with tempfile.TemporaryDirectory(prefix="simdock-bench-") as scratch:
        folder = Path(scratch)
        with simdock.connect(f"sqlite:///{folder / 'simdock.db'}",
                             artifacts_path=str(folder / "artifacts")) as dock:
            yield dock


def on_dramatiq(workers: int, threads: int) -> Setting:
    """PostgreSQL, Redis and ``workers`` ``simdock worker`` processes of ``threads``."""
    @contextlib.contextmanager
    def setting() -> Iterator[simdock.Dock]:
        with dramatiq_workers("simdock_bench_replication", workers, threads) as (dock, _):
            yield dock
    return setting


def measure(name: str, setting: Setting, args: argparse.Namespace, half_width: float
            ) -> None:
    """Both jobs ``args.repeat`` times in ``setting``; prints their figures."""
    adaptive_times, fixed_times, ratios = [], [], []
    made = needed = 0
    for _ in range(max(3, args.repeat)):
        with setting() as dock:  # each job on a new store and workers of its own
            took, points = adaptive(dock, args.points, half_width, args.batch)
        with setting() as dock:
            baseline = fixed(dock, [count for count, _ in points])
        adaptive_times.append(took)
        fixed_times.append(baseline)
        made = sum(count for count, _ in points)
        needed = sum(math.ceil((t_quantile(0.975, count - 1) * std / half_width) ** 2)
                     for count, std in points)
        ratios.append(took / baseline)
    overhead = median(ratios) - 1
    print(f"  {name}")
    print(f"    fixed sweep (baseline)  {spread(fixed_times, ' s')}, {made} runs")
    print(f"    adaptive job            {spread(adaptive_times, ' s')}, {made} runs; "
          f"x{median(ratios):.3f} of the fixed sweep (overhead {overhead:+.1%}, target "
          f"under 10%: {'met' if overhead < 0.10 else 'MISSED'})")
    off = made / needed - 1
    print(f"    runs made {made}; the final standard deviations say {needed} were needed "
          f"({off:+.1%}, target within 20%: {'met' if abs(off) <= 0.20 else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=10)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--on", default="embedded,dramatiq",
                        help="where to measure, comma-separated: embedded, dramatiq")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    half_width = t_quantile(0.975, args.replicates - 1) * SIGMA / math.sqrt(args.replicates)
    settings: dict[str, tuple[str, Setting]] = {
        "embedded": ("embedded default (SQLite, the platform's threads)", embedded),
        "dramatiq": (f"{args.workers} Dramatiq workers x {args.threads} threads "
                     "(PostgreSQL, Redis)", on_dramatiq(args.workers, args.threads)),
    }
    print(f"adaptive replication of monte_carlo ({ITERATIONS} iterations a run), "
          f"{args.points} points, half-width {half_width:.5f} (about {args.replicates} "
          f"replicates a point), batches of {args.batch}")
    print(f"  machine before: {machine()}")
    for chosen in args.on.split(","):
        name, setting = settings[chosen.strip()]
        measure(name, setting, args, half_width)
    print(f"  machine after: {machine()}")


if __name__ == "__main__":
    main()
