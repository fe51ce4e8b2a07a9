"""The OpenAPI document, generated from the routes' own models."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from simdock_adapters.http.api import Api
from simdock_adapters.http.context import context


def register(api: Api) -> Blueprint:
    bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

    @bp.get("/openapi.json")
    def openapi_document() -> Response:
        return jsonify(context().api.openapi())

    return bp
