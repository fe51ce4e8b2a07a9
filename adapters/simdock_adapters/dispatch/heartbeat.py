"""A thread that beats for this process: renews its leases, takes back lost runs.

Started by the dispatchers that execute work in this process (threads and
inline, and brokers' consumers) once they are bound; ``Work.heartbeat`` is the
use case. A beat that
fails (the store is away) is logged once and tried again at the next one: the
leases are long enough to survive a few missed beats.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from simdock.errors import ServiceUnavailable

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0


class Heartbeat:
    """Calls ``beat()`` (``Work.heartbeat``, or more) every ``seconds`` until closed."""

    def __init__(self, seconds: float = HEARTBEAT_SECONDS) -> None:
        if seconds <= 0:
            raise ValueError("a heartbeat needs a positive interval")
        self.seconds = seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def start(self, beat: Callable[[], None]) -> None:
        if self._thread is not None or self._stop.is_set():
            return
        self._thread = threading.Thread(target=self._loop, args=(beat,), daemon=True,
                                        name="simdock-heartbeat")
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.seconds + 5)

    def _loop(self, beat: Callable[[], None]) -> None:
        while not self._stop.wait(self.seconds):
            try:
                beat()
            except ServiceUnavailable as exc:
                if not self._failing:
                    log.warning("heartbeat cannot reach the store, retrying every %s s: %s",
                                self.seconds, exc)
                self._failing = True
                continue
            except Exception:  # the next beat may do better; the thread must go on
                log.exception("heartbeat failed")
                continue
            if self._failing:
                log.warning("heartbeat reaches the store again")
                self._failing = False
