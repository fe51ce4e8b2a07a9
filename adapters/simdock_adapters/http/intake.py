"""A request's bytes, gathered as they arrive until its head and its body are complete.

The server's worker (``simdock_adapters.http.worker``) feeds an intake what a
connection sends, in its event loop, and gives the request to a thread only
once the intake is ready: a slow client then holds a few bytes of memory, not a
thread. An intake reads just enough of HTTP/1.1 to know where a request ends:
the head up to its blank line, then ``Content-Length`` bytes, or chunks up to
the last one and its trailers. It judges nothing else; what it cannot frame (a
request line over the limit, two lengths, an unknown transfer coding, a bad
chunk) it gives up on at once, and gunicorn's parser, reading the same bytes,
refuses the request as it always does.

A body larger than the limit is not gathered either: it goes to a thread as it
arrives, where the view refuses it (413) or, if it accepts more (an upload
through a file link), reads it with the server's read timeout.
"""

from __future__ import annotations

import re
import tempfile
from enum import Enum, auto
from typing import IO

#: A request up to this many bytes is kept in memory, a larger one in a temporary file.
IN_MEMORY = 256 * 1024
#: Longest chunk-size line and trailer section (gunicorn's own bounds).
CHUNK_LINE_LIMIT = 8190
TRAILER_LIMIT = 8190 * 32

_BARE_LF = re.compile(rb"(?<!\r)\n")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


class Stage(Enum):
    HEAD = auto()
    LENGTH = auto()
    CHUNK_SIZE = auto()
    CHUNK_DATA = auto()
    CHUNK_END = auto()
    TRAILERS = auto()
    READY = auto()


class RequestIntake:
    """One request arriving: its bytes so far (``request``), and whether all have come.

    ``ready`` once the request is complete, or once its framing is left to the
    parser (``framed`` is then False). Bytes past the end of a complete request
    (the next request of a pipelining client) are kept apart, in ``surplus``.
    """

    def __init__(self, line_limit: int, head_limit: int, body_limit: int) -> None:
        self.line_limit = line_limit
        self.head_limit = head_limit
        self.body_limit = body_limit
        self.request: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115
        self.received = 0
        self.surplus = b""
        self.framed = True
        #: The request target as sent (path and query), once the request line is read.
        self.target: str | None = None
        #: Whether the client waits for ``100 Continue`` before it sends the body.
        self.expects_continue = False
        #: Whether the request asks to switch protocols (a WebSocket).
        self.upgrade = False
        self._stage = Stage.HEAD
        self._pending = bytearray()  # a head, chunk-size line, chunk end or trailer section
        self._remaining = 0
        self._body = 0  # bytes of chunk data announced so far

    @property
    def ready(self) -> bool:
        return self._stage is Stage.READY

    @property
    def started(self) -> bool:
        """Whether any byte of the request has arrived."""
        return self.received > 0 or bool(self._pending)

    @property
    def in_head(self) -> bool:
        return self._stage is Stage.HEAD

    def feed(self, data: bytes) -> None:
        """Take the next bytes the client sent."""
        while data and not self.ready:
            data = self._step(data)
        if data and self.framed:
            self.surplus += data
        elif data:
            self._keep(data)

    def _step(self, data: bytes) -> bytes:
        """Consume what the current stage takes of ``data``; returns the rest."""
        if self._stage is Stage.HEAD:
            return self._head(data)
        if self._stage is Stage.LENGTH or self._stage is Stage.CHUNK_DATA:
            taken = data[:self._remaining]
            self._keep(taken)
            self._remaining -= len(taken)
            if self._remaining == 0:
                self._stage = Stage.READY if self._stage is Stage.LENGTH else Stage.CHUNK_END
            return data[len(taken):]
        self._pending += data
        return self._section()

    def _keep(self, data: bytes) -> None:
        self.request.write(data)
        self.received += len(data)

    def _advance(self, size: int, stage: Stage) -> bytes:
        """Keep the first ``size`` pending bytes as part of the request and go on to
        ``stage``; returns the pending bytes after them."""
        self._keep(bytes(self._pending[:size]))
        rest = bytes(self._pending[size:])
        self._pending.clear()
        self._stage = stage
        return rest

    def _leave_to_parser(self) -> bytes:
        """Stop framing: what came so far, and what follows, is for gunicorn's parser."""
        if self.target is None and self._stage is Stage.HEAD:
            self._read_target(bytes(self._pending[:self.line_limit + 2]))
        self._keep(bytes(self._pending))
        self._pending.clear()
        self.framed = False
        self._stage = Stage.READY
        return b""

    def _head(self, data: bytes) -> bytes:
        searched = max(0, len(self._pending) - 3)
        self._pending += data
        if _BARE_LF.search(self._pending, max(0, searched - 1)):
            return self._leave_to_parser()  # gunicorn refuses a bare LF
        end = self._pending.find(b"\r\n\r\n", searched)
        if end < 0:
            line_open = self._pending.find(b"\r\n") < 0
            if (line_open and len(self._pending) > self.line_limit + 2) \
                    or len(self._pending) > self.head_limit:
                return self._leave_to_parser()  # over gunicorn's limits: 414 or 431
            return b""
        head = bytes(self._pending[:end + 4])
        rest = self._advance(end + 4, Stage.READY)
        if not self._frame(head):
            self._pending += rest
            return self._leave_to_parser()
        return rest

    def _frame(self, head: bytes) -> bool:
        """Where the body ends, from the head's request line and headers; False when the
        parser is to judge them."""
        request_line, *fields = head[:-4].split(b"\r\n")
        parts = request_line.split(b" ")
        self._read_target(request_line)
        lengths, codings, expect = [], [], b""
        for field in fields:
            name, _, value = field.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                lengths.append(value)
            elif name == b"transfer-encoding":
                codings += [c.strip().lower() for c in value.split(b",")]
            elif name == b"expect":
                expect = value.lower()
            elif name == b"upgrade":
                self.upgrade = True
        if codings:
            if lengths or codings[-1] != b"chunked":
                return False
            self._stage = Stage.CHUNK_SIZE
        elif lengths:
            if len(lengths) != 1 or not lengths[0].isdigit():
                return False
            self._remaining = int(lengths[0])
            if self._remaining > self.body_limit:
                return False  # read by a thread as it comes: see the module's doc
            self._stage = Stage.LENGTH if self._remaining else Stage.READY
        self.expects_continue = (expect == b"100-continue" and not self.ready
                                 and len(parts) == 3 and parts[2] == b"HTTP/1.1")
        return True

    def _read_target(self, start: bytes) -> None:
        """The target of a request line (all of it, or its start when it is too long)."""
        parts = start.split(b"\n", 1)[0].rstrip(b"\r").split(b" ")
        if len(parts) >= 2:
            self.target = parts[1].decode("latin-1")

    def _section(self) -> bytes:
        """Act on the pending chunk-size line, chunk end or trailer section once it is
        whole; returns the bytes after it."""
        pending = self._pending
        if self._stage is Stage.CHUNK_END:
            if len(pending) < 2:
                return b""
            if pending[:2] != b"\r\n":
                return self._leave_to_parser()
            return self._advance(2, Stage.CHUNK_SIZE)
        if self._stage is Stage.CHUNK_SIZE:
            end = pending.find(b"\r\n")
            if end < 0:
                return self._leave_to_parser() if len(pending) > CHUNK_LINE_LIMIT else b""
            size = bytes(pending[:end]).split(b";", 1)[0].rstrip(b" \t")
            if not _CHUNK_SIZE.fullmatch(size):
                return self._leave_to_parser()
            self._remaining = int(size, 16)
            self._body += self._remaining
            if self._body > self.body_limit:
                return self._leave_to_parser()  # the view reads past the limit and says 413
            return self._advance(end + 2,
                                 Stage.CHUNK_DATA if self._remaining else Stage.TRAILERS)
        if len(pending) < 2:
            return b""
        if pending[:2] == b"\r\n":
            return self._advance(2, Stage.READY)
        end = pending.find(b"\r\n\r\n")
        if end < 0:
            return self._leave_to_parser() if len(pending) > TRAILER_LIMIT else b""
        return self._advance(end + 4, Stage.READY)
