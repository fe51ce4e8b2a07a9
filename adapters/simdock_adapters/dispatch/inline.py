"""Executes dispatched work at once, in the caller's thread."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Sequence

from simdock.ports import Work
from simdock_adapters.dispatch.heartbeat import HEARTBEAT_SECONDS, Heartbeat

log = logging.getLogger(__name__)


def _call(worker: Callable[[str], None], item: str) -> None:
    """Hand one item to the worker, in a context of its own: the caller's scope (an HTTP
    request's one unit of work, :mod:`simdock.scope`) is not the work's. Its failure is
    logged, never the caller's."""
    try:
        contextvars.Context().run(worker, item)
    except Exception:
        log.exception("worker failed on %s", item)


class InlineDispatcher:
    """Synchronous dispatch: ``submit`` returns when the work is done.

    For scripts and tests that want determinism; the embedded platform uses
    :class:`~simdock_adapters.dispatch.threads.ThreadDispatcher`.
    """

    def __init__(self, heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        self._work: Work | None = None
        self.heartbeat = Heartbeat(heartbeat_seconds)

    def bind(self, work: Work) -> None:
        self._work = work
        self.heartbeat.start(work.heartbeat)

    def dispatch_runs(self, run_ids: Sequence[str]) -> None:
        work = self._bound()
        for run_id in run_ids:
            _call(work.execute_run, run_id)

    def dispatch_report(self, report_id: str) -> None:
        _call(self._bound().generate_report, report_id)

    def _bound(self) -> Work:
        if self._work is None:
            raise RuntimeError("dispatcher is not bound to a platform")
        return self._work

    def join(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        self.heartbeat.close()

    #: In-process dispatch goes through no broker.
    broker = None

    def check(self) -> None:
        return None
