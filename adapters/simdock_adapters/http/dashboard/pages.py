"""The dashboard's pages and actions: what each shows comes from the core's read use cases,
what each does goes through the same use cases as ``/api/v1``."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
)

from simdock.domain import RunStatus
from simdock.errors import AuthenticationFailure, ValidationError
from simdock_adapters.http import results_archive
from simdock_adapters.http.context import platform
from simdock_adapters.http.dashboard import (
    filters,
    presenting,
    report_pages,
    run_pages,
    security,
    sessions,
)
from simdock_adapters.http.dialects import DASHBOARD_ROOT, Dialect, dialect_of

#: How often a live table asks for its rows again, in seconds.
REFRESH_SECONDS = 3
#: What a bulk action does to each job, as its confirmation says it.
BULK_ACTIONS = {"cancel": "cancel the unfinished runs of",
                "retry": "queue again the failed and cancelled runs of"}


def install(app: Flask) -> None:
    """Mount the dashboard on ``app`` under ``/ui``, its headers on every answer there."""
    app.register_blueprint(blueprint())

    @app.after_request
    def protect(response: Response) -> Response:
        if dialect_of(request.path) is Dialect.DASHBOARD:
            return security.protect(response)
        return response


def blueprint() -> Blueprint:
    bp = Blueprint("dashboard", __name__, url_prefix=DASHBOARD_ROOT,
                   template_folder="templates", static_folder="static",
                   static_url_path="/static")
    bp.before_request(security.check_action)
    bp.context_processor(lambda: {"csrf_token": sessions.csrf_token(),
                                  "refresh_seconds": REFRESH_SECONDS,
                                  "status_of": RunStatus})
    for name, function in presenting.FILTERS.items():
        bp.add_app_template_filter(function, name)

    @bp.get("/")
    def home() -> Response:
        sessions.viewer()
        return _see_other("/ui/jobs")

    @bp.get("/sign-in")
    def sign_in_form() -> Any:
        return render_template("dashboard/sign_in.html", next=_next_page(), error=None)

    @bp.post("/sign-in")
    def sign_in() -> Any:
        email = request.form.get("email", "")
        try:
            grant = platform().auth.login(email, request.form.get("password", ""),
                                          client=request.remote_addr)
        except (AuthenticationFailure, ValidationError) as refused:
            html = render_template("dashboard/sign_in.html", next=_next_page(),
                                   error=refused.message, email=email)
            return Response(html, status=401, mimetype="text/html")
        return sessions.start(_see_other(_next_page()), grant)

    @bp.post("/sign-out")
    def sign_out() -> Response:
        return sessions.end(_see_other("/ui/sign-in"))

    @bp.get("/jobs")
    def jobs() -> Any:
        return render_template("dashboard/jobs.html", **_jobs_listing())

    @bp.get("/jobs/table")
    def jobs_table() -> Any:
        return render_template("dashboard/jobs_table.html", **_jobs_listing())

    @bp.post("/jobs/bulk")
    def bulk() -> Any:
        """Cancel or retry the jobs selected, or every job the filter matches: first a page
        that says how many, then (``confirmed``) the action."""
        user = sessions.viewer()
        action, _, scope = request.form.get("action", "").partition(":")
        if action not in BULK_ACTIONS or scope not in ("selected", "matching"):
            raise ValidationError("unknown action: choose cancel or retry, of the jobs "
                                  "selected or of every job the filter matches")
        chosen = filters.parsed(filters.JobFilters, request.form.to_dict())
        owner = sessions.owner_filter(user)
        if scope == "selected":
            job_ids = list(dict.fromkeys(request.form.getlist("job")))
            if not job_ids:
                raise ValidationError("select at least one job, or act on every job the "
                                      "filter matches")
        else:
            job_ids = platform().queries.matching_job_ids(chosen.query(owner))
        back = filters.address("/ui/jobs", chosen.given())
        if request.form.get("confirmed") != "1":
            return render_template("dashboard/bulk_confirm.html", user=user, action=action,
                                   scope=scope, job_ids=job_ids, given=chosen.given(),
                                   verb=BULK_ACTIONS[action], back=back)
        done = (platform().cancelling.cancel_jobs if action == "cancel"
                else platform().retrying.retry_jobs)(job_ids, owner)
        return render_template("dashboard/bulk_done.html", user=user, action=action,
                               jobs=len(job_ids), runs=len(done), back=back)

    @bp.get("/jobs/<job_id>")
    def job(job_id: str) -> Any:
        return render_template("dashboard/job.html", **_job_page(job_id))

    @bp.get("/jobs/<job_id>/plot.json")
    def job_plot(job_id: str) -> Response:
        """A sweep's result against one of its parameters, aggregated (``?x=&y=``)."""
        owner = sessions.owner_filter(sessions.viewer())
        chosen = filters.parsed(filters.PlotChoice, request.args.to_dict())
        return jsonify(presenting.plot_json(platform().plots.result_plot(
            job_id, owner, chosen.x, chosen.y)))

    @bp.get("/jobs/<job_id>/results.zip")
    def job_results(job_id: str) -> Response:
        """Every run's parameters and result (or error), as a CSV table and JSON lines,
        zipped as they are read."""
        owner = sessions.owner_filter(sessions.viewer())
        results = platform().results
        layout, rows = results.layout(job_id, owner), results.job_rows(job_id, owner)
        return Response(results_archive.archive(layout, rows), mimetype="application/zip",
                        headers={"Content-Disposition":
                                 f'attachment; filename="{job_id}-results.zip"'})

    @bp.get("/jobs/<job_id>/live")
    def job_live(job_id: str) -> Any:
        return render_template("dashboard/job_live.html", **_job_page(job_id))

    @bp.post("/jobs/<job_id>/cancel")
    def cancel_job(job_id: str) -> Response:
        user = sessions.viewer()
        platform().cancelling.cancel_job(job_id, sessions.owner_filter(user))
        return _see_other(f"/ui/jobs/{job_id}")

    @bp.post("/jobs/<job_id>/retry")
    def retry_job(job_id: str) -> Response:
        user = sessions.viewer()
        platform().retrying.retry_job(job_id, sessions.owner_filter(user))
        return _see_other(f"/ui/jobs/{job_id}")

    run_pages.register(bp)
    report_pages.register(bp)

    @bp.get("/runs/<run_id>/download")
    def download_run(run_id: str) -> Response:
        owner = sessions.owner_filter(sessions.viewer())
        return send_file(platform().archives.download(run_id, owner),
                         mimetype="application/zip", as_attachment=True,
                         download_name=f"{run_id}.zip")

    @bp.get("/workers")
    def workers() -> Any:
        user = sessions.viewer()
        return render_template("dashboard/workers.html", user=user,
                               overview=platform().operations.overview(user))

    @bp.get("/tokens")
    def tokens() -> Any:
        return render_template("dashboard/tokens.html", **_tokens_page(None))

    @bp.post("/tokens")
    def create_token() -> Any:
        user = sessions.viewer()
        days = request.form.get("expires_in_days", "").strip()
        if days and not days.isdigit():
            raise ValidationError("expires in days: a whole number of days, or empty")
        token, secret = platform().auth.create_api_token(
            user.id, request.form.get("name", ""), int(days) if days else None)
        html = render_template("dashboard/tokens.html",
                               **_tokens_page((token.name, secret)))
        return Response(html, status=201, mimetype="text/html")

    @bp.post("/tokens/<token_id>/revoke")
    def revoke_token(token_id: str) -> Response:
        platform().auth.revoke_api_token(token_id, sessions.viewer().id)
        return _see_other("/ui/tokens")

    return bp


def _jobs_listing() -> dict[str, Any]:
    user = sessions.viewer()
    chosen = filters.parsed(filters.JobFilters, request.args.to_dict())
    page = platform().queries.list_jobs(chosen.query(sessions.owner_filter(user)))
    given = chosen.given()
    return {"user": user, "page": page, "filters": chosen, "given": given,
            "statuses": filters.STATUSES, "orders": filters.JOB_ORDERS,
            "first": filters.first_shown(page),
            "table_url": filters.address("/ui/jobs/table", {**given, **_cursor()}),
            "next_url": filters.address("/ui/jobs", given, page) if page.next else None,
            "first_url": filters.address("/ui/jobs", given) if chosen.cursor else None}


#: The most points of a replicated job its page lists (the API's summary has them all).
SHOWN_POINTS = 200


def _job_page(job_id: str) -> dict[str, Any]:
    user = sessions.viewer()
    owner = sessions.owner_filter(user)
    chosen = filters.parsed(filters.RunFilters, request.args.to_dict())
    detail = platform().queries.get_job_detail(job_id, owner, with_run_ids=False)
    runs = platform().listing.list_run_views(chosen.query(owner, detail.view.job.id))
    given = chosen.given()
    here = f"/ui/jobs/{detail.view.job.id}"
    plot = filters.parsed(filters.PlotChoice, request.args.to_dict())
    plot_url = filters.address(f"{here}/plot.json", {k: v for k, v in (
        ("x", plot.x), ("y", plot.y)) if v})
    spec = platform().queries.job_spec(detail.view.job.id) \
        if detail.view.job.run_count > 1 else None
    replication = spec.replication if spec is not None else None
    points = platform().replicating.points(detail.view.job.id, owner)[:SHOWN_POINTS] \
        if replication is not None else []
    return {"user": user, "detail": detail, "view": detail.view, "job": detail.view.job,
            "spec": spec, "replication": replication,
            "points": points,
            "runs": runs, "filters": chosen, "statuses": filters.STATUSES,
            "retryable": sum(detail.view.counts.get(s, 0)
                             for s in (RunStatus.FAILED, RunStatus.CANCELLED)),
            "unfinished": detail.view.total - detail.view.finished,
            "first": filters.first_shown(runs),
            "live_url": filters.address(f"{here}/live", {**given, **_cursor()}),
            "plot_url": plot_url, "plot": plot,
            "next_url": filters.address(here, given, runs) if runs.next else None,
            "first_url": filters.address(here, given) if chosen.cursor else None}


def _tokens_page(created: tuple[str, str] | None) -> dict[str, Any]:
    user = sessions.viewer()
    return {"user": user, "tokens": platform().auth.list_api_tokens(user.id),
            "created": created}


def _cursor() -> dict[str, str]:
    cursor = request.args.get("cursor")
    return {"cursor": cursor} if cursor else {}


def _next_page() -> str:
    """Where to go after signing in: a dashboard page named by ``next``, else the jobs."""
    wanted = request.values.get("next", "")
    if wanted.startswith("/ui/") and not wanted.startswith("//") and "\\" not in wanted:
        return wanted
    return "/ui/jobs"


def _see_other(target: str) -> Response:
    return redirect(target, 303)  # type: ignore[return-value]

