"""Reports on the dashboard: listed with their status, requested over jobs (a type and a
format), downloaded through the same time-limited link as the API's, and previewed: an
HTML report in a sandboxed frame, a PDF in the browser's viewer, text as text."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request
from pydantic import BaseModel, ConfigDict, Field

from simdock.domain import ReportStatus
from simdock.errors import ValidationError
from simdock.paging import PageRequest
from simdock.usecases import reports
from simdock_adapters.http.context import platform
from simdock_adapters.http.dashboard import filters, sessions
from simdock_adapters.http.report_links import report_link

PAGE_SIZE = 50
#: How much of a text report a page shows.
TEXT_PREVIEW_BYTES = 20_000
#: What a document may do when shown in the page: nothing but show itself.
DOCUMENT_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                   "frame-ancestors 'self'; sandbox")
#: A PDF is shown by the browser's own viewer, which a sandbox would stop.
PDF_POLICY = "default-src 'none'; frame-ancestors 'self'"


class ReportsPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(1, ge=1, le=1_000_000)
    jobs: str | None = Field(None, max_length=4000)


def register(bp: Blueprint) -> None:
    @bp.get("/reports")
    def reports_page() -> Any:
        user = sessions.viewer()
        chosen = filters.parsed(ReportsPage, request.args.to_dict())
        page = platform().reporting.list_reports(user.id, PageRequest(chosen.page, PAGE_SIZE))
        return render_template("dashboard/reports.html", user=user, page=page,
                               first=filters.first_shown(page),
                               links={r.id: report_link(r)[0] for r in page.items},
                               types=platform().reporting.report_types(),
                               jobs=chosen.jobs or "")

    @bp.post("/reports")
    def request_report() -> Response:
        user = sessions.viewer()
        job_ids = [j.strip() for j in request.form.get("jobs", "").replace(",", " ").split()]
        if not job_ids:
            raise ValidationError("name at least one job (its id) to report on")
        report = platform().reporting.request_report(reports.RequestReport(
            user.id, request.form.get("report_type", ""), job_ids,
            request.form.get("output_format", "")))
        return redirect(f"/ui/reports/{report.id}", 303)  # type: ignore[return-value]

    @bp.get("/reports/<report_id>")
    def report_page(report_id: str) -> Any:
        user = sessions.viewer()
        report = platform().reporting.get_report(report_id, user.id)
        text = None
        if report.status is ReportStatus.SUCCEEDED and _kind(report.content_type) == "text":
            content = platform().reporting.report_content(report.id, user.id)[1]
            text = content[:TEXT_PREVIEW_BYTES].decode("utf-8", errors="replace")
        return render_template("dashboard/report.html", user=user, report=report,
                               link=report_link(report)[0], text=text,
                               kind=_kind(report.content_type),
                               truncated=text is not None and report.size > TEXT_PREVIEW_BYTES)

    @bp.get("/reports/<report_id>/document")
    def report_document(report_id: str) -> Response:
        """The document itself, to be shown in the report's page (inline, sandboxed)."""
        user = sessions.viewer()
        report, content = platform().reporting.report_content(report_id, user.id)
        kind = _kind(report.content_type)
        mimetype = {"html": "text/html", "pdf": "application/pdf"}.get(kind, "text/plain")
        response = Response(content, mimetype=mimetype)
        response.headers["Content-Security-Policy"] = PDF_POLICY if kind == "pdf" \
            else DOCUMENT_POLICY
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response


def _kind(content_type: str | None) -> str:
    """How a report's document is previewed: "html", "pdf" or "text"."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "text/html":
        return "html"
    if kind == "application/pdf":
        return "pdf"
    return "text"
