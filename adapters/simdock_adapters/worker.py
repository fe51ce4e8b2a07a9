"""A worker process that takes queued runs and reports from the database.

Started by ``simdock worker``; several can run against one PostgreSQL
database (or SQLite file), each claiming runs atomically and fairly, so every
run is executed once however many workers there are. Its threads are the
embedded platform's (:class:`~simdock_adapters.dispatch.threads.ThreadDispatcher`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from simdock.platform import Platform
from simdock.usecases.work import PlatformWork
from simdock_adapters.dispatch.threads import ThreadDispatcher


@dataclass(frozen=True)
class WorkerStats:
    runs: int = 0
    reports: int = 0


def serve(platform: Platform, concurrency: int = 1, poll_seconds: float = 0.5,
          exit_when_idle: bool = False, stop: threading.Event | None = None) -> WorkerStats:
    """Execute queued work with ``concurrency`` threads until stopped (or idle, if asked)."""
    stop = stop or threading.Event()
    workers = ThreadDispatcher(concurrency, 1, poll_seconds)
    workers.bind(PlatformWork(platform))
    try:
        if exit_when_idle:
            while not stop.is_set() and not workers.join(0.5):
                pass
        else:
            while not stop.wait(0.5):
                pass
    except KeyboardInterrupt:
        stop.set()
    finally:
        workers.close()
    return WorkerStats(workers.runs.done, workers.reports.done)
