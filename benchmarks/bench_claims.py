"""Claim-and-finish throughput of no-op runs by concurrent workers on PostgreSQL.

Queues no-op runs, starts worker processes (each connected and waiting), then
releases them together and times until every run has succeeded. Prints runs
per second for 1 worker (the baseline, same run) and for 4, and the ratio,
each the median of three rounds.

    python benchmarks/bench_claims.py [--runs 4000] [--workers 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import simdock
from benchmarks.measure import machine, median, spread
from benchmarks.pg import drop, scratch_database

WORKER = """
import sys, time
from pathlib import Path
from simdock_adapters.bootstrap import build_platform
from simdock_adapters.settings import load_settings
from simdock_adapters.worker import serve

url, artifacts, go = sys.argv[1:4]
settings = load_settings(database_url=url, artifacts_path=artifacts, dispatch="database",
                         handler_isolation="thread", executor_workers=1,
                         worker_poll_seconds=0.01)
print("ready", flush=True)
while not Path(go).exists():
    time.sleep(0.001)
stats = serve(build_platform(settings, consume=True), exit_when_idle=True)
print(stats.runs, flush=True)
"""


def throughput(workers: int, runs: int, tmp: Path) -> tuple[float, list[int]]:
    url = scratch_database("simdock_bench_claims")
    tmp.mkdir(parents=True, exist_ok=True)
    go = tmp / "go"
    try:
        with simdock.connect(url, artifacts_path=str(tmp), dispatch="database") as dock:
            sweep = dock.sweep("noop", grid={"i": list(range(runs))})
            procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, str(tmp), str(go)],
                                      stdout=subprocess.PIPE, text=True)
                     for _ in range(workers)]
            for proc in procs:
                assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            started = time.perf_counter()
            go.touch()
            counts = [int(proc.communicate(timeout=600)[0].strip()) for proc in procs]
            elapsed = time.perf_counter() - started
            assert sweep.status == "succeeded", sweep.status
        return runs / elapsed, counts
    finally:
        drop(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    before = machine()
    singles: list[float] = []
    manys: list[float] = []
    splits: list[list[int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(max(3, args.repeat)):
            singles.append(throughput(1, args.runs, Path(tmp) / f"1-{round_}")[0])
            rate, split = throughput(args.workers, args.runs, Path(tmp) / f"n-{round_}")
            manys.append(rate)
            splits.append(split)
    single, many = median(singles), median(manys)
    print(f"claim-and-finish of {args.runs} no-op runs on PostgreSQL")
    print(f"  machine before: {before}; after: {machine()}")
    print(f"  1 worker (baseline)  {spread(singles, ' runs/s', 0)}")
    print(f"  {args.workers} workers            {spread(manys, ' runs/s', 0)}  "
          f"(x{many / single:.2f} of one worker; runs per worker {splits})")


if __name__ == "__main__":
    main()
