"""The one place where errors become HTTP responses of the application.

``{"error": {"code": ..., "message": ...}, "request_id": ...}`` for every
4xx and 5xx: domain errors, unknown routes, wrong methods, bodies that are
too large or malformed, and anything unexpected (logged, never shown). An
unavailable service is answered plainly; where it is and why goes to the log.
A path of another dialect (the Epistemix one) that no view matched (an unknown
path, a wrong method, a NUL in its path) is answered as that dialect's views
answer (``{"description": ...}``), by the answers the app factory installs for
it: ``dialects`` says which paths are whose. Requests
gunicorn refuses before the application sees them get the same documents from
``simdock_adapters.http.refusals``. No error answer quotes a credential
(``simdock_adapters.redaction``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, Protocol

from flask import Flask, Response, current_app, g, jsonify, request
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
from simdock_adapters.http.dialects import Dialect, dialect_of
from simdock_adapters.http.dialects import error_document as dialect_document
from simdock_adapters.http.faults import app_faults
from simdock_adapters.redaction import redact_values

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
    408: "RequestTimeout",
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
    return dialect_document(Dialect.SIMDOCK, code, message, request_id)


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


class DialectAnswers(Protocol):
    """How a dialect other than ``/api/v1``'s answers errors (a module may be one)."""

    def domain_error(self, error: SimdockError) -> Response: ...

    def description(self, status: int, text: str) -> Response: ...

    def unexpected(self, error: Exception) -> Response: ...


def without_credentials(response: Response) -> Response:
    """An error answer, with any credential it quotes (of the request) redacted."""
    if response.status_code < 400 or not response.is_json or response.is_streamed:
        return response
    document = response.get_json(silent=True)
    cleaned = redact_values(document)
    if cleaned != document:
        response.set_data(current_app.json.dumps(cleaned))
    return response


def install(app: Flask, dialects: Mapping[Dialect, DialectAnswers]) -> None:
    """Register the handlers that turn every error into its dialect's answer: ``dialects``
    answers for the paths of theirs, the envelope for every other path."""
    app.after_request(without_credentials)

    def own_answers() -> DialectAnswers | None:
        return dialects.get(dialect_of(request.path))

    @app.errorhandler(SimdockError)
    def domain_error(error: SimdockError) -> Response:
        if (answers := own_answers()) is not None:
            return answers.domain_error(error)
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
            limit = request.max_content_length
            message = f"the request body is larger than the limit of {limit} bytes"
        if (answers := own_answers()) is not None:
            response = answers.description(status, message)
        else:
            response = envelope(status, HTTP_CODES.get(status, "InternalError"), message)
        if status == 405:
            allowed = error.get_headers()
            response.headers.update({k: v for k, v in allowed if k.lower() == "allow"})
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        if (answers := own_answers()) is not None:
            return answers.unexpected(error)
        log.exception("unhandled error on request %s", g.get("request_id", ""))
        return envelope(500, "InternalError", INTERNAL_ERROR_MESSAGE)
