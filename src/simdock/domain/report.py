"""The report: a document generated from the results of runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simdock.domain.status import REPORT_TRANSITIONS, ReportStatus
from simdock.domain.text import storable
from simdock.errors import InvalidTransition


@dataclass(eq=False)
class Report:
    """A requested report and its state machine."""

    id: str
    owner_id: str
    report_type: str
    output_format: str
    job_ids: tuple[str, ...]
    created_at: datetime
    parameters: dict[str, Any] = field(default_factory=dict)
    status: ReportStatus = ReportStatus.QUEUED
    blob_key: str | None = None
    content_type: str | None = None
    filename: str | None = None
    size: int = 0
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    version: int = 0

    def transition(self, target: ReportStatus) -> None:
        if target not in REPORT_TRANSITIONS[self.status]:
            raise InvalidTransition("report", self.id, self.status.value, target.value)
        self.status = target

    def start(self, now: datetime) -> None:
        self.transition(ReportStatus.RUNNING)
        self.started_at = now

    def succeed(
        self, blob_key: str, content_type: str, filename: str, size: int, now: datetime
    ) -> None:
        self.transition(ReportStatus.SUCCEEDED)
        self.blob_key = blob_key
        self.content_type = content_type
        self.filename = filename
        self.size = size
        self.finished_at = now

    def fail(self, error: str, now: datetime) -> None:
        self.transition(ReportStatus.FAILED)
        self.error = storable(error)
        self.finished_at = now
