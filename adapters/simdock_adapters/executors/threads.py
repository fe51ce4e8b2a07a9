"""A cached pool of daemon threads: reused when idle, added when all are busy.

Unlike ``concurrent.futures.ThreadPoolExecutor``, its threads are daemons, so
a handler that never returns (after its run timed out) cannot hold up the
interpreter's exit, and it never limits how many handlers run at once.
Threads idle for ``idle_seconds`` end.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

Task = Callable[[], Any]


class Outcome:
    """The value or exception of a task, once ``done`` is set."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class CachedThreads:
    def __init__(self, name: str = "simdock-handler", idle_seconds: float = 60.0) -> None:
        self._name = name
        self._idle_seconds = idle_seconds
        self._idle: list[queue.SimpleQueue[tuple[Task, Outcome] | None]] = []
        self._lock = threading.Lock()
        self._count = 0

    def submit(self, task: Task) -> Outcome:
        outcome = Outcome()
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
            if inbox is None:
                self._count += 1
                inbox = queue.SimpleQueue()
                threading.Thread(target=self._loop, args=(inbox,), daemon=True,
                                 name=f"{self._name}-{self._count}").start()
        inbox.put((task, outcome))
        return outcome

    def _loop(self, inbox: queue.SimpleQueue[tuple[Task, Outcome] | None]) -> None:
        while True:
            try:
                item = inbox.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:
                        self._idle.remove(inbox)
                        return
                continue  # handed a task just as it timed out: take it
            if item is None:
                return
            task, outcome = item
            try:
                outcome.value = task()
            except BaseException as exc:  # handed to the waiting thread
                outcome.error = exc
            finally:
                outcome.done.set()
                del task, outcome, item
            with self._lock:
                self._idle.append(inbox)
