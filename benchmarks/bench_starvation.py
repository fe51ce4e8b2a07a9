"""Runs executed twice on a starved host: a sweep under a load of 30 on the machine's cores.

Live workers must renew their leases however busy the host is: a renewal that
waits behind work lets a lease lapse, and the run is taken back and executed
again although its worker was alive. This runs a sweep of ``ticks`` runs
(each reports a log line, a metric point and progress at every tick) on two
deployments, first on a quiet host (the baseline, same run), then beside
``--hogs`` processes that spin on the CPU at the same priority:

- the embedded default: ``simdock.connect`` on SQLite, handlers in child
  processes;
- two ``simdock worker`` processes on Dramatiq over Redis, on PostgreSQL.

Printed per deployment and load: runs executed more than once (attempts
above 1; the figure that must stay 0), runs not succeeded, and the sweep's
wall time (median of ``--repeat``).

    python -m benchmarks.bench_starvation [--runs 100] [--hogs 30] [--repeat 3]
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
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import simdock
from benchmarks.measure import machine, median, spread
from benchmarks.pg import drop, scratch_database
from simdock.domain import RunStatus

BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
TICKS = 5
INTERVAL = 0.1


@dataclass(frozen=True)
class Outcome:
    twice: int
    not_succeeded: int
    seconds: float


@contextmanager
def hogs(count: int) -> Iterator[None]:
    """``count`` processes spinning on the CPU until the block ends."""
    spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(count)]
    try:
        time.sleep(1.0 if count else 0.0)  # let the load build up
        yield
    finally:
        for process in spinning:
            process.kill()
        for process in spinning:
            process.wait()


@contextmanager
def embedded(tmp: Path) -> Iterator[simdock.Dock]:
    with simdock.connect(f"sqlite:///{tmp / 'simdock.db'}", artifacts_path=str(tmp / "blobs"),
                         handler_isolation="process", executor_workers=2) as dock:
        yield dock


@contextmanager
def redis_workers(tmp: Path) -> Iterator[simdock.Dock]:
    url = scratch_database("simdock_bench_starvation")
    prefix = f"s{uuid.uuid4().hex[:8]}_"
    settings = {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "BROKER_QUEUE_PREFIX": prefix,
                "ARTIFACTS_PATH": str(tmp / "blobs"), "LOG_LEVEL": "WARNING"}
    with ExitStack() as stack:
        stack.callback(drop, url)
        for _ in range(2):
            worker = subprocess.Popen([str(BIN / "simdock"), "worker", "--concurrency", "2"],
                                      env={**os.environ, **settings}, start_new_session=True,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stack.callback(stop, worker)
        yield stack.enter_context(simdock.connect(url, artifacts_path=str(tmp / "blobs"),
                                                  redis_url=REDIS_URL,
                                                  broker_queue_prefix=prefix))


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


Deployment = Callable[[Path], AbstractContextManager[simdock.Dock]]


def once(deployment: Deployment, runs: int, load: int) -> Outcome:
    with tempfile.TemporaryDirectory() as tmp, deployment(Path(tmp)) as dock, hogs(load):
        started = time.monotonic()
        sweep = dock.sweep("ticks", [{"ticks": TICKS, "interval": INTERVAL + i / 1e6}
                                     for i in range(runs)])
        while True:
            with dock.platform.uow() as uow:
                done = uow.runs.for_job(sweep.id)
            if all(run.status.terminal for run in done):
                break
            time.sleep(0.2)
        seconds = time.monotonic() - started
    return Outcome(twice=sum(run.attempts > 1 for run in done),
                   not_succeeded=sum(run.status is not RunStatus.SUCCEEDED for run in done),
                   seconds=seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--hogs", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"a sweep of {args.runs} ticks runs ({TICKS} ticks {INTERVAL} s apart) quiet, then "
          f"beside {args.hogs} CPU-bound processes; {machine()}")
    deployments: dict[str, Deployment] = {"embedded, sqlite": embedded,
                                          "2 workers, redis, pg": redis_workers}
    for name, deployment in deployments.items():
        quiet: list[float] = []
        for load in (0, args.hogs):
            outcomes = [once(deployment, args.runs, load) for _ in range(max(3, args.repeat))]
            seconds = [o.seconds for o in outcomes]
            label = "quiet (baseline)" if load == 0 else f"{load} hogs"
            ratio = "" if load == 0 else f" x{median(seconds) / median(quiet):.2f} of quiet"
            quiet = quiet or seconds
            print(f"  {name:<21} {label:<16} executed twice per repeat "
                  f"{[o.twice for o in outcomes]}, not succeeded "
                  f"{[o.not_succeeded for o in outcomes]}; sweep "
                  f"{spread(seconds, ' s', 1)}{ratio}")
    print(f"  after: {machine()}")


if __name__ == "__main__":
    main()
