"""Seed 000's reports: requested over simulation jobs, downloaded through signed links."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, send_file
from pydantic import BaseModel, ConfigDict, Field

from simdock.domain import Report, ReportStatus, User
from simdock.errors import ValidationError
from simdock.ports import PageRequest
from simdock.usecases import reports
from simdock_adapters.http.api import Api, Raw
from simdock_adapters.http.context import context, current_user, platform
from simdock_adapters.http.downloads import Download
from simdock_adapters.http.schemas import PageOf, PageQuery
from simdock_adapters.http.views import ReportOut, page_of, report_out


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    simulation_job_ids: list[str] = Field(min_length=1, max_length=reports.MAX_REPORT_JOBS)
    report_type: str = Field(min_length=1, max_length=200, examples=["summary"])
    output_format: str = Field("json", max_length=32, examples=["PDF", "json", "csv"])
    parameters: dict[str, Any] = Field(default_factory=dict)


class ReportListQuery(PageQuery):
    status: str | None = None


def presented(report: Report) -> ReportOut:
    """The report with a fresh time-limited download link once it is ready."""
    url, expires_at = None, None
    if report.status is ReportStatus.SUCCEEDED and report.blob_key:
        ctx = context()
        now = platform().clock.now()
        url = platform().blobs.url(report.blob_key, ctx.downloads.lifetime_seconds)
        if url is None:
            token, expires_at = ctx.downloads.sign(Download(
                report.blob_key, report.filename or "report",
                report.content_type or "application/octet-stream"), now)
            url = f"{request.host_url.rstrip('/')}/api/v1/downloads/{token}"
        else:
            expires_at = ctx.downloads.sign(Download("", "", ""), now)[1]
    return report_out(report, url, expires_at)


def register(api: Api) -> Blueprint:
    bp = Blueprint("reports", __name__, url_prefix="/api/v1")
    tags = ["reports"]

    @api.operation(bp, "/reports", "POST", tags=tags, authenticate=current_user,
                   body=ReportRequest, responses={201: ReportOut})
    def request_report(user: User, body: ReportRequest) -> ReportOut:
        """Request a report over your simulation jobs; it is generated in the background."""
        report = reports.request_report(reports.RequestReport(
            user.id, body.report_type, body.simulation_job_ids, body.output_format,
            body.parameters), platform())
        return presented(reports.get_report(report.id, user.id, platform()))

    @api.operation(bp, "/reports", "GET", tags=tags, authenticate=current_user,
                   query=ReportListQuery, responses={200: PageOf[ReportOut]})
    def list_reports(user: User, query: ReportListQuery) -> dict[str, Any]:
        """Your reports, newest first."""
        statuses = None
        if query.status:
            try:
                statuses = frozenset({ReportStatus(query.status.lower())})
            except ValueError:
                known = ", ".join(s.value for s in ReportStatus)
                raise ValidationError(f"unknown report status '{query.status}'; "
                                      f"expected one of: {known}") from None
        page = reports.list_reports(user.id, PageRequest(query.page, query.effective_size),
                                    platform(), statuses)
        return page_of(page, [presented(r) for r in page.items])

    @api.operation(bp, "/reports/<report_id>", "GET", tags=tags, authenticate=current_user,
                   responses={200: ReportOut})
    def get_report(user: User, report_id: str) -> ReportOut:
        """A report's status and, once generated, a time-limited download link."""
        return presented(reports.get_report(report_id, user.id, platform()))

    @api.operation(bp, "/downloads/<token>", "GET", auth=False, tags=tags, errors=frozenset({403}),
                   responses={200: Raw("application/octet-stream", "The document")})
    def download(token: str) -> Response:
        """Download a document through a signed, time-limited link."""
        target = context().downloads.open(token)
        path = platform().blobs.local_path(target.blob_key)
        if path is not None and path.is_file():
            return send_file(path, mimetype=target.content_type, as_attachment=True,
                             download_name=target.filename)
        return Response(platform().blobs.open(target.blob_key), mimetype=target.content_type,
                        headers={"Content-Disposition":
                                 f'attachment; filename="{target.filename}"'})

    return bp
