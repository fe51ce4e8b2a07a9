"""Reports: requested over jobs, generated from their runs' results."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simdock import blob_keys, codec
from simdock.daily_series import MAX_CURVE_BYTES, curve_name, parse_curve
from simdock.domain import Artifact, Report, ReportStatus, Run, RunStatus
from simdock.domain.parameters import validate_parameters
from simdock.domain.text import check_text
from simdock.errors import (
    ConcurrencyConflict,
    Conflict,
    InvalidTransition,
    SimdockError,
    ValidationError,
)
from simdock.handlers import ReportHandlerRegistry
from simdock.paging import Page, PageRequest
from simdock.payloads import PayloadStore
from simdock.ports import BlobStore, Clock, Executor, IdGenerator
from simdock.repositories import UnitOfWork
from simdock.scope import UnitsOfWork
from simdock.usecases.access import load_job, load_report
from simdock.usecases.queries import Queries
from simdock.usecases.seeds import Seeds

log = logging.getLogger(__name__)

MAX_REPORT_JOBS = 1000
#: A report holds the convergence curves of at most this many runs, of the first runs.
MAX_CURVES = 24
MAX_CURVE_RUNS = 200
#: A report reads the daily series (epidemic curves) of at most this many runs.
MAX_SERIES_RUNS = 2_000


@dataclass(frozen=True)
class RequestReport:
    owner_id: str
    report_type: str
    job_ids: Sequence[str]
    output_format: str = "json"
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reporting:
    """Reports over the results of finished jobs: requested, generated, read."""

    uow: UnitsOfWork
    blobs: BlobStore
    clock: Clock
    ids: IdGenerator
    payloads: PayloadStore
    queries: Queries
    reports: ReportHandlerRegistry
    executor: Executor

    def request_report(self, cmd: RequestReport) -> Report:
        """Queue a report over jobs the owner can see; generated on the reports queue."""
        handler = self.reports.get(cmd.report_type)
        output_format = check_text(str(cmd.output_format), "output_format").lower()
        if handler.formats and output_format not in handler.formats:
            raise ValidationError(
                f"report type '{cmd.report_type}' cannot produce '{cmd.output_format}'; "
                f"formats: {', '.join(sorted(handler.formats))}"
            )
        if isinstance(cmd.job_ids, str) or not cmd.job_ids:
            raise ValidationError("a report needs a non-empty list of job ids")
        if len(cmd.job_ids) > MAX_REPORT_JOBS:
            raise ValidationError(f"a report may cover at most {MAX_REPORT_JOBS} jobs")
        parameters = validate_parameters(cmd.parameters)
        job_ids = tuple(dict.fromkeys(cmd.job_ids))
        report = Report(self.ids.new("rpt"), cmd.owner_id, cmd.report_type, output_format,
                        job_ids, self.clock.now(), parameters)
        with self.uow() as uow:
            for job_id in job_ids:
                load_job(uow, job_id, cmd.owner_id)
            uow.reports.add(report)
            uow.dispatch_report(report.id)
            uow.commit()
        return report

    def generate_report(self, report_id: str) -> ReportStatus | None:
        """Generate a queued report; returns its final status, or None if not ours."""
        try:
            with self.uow() as uow:
                report = uow.reports.get(report_id)
                if report is None or report.status is not ReportStatus.QUEUED:
                    return None
                report.start(self.clock.now())
                uow.reports.update(report)
                uow.commit()
        except (ConcurrencyConflict, InvalidTransition):
            return None
        try:
            handler = self.reports.get(report.report_type)
            results = self.simulation_results(report)
            content, content_type, filename = handler.generate(
                report.id, report.report_type, report.output_format, report.parameters, results)
            key = blob_keys.report_document(report.id, filename)
            self.blobs.put(key, content, content_type)
            outcome: tuple[str, str, str, int] | str = (key, content_type, filename, len(content))
        except Exception as exc:  # a failing handler fails the report, not the worker
            log.info("report %s failed: %s", report.id, exc)
            outcome = f"{type(exc).__name__}: {exc}"
        with self.uow() as uow:
            stored = uow.reports.get(report_id)
            assert stored is not None
            now = self.clock.now()
            if isinstance(outcome, str):
                stored.fail(outcome, now)
            else:
                stored.succeed(*outcome, now)
            uow.reports.update(stored)
            uow.commit()
        return stored.status

    def simulation_results(self, report: Report) -> list[dict[str, Any]]:
        """One entry per run of the report's jobs: parameters, status, result, error; the
        parameter its seed is in (``seed_parameter``) and its parameters without the seed
        (``point_parameters``: runs that share them are one parameter point); the metric
        points (``metrics``, by name: [step, value]) of the first runs that reported some
        (up to ``MAX_CURVES``), and the daily series (``series``, by name: [day, value]) of
        runs that left them (:mod:`simdock.daily_series`: epidemic curves)."""
        with self.uow() as uow:
            jobs = [(load_job(uow, job_id, report.owner_id), uow.runs.for_job(job_id))
                    for job_id in report.job_ids]
            everything = [run for _, runs in jobs for run in runs]
            curves = self._curves(uow, everything)
            daily = self._daily_artifacts(uow, everything)
        seeds = Seeds(self.queries, self.executor)
        parameter = {job.id: seeds.parameter(job) for job, _ in jobs}
        entries = []
        for job, runs in jobs:
            for run, parameters in zip(runs, self.queries.runs_parameters(runs), strict=True):
                entries.append({
                    "job_id": job.id,
                    "job_name": job.name,
                    "run_id": run.id,
                    "index": run.index,
                    "simulation_type": run.simulation_type,
                    "status": run.status.value,
                    "parameters": parameters,
                    "result": codec.plain(self.payloads.load(run.result)),
                    "error": run.error,
                    "duration_seconds": run.duration_seconds,
                    "seed_parameter": parameter[job.id],
                    "point_parameters": seeds.unseeded(job, parameters, parameter[job.id]),
                    **({"metrics": curves[run.id]} if run.id in curves else {}),
                    **({"series": self._series(daily[run.id])} if run.id in daily else {}),
                })
        return entries

    @staticmethod
    def _daily_artifacts(uow: UnitOfWork, runs: Sequence[Run]) -> dict[str, list[Artifact]]:
        """By run id, the curve files of the (first ``MAX_SERIES_RUNS``) succeeded runs that
        left some."""
        succeeded = [r.id for r in runs if r.status is RunStatus.SUCCEEDED][:MAX_SERIES_RUNS]
        found = uow.artifacts.for_runs(succeeded)
        return {run_id: chosen for run_id, artifacts in found.items()
                if (chosen := [a for a in artifacts if curve_name(a.name) is not None
                               and a.size <= MAX_CURVE_BYTES])}

    def _series(self, artifacts: Sequence[Artifact]) -> dict[str, list[list[float]]]:
        series = {}
        for artifact in artifacts:
            name = curve_name(artifact.name)
            try:
                text = self.blobs.get(artifact.blob_key).decode("utf-8", errors="replace")
            except (SimdockError, OSError) as exc:  # a curve lost is left out, not fatal
                log.warning("report: cannot read %s: %s", artifact.blob_key, exc)
                continue
            if name is not None:
                series[name] = parse_curve(text)
        return series

    @staticmethod
    def _curves(uow: UnitOfWork, runs: Sequence[Run]) -> dict[str, dict[str, list[list[float]]]]:
        """By run id, the metric points of the first succeeded runs that have any (of the
        first ``MAX_CURVE_RUNS`` looked at)."""
        curves: dict[str, dict[str, list[list[float]]]] = {}
        for run in [r for r in runs if r.status is RunStatus.SUCCEEDED][:MAX_CURVE_RUNS]:
            points = uow.metrics.list(run.id)
            if points:
                by_name: dict[str, list[list[float]]] = {}
                for point in points:
                    by_name.setdefault(point.name, []).append([point.step, point.value])
                curves[run.id] = by_name
                if len(curves) == MAX_CURVES:
                    break
        return curves

    def report_types(self) -> dict[str, list[str]]:
        """Each report type that can be requested, with the formats it produces."""
        return {name: sorted(self.reports.get(name).formats) for name in self.reports.names()}

    def get_report(self, report_id: str, owner_id: str | None) -> Report:
        with self.uow() as uow:
            return load_report(uow, report_id, owner_id)

    def list_reports(self, owner_id: str | None, page: PageRequest,
                     statuses: frozenset[ReportStatus] | None = None) -> Page[Report]:
        with self.uow() as uow:
            return uow.reports.list(owner_id, statuses, page)

    def report_content(self, report_id: str, owner_id: str | None
                       ) -> tuple[Report, bytes]:
        """The generated document; a Conflict until the report has succeeded."""
        report = self.get_report(report_id, owner_id)
        if report.status is not ReportStatus.SUCCEEDED or report.blob_key is None:
            raise Conflict(f"report '{report_id}' is {report.status.value}, not ready")
        return report, self.blobs.get(report.blob_key)
