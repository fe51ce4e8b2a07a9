"""gunicorn's own log lines (starting, workers booting, exiting, timing out) as JSON.

``simdock serve`` logs JSON lines on stderr; gunicorn's messages are written by
its own loggers (``gunicorn.error``), in its own format. ``JsonServerLog`` gives
them the project's formatter, so that they are JSON lines too and, like every
line, quote no credential.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from simdock_adapters.logs import JsonFormatter


class JsonServerLog(Logger):  # type: ignore[misc]
    """gunicorn's logger, writing through ``simdock_adapters.logs.JsonFormatter``."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(JsonFormatter())
