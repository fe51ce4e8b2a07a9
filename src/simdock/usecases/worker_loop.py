"""The worker's loop: take queued work from the store fairly, execute it, record it.

Which runs are claimed is :class:`simdock.fair_queue.FairQueue`'s rule; claims
and outcomes are written in small batches when runs are short, so a sweep of
no-op runs is not bound by one transaction per run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from simdock.domain import ReportStatus, RunStatus
from simdock.execution import Execution
from simdock.paging import PageRequest
from simdock.ports import Clock
from simdock.scope import UnitsOfWork
from simdock.usecases.execute import Executing
from simdock.usecases.leases import Leases
from simdock.usecases.reports import Reporting

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlatformWork:
    """The execution side's use cases, bound to one process's :class:`Execution`: the
    :class:`~simdock.ports.Work` its dispatcher is bound to."""

    uow: UnitsOfWork
    clock: Clock
    execution: Execution
    executing: Executing
    leases: Leases
    reporting: Reporting

    def execute_run(self, run_id: str) -> None:
        """Execute a run dispatched by its id (see :meth:`Executing.execute_run`)."""
        self.executing.execute_run(run_id)

    def execute_next(self) -> int:
        """Claim queued runs fairly, execute them one after the other, record their
        outcomes. Returns how many runs were executed (0 when nothing is queued)."""
        execution = self.execution
        queue = execution.queue
        with self.uow() as uow:
            runs = queue.claim(uow, execution.worker_name, self.clock.now(), queue.batch_size(),
                               self.leases.lease_until())
            self.leases.commit_claims(uow, runs)
        if not runs:
            return 0
        execution.held.hold(runs)
        started = self.clock.monotonic()
        outcomes = [self.executing.execute_claimed(run) for run in runs]
        queue.observe(self.clock.monotonic() - started, len(runs))
        self.executing.record_when_possible(outcomes)
        return len(runs)

    def generate_report(self, report_id: str) -> None:
        self.reporting.generate_report(report_id)

    def generate_next(self) -> bool:
        """Generate one queued report, if one is queued and no one else takes it first."""
        queued = self.reporting.list_reports(
            None, PageRequest(1, 10), frozenset({ReportStatus.QUEUED})).items
        return any(self.reporting.generate_report(report.id) is not None
                   for report in queued[::-1])

    def heartbeat(self) -> None:
        self.leases.heartbeat()

    def queued_runs(self) -> int:
        """How many runs wait in the store, of every owner."""
        with self.uow() as uow:
            return uow.runs.counts().get(RunStatus.QUEUED, 0)

    def waiting_reports(self, older_than_seconds: float) -> list[str]:
        """Ids of reports queued for longer than ``older_than_seconds``, oldest first."""
        queued = self.reporting.list_reports(
            None, PageRequest(1, 100), frozenset({ReportStatus.QUEUED})).items
        before = self.clock.now() - timedelta(seconds=older_than_seconds)
        return [report.id for report in reversed(queued) if report.created_at < before]
