"""Entities, value objects and state machines of simdock; standard library only."""

from simdock.domain.job import Job, JobKind
from simdock.domain.job_status import job_status
from simdock.domain.machine import Machine
from simdock.domain.payload import Payload
from simdock.domain.records import Artifact, LogLine, MetricPoint, RunAttempt
from simdock.domain.report import Report
from simdock.domain.run import Run
from simdock.domain.status import (
    MachineStatus,
    ReportStatus,
    RunStatus,
    job_progress,
    parse_statuses,
)
from simdock.domain.sweep import MAX_SWEEP_VARIANTS, SweepSpec, check_sweep, expand
from simdock.domain.token import ApiToken
from simdock.domain.user import User

__all__ = [
    "MAX_SWEEP_VARIANTS",
    "ApiToken",
    "Artifact",
    "Job",
    "JobKind",
    "LogLine",
    "Machine",
    "MachineStatus",
    "MetricPoint",
    "Payload",
    "Report",
    "ReportStatus",
    "Run",
    "RunAttempt",
    "RunStatus",
    "SweepSpec",
    "User",
    "check_sweep",
    "expand",
    "job_progress",
    "job_status",
    "parse_statuses",
]
