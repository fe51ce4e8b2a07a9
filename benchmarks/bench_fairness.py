"""How long another user's single run waits behind one user's big sweep, on the embedded
platform (two worker threads, as on this machine).

User A submits a sweep of ``--sweep`` short runs (``--run-ms`` each, minutes of
work for two threads); while it executes, user B submits one run at a time
and the time from B's submission to its start is recorded. The baseline,
measured in the same run, is the same single run's wait on an idle platform.
Prints medians of ``--repeat`` samples per store. Target: B's run starts within
a few seconds (here: 2 s) whatever A has queued.

    python -m benchmarks.bench_fairness [--sweep 20000] [--samples 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Mapping
from typing import Any

import simdock
from benchmarks.measure import machine, median, spread
from benchmarks.pg import drop, scratch_database
from simdock.handlers import ProgressCallback, SimulationHandler


class Naps(SimulationHandler):
    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        time.sleep(float(parameters.get("seconds", 0.01)))
        return {}


def wait_to_start(dock: simdock.Dock, seconds: float) -> float:
    job = dock.submit("naps", {"seconds": seconds}).wait(timeout=600)
    run = job.run
    assert run.started_at is not None
    return (run.started_at - run.created_at).total_seconds()


def measure(url: str, tmp: str, sweep: int, run_seconds: float, samples: int
            ) -> tuple[list[float], list[float], int]:
    with simdock.connect(url, artifacts_path=tmp, executor_workers=2) as alice:
        alice.register_handler("naps", Naps())
        bob = simdock.Dock(alice.platform, "bob@example.com")
        idle = [wait_to_start(bob, run_seconds) for _ in range(samples)]
        flood = alice.sweep("naps", grid={"i": list(range(sweep))},
                            base={"seconds": run_seconds})
        time.sleep(1.0)
        behind = []
        for _ in range(samples):
            behind.append(wait_to_start(bob, run_seconds))
            time.sleep(0.2)
        queued = alice.statistics()["queued"]
        flood.cancel()
    return idle, behind, queued


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sweep", type=int, default=20_000)
    parser.add_argument("--run-ms", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    samples = max(3, args.samples)
    print(f"user B's single run behind user A's sweep of {args.sweep} runs of "
          f"{args.run_ms:g} ms (2 worker threads); {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        stores = {"sqlite (default)": f"sqlite:///{tmp}/simdock.db", "memory": "memory://"}
        url = scratch_database("simdock_bench_fairness")
        stores["postgresql"] = url
        try:
            for name, store in stores.items():
                idle, behind, queued = measure(store, tmp, args.sweep, args.run_ms / 1000,
                                               samples)
                print(f"  {name:<17} idle platform (baseline) {spread(idle, ' s')}; behind the "
                      f"sweep ({queued} of A's runs still queued) {spread(behind, ' s')}; "
                      f"x{median(behind) / max(median(idle), 1e-3):.1f} of idle; target < 2 s: "
                      f"{'met' if max(behind) < 2 else 'MISSED'}")
        finally:
            drop(url)
    print(f"  after: {machine()}")


if __name__ == "__main__":
    main()
