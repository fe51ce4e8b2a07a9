"""HTTP byte for byte over a socket: requests no HTTP client would send, and
bodies still being sent while the answer is read (as a server may answer early).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.helpers import TIMEOUT


@dataclass
class RawResponse:
    """An answer read off the socket, shaped like ``requests.Response`` for the asserts."""

    status_code: int
    headers: Message
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


def request_head(method: str, path: str, headers: dict[str, str] | None = None) -> bytes:
    """A request line and headers, as given; no body framing is added."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunked(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """``body`` in the chunked transfer coding."""
    for start in range(0, len(body), size):
        part = body[start:start + size]
        yield b"%x\r\n%s\r\n" % (len(part), part)
    yield b"0\r\n\r\n"


def exchange(base_url: str, head: bytes, body: Iterable[bytes] = ()) -> RawResponse:
    """Send ``head`` then ``body`` as they are, reading the answer while they are sent."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=TIMEOUT) as sock:
        sender = threading.Thread(target=_send, args=(sock, head, body), daemon=True)
        sender.start()
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        content = answer.read()
        sender.join(TIMEOUT)
    return RawResponse(answer.status, answer.headers, content)


def _send(sock: socket.socket, head: bytes, body: Iterable[bytes]) -> None:
    try:
        sock.sendall(head)
        for part in body:
            sock.sendall(part)
    except OSError:
        pass  # the server answered and closed before it took the whole body
