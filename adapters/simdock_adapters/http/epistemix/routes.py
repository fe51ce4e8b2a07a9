"""The Epistemix API's routes: translations to simdock's use cases, nothing more.

An Epistemix job is an open simdock job of the ``fred`` simulation type; its ids are
the jobs' and runs' integer numbers. Every call but ``/`` and ``/health`` carries
``Offline-Token: Bearer <API token>`` and ``fredcli-version``, as seed 004 requires.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from simdock.domain import User
from simdock.errors import AuthenticationFailure, NotFound, ValidationError
from simdock.paging import MAX_PAGE_SIZE, Ordering, PageRequest
from simdock.selection import JobQuery
from simdock.usecases import inputs, open_jobs
from simdock.usecases.auth import TOKEN_PREFIX
from simdock_adapters.http.context import context, platform
from simdock_adapters.http.epistemix import errors
from simdock_adapters.http.epistemix.errors import MissingToken
from simdock_adapters.http.epistemix.reading import day, form_values, ident, idents, parsed
from simdock_adapters.http.epistemix.shapes import (
    CLIENT_VERSION,
    Registration,
    RetryRequest,
    RunRequests,
    UploadRequest,
    job_document,
    run_document,
)

#: The simulation type of every Epistemix job.
FRED = "fred"
UPLOADS = {("job", "input"): inputs.UploadKind.INPUT,
           ("job", "config"): inputs.UploadKind.JOB_CONFIG,
           ("run", "config"): inputs.UploadKind.RUN_CONFIG}
CLIENT_PREFIX = "epx_client_"
#: A JWT (header.payload.signature, base64url, the header a JSON object): what the
#: login answers, refused as an Offline-Token with a 403 that says what to send instead.
LOGIN_TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def epx_user() -> User:
    """The user of this call, from its ``Offline-Token``; also requires ``fredcli-version``."""
    header = request.headers.get("Offline-Token", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme != "Bearer" or not token.strip():
        raise MissingToken("send your simdock API token as Offline-Token: Bearer <token>")
    if not request.headers.get("fredcli-version"):
        raise ValidationError("the fredcli-version header is required")
    token = token.strip()
    if LOGIN_TOKEN.fullmatch(token):
        raise AuthenticationFailure(
            "Offline-Token holds a login access token (a JWT); use an API token "
            f"({TOKEN_PREFIX}...) instead: make one with POST /api/v1/auth/tokens")
    if not token.startswith(TOKEN_PREFIX):
        raise MissingToken(f"Offline-Token must be a simdock API token ({TOKEN_PREFIX}...)")
    user: User = platform().auth.authenticate(token)
    g.user = user
    return user


def blueprint() -> Blueprint:
    bp = Blueprint("epistemix", __name__)
    errors.install(bp)

    @bp.get("/")
    def root() -> Response:
        return jsonify({
            "name": "simdock", "description": "A simulation-agnostic backend; this root "
            "serves the Epistemix platform API (epx client) beside /api/v1",
            "version": "1.0.0", "status": "running",
            "endpoints": ["/jobs/register", "/jobs", "/jobs/results", "/jobs/me",
                          "/jobs/<id>", "/runs", "/runs/retry", "/health", "/api/v1"],
            "docs": "/api/v1/docs"})

    @bp.post("/jobs/register")
    def register() -> Response:
        user = epx_user()
        registration = parsed(Registration, default={})
        job = platform().open_jobs.register_job(open_jobs.RegisterJob(
            owner_id=user.id, simulation_type=FRED, tags=registration.tags))
        return jsonify({"id": job.number, "userId": user.number, "tags": list(job.tags)})

    @bp.post("/jobs")
    def upload_url() -> Response:
        user = epx_user()
        asked = parsed(UploadRequest)
        kind = UPLOADS.get((asked.context, asked.type))
        if kind is None:
            raise ValidationError(f"no upload of type {asked.type!r} in context "
                                  f"{asked.context!r}")
        if kind is inputs.UploadKind.RUN_CONFIG and asked.runId is None:
            raise ValidationError("runId is required for a run's configuration")
        target = platform().inputs.upload_target(asked.jobId, user.id, kind, run=asked.runId)
        url = context().blob_links.upload_url(platform(), target, platform().clock.now())
        return jsonify({"url": url})

    @bp.post("/runs")
    def submit_runs() -> Response:
        user = epx_user()
        asked = parsed(RunRequests)
        sent = [r.model_dump(mode="json") for r in asked.runRequests]
        agent = request.headers.get("user-agent", "")
        version = agent.removeprefix(CLIENT_PREFIX) if agent.startswith(CLIENT_PREFIX) \
            else None
        by_job: dict[int, list[int]] = defaultdict(list)
        for index, run_request in enumerate(asked.runRequests):
            by_job[run_request.jobId].append(index)
        added = platform().open_jobs.add_runs_to_jobs([open_jobs.AddRuns(
            job=job_number, owner_id=user.id, parameters=[sent[i] for i in indexes],
            metadata={CLIENT_VERSION: version}) for job_number, indexes in by_job.items()])
        answers: dict[int, dict[str, Any]] = {}
        for (job_number, indexes), runs in zip(by_job.items(), added, strict=True):
            for index, run in zip(indexes, runs, strict=True):
                answers[index] = {"runId": run.number, "jobId": job_number,
                                  "status": "Submitted", "errors": None,
                                  "runRequest": sent[index]}
        return jsonify({"runResponses": [answers[i] for i in range(len(sent))]})

    @bp.get("/runs")
    def list_runs() -> Response:
        user = epx_user()
        job_ids = idents(request.args.getlist("job_id"), "job_id")
        run_ids = idents(request.args.getlist("id"), "id")
        if len(job_ids) > 1 or (not job_ids and not run_ids):
            raise ValidationError("give one job_id, or run ids as id=...")
        listed = platform().archives.runs_with_results(
            job_ids[0] if job_ids else None, run_ids, user.id)
        now = platform().clock.now()
        links = context().blob_links

        def url(key: str | None) -> str | None:
            return links.download_url(platform(), key, now) if key is not None else None

        return jsonify({"runs": [run_document(r.run, r.job, user.number or 0, r.parameters,
                                              url(r.archive_key)) for r in listed]})

    @bp.patch("/runs")
    def stop_runs() -> Response:
        user = epx_user()
        run_ids = idents(request.args.getlist("id"), "id")
        if not run_ids:
            raise ValidationError("give the runs to stop as id=...")
        found = {run.number: run for run, _ in
                 platform().queries.runs_with_jobs(list(run_ids), user.id)}
        stopped, finished = platform().cancelling.cancel_runs(
            [r.id for r in found.values()], user.id)
        numbers_of = {run.id: number for number, run in found.items()}
        deleted = [{"runId": numbers_of[run_id], "reason": "Success"} for run_id in stopped]
        failed = [{"runId": n, "reason": "NotFound"} for n in run_ids if n not in found]
        failed += [{"runId": numbers_of[run_id], "reason": "NotFound"} for run_id in finished]
        text = (f"stopped {len(deleted)} run(s); {len(failed)} could not be stopped "
                "(unknown, or already finished)")
        return jsonify({"description": text, "deletedIds": deleted, "failedIds": failed})

    @bp.post("/runs/retry")
    def retry_runs() -> Response:
        user = epx_user()
        raw = request.get_data()
        if raw.lstrip().startswith(b"{"):
            run_ids = parsed(RetryRequest).runRequestIds
        else:  # the client sends a form, although its content-type header says JSON
            run_ids = idents(form_values(raw, "runRequestIds"), "runRequestIds")
        if not run_ids:
            raise ValidationError("runRequestIds is required")
        platform().retrying.retry_runs(run_ids, user.id)  # all of them, or none
        return jsonify({"status": "Submitted", "runRequestIds": list(dict.fromkeys(run_ids))})

    @bp.get("/jobs/results")
    def results() -> Response:
        user = epx_user()
        job_ids = idents(request.args.getlist("job_id"), "job_id")
        if len(job_ids) != 1:
            raise ValidationError("give one job_id")
        now = platform().clock.now()
        links = context().blob_links
        return jsonify({"urls": [
            {"run_id": run.number, "url": links.download_url(platform(), key, now)}
            for run, key in platform().archives.attempt_archives(job_ids[0], user.id)]})

    @bp.get("/jobs/me")
    def my_jobs() -> Response:
        user = epx_user()
        listed = _jobs(user, request.args.getlist("tags"),
                       day(request.args.get("startDate"), "startDate"),
                       day(request.args.get("endDate"), "endDate"),
                       PageRequest(page_size=MAX_PAGE_SIZE))
        return jsonify({"jobs": [job_document(job, user.number or 0) for job in listed]})

    @bp.get("/jobs")
    def latest_job() -> Response:
        user = epx_user()
        if request.args.get("latest", "").lower() != "true":
            raise ValidationError("only latest=true is supported here; list your jobs with "
                                  "GET /jobs/me")
        listed = _jobs(user, request.args.getlist("tags"), None, None,
                       PageRequest(page_size=1))
        if not listed:
            raise NotFound("job", "latest")
        return jsonify(job_document(listed[0], user.number or 0))

    @bp.delete("/jobs/<job_id>")
    def delete_job(job_id: str) -> Response:
        user = epx_user()
        number = ident(job_id, "the job id")
        platform().jobs.delete_job(number, user.id, cancelling=True)
        return jsonify({"description": f"job {number} deleted", "id": number})

    return bp


def _jobs(user: User, tags: list[str], start: date | None, end: date | None,
          page: PageRequest) -> list[Any]:
    """The user's FRED jobs with every tag, created from ``start`` to ``end`` (whole days),
    newest first."""
    query = JobQuery(owner_id=user.id, simulation_type=FRED, tags=tuple(tags),
                     created_from=_midnight(start),
                     created_before=_midnight(end + timedelta(days=1)) if end else None,
                     order=Ordering("created_at", descending=True), page=page)
    return [view.job for view in platform().queries.list_jobs(query).items]


def _midnight(moment: date | None) -> datetime | None:
    return datetime.combine(moment, time(), UTC) if moment is not None else None
