"""``simdock serve``: the HTTP API under gunicorn (threaded workers).

Each worker process builds its own platform after it is forked, so no
database connection or thread is shared across processes. The worker
(``worker.SimdockWorker``) runs a request on a thread only once all of it has
arrived, so slow clients hold no thread. gunicorn's limits on request lines and
headers stay at their defaults; what it refuses is answered in JSON, in the
path's dialect (``refusals``).
"""

from __future__ import annotations

import math
import os
import tempfile
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from simdock_adapters.bootstrap import HAND_BACK_SECONDS, prepare_database
from simdock_adapters.http.server_log import JsonServerLog
from simdock_adapters.http.worker import SimdockWorker
from simdock_adapters.settings import Settings


class SimdockServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.options = {
            "bind": f"{settings.host}:{settings.port}",
            "workers": settings.web_workers,
            "threads": settings.web_threads,
            "worker_class": SimdockWorker,
            "logger_class": JsonServerLog,
            "accesslog": None,
            # Room for the platform to drain on SIGTERM (worker_exit) before the arbiter
            # kills the worker.
            "graceful_timeout": math.ceil(settings.shutdown_grace_seconds + HAND_BACK_SECONDS
                                          + 5),
            "worker_exit": _close_platform,
            "timeout": 120,
            "control_socket_disable": True,
            **(options or {}),
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None and key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        from simdock_adapters.http.app import create_app

        return create_app(self.settings)


def serve(settings: Settings, **options: Any) -> None:
    """Serve until interrupted; ``options`` override gunicorn settings."""
    settings.check_for_production()
    prepare_database(settings)
    if settings.enable_metrics:
        with tempfile.TemporaryDirectory(prefix="simdock-metrics-") as shared:
            # Set before any worker imports prometheus_client, so they all count here.
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = shared
            SimdockServer(settings, {"child_exit": _forget_worker, **options}).run()
        return
    SimdockServer(settings, options).run()


def _close_platform(server: Any, worker: Any) -> None:
    """A worker is stopping (SIGTERM, or the arbiter shutting down): its platform drains
    (the runs it executes end within the shutdown grace or go back to the queue) and
    closes, instead of leaving its runs to wait for their leases to lapse."""
    app = getattr(worker, "wsgi", None)
    extensions = getattr(app, "extensions", None)
    if isinstance(extensions, dict) and "simdock" in extensions:
        extensions["simdock"].platform.close()


def _forget_worker(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
