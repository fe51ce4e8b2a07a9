"""The one place where errors become HTTP responses, all in the envelope.

``{"error": {"code": ..., "message": ...}, "request_id": ...}`` for every
4xx and 5xx: domain errors, unknown routes, wrong methods, bodies that are
too large or malformed, and anything unexpected (logged, never shown).
"""

from __future__ import annotations

import logging

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
    UnauthorizedOperation,
    ValidationError,
)

log = logging.getLogger("simdock.http")

#: Domain error class -> HTTP status, most specific first.
STATUS: list[tuple[type[SimdockError], int]] = [
    (AuthenticationFailure, 401),
    (UnauthorizedOperation, 403),
    (NotFound, 404),
    (LimitExceeded, 400),
    (ValidationError, 400),
    (Conflict, 409),
    (ServiceUnavailable, 503),
    (ExecutionError, 500),
]

#: Codes for the HTTP-level errors Werkzeug raises.
HTTP_CODES = {
    400: "InvalidParameterValue",
    401: "AuthenticationFailure",
    403: "UnauthorizedOperation",
    404: "ResourceNotFound",
    405: "MethodNotAllowed",
    413: "ResourceLimitExceeded",
    415: "UnsupportedMediaType",
    422: "InvalidParameterValue",
    429: "ResourceLimitExceeded",
}


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


def envelope(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message},
                        "request_id": g.get("request_id", "")})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="simdock"'
    return response


def install(app: Flask) -> None:
    """Register the handlers that turn every error into the envelope."""

    @app.errorhandler(SimdockError)
    def domain_error(error: SimdockError) -> Response:
        return envelope(status_of(error), error.code, error.message)

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
        return envelope(500, "InternalError", "an internal error occurred; quote the request "
                                              "id when reporting it")
