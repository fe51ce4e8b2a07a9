"""The context a run executes in: progress, logs, metrics and artifacts.

It is handed to the handler as its ``progress_callback``. Progress, log lines
and metric points are buffered and written in small transactions at most
every ``progress_interval_seconds``; each write also learns whether the run
was cancelled meanwhile, and the next report then raises RunCancelled.

Only the attempt that holds the run writes: a write finds the run still
running as this worker's attempt and updates it, guarded by its version, in
the same transaction (so a take-back or cancel committed meanwhile turns the
write into a conflict, read again), or writes nothing and stops the handler
(the run was cancelled, or taken back after its lease lapsed and given to
another attempt). The holding attempt's lines and points are never dropped;
its artifacts are stored under keys of its own attempt.
"""

from __future__ import annotations

import mimetypes
import re
import shutil
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from simdock.domain import Artifact, MetricPoint, Run
from simdock.domain.text import NUL, storable
from simdock.errors import ConcurrencyConflict, RunCancelled, ValidationError
from simdock.platform import Platform
from simdock.ports import UnitOfWork
from simdock.usecases.inputs import fetch_inputs

MAX_STREAM_NAME = 16
_UNSAFE = re.compile(r"[^A-Za-z0-9._/-]")
_ARTIFACT_NAME = re.compile(r"^(?!.*\.\.)[A-Za-z0-9._-][A-Za-z0-9._/-]{0,254}$")


def artifact_key(run_id: str, attempt: int, name: str) -> str:
    """Where an attempt keeps an artifact: each attempt under keys of its own."""
    return f"{attempt_prefix(run_id, attempt)}{name}"


def attempt_prefix(run_id: str, attempt: int) -> str:
    """The key prefix of one attempt's artifacts."""
    return (f"runs/{run_id}/artifacts/" if attempt <= 1
            else f"runs/{run_id}/attempt-{attempt}/artifacts/")


class ExecutionContext:
    """A run's channel back to simdock while it executes."""

    def __init__(self, run_id: str, job_id: str, platform: Platform, attempt: int = 1,
                 worker: str | None = None) -> None:
        self.run_id = run_id
        self.job_id = job_id
        #: Which attempt at the run this is, and whose: only it may write.
        self.attempt = attempt
        self.worker = worker
        self._platform = platform
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._progress: float | None = None
        self._logs: list[tuple[datetime, str, str]] = []
        self._metrics: list[MetricPoint] = []
        self._steps: dict[str, int] = {}
        self._last_flush = time.monotonic()
        self._workdir: Path | None = None
        self._inputs: Path | None = None

    # -- what handlers call ------------------------------------------------
    def __call__(self, fraction: float) -> None:
        self.progress(fraction)

    def progress(self, fraction: float) -> None:
        """Report the fraction done (0..1); raises RunCancelled once cancelled."""
        if not 0.0 <= float(fraction) <= 1.0:
            raise ValidationError(f"progress must be between 0 and 1, got {fraction}")
        with self._lock:
            self._progress = max(self._progress or 0.0, float(fraction))
        self._maybe_flush()
        self._raise_if_cancelled()

    def log(self, message: str, stream: str = "stdout") -> None:
        """Append a line (or several) to the run's log; ``stream`` names it (stdout, stderr...)."""
        if not isinstance(stream, str) or not 0 < len(stream) <= MAX_STREAM_NAME \
                or NUL in stream:
            raise ValidationError(f"a log stream name has 1 to {MAX_STREAM_NAME} characters")
        now = self._platform.clock.now()
        with self._lock:
            for line in storable(str(message)).splitlines() or [""]:
                self._logs.append((now, stream, line))
            full = len(self._logs) >= self._platform.limits.log_buffer_lines
        if full:
            self.flush()
        else:
            self._maybe_flush()

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        """Record one point of a metric series; steps count up from 0 if not given."""
        with self._lock:
            if step is None:
                step = MetricPoint.step_after(self._steps.get(name))
            point = MetricPoint(self.run_id, name, step, value, self._platform.clock.now())
            self._steps[name] = max(point.step, self._steps.get(name, -1))
            self._metrics.append(point)
        self._maybe_flush()

    def artifact(self, name: str, data: bytes | Path, content_type: str | None = None) -> None:
        """Keep a file the run produced, under ``name`` (a relative path)."""
        if not _ARTIFACT_NAME.match(name):
            raise ValidationError(f"invalid artifact name {name!r}")
        content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        # Each attempt writes under keys of its own: a stale attempt never overwrites the
        # bytes of the current one's artifact, whose record then points elsewhere.
        key = artifact_key(self.run_id, self.attempt, name)
        blobs = self._platform.blobs
        if isinstance(data, Path):
            size = blobs.put_file(key, data, content_type)
        else:
            blobs.put(key, bytes(data), content_type)
            size = len(data)
        record = Artifact(self.run_id, name, key, size, content_type, self._platform.clock.now())
        while True:
            try:
                if self._record_artifact(record):
                    return
            except ConcurrencyConflict:
                continue
            blobs.delete(key)
            self._cancelled.set()
            raise RunCancelled(f"run '{self.run_id}' is no longer this attempt's")

    def _record_artifact(self, record: Artifact) -> bool:
        with self._platform.uow() as uow:
            run = self._held(uow)
            if run is None:
                return False
            uow.artifacts.add(record)
            uow.runs.update(run)  # fails if the run was taken meanwhile
            uow.commit()
        return True

    @property
    def workdir(self) -> Path:
        """A scratch directory; files left in it are kept as artifacts."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix=f"simdock-{self.run_id}-"))
        return self._workdir

    @property
    def inputs(self) -> Path:
        """A directory holding the job's input files, fetched on first use (empty when the
        job has none); handlers that never ask cost nothing."""
        if self._inputs is None:
            with self._platform.uow() as uow:
                job = uow.jobs.get(self.job_id)
            directory = Path(tempfile.mkdtemp(prefix=f"simdock-{self.run_id}-inputs-"))
            try:
                if job is not None:
                    fetch_inputs(job, self._platform, directory)
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
            self._inputs = directory
        return self._inputs

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Ask the handler to stop at its next progress report."""
        self._cancelled.set()

    # -- what the execute use case calls ----------------------------------
    def collect_workdir(self) -> None:
        """Keep every file left in the scratch directory as an artifact, then remove it."""
        if self._workdir is None:
            return
        try:
            for path in sorted(p for p in self._workdir.rglob("*")
                               if p.is_file() and not p.is_symlink()):
                name = _UNSAFE.sub("_", path.relative_to(self._workdir).as_posix())
                self.artifact(name.replace("..", "_"), path)
        finally:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def discard_workdir(self) -> None:
        """Remove the scratch directory and the input files, whatever is left of them."""
        for directory in (self._workdir, self._inputs):
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
        self._workdir = self._inputs = None

    def flush(self) -> None:
        """Write buffered progress, logs and metrics; learn about cancellation."""
        with self._lock:
            progress, self._progress = self._progress, None
            logs, self._logs = self._logs, []
            metrics, self._metrics = self._metrics, []
            self._last_flush = time.monotonic()
        if progress is None and not logs and not metrics:
            return
        while True:  # a conflict is another write to the run: read it again and retry
            try:
                self._write(progress, logs, metrics)
                return
            except ConcurrencyConflict:
                continue

    def _write(
        self,
        progress: float | None,
        logs: list[tuple[datetime, str, str]],
        metrics: list[MetricPoint],
    ) -> None:
        with self._platform.uow() as uow:
            run = self._held(uow)
            if run is None:
                self._cancelled.set()  # cancelled, finished or taken back: write nothing
                return
            if logs:
                uow.logs.append(self.run_id, logs)
            if metrics:
                uow.metrics.append(metrics)
            if progress is not None and progress > run.progress:
                run.report_progress(progress, self._platform.clock.now())
            # Always written, version-guarded: a take-back or cancel committed after the
            # read above makes this a conflict, so no line of a stale attempt gets in.
            uow.runs.update(run)
            uow.commit()

    def _held(self, uow: UnitOfWork) -> Run | None:
        """The run, if this attempt still holds it."""
        run = uow.runs.get(self.run_id)
        return run if run is not None and run.held_by(self.worker, self.attempt) else None

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self._platform.limits.progress_interval_seconds:
            self.flush()

    def _raise_if_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise RunCancelled(f"run '{self.run_id}' was cancelled")
