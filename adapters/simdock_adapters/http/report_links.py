"""Where a generated report is downloaded: the blob store's own pre-signed link when it has
one (S3), else a time-limited link of this server's (``/api/v1/downloads/{token}``)."""

from __future__ import annotations

from datetime import datetime

from simdock.domain import Report, ReportStatus
from simdock_adapters.http.context import context, link_base, platform


def report_link(report: Report) -> tuple[str | None, datetime | None]:
    """A fresh link to the report's document and when it stops working; (None, None)
    until the report has succeeded."""
    if report.status is not ReportStatus.SUCCEEDED or not report.blob_key:
        return None, None
    downloads = context().downloads
    now = platform().clock.now()
    url = platform().blobs.url(report.blob_key, downloads.lifetime_seconds)
    if url is not None:
        return url, downloads.expiry(now)
    token, expires_at = downloads.grant(report.id, report.owner_id, now)
    return f"{link_base()}/api/v1/downloads/{token}", expires_at
