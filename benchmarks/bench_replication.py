"""Adaptive replication against a fixed sweep of the same runs, on the embedded default.

monte_carlo (100 iterations a run) at ``--points`` points, replicated until the 95%
interval of the estimate's mean is within a half-width that needs about
``--replicates`` replicates a point; then, as the baseline measured in the same run, a
fixed-count sweep of as many runs as the adaptive job made (each point given the
replicates it got). Prints wall times (median of ``--repeat``) and their ratio (target:
the adaptive job's overhead under 10%), and the runs made beside the runs the final
standard deviations say were needed, (t x s / h)**2 a point (target: within 20%).

    python -m benchmarks.bench_replication [--points 10] [--replicates 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import simdock
from benchmarks.measure import machine, median, spread
from simdock.domain.replication import t_quantile

ITERATIONS = 100
#: The estimate's standard deviation at ITERATIONS samples: sqrt(pi (4 - pi) / n).
SIGMA = math.sqrt(math.pi * (4 - math.pi) / ITERATIONS)


def adaptive(folder: Path, points: int, half_width: float, batch: int
             ) -> tuple[float, list[tuple[int, float]]]:
    """Seconds to the answer, and each point's replicates and final standard deviation."""
    with simdock.connect(f"sqlite:///{folder / 'adaptive.db'}",
                         artifacts_path=str(folder / "artifacts")) as dock:
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


def fixed(folder: Path, counts: list[int]) -> float:
    """Seconds to run a sweep giving each point the replicates the adaptive job gave it."""
    with simdock.connect(f"sqlite:///{folder / 'fixed.db'}",
                         artifacts_path=str(folder / "artifacts")) as dock:
        started = time.perf_counter()
        job = dock.sweep("monte_carlo", variants=[
            {"iterations": ITERATIONS, "config": {"batch_size": 100 + p}, "seed": r}
            for p, count in enumerate(counts) for r in range(count)], reuse=False)
        job.wait()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=10)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    half_width = t_quantile(0.975, args.replicates - 1) * SIGMA / math.sqrt(args.replicates)
    print(f"adaptive replication of monte_carlo ({ITERATIONS} iterations a run), "
          f"{args.points} points, half-width {half_width:.5f} (about {args.replicates} "
          f"replicates a point), batches of {args.batch}, on the embedded default")
    print(f"  machine before: {machine()}")
    adaptive_times, fixed_times, ratios = [], [], []
    made = needed = 0
    for _ in range(max(3, args.repeat)):
        with tempfile.TemporaryDirectory(prefix="simdock-bench-") as scratch:
            folder = Path(scratch)
            took, points = adaptive(folder, args.points, half_width, args.batch)
            baseline = fixed(folder, [count for count, _ in points])
        adaptive_times.append(took)
        fixed_times.append(baseline)
        made = sum(count for count, _ in points)
        needed = sum(math.ceil((t_quantile(0.975, count - 1) * std / half_width) ** 2)
                     for count, std in points)
        ratios.append(took / baseline)
    overhead = median(ratios) - 1
    print(f"  fixed sweep (baseline)  {spread(fixed_times, ' s')}, {made} runs")
    print(f"  adaptive job            {spread(adaptive_times, ' s')}, {made} runs; "
          f"x{median(ratios):.3f} of the fixed sweep (overhead {overhead:+.1%}, target "
          f"under 10%: {'met' if overhead < 0.10 else 'MISSED'})")
    off = made / needed - 1
    print(f"  runs made {made}; the final standard deviations say {needed} were needed "
          f"({off:+.1%}, target within 20%: {'met' if abs(off) <= 0.20 else 'MISSED'})")
    print(f"  machine after: {machine()}")


if __name__ == "__main__":
    main()
