"""A 10,000-variant sweep of a no-op handler on the embedded platform.

Prints submission time, time until every run succeeded, runs per second and
peak memory, next to a baseline measured in the same run: calling the no-op
handler directly the same number of times (what the work itself costs).

    python -m benchmarks.bench_sweep [--variants 10000] [--workers N]
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
    print(f"sweep of {args.variants} no-op variants on the embedded platform")
    print(f"  baseline: the handler called directly {args.variants} times: {baseline:.4f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for label, url in (("sqlite (default)", f"sqlite:///{tmp}/simdock.db"),
                           ("memory", "memory://")):
            with simdock.connect(url, artifacts_path=tmp, **settings) as dock:
                rss_before = rss_mib()
                started = time.perf_counter()
                sweep = dock.sweep("noop", grid={"i": list(range(args.variants))})
                submitted = time.perf_counter() - started
                sweep.wait()
                total = time.perf_counter() - started
                status = sweep.status
            print(f"  {label}: {status}; submission {submitted:.3f} s; all succeeded after "
                  f"{total:.3f} s; {args.variants / total:.0f} runs/s; peak RSS "
                  f"{rss_mib():.0f} MiB (before: {rss_before:.0f}); "
                  f"x{total / baseline:.0f} the baseline "
                  f"({1e6 * (total - baseline) / args.variants:.0f} us overhead per run)")

if __name__ == "__main__":
    main()
