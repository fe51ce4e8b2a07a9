"""Whether the client of a live stream is still there, without writing to it.

A stream learns that its client went away only when a write fails, and a
stream with nothing to say writes a keep-alive every few seconds: until then
the client's slot stays taken. Peeking at the connection (a non-blocking
read that consumes nothing) tells at once: a closed connection reads as end
of file. Under servers that do not hand the socket to the application, the
stream falls back on its writes.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any


def departure_check(environ: dict[str, Any]) -> Callable[[], bool]:
    """A check of whether the client of this request has closed its connection."""
    peer = environ.get("gunicorn.socket")
    if not isinstance(peer, socket.socket):
        return lambda: False

    def gone() -> bool:
        try:
            data = peer.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False  # nothing to read: still connected
        except OSError:
            return True
        return data == b""

    return gone
