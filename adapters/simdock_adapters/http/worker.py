"""The worker ``simdock serve`` runs: gunicorn's threaded worker, where a thread runs a
request only once the request has arrived.

gunicorn's ``gthread`` worker gives a connection to a thread as soon as it has
bytes, and the thread then reads the head and the body from the socket: a
client that stops sending (a body shorter than its Content-Length, one byte
every few seconds, nothing after the head) holds that thread until it goes
away. A few dozen such clients held every thread, and ``/live`` went unanswered.

Here the worker's event loop, which already waits on every idle connection,
gathers each request (``intake.RequestIntake``) and hands it to a thread only
when its head and body are complete; the thread reads them from memory (or a
temporary file), never from a slow client. A client gets ``REQUEST_READ_TIMEOUT``
seconds to send a request's head, and may pause that long while sending its
body; then it gets 408 and its connection is closed. A connection that has sent
nothing yet is closed silently after the same time (``keepalive`` seconds once
it has had an answer). Threads, database pools and the platform's own threads
are the same as under ``gthread``: only where bytes are read changed.

Requests gunicorn refuses are answered by ``refusals`` (JSON in the path's
dialect), and logged once, without credentials.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import socket
import threading
import time
import uuid
from functools import partial
from typing import IO, Any

from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import Unreader
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

from simdock_adapters.http.intake import RequestIntake
from simdock_adapters.http.refusals import QUOTE_LIMIT, describe, path_of, refusal, status_of
from simdock_adapters.redaction import redact

log = logging.getLogger("simdock.http.access")

#: Largest single read from a client's socket.
READ_SIZE = 64 * 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
#: How often the event loop looks for clients that took too long, at most.
SWEEP_SECONDS = 0.25


class GatheredUnreader(Unreader):  # type: ignore[misc]
    """What a thread's parser reads: the gathered request, then (for a body left to the
    parser) the socket, waiting at most ``timeout`` seconds for each read."""

    def __init__(self, sock: socket.socket, gathered: IO[bytes], timeout: float) -> None:
        super().__init__()
        self.sock = sock
        self.timeout = timeout
        self._gathered: IO[bytes] | None = gathered

    def chunk(self, size_hint: int | None = None) -> bytes:
        size = min(max(size_hint or 0, 8192), READ_SIZE * 16)
        if self._gathered is not None:
            data = self._gathered.read(size)
            if data:
                return data
            self._gathered.close()
            self._gathered = None
        previous = self.sock.gettimeout()
        if previous is None:
            self.sock.settimeout(self.timeout)
        try:
            return self.sock.recv(size)
        finally:
            self.sock.settimeout(previous)


class Connection(TConn):  # type: ignore[misc]
    """A client's connection and the request arriving on it."""

    def __init__(self, cfg: Any, sock: socket.socket, client: Any, server: Any) -> None:
        super().__init__(cfg, sock, client, server)
        self.intake: RequestIntake | None = None
        self.deadline = 0.0
        self.head_deadline: float | None = None
        self.continued = False

    def forget_intake(self) -> None:
        if self.intake is not None:
            self.intake.request.close()
            self.intake = None


class SimdockWorker(ThreadWorker):  # type: ignore[misc]
    """``gthread`` with requests gathered in the event loop and refusals in JSON."""

    def init_process(self) -> None:
        settings = self.app.settings
        self.read_timeout: float = settings.request_read_timeout
        self.body_limit: int = settings.max_content_length
        cfg = self.cfg
        self.line_limit = cfg.limit_request_line or 8190
        self.head_limit = self.line_limit + 4 + (cfg.limit_request_fields or 100) * (
            (cfg.limit_request_field_size or 8190) + 2)
        self.arriving: set[Connection] = set()
        self.stopping_since: float | None = None
        self.next_sweep = 0.0
        self.handling = threading.local()
        super().init_process()

    # -- the event loop: gathering requests ------------------------------------------

    def accept(self, listener: socket.socket) -> None:
        if self.cfg.is_ssl:
            super().accept(listener)
            return
        try:
            sock, client = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self.await_request(Connection(self.cfg, sock, client, listener.getsockname()),
                           self.read_timeout)

    def await_request(self, conn: Connection, idle_seconds: float, sent: bytes = b"") -> None:
        """Gather the next request of ``conn`` (starting with ``sent``, already read)."""
        conn.forget_intake()
        conn.intake = RequestIntake(self.line_limit, self.head_limit, self.body_limit)
        conn.deadline = time.monotonic() + idle_seconds
        conn.head_deadline = None
        conn.continued = False
        self.arriving.add(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.readable, conn))
        if sent:
            self.take(conn, sent)

    def readable(self, conn: Connection, _sock: Any) -> None:
        try:
            self.receive(conn)
        except Exception:  # an error here must not end the event loop, and its worker
            log.exception("reading a request failed")
            self.drop(conn)

    def receive(self, conn: Connection) -> None:
        """Read what the client sent; hand the request over once it is all there."""
        intake = conn.intake
        assert intake is not None
        try:
            data = conn.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.drop(conn)
            return
        if not data:  # the client closed its side: what came is all there is
            if intake.started:
                self.dispatch(conn)  # a body cut short is refused by the application
            else:
                self.drop(conn)
            return
        self.take(conn, data)

    def take(self, conn: Connection, data: bytes) -> None:
        """Feed ``data`` to the intake (the head has a deadline, the body an idle time);
        hand the request over once it is all there, or say ``100 Continue`` if the
        client waits for it."""
        intake = conn.intake
        assert intake is not None
        now = time.monotonic()
        if conn.head_deadline is None:
            conn.head_deadline = now + self.read_timeout
        intake.feed(data)
        conn.deadline = conn.head_deadline if intake.in_head else now + self.read_timeout
        if intake.ready:
            self.dispatch(conn)
        elif intake.expects_continue and not conn.continued:
            conn.continued = True
            with contextlib.suppress(OSError):  # without it, the client sends after a while
                conn.sock.send(CONTINUE)

    def dispatch(self, conn: Connection) -> None:
        """Give the gathered request to a thread."""
        self.forget(conn)
        intake = conn.intake
        assert intake is not None
        intake.request.seek(0)
        if conn.parser is None:
            conn.parser = RequestParser(self.cfg, conn.sock, conn.client)
            conn.initialized = True
        conn.parser.unreader = GatheredUnreader(conn.sock, intake.request, self.read_timeout)
        conn.data_ready = True
        self.enqueue_req(conn)

    def forget(self, conn: Connection) -> None:
        if conn in self.arriving:
            self.arriving.discard(conn)
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.poller.unregister(conn.sock)

    def drop(self, conn: Connection) -> None:
        """Close a connection whose request never came (or came to nothing)."""
        if conn.intake is None:
            return  # dropped already
        self.forget(conn)
        conn.forget_intake()
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Close connections whose client took too long; 408 to one that had started."""
        super().murder_pending()
        now = time.monotonic()
        if now < self.next_sweep:
            return
        self.next_sweep = now + SWEEP_SECONDS
        if not self.alive and self.stopping_since is None:
            self.stopping_since = now
        for conn in list(self.arriving):
            intake = conn.intake
            assert intake is not None
            deadline = conn.deadline
            if self.stopping_since is not None and not intake.started:
                deadline = min(deadline, self.stopping_since + STOP_KEEPALIVE_LINGER)
            if deadline > now:
                continue
            if intake.started:
                self.refuse_slow(conn, intake)
            self.drop(conn)

    def refuse_slow(self, conn: Connection, intake: RequestIntake) -> None:
        part = "head" if intake.in_head else "body"
        message = (f"the request's {part} did not arrive in time: the server waits "
                   f"{self.read_timeout:g} s for a request's head and for each part of its "
                   "body")
        self.answer_refusal(conn.sock, 408, message, intake.target, conn.client, None)

    def finish_request(self, conn: TConn, fs: Any) -> None:
        """After a thread answered: gather the connection's next request, or close it."""
        if not isinstance(conn, Connection):  # a TLS connection, served as gthread does
            super().finish_request(conn, fs)
            return
        try:
            keep = not fs.cancelled() and bool(fs.result())
        except Exception:
            keep = False
        if keep and conn.intake is not None:
            try:
                sent = conn.intake.surplus + conn.parser.unreader.take_buffered()
                conn.sock.setblocking(False)
                idle = self.cfg.keepalive if self.alive else STOP_KEEPALIVE_LINGER
                self.await_request(conn, idle, sent)
                return
            except OSError:  # the client went away meanwhile
                self.forget(conn)
            except Exception:  # must not end the event loop, and its worker
                log.exception("taking the next request failed")
                self.forget(conn)
        conn.forget_intake()
        self.nr_conns -= 1
        with contextlib.suppress(OSError):  # a WebSocket's socket is closed already
            conn.close(graceful=True)

    # -- the threads -----------------------------------------------------------------

    def handle(self, conn: Connection) -> Any:
        self.handling.conn = conn
        try:
            return super().handle(conn)
        finally:
            self.handling.conn = None

    def handle_request(self, req: Any, conn: Connection) -> Any:
        if getattr(conn, "continued", False):
            req._expected_100_continue = False  # the event loop has sent it already
        return super().handle_request(req, conn)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """Answer a request gunicorn refused (or failed on) in JSON, logging it once."""
        status = status_of(exc)
        conn: Connection | None = getattr(self.handling, "conn", None)
        target = getattr(req, "uri", None) or (
            conn.intake.target if conn is not None and conn.intake is not None else None)
        self.answer_refusal(client, status, describe(exc, status, self.cfg), target, addr, exc)

    def answer_refusal(self, sock: socket.socket, status: int, message: str,
                       target: str | None, addr: Any, exc: BaseException | None) -> None:
        request_id = uuid.uuid4().hex
        path = path_of(target)
        fields = {"request_id": request_id, "status": status,
                  "path": redact(path)[:QUOTE_LIMIT] if path is not None else None,
                  "remote_addr": addr[0] if addr else None}
        if exc is not None:
            fields["error"] = redact(str(exc))[:QUOTE_LIMIT]
        if status >= 500:
            log.error("refused by the server: %s", status, exc_info=exc,
                      extra={"fields": fields})
        else:
            log.info("refused by the server: %s", status, extra={"fields": fields})
        try:
            sock.setblocking(False)
            sock.send(refusal(status, message, request_id, target))
        except OSError:
            pass  # the client is gone
