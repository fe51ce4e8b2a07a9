"""Time from ``kill -9`` of a Dramatiq worker to its runs running again elsewhere.

Two ``simdock worker`` processes (Redis, PostgreSQL, default lease and
heartbeat) share a sweep of short heat1d runs; one is killed with SIGKILL
while it executes runs. Measured: from the kill until every run it held was
claimed again by the other worker (its ``started_at`` after the kill). The
baseline, in the same run, is the lease itself (``LEASE_SECONDS``): a lost run
cannot be taken back sooner. Median of ``--repeat`` (at least 3); target < 15 s.

    python -m benchmarks.bench_recovery [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import simdock
from benchmarks.measure import machine, median, spread
from benchmarks.pg import drop, scratch_database
from simdock.domain import RunStatus
from simdock_adapters.settings import Settings

BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
HEAT = {"spatial_steps": 2001, "time_steps": 400, "end_time": 1e-6}


def once() -> float:
    url = scratch_database("simdock_bench_recovery")
    prefix = f"r{uuid.uuid4().hex[:8]}_"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL,
               "ARTIFACTS_PATH": tmp, "BROKER_QUEUE_PREFIX": prefix, "LOG_LEVEL": "WARNING"}
        workers = [subprocess.Popen([str(BIN / "simdock"), "worker", "--concurrency", "2"],
                                    env=env, start_new_session=True,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(2)]
        try:
            with simdock.connect(url, artifacts_path=tmp, redis_url=REDIS_URL,
                                 broker_queue_prefix=prefix) as dock:
                sweep = dock.sweep("heat1d", grid={"diffusivity": [0.01 + i / 1e4
                                                                   for i in range(200)]},
                                   base=HEAT, reuse=False)
                victim = f"{os.uname().nodename}:{workers[0].pid}"
                held: list[str] = []
                while not held:
                    with dock.platform.uow() as uow:
                        held = [r.id for r in uow.runs.for_job(sweep.id)
                                if r.status is RunStatus.RUNNING and r.worker == victim]
                    time.sleep(0.05)
                os.killpg(workers[0].pid, signal.SIGKILL)
                killed = datetime.now(UTC)
                while True:
                    with dock.platform.uow() as uow:
                        runs = [uow.runs.get(run_id) for run_id in held]
                    again = [r for r in runs if r is not None and r.worker != victim
                             and r.started_at is not None and r.started_at > killed]
                    if len(again) == len(held):
                        return max((r.started_at - killed).total_seconds()  # type: ignore[operator]
                                   for r in again)
                    time.sleep(0.1)
        finally:
            for worker in workers:
                if worker.poll() is None:
                    os.killpg(worker.pid, signal.SIGTERM)
                    worker.wait(30)
            drop(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    before = machine()
    lease = Settings().lease_seconds
    seconds = [once() for _ in range(max(3, args.repeat))]
    print(f"kill -9 of one of two Dramatiq workers (Redis, PostgreSQL); machine before: {before}")
    print(f"  the lease (baseline)              {lease:.3f} s")
    ratio = median(seconds) / lease
    print(f"  its runs running again elsewhere  {spread(seconds, ' s')}  x{ratio:.2f} of the "
          f"lease; target < 15 s: {'met' if median(seconds) < 15 else 'MISSED'}")
    print(f"  machine after: {machine()}")


if __name__ == "__main__":
    main()
