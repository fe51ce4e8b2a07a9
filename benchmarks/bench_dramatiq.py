"""No-op runs through Dramatiq + Redis with PostgreSQL, against raw Dramatiq on the same Redis.

Baseline, measured in the same run: a raw Dramatiq no-op actor, ``dramatiq``
with ``--processes P --threads T``, one producer sending ``--runs`` messages;
the time from the first send until every message was handled. simdock: a
sweep of ``--runs`` no-op runs submitted through the library, executed by P
``simdock worker --concurrency T`` processes; the time from submission until
every run succeeded. Both print the median of ``--repeat`` (at least 3) and
simdock's rate as a fraction of the baseline's (target >= 0.4, moonshot 0.7).

Also: how long submitting a sweep of ``--big`` runs takes with Dramatiq
dispatch, and how many messages it leaves in the broker (with no worker
running, so nothing is taken away meanwhile).

    python -m benchmarks.bench_dramatiq [--runs 5000] [--processes 2] [--threads 4]
                                        [--big 100000] [--repeat 3]
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
from pathlib import Path

import redis

import simdock
from benchmarks.dramatiq_workers import REDIS_URL, dramatiq_workers
from benchmarks.measure import machine, median, spread
from benchmarks.pg import drop, scratch_database

BIN = Path(sys.executable).parent


def raw_dramatiq(runs: int, processes: int, threads: int) -> float:
    """Seconds for a raw Dramatiq no-op actor to handle ``runs`` messages."""
    queue, counter = f"bench_{uuid.uuid4().hex[:8]}", f"bench_done_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "BENCH_REDIS_URL": REDIS_URL, "BENCH_QUEUE": queue,
           "BENCH_COUNTER": counter}
    client = redis.Redis.from_url(REDIS_URL)
    workers = subprocess.Popen([str(BIN / "dramatiq"), "benchmarks.dramatiq_noop",
                                "--processes", str(processes), "--threads", str(threads),
                                "--queues", queue], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)  # the workers start and connect
        os.environ.update(BENCH_QUEUE=queue, BENCH_COUNTER=counter)
        from benchmarks import dramatiq_noop

        dramatiq_noop.noop.queue_name = queue
        dramatiq_noop.broker.declare_queue(queue)
        started = time.perf_counter()
        for i in range(runs):
            dramatiq_noop.noop.send(i)
        while int(client.get(counter) or 0) < runs:
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        os.killpg(workers.pid, signal.SIGTERM)
        workers.wait(30)
        client.delete(counter)


def simdock_workers(runs: int, processes: int, threads: int) -> tuple[float, int]:
    """Seconds from submitting ``runs`` no-op runs to all of them succeeded, and the most
    messages the broker held meanwhile (queued or being handled)."""
    with dramatiq_workers("simdock_bench_dramatiq", processes, threads) as (dock, prefix):
        client = redis.Redis.from_url(REDIS_URL)
        messages = f"simdock:{prefix}simulations.msgs"
        started = time.perf_counter()
        sweep = dock.sweep("noop", grid={"i": list(range(runs))})
        peak = 0
        while dock.statistics()["succeeded"] < runs:
            peak = max(peak, int(client.hlen(messages)))
            time.sleep(0.02)
        assert sweep.status == "succeeded"
        return time.perf_counter() - started, peak


def big_submission(runs: int) -> tuple[float, int]:
    """Seconds to submit a sweep of ``runs`` with Dramatiq dispatch, and the messages it left
    in the broker (no worker is running)."""
    url = scratch_database("simdock_bench_dramatiq_big")
    prefix = f"b{uuid.uuid4().hex[:8]}_"
    client = redis.Redis.from_url(REDIS_URL)
    key = f"simdock:{prefix}simulations"
    try:
        with tempfile.TemporaryDirectory() as tmp, simdock.connect(
                url, artifacts_path=tmp, redis_url=REDIS_URL, broker_queue_prefix=prefix) as dock:
            started = time.perf_counter()
            dock.sweep("noop", grid={"i": list(range(runs))})
            seconds = time.perf_counter() - started
            return seconds, int(client.llen(key))
    finally:
        client.delete(key, f"{key}.msgs")
        drop(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repeat = max(3, args.repeat)
    before = machine()
    raw = [raw_dramatiq(args.runs, args.processes, args.threads) for _ in range(repeat)]
    measured = [simdock_workers(args.runs, args.processes, args.threads) for _ in range(repeat)]
    ours, peaks = [m[0] for m in measured], [m[1] for m in measured]
    big = [big_submission(args.big) for _ in range(repeat)]
    raw_rate, our_rate = args.runs / median(raw), args.runs / median(ours)
    print(f"{args.runs} no-op runs, {args.processes} worker processes x {args.threads} "
          f"threads, Redis, PostgreSQL; machine before: {before}")
    print(f"  raw Dramatiq no-op actor (baseline)  {spread(raw, ' s')}  {raw_rate:,.0f} msg/s")
    print(f"  simdock runs through Dramatiq        {spread(ours, ' s')}  {our_rate:,.0f} runs/s"
          f"  x{our_rate / raw_rate:.2f} of raw (target 0.4: "
          f"{'met' if our_rate / raw_rate >= 0.4 else 'MISSED'}); at most "
          f"{max(peaks)} messages in the broker at once (sampled every 20 ms)")
    print(f"  submit a sweep of {args.big:,} runs: {spread([b[0] for b in big], ' s')} "
          f"(target < 5 s: {'met' if median([b[0] for b in big]) < 5 else 'MISSED'}); "
          f"messages left in the broker: {max(b[1] for b in big)}")
    print(f"  machine after: {machine()}")


if __name__ == "__main__":
    main()
