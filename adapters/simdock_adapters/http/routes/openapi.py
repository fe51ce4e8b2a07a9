"""The OpenAPI document, generated from the routes' own models.

Served at ``/api/v1/openapi.json`` and, where seed 003 (and FastAPI's habit)
looks for it, at ``/openapi.json``: the same document.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from simdock_adapters.http.api import Api
from simdock_adapters.http.context import context

DOCUMENT_PATHS = ("/api/v1/openapi.json", "/openapi.json")


def register(api: Api) -> Blueprint:
    bp = Blueprint("openapi", __name__)

    def openapi_document() -> Response:
        return jsonify(context().api.openapi())

    for number, path in enumerate(DOCUMENT_PATHS):
        bp.add_url_rule(path, f"openapi_document_{number}", openapi_document)
    return bp
