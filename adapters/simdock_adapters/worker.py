"""A worker process that polls the database for queued runs and reports.

Started by ``simdock worker``; several can run against one PostgreSQL
database (or SQLite file), each claiming runs atomically, so every run is
executed once however many workers there are.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from simdock.domain import ReportStatus
from simdock.platform import Platform
from simdock.ports import PageRequest
from simdock.usecases.execute import execute_next
from simdock.usecases.reports import generate_report, list_reports

log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    runs: int = 0
    reports: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, runs: int = 0, reports: int = 0) -> None:
        with self.lock:
            self.runs += runs
            self.reports += reports


def serve(platform: Platform, concurrency: int = 1, poll_seconds: float = 0.5,
          exit_when_idle: bool = False, stop: threading.Event | None = None) -> WorkerStats:
    """Execute queued work with ``concurrency`` threads until stopped (or idle, if asked)."""
    stop = stop or threading.Event()
    stats = WorkerStats()
    threads = [threading.Thread(target=_loop, args=(platform, stats, poll_seconds,
                                                    exit_when_idle, stop),
                                name=f"simdock-worker-{i}", daemon=True)
               for i in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
    except KeyboardInterrupt:
        stop.set()
        for thread in threads:
            thread.join()
    return stats


def _loop(platform: Platform, stats: WorkerStats, poll_seconds: float, exit_when_idle: bool,
          stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            busy = _work_once(platform, stats)
        except Exception:  # a broken database round must not end the worker
            log.exception("worker round failed; retrying in %s s", poll_seconds)
            busy = False
        if not busy:
            if exit_when_idle:
                return
            stop.wait(poll_seconds)


def _work_once(platform: Platform, stats: WorkerStats) -> bool:
    executed = execute_next(platform)
    if executed is not None:
        stats.add(runs=1)
        return True
    queued = list_reports(None, PageRequest(1, 10), platform,
                          frozenset({ReportStatus.QUEUED})).items
    generated = sum(generate_report(report.id, platform) is not None for report in queued)
    stats.add(reports=generated)
    return generated > 0

