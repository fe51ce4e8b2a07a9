"""Reports: requested over jobs, generated from their runs' results."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simdock import blob_keys, codec
from simdock.domain import Report, ReportStatus
from simdock.domain.parameters import validate_parameters
from simdock.domain.text import check_text
from simdock.errors import ConcurrencyConflict, Conflict, InvalidTransition, ValidationError
from simdock.paging import Page, PageRequest
from simdock.platform import Platform
from simdock.usecases.access import load_job, load_report

log = logging.getLogger(__name__)

MAX_REPORT_JOBS = 1000


@dataclass(frozen=True)
class RequestReport:
    owner_id: str
    report_type: str
    job_ids: Sequence[str]
    output_format: str = "json"
    parameters: Mapping[str, Any] = field(default_factory=dict)


def request_report(cmd: RequestReport, platform: Platform) -> Report:
    """Queue a report over jobs the owner can see; generated on the reports queue."""
    handler = platform.reports.get(cmd.report_type)
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
    report = Report(platform.ids.new("rpt"), cmd.owner_id, cmd.report_type, output_format,
                    job_ids, platform.clock.now(), parameters)
    with platform.uow() as uow:
        for job_id in job_ids:
            load_job(uow, job_id, cmd.owner_id)
        uow.reports.add(report)
        uow.dispatch_report(report.id)
        uow.commit()
    return report


def generate_report(report_id: str, platform: Platform) -> ReportStatus | None:
    """Generate a queued report; returns its final status, or None if not ours."""
    try:
        with platform.uow() as uow:
            report = uow.reports.get(report_id)
            if report is None or report.status is not ReportStatus.QUEUED:
                return None
            report.start(platform.clock.now())
            uow.reports.update(report)
            uow.commit()
    except (ConcurrencyConflict, InvalidTransition):
        return None
    try:
        handler = platform.reports.get(report.report_type)
        results = simulation_results(report, platform)
        content, content_type, filename = handler.generate(
            report.id, report.report_type, report.output_format, report.parameters, results)
        key = blob_keys.report_document(report.id, filename)
        platform.blobs.put(key, content, content_type)
        outcome: tuple[str, str, str, int] | str = (key, content_type, filename, len(content))
    except Exception as exc:  # a failing handler fails the report, not the worker
        log.info("report %s failed: %s", report.id, exc)
        outcome = f"{type(exc).__name__}: {exc}"
    with platform.uow() as uow:
        stored = uow.reports.get(report_id)
        assert stored is not None
        now = platform.clock.now()
        if isinstance(outcome, str):
            stored.fail(outcome, now)
        else:
            stored.succeed(*outcome, now)
        uow.reports.update(stored)
        uow.commit()
    return stored.status


def simulation_results(report: Report, platform: Platform) -> list[dict[str, Any]]:
    """One entry per run of the report's jobs: parameters, status, result, error."""
    with platform.uow() as uow:
        jobs = [(load_job(uow, job_id, report.owner_id), uow.runs.for_job(job_id))
                for job_id in report.job_ids]
    return [{
        "job_id": job.id,
        "job_name": job.name,
        "run_id": run.id,
        "index": run.index,
        "simulation_type": run.simulation_type,
        "status": run.status.value,
        "parameters": platform.queries.run_parameters(run),
        "result": codec.plain(platform.payloads.load(run.result)),
        "error": run.error,
        "duration_seconds": run.duration_seconds,
    } for job, runs in jobs for run in runs]


def get_report(report_id: str, owner_id: str | None, platform: Platform) -> Report:
    with platform.uow() as uow:
        return load_report(uow, report_id, owner_id)


def list_reports(owner_id: str | None, page: PageRequest, platform: Platform,
                 statuses: frozenset[ReportStatus] | None = None) -> Page[Report]:
    with platform.uow() as uow:
        return uow.reports.list(owner_id, statuses, page)


def report_content(report_id: str, owner_id: str | None, platform: Platform
                   ) -> tuple[Report, bytes]:
    """The generated document; a Conflict until the report has succeeded."""
    report = get_report(report_id, owner_id, platform)
    if report.status is not ReportStatus.SUCCEEDED or report.blob_key is None:
        raise Conflict(f"report '{report_id}' is {report.status.value}, not ready")
    return report, platform.blobs.get(report.blob_key)
