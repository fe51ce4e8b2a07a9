"""The API's routes for one deployment: blueprints, path converters, and what its document says.

The OpenAPI document describes exactly what this deployment accepts: the
longest timeout its settings allow, the container images it runs (ALLOWED_IMAGES),
and the simulation and report types (and report formats) its installed handlers
provide.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from werkzeug.routing import BaseConverter

from simdock.handlers import ReportHandlerRegistry, SimulationHandlerRegistry
from simdock_adapters.http.api import Api
from simdock_adapters.http.image_patterns import allowed_images_schema
from simdock_adapters.http.routes import ROUTE_MODULES
from simdock_adapters.http.routes.jobs import JobSubmission, ResourcesIn
from simdock_adapters.http.routes.reports import ReportRequest
from simdock_adapters.http.routes.simulations import SimulationSubmission
from simdock_adapters.settings import Settings


class IdConverter(BaseConverter):
    """An id in a path: any segment but the name of a sibling route (``/jobs/stats``),
    so that a path is matched, and its allowed methods listed, by one rule only."""

    regex = r"(?!stats$)[^/]+"


def install_converters(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter


def register_routes(api: Api, settings: Settings, simulations: SimulationHandlerRegistry,
                    reports: ReportHandlerRegistry) -> list[Blueprint]:
    """Every route module's blueprint, with the document narrowed to this deployment."""
    blueprints = [module.register(api) for module in ROUTE_MODULES]
    simulation_types = simulations.names()
    for model in (JobSubmission, SimulationSubmission):
        api.limit(model, "timeout", maximum=settings.max_job_timeout)
        api.limit(model, "simulation_type", enum=simulation_types)
    api.limit(JobSubmission, "container_image",
              **allowed_images_schema(settings.allowed_image_patterns))
    api.limit(ResourcesIn, "memory_mb", maximum=settings.container_max_memory_mb)
    api.limit(ResourcesIn, "cpus", maximum=settings.container_max_cpus)
    api.limit(ResourcesIn, "pids", maximum=settings.container_max_pids)
    report_types = reports.names()
    api.limit(ReportRequest, "report_type", enum=report_types)
    handlers = [reports.get(name) for name in report_types]
    if handlers and all(handler.formats for handler in handlers):
        formats = sorted({f for handler in handlers for f in handler.formats})
        api.limit(ReportRequest, "output_format",
                  enum=sorted({*formats, *(f.upper() for f in formats)}))
    return blueprints
