"""A bound on the live streams (SSE, WebSocket) one server process holds open.

Each open stream keeps a server thread; without a bound, a few clients could
leave none for ordinary requests. Past the bound a stream is refused with 503
and the polling endpoints remain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from simdock.errors import ServiceUnavailable


class StreamSlots:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    def take(self) -> Callable[[], None]:
        """Take a slot or raise ServiceUnavailable; returns a release that is safe to call twice."""
        if not self._slots.acquire(blocking=False):
            raise ServiceUnavailable(
                f"this server already holds {self.limit} live streams open; poll the JSON "
                "endpoints (/logs, /convergence/.../stream) or retry later")
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                self._slots.release()

        return release
