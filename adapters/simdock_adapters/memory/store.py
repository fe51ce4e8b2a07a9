"""The in-memory "database" that memory units of work share."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime

from simdock.domain import (
    ApiToken,
    Artifact,
    Job,
    LogLine,
    Machine,
    MetricPoint,
    Payload,
    Report,
    Run,
    RunStatus,
    User,
)
from simdock.domain.records import RunAttempt
from simdock.domain.replication import ReplicatePoint
from simdock.domain.worker import WorkerBeat
from simdock_adapters.memory.queue import QueuedRuns


class MemoryStore:
    """Every table as a dict; one lock makes each unit of work serializable."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.jobs: dict[str, Job] = {}
        self.job_specs: dict[str, Payload] = {}
        self.job_numbers: dict[int, str] = {}
        self.runs: dict[str, Run] = {}
        self.run_numbers: dict[int, str] = {}
        self.runs_by_job: dict[str, list[str]] = defaultdict(list)
        self.reports: dict[str, Report] = {}
        self.machines: dict[str, Machine] = {}
        self.users: dict[str, User] = {}
        self.users_by_email: dict[str, str] = {}
        self.users_by_skeleton: dict[str, str] = {}
        self.tokens: dict[str, ApiToken] = {}
        self.tokens_by_hash: dict[str, str] = {}
        self.logs: dict[str, list[LogLine]] = defaultdict(list)
        self.metrics: dict[str, list[MetricPoint]] = defaultdict(list)
        self.artifacts: dict[str, dict[str, Artifact]] = defaultdict(dict)
        self.sequences: dict[str, int] = defaultdict(int)
        self.queued = QueuedRuns()
        self.login_failures: dict[str, list[datetime]] = defaultdict(list)
        self.workers: dict[str, WorkerBeat] = {}
        self.points: dict[tuple[str, int], ReplicatePoint] = {}
        self.attempts: dict[tuple[str, int], RunAttempt] = {}
        self.login_successes: dict[str, datetime] = {}

    def is_queued(self, run_id: str) -> bool:
        run = self.runs.get(run_id)
        return run is not None and run.status is RunStatus.QUEUED

    def next_number(self, table: str) -> int:
        self.sequences[table] += 1
        return self.sequences[table]
