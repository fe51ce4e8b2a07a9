"""What a run leaves behind while it executes: logs, metric points, artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line a run wrote; ``seq`` orders lines within the run from 1."""

    run_id: str
    seq: int
    at: datetime
    message: str
    stream: str = "stdout"


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One point of a metric time series (e.g. convergence: loss at a step)."""

    run_id: str
    name: str
    step: int
    value: float
    at: datetime


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file a run produced, stored in the blob store under ``blob_key``."""

    run_id: str
    name: str
    blob_key: str
    size: int
    content_type: str
    created_at: datetime
