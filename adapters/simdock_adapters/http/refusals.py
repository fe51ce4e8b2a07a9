"""What the server answers itself, before the application sees a request: JSON, not HTML.

gunicorn refuses a request it cannot parse or that is over its limits: a
request line over ``limit_request_line`` (414), a header field over
``limit_request_field_size`` or more than ``limit_request_fields`` of them
(431), a NUL in a header value, an invalid request line, method or HTTP
version (400); the server's worker also refuses a client that stopped sending
its request (408). Each answer is the error document of the path's dialect
(``dialects``: the envelope, or ``{"description": ...}`` on the Epistemix
paths), says what was wrong, quotes no credential the request carried
(``simdock_adapters.redaction``), and closes the connection.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from ssl import SSLError
from typing import Any

from gunicorn.http.errors import (
    ConfigurationProblem,
    ExpectationFailed,
    ForbiddenProxyRequest,
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    LimitRequestHeaders,
    LimitRequestLine,
    ParseException,
    UnsupportedTransferCoding,
)

from simdock_adapters.http.dialects import dialect_of, error_document
from simdock_adapters.http.errors import HTTP_CODES, INTERNAL_ERROR_MESSAGE
from simdock_adapters.redaction import redact

#: How much of the offending request a message quotes at most.
QUOTE_LIMIT = 200

#: The status of each refusal, most specific first (gunicorn's own choices); any other
#: error in parsing is the client's (400), any other exception the server's (500).
STATUS: list[tuple[type[BaseException], int]] = [
    (InvalidResponseHeader, 500),
    (InvalidResponseHeaderName, 500),
    (ConfigurationProblem, 500),
    (LimitRequestLine, 414),
    (LimitRequestHeaders, 431),
    (ExpectationFailed, 417),
    (UnsupportedTransferCoding, 501),
    (ForbiddenProxyRequest, 403),
    (SSLError, 403),
    (ParseException, 400),
]

#: What each status says before gunicorn's own description of the request.
PROBLEMS = {
    403: "the request is refused",
    417: "the request's Expect header cannot be met",
    501: "the request's Transfer-Encoding is not supported",
}


def status_of(exc: BaseException) -> int:
    return next((status for cls, status in STATUS if isinstance(exc, cls)), 500)


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
    detail = redact(str(exc))
    if len(detail) > QUOTE_LIMIT:
        detail = detail[:QUOTE_LIMIT] + "..."
    return f"{problem}: {detail}"


def path_of(target: str | None) -> str | None:
    """The path of a request target as it was sent (None if there was none)."""
    if target is None:
        return None
    return target.split("?", 1)[0].split("#", 1)[0]


def refusal(status: int, message: str, request_id: str, target: str | None) -> bytes:
    """The whole HTTP response, in the dialect of ``target``'s path; the connection
    closes after it."""
    code = HTTP_CODES.get(status, "InternalError")
    document = error_document(dialect_of(path_of(target)), code, redact(message), request_id)
    body = json.dumps(document).encode()
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
