"""Dispatch to worker threads in this process: the embedded default.

Runs and reports have separate queues and workers (seed 000's
``simulations`` and ``reports`` queues), so a long sweep never delays a report.
"""

from __future__ import annotations

import logging
import queue
import threading
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

    def submit(self, items: Sequence[str]) -> None:
        self._start()
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
                self.queue.task_done()

    def join(self, timeout: float | None) -> bool:
        if timeout is None:
            self.queue.join()
            return True
        done = threading.Event()

        def wait() -> None:
            self.queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

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
        return self._runs.join(timeout) and self._reports.join(timeout)

    def close(self) -> None:
        self._runs.close()
        self._reports.close()
