"""A worker process that takes queued runs and reports: ``simdock worker``.

Its platform is built by the composition root as a worker's
(``build_platform(settings, consume=True)``): without a broker its threads poll
the database (:class:`~simdock_adapters.dispatch.threads.ThreadDispatcher`),
each claiming runs atomically and fairly, so every run is executed once however
many workers share one PostgreSQL database (or SQLite file); with one
(REDIS_URL or RABBITMQ_URL) they are Dramatiq's, woken by messages
(:class:`~simdock_adapters.dispatch.broker.BrokerDispatcher`). This module only
keeps such a platform working until it is told to stop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from simdock.domain import RunStatus
from simdock.platform import Platform
from simdock_adapters.dispatch.threads import ThreadDispatcher


@dataclass(frozen=True)
class WorkerStats:
    runs: int = 0
    reports: int = 0


def serve(platform: Platform, exit_when_idle: bool = False,
          stop: threading.Event | None = None) -> WorkerStats:
    """Keep a worker's platform executing until ``stop`` is set (or, if asked, until it is
    idle: with a broker, also nothing queued or running in the store), then close it: runs
    in hand end or are handed back. Returns what its threads did, where it polls."""
    stop = stop or threading.Event()
    dispatcher = platform.dispatcher
    try:
        while not stop.is_set():
            idle = dispatcher.join(0.5)
            if exit_when_idle and idle and (dispatcher.broker is None
                                            or _nothing_queued(platform)):
                break
            if idle:
                stop.wait(0.5)
    except KeyboardInterrupt:
        stop.set()
    finally:
        platform.close()
    if isinstance(dispatcher, ThreadDispatcher):
        return WorkerStats(dispatcher.runs.done, dispatcher.reports.done)
    return WorkerStats()


def _nothing_queued(platform: Platform) -> bool:
    with platform.uow() as uow:
        counts = uow.runs.counts()
    return not counts.get(RunStatus.QUEUED) and not counts.get(RunStatus.RUNNING)
