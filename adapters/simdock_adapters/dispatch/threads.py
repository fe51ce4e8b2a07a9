"""Dispatch to worker threads in this process: the embedded default.

Runs and reports have separate queues and workers (seed 000's
``simulations`` and ``reports`` queues), so a long sweep never delays a report.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

_STOP = object()


class _Pool:
    def __init__(self, name: str, workers: int) -> None:
        self.name = name
        self.size = workers
        self.queue: queue.Queue[object] = queue.Queue()
        self.threads: list[threading.Thread] = []
        self.worker: Callable[[str], None] | None = None
        self.lock = threading.Lock()
        self.idle = threading.Condition()
        self.pending = 0

    def submit(self, items: Sequence[str]) -> None:
        self._start()
        with self.idle:
            self.pending += len(items)
        for item in items:
            self.queue.put(item)

    def _start(self) -> None:
        with self.lock:
            if self.threads:
                return
            for i in range(self.size):
                thread = threading.Thread(target=self._loop, name=f"simdock-{self.name}-{i}",
                                          daemon=True)
                thread.start()
                self.threads.append(thread)

    def _loop(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is _STOP:
                    return
                assert self.worker is not None and isinstance(item, str)
                self.worker(item)
            except Exception:  # one bad item must not stop the worker
                log.exception("%s worker failed on %s", self.name, item)
            finally:
                if item is not _STOP:
                    with self.idle:
                        self.pending -= 1
                        if self.pending == 0:
                            self.idle.notify_all()

    def join(self, deadline: float | None) -> bool:
        """Wait until nothing submitted is left (until ``deadline``, a monotonic time)."""
        with self.idle:
            while self.pending:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self.idle.wait(remaining)
        return True

    def close(self) -> None:
        with self.lock:
            for _ in self.threads:
                self.queue.put(_STOP)
            self.threads = []


class ThreadDispatcher:
    """A queue and a few worker threads for runs, another for reports."""

    def __init__(self, run_workers: int = 2, report_workers: int = 1) -> None:
        if run_workers < 1 or report_workers < 1:
            raise ValueError("a dispatcher needs at least one worker per queue")
        self._runs = _Pool("runs", run_workers)
        self._reports = _Pool("reports", report_workers)

    def bind(self, run_worker: Callable[[str], None], report_worker: Callable[[str], None]
             ) -> None:
        self._runs.worker = run_worker
        self._reports.worker = report_worker

    def dispatch_runs(self, run_ids: Sequence[str]) -> None:
        self._runs.submit(run_ids)

    def dispatch_report(self, report_id: str) -> None:
        self._reports.submit([report_id])

    def join(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        return self._runs.join(deadline) and self._reports.join(deadline)

    def close(self) -> None:
        self._runs.close()
        self._reports.close()
