"""Executes dispatched work at once, in the caller's thread."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)


def _call(worker: Callable[[str], None], item: str) -> None:
    """Hand one item to the worker; its failure is logged, never the caller's."""
    try:
        worker(item)
    except Exception:
        log.exception("worker failed on %s", item)


class InlineDispatcher:
    """Synchronous dispatch: ``submit`` returns when the work is done.

    For scripts and tests that want determinism; the embedded platform uses
    :class:`~simdock_adapters.dispatch.threads.ThreadDispatcher`.
    """

    def __init__(self) -> None:
        self._run_worker: Callable[[str], None] | None = None
        self._report_worker: Callable[[str], None] | None = None

    def bind(self, run_worker: Callable[[str], None], report_worker: Callable[[str], None]
             ) -> None:
        self._run_worker = run_worker
        self._report_worker = report_worker

    def dispatch_runs(self, run_ids: Sequence[str]) -> None:
        if self._run_worker is None:
            raise RuntimeError("dispatcher is not bound to a platform")
        for run_id in run_ids:
            _call(self._run_worker, run_id)

    def dispatch_report(self, report_id: str) -> None:
        if self._report_worker is None:
            raise RuntimeError("dispatcher is not bound to a platform")
        _call(self._report_worker, report_id)

    def join(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        return None
