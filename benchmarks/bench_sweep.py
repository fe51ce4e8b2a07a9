"""A 10,000-variant sweep of a no-op handler on the embedded platform.

Prints submission time, time until every run succeeded, runs per second and
peak memory, next to a baseline measured in the same run: calling the no-op
handler directly the same number of times (what the work itself costs).

    python benchmarks/bench_sweep.py [--variants 10000] [--workers N]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

import simdock
from simdock_sim.handlers import NoOpHandler


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    handler = NoOpHandler()
    started = time.perf_counter()
    for i in range(args.variants):
        handler.execute(f"run-{i}", "noop", {"i": i})
    baseline = time.perf_counter() - started

    settings = {"executor_workers": args.workers} if args.workers else {}
    with tempfile.TemporaryDirectory() as blobs:
        dock = simdock.connect(artifacts_path=blobs, **settings)
        rss_before = rss_mib()
        started = time.perf_counter()
        sweep = dock.sweep("noop", grid={"i": list(range(args.variants))})
        submitted = time.perf_counter() - started
        sweep.wait()
        total = time.perf_counter() - started
        status = sweep.status
        dock.close()
    rate = args.variants / total
    print(f"sweep of {args.variants} no-op variants on {dock.platform.description}")
    print(f"  workers               {dock.platform.dispatcher._runs.size}")
    print(f"  final status          {status}")
    print(f"  submission            {submitted:8.3f} s")
    print(f"  until all succeeded   {total:8.3f} s")
    print(f"  runs per second       {rate:8.0f}")
    print(f"  peak RSS              {rss_mib():8.1f} MiB (before the sweep: {rss_before:.1f})")
    print(f"  baseline: handler called directly {args.variants} times: {baseline:.4f} s")
    print(f"  ratio total / baseline  {total / baseline:8.0f}x  "
          f"(overhead per run {1e6 * (total - baseline) / args.variants:.0f} us)")


if __name__ == "__main__":
    main()
