"""Throughput of the heat1d solver compared with a plain numpy copy of the same array.

Usage::

    python benchmarks/bench_heat1d.py [--points 100000] [--steps 10000] [--repeats 3]

The solver is run with r = 0.4 and two snapshots.  "Bytes moved per step" counts one read
and one write of the field (2 * points * 8 bytes), so the achieved GB/s is directly
comparable with np.copyto between two preallocated arrays of the same size, repeated as
many times as there are steps, measured in the same run.  Times are the median of the
repeats (at least three).  Prints figures only.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence

import numpy as np

from benchmarks.measure import machine, median
from simdock_sim import heat1d

TARGET_RATIO = 0.5
ITEM_BYTES = 8


def benchmark_parameters(points: int, steps: int, r: float = 0.4) -> heat1d.Heat1DParameters:
    """Parameters with the requested grid and step count and mesh ratio r."""
    length = 1.0
    diffusivity = 0.01
    dx = length / (points - 1)
    end_time = r * dx * dx / diffusivity * steps
    return heat1d.Heat1DParameters(
        length=length,
        spatial_steps=points,
        time_steps=steps,
        diffusivity=diffusivity,
        end_time=end_time,
        snapshots=2,
    )


def time_copy(points: int, steps: int) -> float:
    """Seconds for ``steps`` copies of a float64 array of ``points`` values."""
    source = np.random.default_rng(0).random(points)
    target = np.empty_like(source)
    np.copyto(target, source)
    started = time.perf_counter()
    for _ in range(steps):
        np.copyto(target, source)
    return time.perf_counter() - started


def time_solve(params: heat1d.Heat1DParameters, method: heat1d.Method) -> tuple[float, str]:
    """Seconds for one full solve (including setup) and the kernel that was used."""
    started = time.perf_counter()
    result = heat1d.solve(params, method=method)
    return time.perf_counter() - started, result.method


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--points", type=int, default=100_000, help="spatial grid points")
    parser.add_argument("--steps", type=int, default=10_000, help="time steps")
    parser.add_argument("--repeats", type=int, default=3,
                        help="median of this many runs (at least 3)")
    parser.add_argument(
        "--method",
        choices=("all", "auto", "stencil", "blocked"),
        default="all",
        help="solver kernel(s) to time (default: auto and stencil)",
    )
    args = parser.parse_args(argv)
    repeats = max(3, args.repeats)
    methods: list[heat1d.Method] = ["auto", "stencil"] if args.method == "all" else [args.method]

    params = benchmark_parameters(args.points, args.steps)
    bytes_per_step = 2 * args.points * ITEM_BYTES
    total_bytes = bytes_per_step * args.steps

    heat1d.solve(benchmark_parameters(min(args.points, 4096), 64))  # warm-up
    before = machine()
    copy_seconds = median([time_copy(args.points, args.steps) for _ in range(repeats)])
    solve_seconds: dict[str, float] = {}
    kernels: dict[str, str] = {}
    for method in methods:
        times = []
        for _ in range(repeats):
            seconds, kernel = time_solve(params, method)
            times.append(seconds)
            kernels[method] = kernel
        solve_seconds[method] = median(times)

    copy_gbs = total_bytes / copy_seconds / 1e9
    print(f"heat1d benchmark: {args.points} points x {args.steps} steps, r = {params.r:.3g}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
        f"median of {repeats}"
    )
    print(f"machine before: {before}; after: {machine()}")
    print(f"bytes moved per step (read + write of the field): {bytes_per_step}")
    print(
        f"copy     np.copyto x {args.steps}: {copy_seconds:8.4f} s  "
        f"{copy_seconds / args.steps * 1e6:8.2f} us/step  {copy_gbs:7.2f} GB/s"
    )
    for method in methods:
        seconds = solve_seconds[method]
        achieved = total_bytes / seconds / 1e9
        label = f"solve    method={method} ({kernels[method]})"
        print(
            f"{label:<34}: {seconds:8.4f} s  {seconds / args.steps * 1e6:8.2f} us/step  "
            f"{achieved:7.2f} GB/s  ratio {achieved / copy_gbs:5.2f} (target {TARGET_RATIO})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
