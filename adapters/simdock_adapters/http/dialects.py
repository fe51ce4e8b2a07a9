"""Which HTTP dialect a path belongs to, and so in which shape an error on it is answered.

simdock serves two dialects on one server (and its dashboard's pages under
``/ui``, whose errors are pages): its own API (``/api/v1`` and its
own routes at the root: docs, OpenAPI, metrics, probes, WebSocket streams,
file links), whose errors are the envelope ``{"error": {"code", "message"},
"request_id"}``, and the Epistemix platform API at the root (``/``, ``/jobs``,
``/runs``...), whose errors are ``{"description": ...}``, the shape the epx
client reads. A path that no route matches belongs to the dialect that owns
that part of the URL space: everything at the root that is not simdock's own is
the Epistemix dialect's.

This is the one rule: the application's error handlers (``errors``) and the
server's own refusals (``refusals``), made before any route is known, both ask
:func:`dialect_of`.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

#: simdock's own routes outside ``/api/v1``: a path equal to one, or below one.
SIMDOCK_ROOTS = ("/api/v1", "/docs", "/redoc", "/redoc-assets", "/openapi.json", "/static",
                 "/metrics", "/ws", "/files", "/health", "/live", "/ready")


class Dialect(Enum):
    """Who answers a path's errors, and how."""

    SIMDOCK = "simdock"
    EPISTEMIX = "epistemix"
    #: The dashboard's pages (``/ui``): errors are pages in its layout.
    DASHBOARD = "dashboard"


#: The dashboard's pages: a path equal to it, or below it.
DASHBOARD_ROOT = "/ui"


def dialect_of(path: str | None) -> Dialect:
    """The dialect that owns ``path`` (a request target's path, without its query).

    A target that could not be read at all (``None``, or not a path) gets simdock's
    envelope: nothing says the client speaks the Epistemix dialect.
    """
    if path is None or not path.startswith("/"):
        return Dialect.SIMDOCK
    if path == DASHBOARD_ROOT or path.startswith(DASHBOARD_ROOT + "/"):
        return Dialect.DASHBOARD
    for root in SIMDOCK_ROOTS:
        if path == root or path.startswith(root + "/"):
            return Dialect.SIMDOCK
    return Dialect.EPISTEMIX


def error_document(dialect: Dialect, code: str, message: str, request_id: str
                   ) -> dict[str, Any]:
    """The JSON document of an error answer in ``dialect``."""
    if dialect is Dialect.EPISTEMIX:
        return {"description": message}
    return {"error": {"code": code, "message": message}, "request_id": request_id}
