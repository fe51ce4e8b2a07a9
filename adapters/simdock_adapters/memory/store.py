"""The in-memory "database" that memory units of work share."""

from __future__ import annotations

import threading
from collections import defaultdict

from simdock.domain import ApiToken, Artifact, Job, LogLine, Machine, MetricPoint, Report, Run, User


class MemoryStore:
    """Every table as a dict; one lock makes each unit of work serializable."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.jobs: dict[str, Job] = {}
        self.job_numbers: dict[int, str] = {}
        self.runs: dict[str, Run] = {}
        self.run_numbers: dict[int, str] = {}
        self.runs_by_job: dict[str, list[str]] = defaultdict(list)
        self.reports: dict[str, Report] = {}
        self.machines: dict[str, Machine] = {}
        self.users: dict[str, User] = {}
        self.users_by_email: dict[str, str] = {}
        self.tokens: dict[str, ApiToken] = {}
        self.tokens_by_hash: dict[str, str] = {}
        self.logs: dict[str, list[LogLine]] = defaultdict(list)
        self.metrics: dict[str, list[MetricPoint]] = defaultdict(list)
        self.artifacts: dict[str, dict[str, Artifact]] = defaultdict(dict)
        self.sequences: dict[str, int] = defaultdict(int)

    def next_number(self, table: str) -> int:
        self.sequences[table] += 1
        return self.sequences[table]
