"""A TCP proxy on 127.0.0.1 that a test can cut, to take a real service away and back.

``TcpProxy(("127.0.0.1", 5432))`` listens on a free local port and forwards every
connection to the target. ``stop()`` closes the listener and every connection it
carries, as a database host that goes down would; ``start()`` listens again on the
same port, so clients holding the old address reach the service again.

With ``peer_timeout``, a client that stops answering (its host lost: no packet
gets back) has its connection dropped after about that many seconds, as the
service itself would by TCP keepalive and user timeout: what it held on the
service (a transaction, its locks) is let go.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Self


class TcpProxy:
    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1",
                 peer_timeout: float | None = None) -> None:
        """``host``: the address to listen on (a test's own network namespace's peer);
        ``peer_timeout``: seconds after which a client that stopped answering is dropped."""
        self.target = target
        self.host = host
        self.peer_timeout = peer_timeout
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen (again) on this proxy's port and forward connections to the target."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True,
                         name=f"proxy-{self.port}").start()

    def stop(self) -> None:
        """Stop listening and drop every forwarded connection, both ways."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    @contextmanager
    def down(self) -> Iterator[None]:
        """The service is unreachable inside the block and reachable again after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed by stop()
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            if self.peer_timeout is not None:
                _drop_when_silent(client, self.peer_timeout)
            with self._lock:
                if self._listener is not listener:  # stopped meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:  # either side was closed
            return
        finally:
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            _close(source)
            _close(sink)


def _drop_when_silent(sock: socket.socket, seconds: float) -> None:
    """Keepalive probes once the connection is idle, and a user timeout for data left
    unacknowledged: either way, a peer silent for about ``seconds`` ends the connection."""
    idle = max(1, int(seconds / 2))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, max(1, int(seconds) - idle))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(seconds * 1000))


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
