"""Request bodies over MAX_CONTENT_LENGTH are refused however they are sent.

Werkzeug refuses a declared Content-Length over ``max_content_length``
before reading. A chunked body has no Content-Length: Werkzeug reads it
through ``LimitedStream(..., is_max=True)``, which raises
``RequestEntityTooLarge`` only on a read *after* the limit was reached, and
its ``readall`` (what ``get_data`` and ``get_json`` use) stops as soon as it
has the limit's worth of bytes. That read never comes, so a larger body is
cut at the limit and handed to the route as if it were whole.

``BodyLimit`` gives a body without a Content-Length to the application as a
``LimitedBody``: the read that reaches the limit checks for one more byte,
and a body that has it is refused with 413 (in the envelope, by ``errors``),
whatever the route. A chunked body gunicorn cannot decode is the client's
error (400), not a 500.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from gunicorn.http.errors import ParseException
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.wsgi import get_content_length

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class LimitedBody(io.RawIOBase):
    """A request body that raises ``RequestEntityTooLarge`` if it is over ``limit`` bytes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._read = 0
        self.limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        with memoryview(buffer) as view, view.cast("B") as target:
            data = self._next(len(target))
            target[:len(data)] = data
        return len(data)

    def _next(self, size: int) -> bytes:
        if self._read > self.limit:
            raise RequestEntityTooLarge()
        try:
            data = self._stream.read(size)
            self._read += len(data)
            if data and self._read == self.limit and self._stream.read(1):
                self._read += 1
        except ParseException as error:
            raise BadRequest(f"the request body is not valid chunked encoding: {error}") from None
        if self._read > self.limit:
            raise RequestEntityTooLarge()
        return data


class BodyLimit:
    """WSGI middleware: a body of unknown length is read as a ``LimitedBody``.

    A body with a Content-Length is left to Werkzeug, which checks it against
    the limit and reads no further than the length (a probe past it could
    wait on the client of a server that does not bound the stream itself).
    """

    def __init__(self, app: WSGIApplication, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        if get_content_length(environ) is None:
            environ["wsgi.input"] = LimitedBody(environ["wsgi.input"], self.limit)
        return self.app(environ, start_response)
