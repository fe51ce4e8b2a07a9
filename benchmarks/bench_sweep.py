"""A sweep of no-op runs on the embedded platform, from submission until every run succeeded.

Prints, per store (the SQLite default and memory), the median of ``--repeat``
sweeps: submission time, time until every run succeeded, runs per second, peak
memory, next to a baseline measured in the same run: calling the no-op handler
directly the same number of times (what the work itself costs). Targets: at
least 1,000 runs/s on SQLite and 10,000 on memory.

    python -m benchmarks.bench_sweep [--variants 10000] [--workers N] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from typing import Any

import simdock
from benchmarks.measure import machine, median, repeated, spread
from simdock_sim.handlers import NoOpHandler

TARGETS = {"sqlite (default)": 1_000, "memory": 10_000}


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def handler_baseline(variants: int) -> float:
    handler = NoOpHandler()
    started = time.perf_counter()
    for i in range(variants):
        handler.execute(f"run-{i}", "noop", {"i": i})
    return time.perf_counter() - started


def one_sweep(url: str, tmp: str, variants: int, workers: int | None) -> tuple[float, float]:
    settings: dict[str, Any] = {"executor_workers": workers} if workers else {}
    with simdock.connect(url, artifacts_path=tmp, **settings) as dock:
        started = time.perf_counter()
        sweep = dock.sweep("noop", grid={"i": list(range(variants))})
        submitted = time.perf_counter() - started
        sweep.wait()
        total = time.perf_counter() - started
        assert sweep.status == "succeeded", sweep.status
    return submitted, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"sweep of {args.variants} no-op variants on the embedded platform; {machine()}")
    baseline = median(repeated(args.repeat, lambda: handler_baseline(args.variants)))
    print(f"  baseline: the handler called directly {args.variants} times: {baseline:.4f} s")
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1000))
        stores = {"sqlite (default)": lambda: f"sqlite:///{tmp}/simdock-{next(counter)}.db",
                  "memory": lambda: "memory://"}
        for label, url in stores.items():
            rss_before = rss_mib()
            runs = repeated(args.repeat, lambda url=url: one_sweep(  # type: ignore[misc]
                url(), tmp, args.variants, args.workers))
            totals = [total for _, total in runs]
            rates = [args.variants / total for total in totals]
            total = median(totals)
            print(f"  {label}: all succeeded after {spread(totals, ' s')}; "
                  f"{median(rates):,.0f} runs/s (target {TARGETS[label]:,}: "
                  f"{'met' if median(rates) >= TARGETS[label] else 'MISSED'}); submission "
                  f"{median([s for s, _ in runs]):.3f} s; peak RSS {rss_mib():.0f} MiB (before: "
                  f"{rss_before:.0f}); x{total / baseline:.0f} the baseline "
                  f"({1e6 * (total - baseline) / args.variants:.0f} us overhead per run)")
    print(f"  after: {machine()}")


if __name__ == "__main__":
    main()
