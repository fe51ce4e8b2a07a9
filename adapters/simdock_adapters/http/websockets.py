"""Live convergence updates over a WebSocket (seed 002's ``/ws/convergence/{id}``).

Browsers cannot set headers on a WebSocket, so the credential may also come
as ``?token=``. Each new point is sent as a JSON message; a final
``{"event": "end"}`` message follows once the run has finished.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from typing import Any

from flask import Flask, request
from flask_sock import ConnectionClosed, Sock

from simdock.errors import SimdockError
from simdock.usecases import metrics
from simdock_adapters.http.context import bearer_credential, context, shared_platform
from simdock_adapters.http.errors import log_detail
from simdock_adapters.http.views import metric_message

POLL_SECONDS = 0.25
#: How long a closing server waits for the client's answer to its close frame.
CLOSE_SECONDS = 2.0


def close(ws: Any, reason: int | None = None, message: str | None = None) -> None:
    """Close with the closing handshake: send the close frame, then wait for the client's.

    Dropping the connection straight after the close frame makes the kernel
    answer the client's close frame with a reset, which can discard what the
    client had not read yet: the last messages, the close code itself.
    """
    ws.close(reason=reason, message=message)
    with contextlib.suppress(OSError):
        ws.sock.shutdown(socket.SHUT_WR)
        ws.sock.settimeout(CLOSE_SECONDS)
        deadline = time.monotonic() + CLOSE_SECONDS
        while ws.sock.recv(4096) and time.monotonic() < deadline:
            pass


def follow(ws: Any, run_id: str, owner_id: str, series: metrics.MetricSeries) -> None:
    """Send each new point, then an end message once the run has finished."""
    since = None
    while True:
        for point in series.points:
            ws.send(json.dumps({"event": "point", **metric_message(point)}))
        if series.points:
            since = max(p.at for p in series.points)
        elif series.complete:
            ws.send(json.dumps({"event": "end", "complete": True}))
            close(ws)
            return
        # Waiting on the socket, not sleeping, notices a client that went away.
        ws.receive(timeout=POLL_SECONDS)
        series = shared_platform().metrics.metric_series(run_id, owner_id, since=since)


def install_websockets(app: Flask) -> None:
    sock = Sock(app)

    def convergence(ws: Any, run_id: str) -> None:
        credential = request.args.get("token") or bearer_credential()
        try:
            user = shared_platform().auth.authenticate(credential or "")
            series = shared_platform().metrics.metric_series(run_id, user.id)
        except SimdockError as exc:
            log_detail(exc)
            ws.send(json.dumps({"event": "error", "error": {"code": exc.code,
                                                            "message": exc.message}}))
            close(ws, 1008, exc.code)
            return
        try:
            release = context().streams.take(user.id)
        except SimdockError as exc:
            ws.send(json.dumps({"event": "error", "error": {"code": exc.code,
                                                            "message": exc.message}}))
            close(ws, 1013, exc.code)
            return
        try:
            follow(ws, run_id, user.id, series)
        except ConnectionClosed:
            return  # the client went away
        finally:
            release()

    sock.route("/ws/convergence/<run_id>", endpoint="ws_convergence")(convergence)
    sock.route("/api/v1/ws/convergence/<run_id>", endpoint="ws_convergence_v1")(convergence)
