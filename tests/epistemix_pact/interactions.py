"""The Epistemix contract's interactions, as the epx client makes them (seed 004's ids).

Job 123 (tagged ``info_job``) is executed with one run, 978, which finishes; it is
read, listed, found as the latest, its run retried and the job deleted. Job 124
(``stop_job``) has run 979, stopped while it runs. Uploads go to the second mock
server, standing in for S3's pre-signed URLs at ``http://localhost:5001``.
"""

from __future__ import annotations

from typing import Any

from pact import Pact, match

#: The API token the contract's requests carry (provider states create it).
TOKEN = "sdk_pactcontract0000000000000000000000000000"
S3_PORT = 5001
S3 = f"http://localhost:{S3_PORT}"
HEADERS = {"fredcli-version": "0.4.0"}
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"
URL = r"^https?://\S+$"
RETRY = "a request to retry a failed run"
RETRY_BODY = b"runRequestIds=978"


def _request(pact: Pact, description: str, states: list[tuple[str, dict[str, Any]]],
             method: str, path: str) -> Any:
    interaction = pact.upon_receiving(description)
    for name, params in states:
        interaction = interaction.given(name, params)
    interaction = interaction.with_request(method, path)
    interaction = interaction.with_header(
        "Offline-Token", match.regex(f"Bearer {TOKEN}", regex=r"^Bearer sdk_\S+$"))
    for name, value in HEADERS.items():
        interaction = interaction.with_header(name, value)
    return interaction


def _json(interaction: Any, body: Any) -> Any:
    return interaction.with_body(body, content_type="application/json")


def _answer(interaction: Any, body: Any, status: int = 200) -> None:
    interaction.will_respond_with(status).with_body(body, content_type="application/json")


def run_request(job_id: int) -> dict[str, Any]:
    """A run request as the client sends it (seed 004's shape)."""
    return {
        "jobId": job_id,
        "workingDir": match.str("/workspaces/fred_simulations"),
        "size": "hot",
        "fredVersion": "latest",
        "population": {"version": "US_2010.v5", "locations": ["Loving_County_TX"]},
        "fredArgs": match.each_like({"flag": match.str("-p"), "value": match.str("main.fred")}),
        "fredFiles": match.each_like(match.str(
            "/workspaces/fred_simulations/simulations/agent_info_demo/agent_info.fred")),
    }


def run_document(job_id: int, run_id: int, status: str) -> dict[str, Any]:
    """A run as ``GET /runs`` lists it; ``url``, the pre-signed link to its results, is
    there once it finished (the platform's own contract records it), null before."""
    url = (match.regex(f"{S3}/results/{run_id}.zip", regex=URL) if status in ("DONE", "ERROR")
           else None)
    return {"id": run_id, "jobId": job_id, "userId": match.int(555),
            "createdTs": match.regex("2023-10-01T12:00:00Z", regex=TIMESTAMP),
            "request": run_request(job_id),
            "podPhase": match.regex("Running", regex=r"^(Pending|Running|Succeeded|Failed)$"),
            "containerStatus": None, "status": status, "userDeleted": match.like(False),
            "epxClientVersion": match.str("1.2.2"), "url": url}


def job_document(job_id: int, tags: list[str]) -> dict[str, Any]:
    return {"id": job_id, "userId": match.int(456), "tags": tags,
            "created": match.regex("2023-10-01T12:00:00Z", regex=TIMESTAMP)}


def define(api: Pact, s3: Pact) -> None:
    """Every interaction of the contract, on the API mock and the S3 stand-in."""
    for job_id, run_id, tags in ((123, 978, ["info_job"]), (124, 979, ["stop_job"])):
        _job_lifecycle(api, job_id, run_id, tags)
    job = [("a job", {"job_id": 123, "tags": ["info_job"]})]
    done = [("a run", {"job_id": 123, "run_id": 978, "status": "DONE"})]
    failed = [("a run", {"job_id": 123, "run_id": 978, "status": "ERROR"})]
    running = [("a run", {"job_id": 124, "run_id": 979, "status": "RUNNING"})]

    _answer(_request(api, "a request for the runs of a finished job", done, "GET", "/runs")
            .with_query_parameter("job_id", "123"),
            {"runs": [run_document(123, 978, "DONE")]})
    _answer(_request(api, "a request for a finished run", done, "GET", "/runs")
            .with_query_parameter("id", "978"),
            {"runs": [run_document(123, 978, "DONE")]})
    _answer(_request(api, "a request for the results of a job", done, "GET", "/jobs/results")
            .with_query_parameter("job_id", "123"),
            {"urls": [{"run_id": 978, "url": match.regex(f"{S3}/results/978.zip",
                                                         regex=URL)}]})
    _answer(_request(api, "a request for my jobs with a tag", job, "GET", "/jobs/me")
            .with_query_parameter("tags", "info_job"),
            {"jobs": match.each_like(job_document(123, ["info_job"]))})
    _answer(_request(api, "a request for my latest job with a tag", job, "GET", "/jobs")
            .with_query_parameter("tags", "info_job").with_query_parameter("latest", "true"),
            job_document(123, ["info_job"]))
    # The client sends a form (runRequestIds=978) under a JSON content-type header, which
    # Pact cannot express: the body is left out here, and the provider test sends it.
    _answer(_request(api, RETRY, failed, "POST", "/runs/retry")
            .with_header("Content-Type", "application/json"),
            {"status": match.str("Submitted"), "runRequestIds": [978]})
    _answer(_request(api, "a request to delete a job", job, "DELETE", "/jobs/123"),
            {"description": match.str("job 123 deleted")})
    _answer(_request(api, "a request for the runs of a running job", running, "GET", "/runs")
            .with_query_parameter("job_id", "124"),
            {"runs": [run_document(124, 979, "RUNNING")]})
    _answer(_request(api, "a request to stop a running run", running, "PATCH", "/runs")
            .with_query_parameter("id", "979"),
            {"description": match.str("stopped 1 run(s)"),
             "deletedIds": [{"runId": 979, "reason": "Success"}], "failedIds": []})
    _uploads(s3)


def _job_lifecycle(api: Pact, job_id: int, run_id: int, tags: list[str]) -> None:
    """Register, the three upload links and the run request of one job."""
    job = [("a job", {"job_id": job_id, "tags": tags})]
    run = [("a run", {"job_id": job_id, "run_id": run_id, "status": "QUEUED"})]
    _answer(_json(_request(api, f"a request to register a job tagged {tags[0]}", [], "POST",
                           "/jobs/register"), {"tags": tags}),
            {"id": match.int(job_id), "userId": match.int(456), "tags": tags})
    for context, kind, extra, states, path in (
            ("job", "input", {}, job, "/pre-signed-url"),
            ("run", "config", {"runId": run_id}, run, "/pre-signed-url/run-config"),
            ("job", "config", {}, job, "/pre-signed-url/job-config")):
        _answer(_json(_request(api, f"a request to upload the {context} {kind} of job "
                                    f"{job_id}", states, "POST", "/jobs"),
                      {"jobId": job_id, "context": context, "type": kind, **extra}),
                {"url": match.regex(f"{S3}{path}", regex=URL)})
    _answer(_json(_request(api, f"a request to run job {job_id}", job, "POST", "/runs"),
                  {"runRequests": [run_request(job_id)]}),
            {"runResponses": [{"runId": match.int(run_id), "jobId": job_id,
                               "status": "Submitted", "errors": None,
                               "runRequest": run_request(job_id)}]})


def _uploads(s3: Pact) -> None:
    """What the S3 stand-in receives and answers: uploads (any body), the results zip."""
    for path in ("/pre-signed-url", "/pre-signed-url/run-config",
                 "/pre-signed-url/job-config"):
        s3.upon_receiving(f"an upload to {path}").with_request("PUT", path).will_respond_with(200)


def results_zip_interaction(s3: Pact, archive: bytes) -> None:
    (s3.upon_receiving("a download of run 978's results")
     .with_request("GET", "/results/978.zip")
     .will_respond_with(200)
     .with_binary_body(archive, "application/zip"))
