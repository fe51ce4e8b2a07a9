"""The one place where errors become HTTP responses, all in the envelope.

``{"error": {"code": ..., "message": ...}, "request_id": ...}`` for every
4xx and 5xx: domain errors, unknown routes, wrong methods, bodies that are
too large or malformed, and anything unexpected (logged, never shown). An
unavailable service is answered plainly; where it is and why goes to the log.
Requests gunicorn refuses before the application sees them get the same
document from ``simdock_adapters.http.refusals``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException

from simdock.errors import (
    AuthenticationFailure,
    Conflict,
    ExecutionError,
    LimitExceeded,
    NotFound,
    ServiceUnavailable,
    SimdockError,
    TooManyRequests,
    UnauthorizedOperation,
    ValidationError,
)
from simdock_adapters.http.faults import app_faults

log = logging.getLogger("simdock.http")

#: Domain error class -> HTTP status, most specific first.
STATUS: list[tuple[type[SimdockError], int]] = [
    (AuthenticationFailure, 401),
    (UnauthorizedOperation, 403),
    (TooManyRequests, 429),
    (NotFound, 404),
    (LimitExceeded, 400),
    (ValidationError, 400),
    (Conflict, 409),
    (ServiceUnavailable, 503),
    (ExecutionError, 500),
]

#: Codes for the HTTP-level errors Werkzeug raises and gunicorn answers itself.
HTTP_CODES = {
    400: "InvalidParameterValue",
    401: "AuthenticationFailure",
    403: "UnauthorizedOperation",
    404: "ResourceNotFound",
    405: "MethodNotAllowed",
    413: "ResourceLimitExceeded",
    414: "ResourceLimitExceeded",
    415: "UnsupportedMediaType",
    417: "InvalidParameterValue",
    422: "InvalidParameterValue",
    429: "ResourceLimitExceeded",
    431: "ResourceLimitExceeded",
    501: "InvalidParameterValue",
}

#: What a 500 says: the details are in the log, under the request id.
INTERNAL_ERROR_MESSAGE = "an internal error occurred; quote the request id when reporting it"


class RequestValidationError(ValidationError):
    """A request that does not match its documented schema (HTTP 422)."""

    http_status = 422


class MalformedBody(RequestValidationError):
    """The body is not JSON at all (HTTP 400)."""

    http_status = 400


class UnsupportedMediaType(RequestValidationError):
    """The body is in a format the route does not read (HTTP 415)."""

    code = "UnsupportedMediaType"
    http_status = 415


def status_of(error: SimdockError) -> int:
    if isinstance(error, RequestValidationError):
        return error.http_status
    return next((status for cls, status in STATUS if isinstance(error, cls)), 500)


def error_document(code: str, message: str, request_id: str) -> dict[str, Any]:
    """The envelope's JSON document."""
    return {"error": {"code": code, "message": message}, "request_id": request_id}


def envelope(status: int, code: str, message: str) -> Response:
    response = jsonify(error_document(code, message, g.get("request_id", "")))
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="simdock"'
    return response


def log_detail(error: SimdockError) -> None:
    """Log what an answer leaves out for operators: where an unavailable service is
    and what its driver said, with the request id: once when the service becomes
    unavailable, then in summaries while it stays so (:mod:`~simdock_adapters.http.faults`),
    not on every request it fails."""
    if isinstance(error, ServiceUnavailable) and error.detail:
        request_id = g.get("request_id")
        app_faults().failed(error.message, "%s on request %s: %s", error.message, request_id,
                            error.detail,
                            fields={"request_id": request_id, "detail": error.detail})


def install(app: Flask) -> None:
    """Register the handlers that turn every error into the envelope."""

    @app.errorhandler(SimdockError)
    def domain_error(error: SimdockError) -> Response:
        log_detail(error)
        response = envelope(status_of(error), error.code, error.message)
        if isinstance(error, TooManyRequests):
            response.headers["Retry-After"] = str(math.ceil(error.retry_after))
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        message = error.description or error.name
        if status == 404:
            message = "no such resource or route"
        elif status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"the request body is larger than the limit of {limit} bytes"
        response = envelope(status, HTTP_CODES.get(status, "InternalError"), message)
        if status == 405:
            allowed = error.get_headers()
            response.headers.update({k: v for k, v in allowed if k.lower() == "allow"})
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error on request %s", g.get("request_id", ""))
        return envelope(500, "InternalError", INTERNAL_ERROR_MESSAGE)
