"""Worker threads in this process that take queued work from the store: the embedded default.

Nothing is handed over in memory: a committed queued run *is* the queue entry.
Dispatching only wakes the workers, which claim runs fairly
(``Work.execute_next``) until none is left, then sleep until woken or until
the next poll. So work queued while the store could not be reached, or by
another process, or before this one started, is picked up when it can be;
nothing is lost by a failed claim. Runs and reports have separate workers
(seed 000's ``simulations`` and ``reports`` queues), so a long sweep never
delays a report.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial

from simdock.errors import ServiceUnavailable
from simdock.ports import Work
from simdock_adapters.dispatch.heartbeat import HEARTBEAT_SECONDS, Heartbeat

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
#: How long closing waits for busy threads to finish the work in hand (the platform hands
#: runs back before: see ``Platform.close``).
CLOSE_GRACE_SECONDS = 30.0
#: How long a worker waits before trying again after the store failed.
RETRY_SECONDS = 1.0


class WorkerPool:
    """Threads that repeat ``step`` (how many items it did) while it finds work.

    ``join`` knows when the work is done: every thread has looked for work,
    after the last wake-up, and found none.
    """

    def __init__(self, name: str, workers: int, poll_seconds: float = POLL_SECONDS) -> None:
        if workers < 0:
            raise ValueError("a worker pool cannot have fewer than no threads")
        self.name = name
        self.size = workers
        self.poll_seconds = poll_seconds
        self.step: Callable[[], int] | None = None
        self.done = 0
        self._threads: list[threading.Thread] = []
        self._changed = threading.Condition()
        self._wakes = 0
        self._checked: dict[int, int] = {}  # thread -> the wake-up it found no work after
        self._closed = False
        self._failing = False

    def start(self) -> None:
        with self._changed:
            if self._threads or self._closed:
                return
            for i in range(self.size):
                thread = threading.Thread(target=self._loop, args=(i,), daemon=True,
                                          name=f"simdock-{self.name}-{i}")
                self._threads.append(thread)
                thread.start()

    def wake(self) -> None:
        """There may be new work: have every idle thread look."""
        self.start()
        with self._changed:
            self._wakes += 1
            self._changed.notify_all()

    def join(self, deadline: float | None) -> bool:
        """Wait until every thread found no work after the latest wake-up (or ``deadline``)."""
        with self._changed:
            if not self._threads:
                return True
            target = self._wakes
            while any(self._checked.get(i, -1) < target for i in range(self.size)):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    def close(self, grace: float = CLOSE_GRACE_SECONDS) -> None:
        """Stop taking work: idle threads end at once; busy ones are waited for (up to
        ``grace`` seconds) so that what they hold is recorded before the store closes."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            threads = [t for t in self._threads if t is not threading.current_thread()]
        deadline = time.monotonic() + grace
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        busy = sum(thread.is_alive() for thread in threads)
        if busy:
            log.warning("%d %s worker(s) still busy %.0f s after closing; what they hold "
                        "stays running", busy, self.name, grace)

    def _loop(self, index: int) -> None:
        while True:
            with self._changed:
                if self._closed:
                    return
                wakes = self._wakes
                self._checked.pop(index, None)
            found = self._step()
            if found:
                continue
            with self._changed:
                if found == 0:  # looked, and nothing was queued (not: the store failed)
                    self._checked[index] = wakes
                    self._changed.notify_all()  # for join()
                # Only a wake-up, closing or the poll ends the wait: the notifications
                # other threads make for join() must not send this one looking again.
                self._changed.wait_for(partial(self._woken_since, wakes),
                                       RETRY_SECONDS if found is None else self.poll_seconds)

    def _woken_since(self, wakes: int) -> bool:
        """Whether a wake-up came after the ``wakes``-th, or the pool closed (lock held)."""
        return self._wakes != wakes or self._closed

    def _step(self) -> int | None:
        """Items done; 0 when nothing was queued; None when the store failed."""
        assert self.step is not None, "the pool is not bound to any work"
        try:
            done = self.step()
        except ServiceUnavailable as exc:
            if not self._failing:
                log.warning("%s workers cannot reach the store, retrying every %s s: %s",
                            self.name, RETRY_SECONDS, exc)
            self._failing = True
            return None
        except Exception:  # one bad item must not stop the worker
            log.exception("%s worker failed", self.name)
            return None
        if self._failing:
            log.warning("%s workers reach the store again", self.name)
            self._failing = False
        with self._changed:
            self.done += done
        return done


class ThreadDispatcher:
    """A few worker threads for runs, another for reports, taking work from the store."""

    def __init__(self, run_workers: int = 2, report_workers: int = 1,
                 poll_seconds: float = POLL_SECONDS,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS,
                 close_grace_seconds: float = CLOSE_GRACE_SECONDS) -> None:
        """``close_grace_seconds``: how long closing waits for busy threads."""
        self.runs = WorkerPool("runs", run_workers, poll_seconds)
        self.reports = WorkerPool("reports", report_workers, poll_seconds)
        self.heartbeat = Heartbeat(heartbeat_seconds)
        self.close_grace_seconds = close_grace_seconds

    def bind(self, work: Work) -> None:
        self.runs.step = work.execute_next
        self.reports.step = lambda: int(work.generate_next())
        self.heartbeat.start(work.heartbeat)
        # Work queued before this process started (or left by another) is looked for at once.
        self.runs.wake()
        self.reports.wake()

    def dispatch_runs(self, run_ids: Sequence[str]) -> None:
        if run_ids:
            self.runs.wake()

    def dispatch_report(self, report_id: str) -> None:
        self.reports.wake()

    def join(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        return self.runs.join(deadline) and self.reports.join(deadline)

    def close(self) -> None:
        """Stop taking work and wait for the threads to record what they hold; leases are
        renewed until then."""
        self.runs.close(self.close_grace_seconds)
        self.reports.close(self.close_grace_seconds)
        self.heartbeat.close()

    #: In-process dispatch goes through no broker.
    broker = None

    def check(self) -> None:
        return None
