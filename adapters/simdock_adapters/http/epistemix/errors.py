"""The Epistemix dialect's errors: ``{"description": ...}``, which the epx client parses.

Mapped once, on the dialect's blueprint; ``/api/v1`` keeps its envelope. A request
without a usable ``Offline-Token`` is 401; a token that is not accepted (unknown,
revoked, expired) is 403, which the client reports as an authorization error.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, g, jsonify
from pydantic import ValidationError as ModelError
from werkzeug.exceptions import HTTPException

from simdock.errors import (
    AuthenticationFailure,
    Conflict,
    LimitExceeded,
    NotFound,
    ServiceUnavailable,
    SimdockError,
    TooLarge,
    TooManyRequests,
    UnauthorizedOperation,
    ValidationError,
)

log = logging.getLogger("simdock.epistemix")


class MissingToken(AuthenticationFailure):
    """No ``Offline-Token: Bearer <token>`` header at all (401)."""


#: Domain error class -> HTTP status, most specific first.
STATUS: list[tuple[type[SimdockError], int]] = [
    (MissingToken, 401),
    (AuthenticationFailure, 403),
    (UnauthorizedOperation, 403),
    (TooManyRequests, 429),
    (NotFound, 404),
    (TooLarge, 413),
    (LimitExceeded, 400),
    (ValidationError, 400),
    (Conflict, 409),
    (ServiceUnavailable, 503),
]
INTERNAL = "an internal error occurred; quote the request id when reporting it"


def description(status: int, text: str) -> Response:
    response = jsonify({"description": text})
    response.status_code = status
    if request_id := g.get("request_id"):
        response.headers["X-Request-ID"] = request_id
    return response


def model_error_text(error: ModelError) -> str:
    """Which fields of the body were wrong and how, in one line."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "body"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


def domain_error(error: SimdockError) -> Response:
    status = next((code for cls, code in STATUS if isinstance(error, cls)), 500)
    if status == 500:
        log.error("%s on request %s: %s", type(error).__name__, g.get("request_id"),
                  error.message)
        return description(500, INTERNAL)
    response = description(status, error.message)
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(int(error.retry_after) + 1)
    return response


def invalid_body(error: ModelError) -> Response:
    return description(400, model_error_text(error))


def http_error(error: HTTPException) -> Response:
    return description(error.code or 500, error.description or error.name)


def unexpected(error: Exception) -> Response:
    log.exception("unhandled error on request %s", g.get("request_id", ""))
    return description(500, INTERNAL)


def install(bp: Blueprint) -> None:
    """Map every error raised in the dialect's views to its ``{"description"}``; the
    application's own handlers call the same functions for the dialect's paths that no
    view matched (``simdock_adapters.http.dialects``)."""
    bp.register_error_handler(SimdockError, domain_error)
    bp.register_error_handler(ModelError, invalid_body)
    bp.register_error_handler(HTTPException, http_error)
    bp.register_error_handler(Exception, unexpected)
