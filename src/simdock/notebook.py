"""The notebook API: a few objects over the use cases for interactive work.

    import simdock
    dock = simdock.connect()
    job = dock.submit("heat1d", {"length": 1.0, "time_steps": 200})
    job.wait(progress=True)
    job.result()["final"]          # a numpy array
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simdock import codec
from simdock.domain import Artifact, Report, ReportStatus, Run, RunStatus
from simdock.domain.replication import Replication
from simdock.domain.resources import Resources
from simdock.errors import ExecutionError
from simdock.handlers import ReportHandler, SimulationHandler
from simdock.paging import Ordering, PageRequest
from simdock.platform import Platform
from simdock.selection import JobQuery
from simdock.usecases import queries, reports, submit

POLL_SECONDS = 0.05


class Dock:
    """A connection to a simdock platform, acting as one user."""

    def __init__(self, platform: Platform, user_email: str = "local@simdock") -> None:
        self.platform = platform
        self.user = platform.users.ensure_user(user_email)

    def __repr__(self) -> str:
        return f"<Dock {self.platform.description} as {self.user.email}>"

    def __enter__(self) -> Dock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.platform.close()

    def submit(self, simulation_type: str, parameters: Mapping[str, Any] | None = None, *,
               name: str | None = None, tags: Sequence[str] = (),
               metadata: Mapping[str, Any] | None = None, machine: str | None = None,
               timeout: float | None = None, resources: Mapping[str, Any] | None = None,
               replicate: Mapping[str, Any] | None = None, seed: int | None = None,
               reuse: bool = True) -> JobHandle:
        """Queue one run of ``simulation_type``; returns at once. ``resources``
        (``memory_mb``, ``cpus``, ``pids``) is what a container run may use; ``replicate``
        (``metric``, ``half_width`` or ``relative``, ``confidence``, ``min``, ``max``,
        ``batch``) runs it again with new seeds (from ``seed``) until the mean of
        ``metric`` is precise enough (a :class:`SweepHandle`: see its ``summary()``). A run
        that is the same computation as an earlier succeeded run of yours completes at once
        with its result (``reused_from``), unless ``reuse`` is False."""
        submission = self.platform.submitting.submit(submit.Submit(
            owner_id=self.user.id, simulation_type=simulation_type, parameters=parameters,
            name=name, tags=tags, metadata=metadata or {}, machine_id=machine,
            timeout_seconds=timeout, resources=Resources.from_record(resources),
            replicate=_replication(replicate), seed=seed, reuse=reuse))
        # A replicated run is a sweep of its replicates.
        return (SweepHandle if replicate else JobHandle)(self, submission.job.id)

    def sweep(self, simulation_type: str, variants: Sequence[Mapping[str, Any]] | None = None,
              *, grid: Mapping[str, Sequence[Any]] | None = None,
              zip: Mapping[str, Sequence[Any]] | None = None,
              base: Mapping[str, Any] | None = None, name: str | None = None,
              tags: Sequence[str] = (), metadata: Mapping[str, Any] | None = None,
              machine: str | None = None, timeout: float | None = None,
              resources: Mapping[str, Any] | None = None,
              replicate: Mapping[str, Any] | None = None, seed: int | None = None,
              reuse: bool = True) -> SweepHandle:
        """Queue one run per variant: a list, a ``grid`` (cartesian) or ``zip`` (paired);
        with ``replicate``, each variant is a point replicated as :meth:`submit` says;
        ``reuse`` as :meth:`submit` says."""
        submission = self.platform.submitting.submit(submit.Submit(
            owner_id=self.user.id, simulation_type=simulation_type, parameters=base,
            variants=variants, grid=grid, zipped=zip, sweep=True, name=name, tags=tags,
            metadata=metadata or {}, machine_id=machine, timeout_seconds=timeout,
            resources=Resources.from_record(resources), replicate=_replication(replicate),
            seed=seed, reuse=reuse))
        return SweepHandle(self, submission.job.id)

    def job(self, job_id: str) -> JobHandle:
        view = self.platform.queries.get_job(job_id, self.user.id)
        cls = SweepHandle if view.job.kind.value == "sweep" else JobHandle
        return cls(self, job_id)

    def jobs(self, status: str | None = None, simulation_type: str | None = None,
             tag: str | None = None, page: int = 1, size: int = 50) -> list[JobHandle]:
        """Your jobs, newest first."""
        from simdock.domain import parse_statuses

        query = JobQuery(self.user.id, parse_statuses([status]) if status else None,
                         simulation_type, tag, None, Ordering(), PageRequest(page, size))
        return [self.job(v.job.id) for v in self.platform.queries.list_jobs(query).items]

    def report(self, report_type: str, jobs: Sequence[JobHandle | str],
               output_format: str = "json", parameters: Mapping[str, Any] | None = None
               ) -> ReportHandle:
        """Request a report over jobs; ``.wait()`` then ``.content()`` or ``.path``."""
        job_ids = [j.id if isinstance(j, JobHandle) else j for j in jobs]
        report = self.platform.reporting.request_report(reports.RequestReport(
            self.user.id, report_type, job_ids, output_format, parameters or {}))
        return ReportHandle(self, report.id)

    def register_handler(self, name: str, handler: SimulationHandler) -> None:
        """Make a simulation type available on this platform only."""
        self.platform.simulations.register(name, handler)

    def register_report(self, name: str, handler: ReportHandler) -> None:
        self.platform.reports.register(name, handler)

    def statistics(self) -> dict[str, Any]:
        stats = self.platform.queries.statistics(self.user.id)
        return {"total": stats.total, "mean_duration_seconds": stats.mean_duration_seconds,
                **{s.value: stats.counts.get(s, 0) for s in RunStatus}}


class JobHandle:
    """A submitted job; properties read its current state."""

    def __init__(self, dock: Dock, job_id: str) -> None:
        self._dock = dock
        self.id = job_id

    def __repr__(self) -> str:
        view = self._view()
        return (f"<{type(self).__name__} {self.id} {view.job.simulation_type} "
                f"{view.status.value} {view.finished}/{view.total}>")

    @property
    def _platform(self) -> Platform:
        return self._dock.platform

    def _view(self) -> queries.JobView:
        return self._platform.queries.get_job(self.id, self._dock.user.id)

    @property
    def status(self) -> str:
        return self._view().status.value

    @property
    def done(self) -> bool:
        return self._view().done

    def runs(self) -> list[Run]:
        return self._platform.queries.job_runs(self.id, self._dock.user.id)

    @property
    def run(self) -> Run:
        """The job's first (for a single job: only) run."""
        return self.runs()[0]

    def wait(self, timeout: float | None = None, progress: bool = False) -> JobHandle:
        """Block until every run finished; a tqdm bar when ``progress`` is true.

        Raises TimeoutError if ``timeout`` seconds pass first.
        """
        clock = self._platform.clock
        deadline = None if timeout is None else clock.monotonic() + timeout
        bar = _progress_bar(self) if progress else None
        try:
            while True:
                view = self._view()
                if bar is not None:
                    bar.update_to(view.progress, view)
                if view.done:
                    return self
                if deadline is not None and clock.monotonic() > deadline:
                    raise TimeoutError(f"job {self.id} not finished after {timeout} s")
                clock.sleep(POLL_SECONDS)
        finally:
            if bar is not None:
                bar.close()

    def cancel(self) -> list[str]:
        return self._platform.cancelling.cancel_job(self.id, self._dock.user.id)

    def retry(self) -> list[str]:
        """Queue this job's failed and cancelled runs again; returns their ids."""
        return self._platform.retrying.retry_job(self.id, self._dock.user.id)

    def result(self) -> Any:
        """The result of the (single) run, numpy arrays restored.

        Raises ExecutionError with the run's error if it failed or was cancelled.
        """
        return self._result_of(self.run)

    def _result_of(self, run: Run) -> Any:
        if run.status is RunStatus.SUCCEEDED:
            return codec.decode(self._platform.payloads.load(run.result))
        if run.terminal:
            raise ExecutionError(f"run {run.id} {run.status.value}: {run.error}")
        raise ExecutionError(f"run {run.id} is {run.status.value}; wait() for it first")

    def parameters(self) -> dict[str, Any]:
        return self._platform.queries.run_parameters(self.run)

    def artifacts(self) -> list[ArtifactFile]:
        """Files the run produced."""
        return [ArtifactFile(a, self._platform)
                for a in self._platform.queries.run_artifacts(self.run.id, self._dock.user.id)]

    def metrics(self, name: str | None = None) -> dict[str, MetricArrays]:
        """Each metric of the run as arrays of steps and values."""
        series = self._platform.metrics.metric_series(self.run.id, self._dock.user.id, name)
        grouped: dict[str, list[tuple[int, float]]] = {}
        for point in series.points:
            grouped.setdefault(point.name, []).append((point.step, point.value))
        return {n: MetricArrays(np.array([s for s, _ in pts], dtype=np.int64),
                                np.array([v for _, v in pts], dtype=np.float64))
                for n, pts in grouped.items()}

    def logs(self) -> list[str]:
        return [line.message
                for line in self._platform.queries.run_logs(self.run.id, self._dock.user.id)]

    def download(self, path: str | Path | None = None, run: Run | str | None = None) -> Path:
        """Write the results download of the (single, or given) run, as ``GET
        /api/v1/jobs/{id}/result`` serves it (:mod:`simdock.usecases.archives`), to
        ``path`` (``<run id>.zip`` here by default); returns where it went.

        Raises Conflict unless the run succeeded (its logs say why it did not)."""
        run_id = run.id if isinstance(run, Run) else run or self.run.id
        target = Path(path) if path is not None else Path(f"{run_id}.zip")
        with self._platform.archives.download(run_id, self._dock.user.id) as bundle, \
                target.open("wb") as out:
            shutil.copyfileobj(bundle, out)
        return target


class SweepHandle(JobHandle):
    """A job of many runs."""

    def summary(self) -> ResultTable:
        """The job's parameter points, a row each; ``to_pandas()`` makes it a DataFrame.

        A replicated job: the point's parameters, then ``n``, ``mean``, ``std``, ``low`` and
        ``high`` (the interval), ``half_width``, ``met``, ``outcome``, ``reason`` and
        ``replicates``. Any other job: the runs that differ only by their seed taken
        together, their parameters, ``runs``, ``succeeded``, then for each numeric result
        field ``<field>.n``, ``.mean``, ``.std``, ``.low`` and ``.high`` (95%)."""
        found = self._platform.replicating.summary(self.id, self._dock.user.id)
        if found.spec is None or found.spec.replication is None:
            return ResultTable([
                {**point.parameters, "runs": point.runs, "succeeded": point.succeeded,
                 **{f"{name}.{key}": value for name, summary in point.fields().items()
                    for key, value in summary.to_record().items()}}
                for point in self._platform.results.points(self.id, self._dock.user.id)])
        rows = []
        for view in found.points:
            summary = view.summary
            rows.append({**view.parameters, "n": summary.n, "mean": summary.mean,
                         "std": summary.std, "low": summary.low, "high": summary.high,
                         "half_width": summary.half_width, "met": summary.met,
                         "outcome": summary.outcome.value, "reason": summary.reason,
                         "replicates": view.state.planned})
        return ResultTable(rows)

    def results(self) -> ResultTable:
        """One row per variant: its parameters, status and scalar results."""
        return ResultTable([row.flat(codec.decode) for row in self._platform.results.job_rows(
            self.id, self._dock.user.id)])

    def result(self) -> list[Any]:
        """Every run's result in variant order (failed runs raise)."""
        return [self._result_of(run) for run in self.runs()]


@dataclass(frozen=True)
class MetricArrays:
    steps: np.ndarray
    values: np.ndarray


class ArtifactFile:
    """A file a run produced: its name, size, and where to read it."""

    def __init__(self, artifact: Artifact, platform: Platform) -> None:
        self.artifact = artifact
        self._platform = platform
        self.name = artifact.name
        self.size = artifact.size
        self.content_type = artifact.content_type

    def __repr__(self) -> str:
        return f"<ArtifactFile {self.name} {self.size} bytes>"

    @property
    def path(self) -> Path | None:
        """The local file, when the blob store is a local directory."""
        return self._platform.blobs.local_path(self.artifact.blob_key)

    def read(self) -> bytes:
        return self._platform.blobs.get(self.artifact.blob_key)


class ResultTable:
    """Rows of a sweep's results with columns as numpy arrays."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.columns = list(dict.fromkeys(k for row in rows for k in row))

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"<ResultTable {len(self.rows)} rows x {len(self.columns)} columns>"

    def __getitem__(self, column: str) -> np.ndarray:
        values = [row.get(column) for row in self.rows]
        try:
            return np.asarray(values)
        except ValueError:  # ragged arrays
            return np.asarray(values, dtype=object)

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (pandas is not a dependency of simdock)."""
        pandas = importlib.import_module("pandas")
        return pandas.DataFrame(self.rows)


class ReportHandle:
    def __init__(self, dock: Dock, report_id: str) -> None:
        self._dock = dock
        self.id = report_id

    def __repr__(self) -> str:
        report = self._report()
        return f"<ReportHandle {self.id} {report.report_type} {report.status.value}>"

    def _report(self) -> Report:
        return self._dock.platform.reporting.get_report(self.id, self._dock.user.id)

    @property
    def status(self) -> str:
        return self._report().status.value

    def wait(self, timeout: float | None = None) -> ReportHandle:
        clock = self._dock.platform.clock
        deadline = None if timeout is None else clock.monotonic() + timeout
        while self._report().status in {ReportStatus.QUEUED, ReportStatus.RUNNING}:
            if deadline is not None and clock.monotonic() > deadline:
                raise TimeoutError(f"report {self.id} not finished after {timeout} s")
            clock.sleep(POLL_SECONDS)
        return self

    def content(self) -> bytes:
        """The document; waits for it, raises ExecutionError if generation failed."""
        report = self.wait()._report()
        if report.status is ReportStatus.FAILED:
            raise ExecutionError(f"report {self.id} failed: {report.error}")
        return self._dock.platform.reporting.report_content(self.id, self._dock.user.id)[1]

    @property
    def path(self) -> Path | None:
        report = self._report()
        return self._dock.platform.blobs.local_path(report.blob_key) if report.blob_key else None


def _progress_bar(job: JobHandle) -> Any:
    from simdock.progress import JobProgressBar

    return JobProgressBar(job.id)


def _replication(options: Mapping[str, Any] | None) -> Replication | None:
    return None if options is None else Replication.parse(options)
