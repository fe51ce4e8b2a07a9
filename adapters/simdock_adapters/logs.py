"""JSON logs for the processes simdock runs itself: the API's workers and ``simdock worker``.

Importing simdock configures no logging: a notebook or a host application keeps
its own. The long-lived commands call :func:`configure_logging` once, which gives
each of the project's logger trees a JSON handler unless the host set it up already.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, TextIO

from simdock.faults import FaultFilter
from simdock_adapters.redaction import redact, redact_values

#: The roots of every logger the project's packages create (``logging.getLogger(__name__)``).
PROJECT_LOGGERS = ("simdock", "simdock_adapters", "simdock_sim")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and structured extras.

    Whatever a line quotes of a request (a path, a query, a header, an exception's
    message) goes out without its credentials (``simdock_adapters.redaction``).
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(redact_values(entry), default=lambda value: redact(str(value)))


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """JSON lines on ``stream`` (stderr) for each project logger tree without handlers,
    and for the libraries' warnings and errors (Dramatiq's, pika's, Python's warnings)
    when the root logger has none; a library's repeated failures (a consumer retrying a
    broker that is away) are folded into faults (:class:`simdock.faults.FaultFilter`).

    A tree the host already gave a handler is left as the host set it; calling
    this again changes nothing.
    """
    _configure_libraries(level, stream)
    handler: logging.Handler | None = None
    for name in PROJECT_LOGGERS:
        logger = logging.getLogger(name)
        if logger.handlers:
            continue
        if handler is None:
            handler = logging.StreamHandler(stream or sys.stderr)
            handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(level.upper())
        logger.propagate = False


def _configure_libraries(level: str, stream: TextIO | None) -> None:
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(FaultFilter())
    root.addHandler(handler)
    root.setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
    logging.captureWarnings(True)
