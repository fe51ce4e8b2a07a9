"""Structured request logs and Prometheus metrics.

/metrics shows totals only (runs by status, the queue's depth, requests by route),
never a label that names a user, a job or a run; with METRICS_TOKEN set it answers
only to that token.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from simdock.errors import AuthenticationFailure
from simdock.platform import Platform
from simdock_adapters.http.context import context
from simdock_adapters.redaction import redact

log = logging.getLogger("simdock.http.access")
#: ``<id:job_id>`` in a rule: metrics are labelled ``<job_id>``, whatever the converter.
_CONVERTER = re.compile(r"<\w+:(\w+)>")


#: Route arguments that are credentials: the access log shows their route's rule instead
#: of the path that carries them (``/api/v1/downloads/<token>``).
CREDENTIAL_ARGUMENTS = frozenset({"token"})


def logged_path() -> str:
    """The request's path as the access log may show it: never with a credential in it,
    whether a route matched it or not (``/api/v1/downloads/<token>``)."""
    rule = request.url_rule
    if rule is not None and CREDENTIAL_ARGUMENTS & rule.arguments:
        return rule.rule
    return redact(request.path)


def install_request_log(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if not log.isEnabledFor(logging.INFO):  # the fields cost more than the answer's JSON
            return response
        duration = time.perf_counter() - g.get("started", time.perf_counter())
        user = g.get("user")
        path = logged_path()
        log.info("%s %s %s", request.method, path, response.status_code, extra={
            "fields": {"request_id": g.get("request_id"), "method": request.method,
                       "path": path, "status": response.status_code,
                       "duration_ms": round(duration * 1000, 2),
                       "user_id": user.id if user is not None else None,
                       "remote_addr": request.remote_addr}})
        return response


class PlatformCollector(Collector):
    """Runs by status and the queue depth, read from the platform at scrape time."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def collect(self) -> Any:
        from simdock.domain import RunStatus

        stats = self.platform.queries.statistics(None)
        runs = GaugeMetricFamily("simdock_runs", "Runs by status", labels=["status"])
        for status in RunStatus:
            runs.add_metric([status.value], stats.counts.get(status, 0))
        yield runs
        yield GaugeMetricFamily("simdock_queue_depth", "Runs waiting to be executed",
                                value=stats.counts.get(RunStatus.QUEUED, 0))


def install_metrics(app: Flask, platform: Platform) -> None:
    """Request counts and latencies, runs by status and queue depth at ``/metrics``.

    Under ``simdock serve`` several worker processes answer: their counts are
    kept in PROMETHEUS_MULTIPROC_DIR and summed at scrape time, so any worker
    reports the whole server.
    """
    registry = CollectorRegistry()
    shared = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    own = None if shared else registry
    requests = Counter("simdock_http_requests", "HTTP requests",
                       ["method", "endpoint", "status"], registry=own)
    latency = Histogram("simdock_http_request_duration_seconds", "HTTP request latency",
                        ["method", "endpoint"], registry=own)
    if shared:
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(PlatformCollector(platform))

    @app.after_request
    def count(response: Response) -> Response:
        endpoint = (_CONVERTER.sub(r"<\1>", request.url_rule.rule)
                    if request.url_rule is not None else "unmatched")
        requests.labels(request.method, endpoint, str(response.status_code)).inc()
        latency.labels(request.method, endpoint).observe(
            time.perf_counter() - g.get("started", time.perf_counter()))
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        require_scrape_token(context().settings.metrics_token)
        return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")


def require_scrape_token(token: str | None) -> None:
    """Let only ``Authorization: Bearer <METRICS_TOKEN>`` read /metrics, when one is set
    (AuthenticationFailure, 401, otherwise): a Prometheus scrape job sends it with
    ``authorization: {credentials: ...}``. A user's own credentials do not read it."""
    if token is None:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                             token.encode()):
        raise AuthenticationFailure("/metrics needs the metrics token: Authorization: "
                                    "Bearer <METRICS_TOKEN>")
