"""Statuses and the transition tables that guard them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from simdock.errors import ValidationError


class RunStatus(StrEnum):
    """Where a run is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_RUN_STATUSES


TERMINAL_RUN_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})

#: Every legal run transition. ``running -> queued`` is a redelivery after a
#: worker was lost; ``failed/cancelled -> queued`` is a retry its owner asked for
#: (:meth:`Run.retry`); nothing leaves ``succeeded``.
RUN_TRANSITIONS: Mapping[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLED}),
    RunStatus.RUNNING: frozenset(
        {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.QUEUED}
    ),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset({RunStatus.QUEUED}),
    RunStatus.CANCELLED: frozenset({RunStatus.QUEUED}),
}
#: The statuses a run can be retried from.
RETRYABLE_RUN_STATUSES = frozenset({RunStatus.FAILED, RunStatus.CANCELLED})
#: The statuses a run can be cancelled from (``RUN_TRANSITIONS``'s rule, for statements
#: that cancel many runs at once).
CANCELLABLE_RUN_STATUSES = frozenset(
    status for status, targets in RUN_TRANSITIONS.items() if RunStatus.CANCELLED in targets)


class ReportStatus(StrEnum):
    """Where a report is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


REPORT_TRANSITIONS: Mapping[ReportStatus, frozenset[ReportStatus]] = {
    ReportStatus.QUEUED: frozenset({ReportStatus.RUNNING, ReportStatus.FAILED}),
    ReportStatus.RUNNING: frozenset(
        {ReportStatus.SUCCEEDED, ReportStatus.FAILED, ReportStatus.QUEUED}
    ),
    ReportStatus.SUCCEEDED: frozenset(),
    ReportStatus.FAILED: frozenset(),
}


class MachineStatus(StrEnum):
    """Whether a machine can take runs (seed 002)."""

    AVAILABLE = "available"
    BUSY = "busy"
    MAINTENANCE = "maintenance"


def job_progress(counts: Mapping[RunStatus, int], progress: Mapping[RunStatus, float]
                 ) -> float:
    """How far a job's work got, from 0 to 1: the mean progress of its runs.

    ``counts`` are its runs by status and ``progress`` the sum of their
    progress by status. A succeeded run counts as complete; a failed or
    cancelled one keeps what it had reached, so stopping work never makes it
    look done.
    """
    total = sum(counts.values())
    if total <= 0:
        return 0.0
    reached = counts.get(RunStatus.SUCCEEDED, 0) + sum(
        value for status, value in progress.items() if status is not RunStatus.SUCCEEDED)
    return min(1.0, max(0.0, reached / total))


def parse_statuses(values: Iterable[str]) -> frozenset[RunStatus]:
    """Run statuses from their names, accepting the seeds' synonyms."""
    result = set()
    for value in values:
        name = value.strip().lower()
        status = STATUS_SYNONYMS.get(name)
        if status is None:
            try:
                status = RunStatus(name)
            except ValueError:
                known = ", ".join(s.value for s in RunStatus)
                raise ValidationError(
                    f"unknown status '{value}'; expected one of: {known}"
                ) from None
        result.add(status)
    return frozenset(result)


#: Words the seeds use for run statuses (seed 001 "success", seed 002
#: "pending"/"finished", Epistemix "DONE").
STATUS_SYNONYMS: Mapping[str, RunStatus] = {
    "pending": RunStatus.QUEUED,
    "submitted": RunStatus.QUEUED,
    "success": RunStatus.SUCCEEDED,
    "finished": RunStatus.SUCCEEDED,
    "done": RunStatus.SUCCEEDED,
    "error": RunStatus.FAILED,
    "failure": RunStatus.FAILED,
    "canceled": RunStatus.CANCELLED,
}
