"""Persisting a 10,000-variant sweep: SQLite and PostgreSQL against the memory store.

Submission only (nothing executes: dispatch is left to the database), so the
figure is validation, payload encoding and the one transaction that inserts
the job and its runs. Target: under 2 s on SQLite and on PostgreSQL.

    python benchmarks/bench_persistence.py [--variants 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import simdock
from benchmarks.measure import machine, median
from benchmarks.pg import drop, scratch_database


def submit_seconds(url: str, variants: int, artifacts: str) -> float:
    with simdock.connect(url, artifacts_path=artifacts, dispatch="database") as dock:
        started = time.perf_counter()
        sweep = dock.sweep("noop", grid={"i": list(range(variants))}, base={"length": 1.0})
        elapsed = time.perf_counter() - started
        assert len(sweep.runs()) == variants
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repeat = max(3, args.repeat)
    print(f"persist a sweep of {args.variants} variants (median of {repeat}); "
          f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        results["memory"] = median([submit_seconds("memory://", args.variants, tmp)
                                    for _ in range(repeat)])
        results["sqlite"] = median([submit_seconds(f"sqlite:///{tmp}/bench-{i}.db",
                                                   args.variants, tmp) for i in range(repeat)])
        url = scratch_database("simdock_bench_persist")
        try:
            results["postgresql"] = median([submit_seconds(url, args.variants, tmp)
                                            for _ in range(repeat)])
        finally:
            drop(url)
    for name, seconds in results.items():
        target = "" if name == "memory" else f"  target < 2 s: {'met' if seconds < 2 else 'MISSED'}"
        print(f"  {name:<11} {seconds:7.3f} s  {args.variants / seconds:9.0f} runs/s  "
              f"x{seconds / results['memory']:5.2f} of memory{target}")
    print(f"  machine after: {machine()}")


if __name__ == "__main__":
    main()
