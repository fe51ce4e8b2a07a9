"""Messages handed to a thread of their own, so that no caller waits for the broker.

A dispatch is sent after its unit of work committed, often inside an HTTP
request. A broker that hangs (connections accepted, nothing answered) would hold
that request for as long as the client's timeout, every time. Here the caller
only puts the message in a bounded backlog and goes on; one thread sends them
in order. When a send fails the broker is away: what is still waiting is given
up along with it (the work stays queued in the store, and the workers' beat
sends for it later), and a full backlog refuses more the same way. So a hung
or lost broker costs a caller nothing and the backlog never grows past its
bound.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

Message = TypeVar("Message")

#: Messages waiting to be sent, at most.
CAPACITY = 256


class BackgroundSender(Generic[Message]):
    """Sends what it is offered with ``send`` (True when sent) on one thread; what it gives
    up goes to ``dropped``."""

    def __init__(self, send: Callable[[Message], bool],
                 dropped: Callable[[list[Message]], None], *, capacity: int = CAPACITY,
                 name: str = "simdock-sender") -> None:
        self._send = send
        self._dropped = dropped
        self.capacity = capacity
        self.name = name
        self._backlog: collections.deque[Message] = collections.deque()
        self._sending = False
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def offer(self, message: Message) -> bool:
        """Queue ``message`` for sending; False when it is refused (closed, or full)."""
        with self._changed:
            if self._closed or len(self._backlog) >= self.capacity:
                return False
            self._backlog.append(message)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, daemon=True, name=self.name)
                self._thread.start()
            self._changed.notify_all()
            return True

    def flush(self, timeout: float) -> bool:
        """Wait until everything offered so far was sent or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._backlog or self._sending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    def close(self, timeout: float) -> None:
        """Send what waits (for up to ``timeout`` seconds), then stop; the rest is given up."""
        self.flush(timeout)
        with self._changed:
            self._closed = True
            left = list(self._backlog)
            self._backlog.clear()
            self._changed.notify_all()
        if left:
            self._dropped(left)

    def _loop(self) -> None:
        while True:
            with self._changed:
                while not self._backlog and not self._closed:
                    self._changed.wait()
                if not self._backlog:
                    return
                message = self._backlog.popleft()
                self._sending = True
            try:
                sent = self._send(message)
            except Exception:  # ``send`` says why itself; the thread must go on
                sent = False
            with self._changed:
                given_up = [] if sent else [message, *self._backlog]
                if not sent:
                    self._backlog.clear()
                self._sending = False
                self._changed.notify_all()
            if given_up:
                self._dropped(given_up)
