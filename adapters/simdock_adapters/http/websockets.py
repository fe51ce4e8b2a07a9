"""Live convergence updates over a WebSocket (seed 002's ``/ws/convergence/{id}``).

Browsers cannot set headers on a WebSocket, so the credential may also come
as ``?token=``. Each new point is sent as a JSON message; a final
``{"event": "end"}`` message follows once the run has finished.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, request
from flask_sock import ConnectionClosed, Sock

from simdock.errors import SimdockError
from simdock.usecases import metrics
from simdock.usecases.auth import authenticate
from simdock_adapters.http.context import bearer_credential, context, shared_platform

POLL_SECONDS = 0.25


def follow(ws: Any, run_id: str, owner_id: str, series: metrics.MetricSeries) -> None:
    """Send each new point, then an end message once the run has finished."""
    since = None
    while True:
        for point in series.points:
            ws.send(json.dumps({"event": "point", "run_id": point.run_id, "name": point.name,
                                "step": point.step, "value": point.value,
                                "timestamp": point.at.isoformat()}))
        if series.points:
            since = max(p.at for p in series.points)
        elif series.complete:
            ws.send(json.dumps({"event": "end", "complete": True}))
            ws.close()
            return
        # Waiting on the socket, not sleeping, notices a client that went away.
        ws.receive(timeout=POLL_SECONDS)
        series = metrics.metric_series(run_id, owner_id, shared_platform(), since=since)


def install_websockets(app: Flask) -> None:
    sock = Sock(app)

    def convergence(ws: Any, run_id: str) -> None:
        credential = request.args.get("token") or bearer_credential()
        try:
            user = authenticate(credential or "", shared_platform())
            series = metrics.metric_series(run_id, user.id, shared_platform())
        except SimdockError as exc:
            ws.send(json.dumps({"event": "error", "error": {"code": exc.code,
                                                            "message": exc.message}}))
            ws.close(reason=1008, message=exc.code)
            return
        try:
            release = context().streams.take()
        except SimdockError as exc:
            ws.send(json.dumps({"event": "error", "error": {"code": exc.code,
                                                            "message": exc.message}}))
            ws.close(reason=1013, message=exc.code)
            return
        try:
            follow(ws, run_id, user.id, series)
        except ConnectionClosed:
            return  # the client went away
        finally:
            release()

    sock.route("/ws/convergence/<run_id>", endpoint="ws_convergence")(convergence)
    sock.route("/api/v1/ws/convergence/<run_id>", endpoint="ws_convergence_v1")(convergence)
