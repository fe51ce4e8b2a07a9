"""Seed 000's reports: requested over simulation jobs, downloaded through time-limited links."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, send_file
from pydantic import BaseModel, ConfigDict, Field

from simdock.domain import Report, ReportStatus, User
from simdock.errors import NotFound
from simdock.usecases import reports
from simdock_adapters.http.api import Api, Raw
from simdock_adapters.http.context import context, current_user, platform
from simdock_adapters.http.report_links import report_link
from simdock_adapters.http.schemas import PageOf, PageQuery
from simdock_adapters.http.views import ReportOut, page_of, report_out


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    simulation_job_ids: list[str] = Field(min_length=1, max_length=reports.MAX_REPORT_JOBS)
    report_type: str = Field(min_length=1, max_length=200, examples=["summary"])
    output_format: str = Field("json", max_length=32, examples=["PDF", "json", "csv"])
    parameters: dict[str, Any] = Field(default_factory=dict)


class ReportListQuery(PageQuery):
    status: ReportStatus | None = Field(None, description="Only reports in this status")


def presented(report: Report, parameters: dict[str, Any] | None = None) -> ReportOut:
    """The report with a fresh time-limited download link once it is ready
    (``parameters``: as a list shows them, in a list)."""
    url, expires_at = report_link(report)
    return report_out(report, url, expires_at, parameters)


def register(api: Api) -> Blueprint:
    bp = Blueprint("reports", __name__, url_prefix="/api/v1")
    tags = ["reports"]

    @api.operation(bp, "/reports", "POST", tags=tags, authenticate=current_user,
                   body=ReportRequest, responses={201: ReportOut})
    def request_report(user: User, body: ReportRequest) -> ReportOut:
        """Request a report over your simulation jobs; it is generated in the background."""
        report = platform().reporting.request_report(reports.RequestReport(
            user.id, body.report_type, body.simulation_job_ids, body.output_format,
            body.parameters))
        return presented(platform().reporting.get_report(report.id, user.id))

    @api.operation(bp, "/reports", "GET", tags=tags, authenticate=current_user,
                   query=ReportListQuery, responses={200: PageOf[ReportOut]})
    def list_reports(user: User, query: ReportListQuery) -> dict[str, Any]:
        """Your reports, newest first.

        A report's parameters are shown as GET /api/v1/jobs shows a run's: whole up to
        PARAMETERS_SIZE_THRESHOLD bytes of JSON, past it the largest by a link.
        """
        statuses = frozenset({query.status}) if query.status else None
        page = platform().reporting.list_reports(user.id, query.page_request(), statuses)
        listed = platform().listing.listed_report_parameters(page.items)
        return page_of(page, [presented(r, p) for r, p in zip(page.items, listed,
                                                               strict=True)])

    @api.operation(bp, "/reports/<report_id>", "GET", tags=tags, authenticate=current_user,
                   responses={200: ReportOut})
    def get_report(user: User, report_id: str) -> ReportOut:
        """A report's status and, once generated, a time-limited download link."""
        return presented(platform().reporting.get_report(report_id, user.id))

    @api.operation(bp, "/downloads/<token>", "GET", auth=False, tags=tags, errors=frozenset({403}),
                   responses={200: Raw("application/octet-stream", "The document")})
    def download(token: str) -> Response:
        """Download a report through a time-limited link."""
        grant = context().downloads.open(token, platform().clock.now())
        report = platform().reporting.get_report(grant.report_id, grant.owner_id)
        if report.status is not ReportStatus.SUCCEEDED or not report.blob_key:
            raise NotFound("download", token[:16])
        filename = report.filename or "report"
        content_type = report.content_type or "application/octet-stream"
        path = platform().blobs.local_path(report.blob_key)
        if path is not None and path.is_file():
            return send_file(path, mimetype=content_type, as_attachment=True,
                             download_name=filename)
        return Response(platform().blobs.open(report.blob_key), mimetype=content_type,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    return bp
