"""Server-sent event streams of a run's log lines and metric points.

Each stream polls the repositories through the use cases, sends what is new,
a comment every few seconds to keep proxies from closing it, and ends with an
``end`` event once the run has finished and everything was sent, or as soon
as its client has gone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import Response, request

from simdock.platform import Platform
from simdock_adapters.http.peers import departure_check
from simdock_adapters.http.slots import StreamSlots
from simdock_adapters.http.views import metric_message

POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 10.0
#: Log lines read at a time, and how many such reads a poll may make to catch up.
LOG_BATCH = 1000
CATCH_UP_BATCHES = 10
MAX_STREAM_SECONDS = 6 * 3600


def event(name: str, data: object, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, default=str)}\n\n"


@dataclass(frozen=True)
class Hold:
    """A live stream's slot, how to give it back, and how to tell its client has gone."""

    release: Callable[[], None]
    gone: Callable[[], bool]


def hold(slots: StreamSlots, user_id: str) -> Hold:
    """Take one of ``user_id``'s stream slots for the current request (or refuse)."""
    return Hold(slots.take(user_id), departure_check(request.environ))


def sse(events: Iterator[str], held: Hold) -> Response:
    """An event-stream response that gives back its stream slot when it closes."""
    response = Response(events, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    response.call_on_close(held.release)
    return response


def _poll(step: Callable[[], tuple[list[str], bool]], gone: Callable[[], bool]
          ) -> Iterator[str]:
    started = last_sent = time.monotonic()
    yield ": stream opened\n\n"
    while time.monotonic() - started < MAX_STREAM_SECONDS and not gone():
        chunks, finished = step()
        if chunks:
            last_sent = time.monotonic()
            yield from chunks
        if finished:
            return
        if time.monotonic() - last_sent > KEEPALIVE_SECONDS:
            last_sent = time.monotonic()
            yield ": keep-alive\n\n"
        time.sleep(POLL_SECONDS)


def log_stream(run_id: str, owner_id: str | None, platform: Platform, held: Hold,
               after: int = 0) -> Response:
    position = {"after": after}

    def step() -> tuple[list[str], bool]:
        finished = platform.queries.get_run(run_id, owner_id).terminal
        chunks: list[str] = []
        for _ in range(CATCH_UP_BATCHES):  # a stream taken up far behind: no pause
            lines = platform.queries.run_logs(run_id, owner_id, position["after"], LOG_BATCH)
            chunks.extend(event("log", {"seq": line.seq, "timestamp": line.at.isoformat(),
                                        "stream": line.stream, "message": line.message},
                                line.seq) for line in lines)
            if lines:
                position["after"] = lines[-1].seq
            if len(lines) < LOG_BATCH:
                break
        else:
            return chunks, False
        if finished:  # finished before this read: every line it wrote was read
            status = platform.queries.get_run(run_id, owner_id).status.value
            return [*chunks, event("end", {"status": status})], True
        return chunks, False

    return sse(_poll(step, held.gone), held)


def metric_stream(run_id: str, owner_id: str, platform: Platform, name: str | None,
                  since_step: int | None, since: datetime | None, held: Hold) -> Response:
    position: dict[str, object] = {"step": since_step, "since": since}

    def step() -> tuple[list[str], bool]:
        series = platform.metrics.metric_series(
            run_id, owner_id, name, position["step"], position["since"])  # type: ignore[arg-type]
        chunks = [event("point", metric_message(p), p.step) for p in series.points]
        if series.points:
            position["since"] = max(p.at for p in series.points)
            position["step"] = None
        if series.complete and not series.points:
            return [*chunks, event("end", {"complete": True})], True
        return chunks, False

    return sse(_poll(step, held.gone), held)
