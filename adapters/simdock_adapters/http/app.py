"""The Flask application factory: no work at import time, one platform per app."""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS
from flask_swagger_ui import get_swaggerui_blueprint
from werkzeug.middleware.proxy_fix import ProxyFix

from simdock.platform import Platform
from simdock_adapters.bootstrap import build_platform
from simdock_adapters.http import errors, transfers
from simdock_adapters.http.api import Api
from simdock_adapters.http.blob_links import BlobLinks
from simdock_adapters.http.body_limit import WholeBody, refuse_unusable_body
from simdock_adapters.http.context import (
    ApiContext,
    assign_request_id,
    end_scope,
    link_base,
    refuse_nul_in_target,
)
from simdock_adapters.http.dashboard import errors as dashboard_errors
from simdock_adapters.http.dashboard import pages as dashboard_pages
from simdock_adapters.http.dialects import Dialect
from simdock_adapters.http.downloads import DownloadLinks
from simdock_adapters.http.epistemix import errors as epistemix_errors
from simdock_adapters.http.epistemix import routes as epistemix_routes
from simdock_adapters.http.json_provider import OrjsonProvider
from simdock_adapters.http.links import LinkBase
from simdock_adapters.http.observability import install_metrics, install_request_log
from simdock_adapters.http.redoc import redoc_blueprint
from simdock_adapters.http.routing import install_converters, register_routes
from simdock_adapters.http.slots import StreamSlots
from simdock_adapters.http.websockets import install_websockets
from simdock_adapters.settings import Settings, load_settings

OPENAPI_PATH = "/api/v1/openapi.json"


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> Flask:
    """A ready app for ``settings`` (read from the environment if None).

    ``platform`` lets tests and embedders share an existing platform; by
    default one is built from the settings and closed with the app's process.
    """
    settings = settings or load_settings()
    settings.check_for_production()
    platform = platform or build_platform(settings)

    app = Flask("simdock")
    app.json = OrjsonProvider(app)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_content_length, JSON_SORT_KEYS=False)
    app.wsgi_app = WholeBody(app.wsgi_app, settings.max_content_length)  # type: ignore[method-assign]
    if settings.proxy_hops:
        # Only the hops that are there are believed: a client's own X-Forwarded-For entries
        # stay to the left of what the proxies appended.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops,  # type: ignore[method-assign]
                                x_proto=settings.proxy_hops)
    app.json.sort_keys = False
    api = Api("simdock", "1.0.0", "A simulation-agnostic backend: jobs, sweeps, runs, "
                                  "logs, results, reports, machines and convergence metrics.")
    app.extensions["simdock"] = ApiContext(
        platform, settings, api,
        DownloadLinks(settings.secret_key, settings.download_url_expire_seconds),
        StreamSlots(settings.max_open_streams or max(1, settings.web_threads // 2),
                    settings.max_streams_per_user),
        LinkBase(settings.public_base_url, settings.host, settings.trusted_host_names),
        BlobLinks(settings.secret_key, settings.download_url_expire_seconds, link_base))

    app.before_request(assign_request_id)
    app.before_request(refuse_unusable_body)
    app.before_request(refuse_nul_in_target)
    app.teardown_request(end_scope)
    install_request_log(app)
    if settings.enable_metrics:
        install_metrics(app, platform)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    CORS(app, origins=origins or "*", expose_headers=["X-Request-ID"])
    errors.install(app, {Dialect.EPISTEMIX: epistemix_errors,
                         Dialect.DASHBOARD: dashboard_errors})

    install_converters(app)
    for blueprint in register_routes(api, settings, platform.simulations, platform.reports):
        app.register_blueprint(blueprint)
    install_websockets(app)
    app.register_blueprint(transfers.blueprint())
    app.register_blueprint(epistemix_routes.blueprint())
    docs = {"app_name": "simdock API"}
    app.register_blueprint(get_swaggerui_blueprint("/api/v1/docs", OPENAPI_PATH, config=docs))
    app.register_blueprint(get_swaggerui_blueprint("/docs", OPENAPI_PATH, config=docs,
                                                   blueprint_name="swagger_ui_root"))
    app.register_blueprint(redoc_blueprint(OPENAPI_PATH, "simdock API"))
    dashboard_pages.install(app)
    return app
