"""What a unit of work must get dispatched, sent only once it has committed.

Use cases say what to dispatch inside their unit of work
(``uow.dispatch_runs(ids)``, ``uow.dispatch_report(id)``); the messages go to
the platform's sender once the block has ended with them committed, after the
store's unit of work let go of its connection or lock (an inline dispatch
executes the work then and there), and are dropped if they were not. So no
worker is ever told about work it cannot see yet, and a failed transaction
sends nothing. Sending can still fail (a broker away): the work is committed,
queued in the store, and found later (the workers' beat sends for it), so
nothing is lost, and the caller is not told of it: a sender's failure never
turns a committed unit of work into an error. It is logged once while it lasts
(:class:`simdock.faults.FaultLog`). A sender must not hold its caller either
(a broker's sends one on a thread of their own). (cosmicpython's unit of work
collecting events for its message bus.)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from simdock.faults import FaultLog
from simdock.ports import Sender
from simdock.repositories import UnitOfWork

log = logging.getLogger(__name__)

SEND_FAILED = "dispatching committed work failed"
#: Failures of this process's senders, logged once while they last.
_faults = FaultLog(log)


class OutboxUnitOfWork(UnitOfWork):
    """A store's unit of work, plus the dispatches it collects until it commits."""

    def __init__(self, store: UnitOfWork, sender: Sender) -> None:
        self._store = store  # entered and exited as given (a scope's shared one counts)
        self._entered: UnitOfWork = store  # what entering it gave: commits go there
        self._sender = sender
        self._runs: list[str] = []
        self._reports: list[str] = []
        self._committed_runs: list[str] = []
        self._committed_reports: list[str] = []

    def __enter__(self) -> Self:
        store = self._store.__enter__()
        self.share_repositories(store)
        self._entered = store
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._drop()
        try:
            self._store.__exit__(exc_type, exc, tb)
        finally:
            self._send()

    def dispatch_runs(self, run_ids: Sequence[str]) -> None:
        """Have these runs dispatched once this unit of work commits."""
        self._runs.extend(run_ids)

    def dispatch_report(self, report_id: str) -> None:
        """Have this report dispatched once this unit of work commits."""
        self._reports.append(report_id)

    def commit(self) -> None:
        self._entered.commit()
        self._committed_runs.extend(self._runs)
        self._committed_reports.extend(self._reports)
        self._drop()

    def _send(self) -> None:
        """What was committed, to the sender (the block has ended); a failure is logged,
        not raised: the work stays queued in the store for the workers' beat."""
        runs, reports = self._committed_runs, self._committed_reports
        self._committed_runs, self._committed_reports = [], []
        if not runs and not reports:
            return
        try:
            if runs:
                self._sender.dispatch_runs(runs)
            for report_id in reports:
                self._sender.dispatch_report(report_id)
        except Exception as exc:  # a sender's errors are its adapter's own
            _faults.failed(SEND_FAILED, "%s; the work stays queued and is found later: "
                           "%s: %s", SEND_FAILED, type(exc).__name__, exc, exc_info=exc)
            return
        _faults.recovered(SEND_FAILED, "dispatching committed work works again")

    def rollback(self) -> None:
        self._drop()
        self._entered.rollback()

    def suspend(self) -> None:
        self._drop()
        self._entered.suspend()

    def resume(self) -> None:
        self._entered.resume()

    def _drop(self) -> None:
        self._runs, self._reports = [], []
