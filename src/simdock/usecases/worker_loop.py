"""The worker's loop: take queued work from the store fairly, execute it, record it.

Which runs are claimed is :class:`simdock.fair_queue.FairQueue`'s rule; claims
and outcomes are written in small batches when runs are short, so a sweep of
no-op runs is not bound by one transaction per run.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from simdock.domain import ReportStatus, RunStatus
from simdock.execution import Execution
from simdock.paging import PageRequest
from simdock.platform import Platform
from simdock.usecases.execute import execute_claimed, execute_run, record_when_possible
from simdock.usecases.leases import commit_claims, heartbeat, lease_until

log = logging.getLogger(__name__)


def execute_next(platform: Platform, execution: Execution) -> int:
    """Claim queued runs fairly, execute them one after the other, record their outcomes.

    Returns how many runs were executed (0 when nothing is queued).
    """
    queue = execution.queue
    with platform.uow() as uow:
        runs = queue.claim(uow, execution.worker_name, platform.clock.now(), queue.batch_size(),
                           lease_until(platform))
        commit_claims(uow, runs, execution)
    if not runs:
        return 0
    execution.held.hold(runs)
    started = platform.clock.monotonic()
    outcomes = [execute_claimed(run, platform, execution) for run in runs]
    queue.observe(platform.clock.monotonic() - started, len(runs))
    record_when_possible(outcomes, platform, execution)
    return len(runs)


def count_queued_runs(platform: Platform) -> int:
    """How many runs wait in the store, of every owner."""
    with platform.uow() as uow:
        return uow.runs.counts().get(RunStatus.QUEUED, 0)


def waiting_reports(older_than_seconds: float, platform: Platform) -> list[str]:
    """Ids of reports queued for longer than ``older_than_seconds``, oldest first."""
    queued = platform.reporting.list_reports(
        None, PageRequest(1, 100), frozenset({ReportStatus.QUEUED})).items
    before = platform.clock.now() - timedelta(seconds=older_than_seconds)
    return [report.id for report in reversed(queued) if report.created_at < before]


def generate_next(platform: Platform) -> bool:
    """Generate one queued report, if one is queued and no one else takes it first."""
    queued = platform.reporting.list_reports(
        None, PageRequest(1, 10), frozenset({ReportStatus.QUEUED})).items
    return any(platform.reporting.generate_report(report.id) is not None for report in queued[::-1])


class PlatformWork:
    """The platform's use cases as the :class:`~simdock.ports.Work` its dispatcher is bound to."""

    def __init__(self, platform: Platform, execution: Execution) -> None:
        self.platform = platform
        self.execution = execution

    def execute_run(self, run_id: str) -> None:
        execute_run(run_id, self.platform, self.execution)

    def execute_next(self) -> int:
        return execute_next(self.platform, self.execution)

    def generate_report(self, report_id: str) -> None:
        self.platform.reporting.generate_report(report_id)

    def generate_next(self) -> bool:
        return generate_next(self.platform)

    def heartbeat(self) -> None:
        heartbeat(self.platform, self.execution)

    def queued_runs(self) -> int:
        return count_queued_runs(self.platform)

    def waiting_reports(self, older_than_seconds: float) -> list[str]:
        return waiting_reports(older_than_seconds, self.platform)
