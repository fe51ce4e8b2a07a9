"""Health of the service and its backing services (seed 003), readiness and liveness."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal

from flask import Blueprint, g
from pydantic import BaseModel

from simdock_adapters.http.api import Api
from simdock_adapters.http.context import platform
from simdock_adapters.http.faults import app_faults

log = logging.getLogger(__name__)

VERSION = "1.0.0"
Health = Literal["healthy", "unhealthy"]


class HealthReport(BaseModel):
    """Overall status and the status of each backing service."""

    status: Health
    version: str
    timestamp: datetime
    services: dict[str, Health]


class Probe(BaseModel):
    """A readiness or liveness answer."""

    status: Literal["ready", "not ready", "alive"]
    detail: str | None = None


def services() -> dict[str, Health]:
    """Each backing service's state; why one is unhealthy goes to the log, not the answer
    (once when it becomes unhealthy, in summaries while it stays so, once when it is
    healthy again: a monitor asking every second writes no line per request)."""
    states: dict[str, Health] = {}
    faults = app_faults()
    for name, problem in platform().health.check_services().items():
        states[name] = "healthy" if problem is None else "unhealthy"
        kind = f"{name} is unhealthy"
        if problem is None:
            faults.recovered(kind, "%s is healthy again", name)
            continue
        request_id = g.get("request_id")
        faults.failed(kind, "%s is unhealthy on request %s: %s", name, request_id, problem,
                      fields={"request_id": request_id, "service": name, "detail": problem})
    return states


def register(api: Api) -> Blueprint:
    bp = Blueprint("health", __name__)

    @api.operation(bp, "/health", "GET", auth=False, tags=["health"],
                   responses={200: HealthReport, 503: HealthReport})
    def health() -> tuple[HealthReport, int]:
        """Health of the service and of each backing service."""
        checked = services()
        healthy = all(state == "healthy" for state in checked.values())
        report = HealthReport(status="healthy" if healthy else "unhealthy", version=VERSION,
                              timestamp=datetime.now(UTC), services=checked)
        return report, 200 if healthy else 503

    @api.operation(bp, "/ready", "GET", auth=False, tags=["health"],
                   responses={200: Probe, 503: Probe})
    def ready() -> tuple[Probe, int]:
        """Whether this instance can serve requests (its database answers)."""
        checked = services()
        down = [name for name, state in checked.items() if state != "healthy"]
        if down:
            return Probe(status="not ready", detail=f"unavailable: {', '.join(down)}"), 503
        return Probe(status="ready"), 200

    @api.operation(bp, "/live", "GET", auth=False, tags=["health"], responses={200: Probe})
    def live() -> Probe:
        """Whether the process is alive (no dependency is checked)."""
        return Probe(status="alive")

    return bp
