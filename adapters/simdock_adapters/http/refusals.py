"""Requests gunicorn refuses itself get the envelope too, not gunicorn's HTML page.

gunicorn answers a request it cannot parse, or one over its limits, before
the application sees it: a request line over ``limit_request_line`` (414),
a header field over ``limit_request_field_size`` or more than
``limit_request_fields`` of them (431), a NUL in a header value, an invalid
request line, method or HTTP version (400). ``EnvelopeWorker`` is the
``gthread`` worker with ``handle_error`` answering in the envelope: gunicorn
still chooses the status and logs the error as it always does; only what is
written to the client changes.
"""

from __future__ import annotations

import json
import logging
import uuid
from http import HTTPStatus
from typing import Any

from gunicorn import util
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

from simdock_adapters.http.errors import HTTP_CODES, INTERNAL_ERROR_MESSAGE, error_document

log = logging.getLogger("simdock.http.access")

#: How much of the offending request a message quotes at most.
QUOTE_LIMIT = 200

#: What each status says before gunicorn's own description of the request.
PROBLEMS = {
    403: "the request is refused",
    417: "the request's Expect header cannot be met",
    501: "the request's Transfer-Encoding is not supported",
}


class EnvelopeWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker, whose own error answers are the JSON envelope."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        answer = RecordedAnswer()
        super().handle_error(req, answer, addr, exc)
        status = answer.status()
        request_id = uuid.uuid4().hex
        log.info("refused by the server: %s", status, extra={"fields": {
            "request_id": request_id, "status": status, "error": str(exc)[:QUOTE_LIMIT],
            "remote_addr": addr[0] if addr else None}})
        try:
            util.write_nonblock(client, refusal(status, describe(exc, status, self.cfg),
                                                request_id))
        except Exception:
            self.log.debug("Failed to send error message.")


class RecordedAnswer:
    """Takes the client socket's place while gunicorn writes its answer, keeping it."""

    def __init__(self) -> None:
        self.written = b""

    def gettimeout(self) -> float:
        return 0.0

    def sendall(self, data: bytes) -> None:
        self.written += data

    def status(self) -> int:
        """The status gunicorn chose (500 if it wrote nothing sensible)."""
        status_line = self.written.partition(b"\r\n")[0].split(b" ")
        if len(status_line) < 2 or not status_line[1].isdigit():
            return 500
        return int(status_line[1])


def describe(exc: BaseException, status: int, cfg: Any) -> str:
    """What was wrong with the request, naming the limit it went over."""
    if status >= 500 and status not in PROBLEMS:
        return INTERNAL_ERROR_MESSAGE
    if isinstance(exc, LimitRequestLine):
        return (f"the request line (method, path and query) is longer than the limit of "
                f"{cfg.limit_request_line} bytes")
    if isinstance(exc, LimitRequestHeaders):
        if str(exc) == "limit request headers fields":
            return (f"the request has more header fields than the limit of "
                    f"{cfg.limit_request_fields}")
        if str(exc) == "limit request headers fields size":
            return (f"a request header field is longer than the limit of "
                    f"{cfg.limit_request_field_size} bytes")
        return (f"the request's headers are too large: at most {cfg.limit_request_fields} "
                f"fields of at most {cfg.limit_request_field_size} bytes each are accepted")
    problem = PROBLEMS.get(status, "the request is not valid HTTP")
    detail = str(exc)
    if len(detail) > QUOTE_LIMIT:
        detail = detail[:QUOTE_LIMIT] + "..."
    return f"{problem}: {detail}"


def refusal(status: int, message: str, request_id: str) -> bytes:
    """The whole HTTP response: the envelope, and the connection closes after it."""
    code = HTTP_CODES.get(status, "InternalError")
    body = json.dumps(error_document(code, message, request_id)).encode()
    head = (f"HTTP/1.1 {status} {reason_phrase(status)}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-Request-ID: {request_id}\r\n"
            "\r\n")
    return head.encode("latin-1") + body


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
