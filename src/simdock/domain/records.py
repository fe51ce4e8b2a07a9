"""What a run leaves behind while it executes: logs, metric points, artifacts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from simdock.domain.text import NUL
from simdock.errors import ValidationError

#: The largest step a metric point may have (the stores keep steps as 32-bit integers).
MAX_STEP = 2**31 - 1
MAX_METRIC_NAME = 200


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
    """One point of a metric time series (e.g. convergence: loss at a step).

    Checked on creation, whoever makes it (a request, a running handler, a
    store): a name of 1 to 200 characters, a step from 0 to ``MAX_STEP``, a
    finite value.
    """

    run_id: str
    name: str
    step: int
    value: float
    at: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not 0 < len(self.name) <= MAX_METRIC_NAME \
                or not self.name.strip() or NUL in self.name:
            raise ValidationError(f"a metric name has 1 to {MAX_METRIC_NAME} characters "
                                  f"(no NUL), got {self.name!r}")
        if isinstance(self.step, bool) or not isinstance(self.step, int) \
                or not 0 <= self.step <= MAX_STEP:
            raise ValidationError(f"metric '{self.name}': a step is an integer from 0 to "
                                  f"{MAX_STEP}, got {self.step!r}")
        if isinstance(self.value, bool) or not isinstance(self.value, int | float) \
                or not math.isfinite(self.value):
            raise ValidationError(f"metric '{self.name}': a value is a finite number, "
                                  f"got {self.value!r}")
        object.__setattr__(self, "value", float(self.value))

    @staticmethod
    def step_after(last: int | None) -> int:
        """The step a point gets when none is given: one after the series' last."""
        step = 0 if last is None else last + 1
        if step > MAX_STEP:
            raise ValidationError(f"a metric series has no step after {MAX_STEP}; give "
                                  "each point's step explicitly")
        return step


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file a run produced, stored in the blob store under ``blob_key``."""

    run_id: str
    name: str
    blob_key: str
    size: int
    content_type: str
    created_at: datetime


@dataclass(frozen=True)
class RunAttempt:
    """One attempt at a run: the worker that took it, when, and how it ended (the run's
    status when it stopped running, or "queued again" when it went back to the queue:
    its worker was lost, or handed it back); ``outcome`` is None while it runs."""

    run_id: str
    attempt: int
    worker: str | None
    started_at: datetime | None
    ended_at: datetime | None = None
    outcome: str | None = None
    error: str | None = None


#: How an attempt that ended by going back to the queue is said to have ended.
QUEUED_AGAIN = "queued again"


def attempt_outcome(status: str) -> str:
    """How an attempt ended, from the run's status when it stopped running (the rule the
    SQL store's triggers write too: migration 0010)."""
    value = getattr(status, "value", status)
    return QUEUED_AGAIN if value == "queued" else str(value)
