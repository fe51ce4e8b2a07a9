"""Bounds on the live streams (SSE, WebSocket) one server process holds open.

Each open stream keeps a server thread; without a bound, a few clients could
leave none for ordinary requests, and one user could take every slot. Past
the process's bound a stream is refused with 503; past a user's own bound
(half the process's, by default) with 429 and Retry-After. The polling
endpoints remain either way.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from simdock.errors import ServiceUnavailable, TooManyRequests

#: When a user refused a stream for holding too many may try again.
RETRY_SECONDS = 5.0


class StreamSlots:
    def __init__(self, limit: int, per_user: int | None = None) -> None:
        self.limit = limit
        self.per_user = per_user or max(1, limit // 2)
        self._lock = threading.Lock()
        self._held: Counter[str] = Counter()

    def take(self, user_id: str) -> Callable[[], None]:
        """Take a slot for ``user_id`` or refuse; returns a release that is safe to call twice."""
        with self._lock:
            if self._held[user_id] >= self.per_user:
                raise TooManyRequests(
                    f"you already hold {self.per_user} live streams open on this server: close "
                    "one, or poll the JSON endpoints (/logs, /convergence/.../stream)",
                    RETRY_SECONDS)
            if sum(self._held.values()) >= self.limit:
                raise ServiceUnavailable(
                    f"this server already holds {self.limit} live streams open; poll the JSON "
                    "endpoints (/logs, /convergence/.../stream) or retry later")
            self._held[user_id] += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if not released.is_set():
                    released.set()
                    self._held[user_id] -= 1
                    if not self._held[user_id]:
                        del self._held[user_id]

        return release
