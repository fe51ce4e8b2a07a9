"""A run's page: its status and attempts, parameters, result, error with the log's last
lines, artifacts (previewed where they can be), its log (followed live, paged, searched)
and its convergence metrics (drawn by ``static/dashboard.js`` with uPlot)."""

from __future__ import annotations

import contextlib
import io
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, send_file
from pydantic import BaseModel, ConfigDict, Field

from simdock import codec
from simdock.domain import RunStatus
from simdock.errors import NotFound
from simdock.usecases.queries import MAX_LOG_SEARCH
from simdock_adapters.http.context import context, platform, shared_platform
from simdock_adapters.http.dashboard import filters, previews, series, sessions
from simdock_adapters.http.streams import hold, log_stream

#: How many log lines a page of the log shows, and how many of its end a run page opens on.
LOG_LINES = 1000
TAIL_LINES = 200


class LogView(BaseModel):
    """A run page's log as its address says: from its end (followed live), from a line on
    (``after``), or the lines holding a text (``q``)."""

    model_config = ConfigDict(extra="ignore")

    after: int | None = Field(None, ge=0, le=2**31 - 1)
    q: str | None = Field(None, min_length=1, max_length=MAX_LOG_SEARCH)


def register(bp: Blueprint) -> None:
    @bp.get("/runs/<run_id>")
    def run(run_id: str) -> Any:
        return render_template("dashboard/run.html", **_run_page(run_id))

    @bp.get("/runs/<run_id>/summary")
    def run_summary(run_id: str) -> Any:
        return render_template("dashboard/run_summary.html", **_summary(run_id))

    @bp.get("/runs/<run_id>/log/events")
    def run_log_events(run_id: str) -> Response:
        """The log's lines after ``after`` (or the ``Last-Event-ID`` of a stream taken up
        again) as server-sent events, live until the run has finished: what a followed
        log appends (``static/dashboard.js``); one of the user's live stream slots."""
        user = sessions.viewer()
        owner = sessions.owner_filter(user)
        chosen = filters.parsed(LogView, {**request.args.to_dict(), **(
            {"after": request.headers["Last-Event-ID"]}
            if "Last-Event-ID" in request.headers else {})})
        platform().queries.get_run(run_id, owner)  # a 404 page, not a stream, if not theirs
        return log_stream(run_id, owner, shared_platform(), hold(context().streams, user.id),
                          chosen.after or 0)

    @bp.get("/runs/<run_id>/metrics.json")
    def run_metrics(run_id: str) -> Response:
        owner = sessions.owner_filter(sessions.viewer())
        found = platform().metrics.metric_series(run_id, owner)
        return jsonify(series.aligned(found.points, found.complete))

    @bp.get("/runs/<run_id>/artifacts/<path:name>")
    def run_artifact(run_id: str, name: str) -> Response:
        """An artifact's bytes: a PNG inline when asked (``?inline=1``), else a download."""
        owner = sessions.owner_filter(sessions.viewer())
        artifact, content = platform().queries.artifact_content(run_id, name, owner)
        inline = request.args.get("inline") == "1" and previews.is_png(content)
        response = send_file(io.BytesIO(content),
                             mimetype="image/png" if inline else "application/octet-stream",
                             as_attachment=not inline,
                             download_name=artifact.name.rsplit("/", 1)[-1])
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


def _summary(run_id: str) -> dict[str, Any]:
    user = sessions.viewer()
    view = platform().listing.run_view(run_id, sessions.owner_filter(user), with_machine=True)
    return {"user": user, "view": view, "run": view.run, "job": view.job}


def _run_page(run_id: str) -> dict[str, Any]:
    found = _summary(run_id)
    run, owner = found["run"], sessions.owner_filter(found["user"])
    chosen = filters.parsed(LogView, request.args.to_dict())
    queries = platform().queries
    if chosen.q is not None:
        log = queries.log_page(run.id, owner, chosen.after or 0, LOG_LINES, chosen.q)
    elif chosen.after is not None:
        log = queries.log_page(run.id, owner, chosen.after, LOG_LINES)
    else:  # its end, followed
        log = queries.log_end(run.id, owner, TAIL_LINES)
    artifacts = queries.run_artifacts(run.id, owner)
    shown = []
    for artifact in artifacts:
        kind = previews.kind_of(artifact)
        preview = previews.Preview("")
        if kind:
            with contextlib.suppress(NotFound):  # its blob is gone: listed, not shown
                preview = previews.preview(artifact, queries.artifact_content(
                    run.id, artifact.name, owner)[1])
        shown.append((artifact, preview))
    result = codec.plain(queries.run_result(run.id, owner)) \
        if run.status is RunStatus.SUCCEEDED else None
    return {**found, "log": log, "log_view": chosen, "following": chosen.q is None
            and chosen.after is None and not log.complete, "artifacts": shown,
            "result": result, "has_result": run.status is RunStatus.SUCCEEDED,
            "tail": queries.log_end(run.id, owner).lines if run.error else [],
            "log_lines": LOG_LINES, "attempts": queries.run_attempts(run.id, owner)}
