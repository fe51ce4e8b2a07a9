"""Recording what a run reports as it executes: progress, logs, metrics and artifacts.

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

A write that cannot reach the store is not the handler's failure: what it
held is kept (:mod:`simdock.usecases.unwritten`) and tried again, less often
while the store stays away, and what is still unwritten when the run ends
goes with its outcome, which is recorded once the store is back. A write
whose commit went unanswered may have been kept or not: each write stamps
the run with a time of its own (``Run.touch``), and the next write looks at
the stamp to tell, so that nothing is written twice or lost.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from simdock import blob_keys
from simdock.conflicts import retry_on_conflict
from simdock.domain import Artifact, MetricPoint, Run
from simdock.domain.text import NUL, storable
from simdock.errors import (
    ConcurrencyConflict,
    RunCancelled,
    RunHandedBack,
    ServiceUnavailable,
    SimdockError,
    ValidationError,
)
from simdock.limits import Limits
from simdock.ports import BlobStore, Clock
from simdock.repositories import UnitOfWork
from simdock.scope import UnitsOfWork
from simdock.usecases.inputs import Inputs
from simdock.usecases.unwritten import InDoubt, Unwritten

log = logging.getLogger(__name__)

#: How long to wait before trying the store again, after each write that could not reach it.
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)


class Unanswered(ServiceUnavailable):
    """A write's commit went unanswered: what it held is in doubt, not unwritten."""

MAX_STREAM_NAME = 16
_UNSAFE = re.compile(r"[^A-Za-z0-9._/-]")
_ARTIFACT_NAME = re.compile(r"^(?!.*\.\.)[A-Za-z0-9._-][A-Za-z0-9._/-]{0,254}$")


@dataclass(frozen=True)
class Recording:
    """What a run executing reports, recorded: the channels handed to handlers."""

    uow: UnitsOfWork
    clock: Clock
    limits: Limits
    blobs: BlobStore
    inputs: Inputs

    def context(self, run_id: str, job_id: str, attempt: int = 1,
                worker: str | None = None) -> ExecutionContext:
        """The channel of ``attempt`` at a run, made by ``worker``: only it may write."""
        return ExecutionContext(run_id, job_id, self, attempt, worker)


class ExecutionContext:
    """A run's channel back to simdock while it executes."""

    def __init__(self, run_id: str, job_id: str, recording: Recording, attempt: int = 1,
                 worker: str | None = None) -> None:
        self.run_id = run_id
        self.job_id = job_id
        #: Which attempt at the run this is, and whose: only it may write.
        self.attempt = attempt
        self.worker = worker
        self._recording = recording
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._handed_back = False
        self._unwritten = Unwritten()
        self._steps: dict[str, int] = {}
        self._last_flush = self._recording.clock.monotonic()
        #: Writes that could not reach the store in a row, and when to try again.
        self._failures = 0
        self._retry_at = 0.0
        #: The reports of the last write whose commit went unanswered, with its stamp.
        self._in_doubt: InDoubt | None = None
        self._last_stamp: datetime | None = None
        self._writing = threading.Lock()  # one write at a time, so stamps tell them apart
        self._workdir: Path | None = None
        self._inputs: Path | None = None
        #: The SHA-256 of each input file the run fetched, by name; None until it fetches.
        self.input_digests: dict[str, str] | None = None

    # -- what handlers call ------------------------------------------------
    def __call__(self, fraction: float) -> None:
        self.progress(fraction)

    def progress(self, fraction: float) -> None:
        """Report the fraction done (0..1); raises RunCancelled once cancelled."""
        if not 0.0 <= float(fraction) <= 1.0:
            raise ValidationError(f"progress must be between 0 and 1, got {fraction}")
        with self._lock:
            self._unwritten.progress = max(self._unwritten.progress or 0.0, float(fraction))
        self._maybe_flush()
        self._raise_if_cancelled()

    def log(self, message: str, stream: str = "stdout") -> None:
        """Append a line (or several) to the run's log; ``stream`` names it (stdout, stderr...)."""
        if not isinstance(stream, str) or not 0 < len(stream) <= MAX_STREAM_NAME \
                or NUL in stream:
            raise ValidationError(f"a log stream name has 1 to {MAX_STREAM_NAME} characters")
        now = self._recording.clock.now()
        with self._lock:
            for line in storable(str(message)).splitlines() or [""]:
                self._unwritten.logs.append((now, stream, line))
            self._unwritten.bound()
            full = len(self._unwritten.logs) >= self._recording.limits.log_buffer_lines
        if full:
            self.flush()
        else:
            self._maybe_flush()

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        """Record one point of a metric series; steps count up from 0 if not given."""
        with self._lock:
            if step is None:
                step = MetricPoint.step_after(self._steps.get(name))
            point = MetricPoint(self.run_id, name, step, value, self._recording.clock.now())
            self._steps[name] = max(point.step, self._steps.get(name, -1))
            self._unwritten.metrics.append(point)
            self._unwritten.bound()
        self._maybe_flush()

    def artifact(self, name: str, data: bytes | Path, content_type: str | None = None) -> None:
        """Keep a file the run produced, under ``name`` (a relative path)."""
        if not _ARTIFACT_NAME.match(name):
            raise ValidationError(f"invalid artifact name {name!r}")
        content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        # Each attempt writes under keys of its own: a stale attempt never overwrites the
        # bytes of the current one's artifact, whose record then points elsewhere.
        key = blob_keys.artifact(self.run_id, self.attempt, name)
        blobs = self._recording.blobs
        if isinstance(data, Path):
            size = blobs.put_file(key, data, content_type)
        else:
            blobs.put(key, bytes(data), content_type)
            size = len(data)
        record = Artifact(self.run_id, name, key, size, content_type, self._recording.clock.now())
        try:
            if retry_on_conflict(lambda: self._record_artifact(record), f"run '{self.run_id}'"):
                return
        except (ServiceUnavailable, ConcurrencyConflict) as exc:  # with the next write
            self._kept(Unwritten(artifacts=[record]), exc)
            return
        blobs.delete(key)
        self._cancelled.set()
        raise RunCancelled(f"run '{self.run_id}' is no longer this attempt's")

    def _record_artifact(self, record: Artifact) -> bool:
        with self._recording.uow() as uow:
            run = uow.runs.get(self.run_id)
            if run is None or not run.left_by(self.worker, self.attempt):
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
            directory = Path(tempfile.mkdtemp(prefix=f"simdock-{self.run_id}-inputs-"))
            try:
                with self._recording.uow() as uow:
                    job = uow.jobs.get(self.job_id)
                self.input_digests = {} if job is None else \
                    self._recording.inputs.fetch_inputs(job, directory)
            except ServiceUnavailable as exc:
                shutil.rmtree(directory, ignore_errors=True)
                self.hand_back()
                raise RunHandedBack(f"run '{self.run_id}' could not fetch its inputs: "
                                    f"{exc.message}; it is queued again") from exc
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

    def hand_back(self) -> None:
        """Stop the handler as :meth:`cancel` does, for the run to go back to the queue
        with no attempt counted (this process is shutting down), not to be cancelled."""
        self._handed_back = True
        self._cancelled.set()

    @property
    def handed_back(self) -> bool:
        return self._handed_back

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

    def flush(self, now: bool = False) -> None:
        """Write buffered reports and learn about cancellation. While the store cannot be
        reached they are kept, and tried again only after a while (``now``: at once)."""
        with self._writing:
            with self._lock:
                if not now and self._recording.clock.monotonic() < self._retry_at:
                    return
                unwritten = self._unwritten.take()
                self._last_flush = self._recording.clock.monotonic()
            if not unwritten and self._in_doubt is None:
                return
            try:  # a conflict is another write to the run: read it again and retry
                retry_on_conflict(lambda: self._write(unwritten), f"run '{self.run_id}'")
            except (ServiceUnavailable, ConcurrencyConflict) as exc:  # in doubt, or later
                self._kept(Unwritten() if isinstance(exc, Unanswered) else unwritten, exc)
                return
        if self._failures:
            log.warning("run %s: its reports reach the store again", self.run_id)
            with self._lock:
                self._failures, self._retry_at = 0, 0.0

    def unwritten(self) -> tuple[Unwritten, InDoubt | None]:
        """What could not be written yet (the store is away), and the reports of a write
        whose commit went unanswered: they go with the outcome."""
        with self._writing, self._lock:
            in_doubt, self._in_doubt = self._in_doubt, None
            return self._unwritten.take(), in_doubt

    def _kept(self, unwritten: Unwritten, error: SimdockError) -> None:
        """Keep reports the store could not take (it is away, or the run kept changing
        under them), to try again later."""
        with self._lock:
            self._unwritten.put_back(unwritten)
            if not self._failures:
                log.warning("run %s: its reports are kept to be written again later: %s",
                            self.run_id, error)
            self._retry_at = self._recording.clock.monotonic() + RETRY_SECONDS[
                min(self._failures, len(RETRY_SECONDS) - 1)]
            self._failures += 1

    def _stamp(self) -> datetime:
        """A time of this write's own: later than this context's previous writes'."""
        stamp = self._recording.clock.now()
        if self._last_stamp is not None and stamp <= self._last_stamp:
            stamp = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = stamp
        return stamp

    def _write(self, unwritten: Unwritten) -> None:
        """Write ``unwritten`` (and a write in doubt that did not get in). Raises
        ServiceUnavailable with ``unwritten`` not written, unless the commit itself went
        unanswered: then what it held is in doubt until the next write."""
        let_go: list[Artifact] = []
        with self._recording.uow() as uow:
            run = uow.runs.get(self.run_id)
            if run is not None and run.held_by(self.worker, self.attempt):
                writing = unwritten
                doubt = self._in_doubt
                if doubt is not None and not doubt.kept(run):
                    writing = doubt.reports.followed_by(unwritten)
                write_reports(uow, run, writing, self._recording.clock.now())
                stamp = self._stamp()
                run.touch(stamp)
                # Always written, version-guarded: a take-back or cancel committed after
                # the read above makes this a conflict, so no line of a stale attempt gets in.
                uow.runs.update(run)
                try:
                    uow.commit()
                except ServiceUnavailable as exc:
                    self._in_doubt = InDoubt(stamp, writing)
                    raise Unanswered(exc.message, exc.detail) from exc
                self._in_doubt = None
                return
            # No longer this attempt's to write. What it reported before it learnt that
            # (now) is kept if it was stopped; anything it reports after is not.
            learnt = not self._cancelled.is_set()
            self._cancelled.set()
            if not (learnt and self._keep_what_it_left(uow, run, unwritten)):
                let_go = unwritten.artifacts
        for artifact in let_go:
            self._recording.blobs.delete(artifact.blob_key)

    def _keep_what_it_left(self, uow: UnitOfWork, run: Run | None, unwritten: Unwritten
                           ) -> bool:
        """Record what this attempt reported before it learnt its run was stopped (lines,
        points, files), the run having been stopped while it held it: they show how far it
        got. False when the run was taken back or finished by another attempt: nothing of
        this one gets in."""
        if run is None or not run.left_by(self.worker, self.attempt):
            return False
        add_records(uow, run.id, unwritten)
        uow.runs.update(run)  # version-guarded, as every write
        uow.commit()
        return True

    def _maybe_flush(self) -> None:
        interval = self._recording.limits.progress_interval_seconds
        if self._recording.clock.monotonic() - self._last_flush >= interval:
            self.flush()

    def _raise_if_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise RunCancelled(f"run '{self.run_id}' was cancelled")


def write_reports(uow: UnitOfWork, run: Run, unwritten: Unwritten, now: datetime) -> None:
    """Add a running run's unwritten reports to ``uow``; the caller updates the run."""
    note_progress(run, unwritten, now)
    add_records(uow, run.id, unwritten)


def note_progress(run: Run, unwritten: Unwritten, now: datetime) -> None:
    """Move a running run's progress to what it reported last, if that is further."""
    if unwritten.progress is not None and unwritten.progress > run.progress:
        run.report_progress(unwritten.progress, now)


def add_records(uow: UnitOfWork, run_id: str, unwritten: Unwritten) -> None:
    """Add the log lines, metric points and artifact records of a run to ``uow``."""
    if unwritten.logs:
        uow.logs.append(run_id, unwritten.log_lines())
    if unwritten.metrics:
        uow.metrics.append(unwritten.metrics)
    for artifact in unwritten.artifacts:
        uow.artifacts.add(artifact)
    if unwritten.dropped_points:
        log.warning("run %s: %d metric points were let go while the store could not be "
                    "reached", run_id, unwritten.dropped_points)
