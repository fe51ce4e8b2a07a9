"""A worker process that takes queued runs and reports from the database.

Started by ``simdock worker``; several can run against one PostgreSQL
database (or SQLite file), each claiming runs atomically and fairly, so every
run is executed once however many workers there are. Without a broker its
threads are the embedded platform's
(:class:`~simdock_adapters.dispatch.threads.ThreadDispatcher`), polling the
database; with one (REDIS_URL or RABBITMQ_URL) they are Dramatiq's, woken by
messages (:class:`~simdock_adapters.dispatch.broker.BrokerDispatcher`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from simdock.platform import Platform
from simdock.usecases.worker_loop import PlatformWork
from simdock_adapters.dispatch.threads import ThreadDispatcher


@dataclass(frozen=True)
class WorkerStats:
    runs: int = 0
    reports: int = 0


def serve(platform: Platform, concurrency: int = 1, poll_seconds: float = 0.5,
          exit_when_idle: bool = False, stop: threading.Event | None = None,
          queues: Sequence[str] = ("simulations", "reports")) -> WorkerStats:
    """Execute queued work with ``concurrency`` threads until stopped (or idle, if asked):
    runs if ``queues`` names simulations, reports (one thread) if it names reports."""
    stop = stop or threading.Event()
    workers = ThreadDispatcher(concurrency if "simulations" in queues else 0,
                               1 if "reports" in queues else 0, poll_seconds)
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
        platform.drain(workers.close)  # runs in hand end or are handed back
    return WorkerStats(workers.runs.done, workers.reports.done)


def consume(platform: Platform, exit_when_idle: bool = False,
            stop: threading.Event | None = None) -> None:
    """Keep a platform that consumes a broker's messages running until stopped (or, if
    asked, until nothing is queued and nothing is in hand)."""
    stop = stop or threading.Event()
    try:
        while not stop.wait(0.5):
            if exit_when_idle and platform.dispatcher.join(0.5) and _nothing_queued(platform):
                return
    except KeyboardInterrupt:
        stop.set()


def _nothing_queued(platform: Platform) -> bool:
    from simdock.domain import RunStatus

    with platform.uow() as uow:
        counts = uow.runs.counts()
    return not counts.get(RunStatus.QUEUED) and not counts.get(RunStatus.RUNNING)
