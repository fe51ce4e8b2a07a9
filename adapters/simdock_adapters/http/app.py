"""The Flask application factory: no work at import time, one platform per app."""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS
from flask_swagger_ui import get_swaggerui_blueprint

from simdock.platform import Platform
from simdock_adapters.bootstrap import build_platform
from simdock_adapters.http import errors
from simdock_adapters.http.api import Api
from simdock_adapters.http.context import ApiContext, assign_request_id, end_scope
from simdock_adapters.http.downloads import DownloadLinks
from simdock_adapters.http.observability import (
    configure_logging,
    install_metrics,
    install_request_log,
)
from simdock_adapters.http.routes import ROUTE_MODULES
from simdock_adapters.http.slots import StreamSlots
from simdock_adapters.http.websockets import install_websockets
from simdock_adapters.settings import Settings

OPENAPI_PATH = "/api/v1/openapi.json"


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> Flask:
    """A ready app for ``settings`` (read from the environment if None).

    ``platform`` lets tests and embedders share an existing platform; by
    default one is built from the settings and closed with the app's process.
    """
    settings = settings or Settings()
    settings.check_for_production()
    platform = platform or build_platform(settings)
    configure_logging(settings.log_level)

    app = Flask("simdock")
    app.config.update(MAX_CONTENT_LENGTH=settings.max_content_length, JSON_SORT_KEYS=False)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    api = Api("simdock", "1.0.0", "A simulation-agnostic backend: jobs, sweeps, runs, "
                                  "logs, results, reports, machines and convergence metrics.")
    app.extensions["simdock"] = ApiContext(
        platform, settings, api,
        DownloadLinks(settings.secret_key, settings.download_url_expire_seconds),
        StreamSlots(settings.max_open_streams or max(1, settings.web_threads // 2)))

    app.before_request(assign_request_id)
    app.teardown_request(end_scope)
    install_request_log(app)
    if settings.enable_metrics:
        install_metrics(app, platform)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    CORS(app, origins=origins or "*", expose_headers=["X-Request-ID"])
    errors.install(app)

    for module in ROUTE_MODULES:
        app.register_blueprint(module.register(api))
    install_websockets(app)
    docs = {"app_name": "simdock API"}
    app.register_blueprint(get_swaggerui_blueprint("/api/v1/docs", OPENAPI_PATH, config=docs))
    app.register_blueprint(get_swaggerui_blueprint("/docs", OPENAPI_PATH, config=docs,
                                                   blueprint_name="swagger_ui_root"))
    return app
