"""A scratch simdock on Dramatiq for benchmarks: a new PostgreSQL database, Redis, and
``simdock worker`` processes started for it and stopped after."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import simdock
from benchmarks.pg import drop, scratch_database

BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


@contextlib.contextmanager
def dramatiq_workers(name: str, processes: int, threads: int
                     ) -> Iterator[tuple[simdock.Dock, str]]:
    """A dock on a new database ``name``_..., with ``processes`` workers of ``threads``
    threads started (and given 3 s to connect); yields it with its broker queue prefix.
    The workers are stopped and the database dropped after."""
    url = scratch_database(name)
    prefix = f"b{uuid.uuid4().hex[:8]}_"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL,
               "ARTIFACTS_PATH": tmp, "BROKER_QUEUE_PREFIX": prefix, "LOG_LEVEL": "WARNING"}
        workers = [subprocess.Popen([str(BIN / "simdock"), "worker", "--concurrency",
                                     str(threads)], env=env, start_new_session=True,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(processes)]
        try:
            with simdock.connect(url, artifacts_path=tmp, redis_url=REDIS_URL,
                                 broker_queue_prefix=prefix) as dock:
                time.sleep(3)  # the workers start and connect
                yield dock, prefix
        finally:
            for worker in workers:
                os.killpg(worker.pid, signal.SIGTERM)
            for worker in workers:
                worker.wait(30)
            drop(url)
