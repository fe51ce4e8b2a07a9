"""A view sees a request's body only when all of it arrived, within MAX_CONTENT_LENGTH.

gunicorn tells the application that it ends the input stream itself
(``wsgi.input_terminated``), and so Werkzeug reads the stream as it is: a body
that ends before its Content-Length (the client closed its side, or went away)
reads as a shorter body, and was handed to the view as if it were whole (52 of
a declared 5,000 bytes made a job). A chunked body has no Content-Length:
Werkzeug cut it at the limit and handed the first part to the view.

``WholeBody`` reads the body before the application runs, into memory or, past
``IN_MEMORY`` bytes, a temporary file, and checks it: one shorter than its
Content-Length (400), a chunked one over the limit (413), not valid chunked
encoding (400), or one the client stopped sending (408) is refused by
:func:`refuse_unusable_body` before any view, in the dialect of the path, and
nothing is stored. A body declared larger than the limit is left to the view: a
view that accepts more (an upload through a file link) reads it through
``DeclaredLength``, which refuses it at the point where it ends too early.

Under ``simdock serve`` the worker (``simdock_adapters.http.worker``) has
received the whole request before a thread runs it, so this reads from memory.
"""

from __future__ import annotations

import io
import socket
import tempfile
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from flask import request
from gunicorn.http.errors import NoMoreData, ParseException
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge, RequestTimeout
from werkzeug.wsgi import ClosingIterator, get_content_length

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: Where the refusal of a body waits in the WSGI environment until a view would run.
REFUSAL = "simdock.body_refusal"
#: A body up to this many bytes is kept in memory, a larger one in a temporary file.
IN_MEMORY = 256 * 1024
READ_SIZE = 64 * 1024


def truncated(received: int, declared: int) -> BadRequest:
    return BadRequest(f"the request body ended after {received} of the {declared} bytes "
                      "its Content-Length declares; nothing was done")


def refusal_of(error: Exception) -> HTTPException:
    """The answer to a body whose reading raised ``error``."""
    if isinstance(error, ParseException):
        return BadRequest(f"the request body is not valid chunked encoding: {error}")
    if isinstance(error, NoMoreData):
        return BadRequest("the request body ended before its last chunk; nothing was done")
    if isinstance(error, (TimeoutError, socket.timeout)):
        return RequestTimeout("the client stopped sending the request body; nothing was done")
    return BadRequest("the request body could not be read; nothing was done")


def read_whole(stream: IO[bytes], declared: int | None, limit: int
               ) -> tuple[IO[bytes], HTTPException | None]:
    """The body of ``stream`` (``declared`` bytes, or chunked when None), and why it
    is refused if it is."""
    body: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115
    wanted = declared if declared is not None else limit + 1
    received = 0
    refusal: HTTPException | None = None
    try:
        while received < wanted:
            piece = stream.read(min(READ_SIZE, wanted - received))
            if not piece:
                break
            body.write(piece)
            received += len(piece)
    except (ParseException, NoMoreData, OSError) as error:
        refusal = refusal_of(error)
    if refusal is None and declared is not None and received < declared:
        refusal = truncated(received, declared)
    if refusal is None and declared is None and received > limit:
        refusal = RequestEntityTooLarge()
    body.seek(0)
    return body, refusal


class DeclaredLength(io.RawIOBase):
    """A body read as it arrives, refused (400) where it ends before ``declared`` bytes."""

    def __init__(self, stream: IO[bytes], declared: int) -> None:
        self._stream = stream
        self._received = 0
        self.declared = declared

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        with memoryview(buffer) as view, view.cast("B") as target:
            wanted = min(len(target), self.declared - self._received)
            if wanted <= 0:
                return 0
            try:
                data = self._stream.read(wanted)
            except (ParseException, NoMoreData, OSError) as error:
                raise refusal_of(error) from None
            if not data:
                raise truncated(self._received, self.declared)
            target[:len(data)] = data
        self._received += len(data)
        return len(data)


class WholeBody:
    """WSGI middleware: reads and checks a request's body before the application runs."""

    def __init__(self, app: WSGIApplication, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        declared = get_content_length(environ)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if declared is not None and declared > self.limit:
            environ["wsgi.input"] = DeclaredLength(environ["wsgi.input"], declared)
            return self.app(environ, start_response)
        if not declared and not chunked:
            return self.app(environ, start_response)
        body, refusal = read_whole(environ["wsgi.input"], None if chunked else declared,
                                   self.limit)
        environ["wsgi.input"] = body
        if refusal is not None:
            environ[REFUSAL] = refusal
        return ClosingIterator(self.app(environ, start_response), body.close)


def refuse_unusable_body() -> None:
    """Before any view: raise the refusal of this request's body, if it has one."""
    refusal: HTTPException | None = request.environ.get(REFUSAL)
    if refusal is not None:
        raise refusal
