"""Idle worker threads wait: they look for work once per wake-up or poll, no more.

Seen: with two or more run threads, each thread that found nothing notified the
others (for ``join``), which woke them to look again, and so on: an idle
``simdock serve`` or notebook spun two cores on empty claim queries.
"""

from __future__ import annotations

import threading
import time

from simdock_adapters.dispatch.threads import WorkerPool


def test_idle_threads_look_for_work_once_per_wake_up_not_again_and_again() -> None:
    looks = 0
    lock = threading.Lock()

    def step() -> int:
        nonlocal looks
        with lock:
            looks += 1
        return 0

    pool = WorkerPool("runs", 4, poll_seconds=30)
    pool.step = step
    pool.wake()
    try:
        assert pool.join(time.monotonic() + 5)
        time.sleep(1.0)  # nothing woke them: they wait for the next poll
        assert looks <= 4 * 2, f"{looks} looks for work in a second of idleness"
        pool.wake()
        assert pool.join(time.monotonic() + 5)
        time.sleep(0.5)
        assert looks <= 4 * 4
    finally:
        pool.close(1)
