"""A TCP proxy that can also hang: connections stay open and nothing is answered.

A service that hangs (a stopped process, a saturated host) is not one that is
down: connecting still works, but no request gets an answer. While
``stall()`` lasts, this proxy accepts connections and reads what clients send,
and forwards nothing either way; once it ends, what was held is forwarded and
the service answers again. ``stop()`` (from :class:`tests.proxy.TcpProxy`)
cuts it instead.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.proxy import TcpProxy, _close


class StallingProxy(TcpProxy):
    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1") -> None:
        super().__init__(target, host)
        self._flowing = threading.Event()
        self._flowing.set()

    @contextmanager
    def stalled(self) -> Iterator[None]:
        """Nothing gets through inside the block (connections are accepted and held);
        everything held is forwarded after it."""
        self._flowing.clear()
        try:
            yield
        finally:
            self._flowing.set()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            return
        finally:
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            _close(source)
            _close(sink)
