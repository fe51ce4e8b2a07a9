"""Every curl example of seeds 000 and 001, sent over HTTP to a real ``simdock serve``.

Seed 000 (simulations, reports, auth) and seed 001 (jobs, sweeps, logs,
results). The seed-001 examples have no Authorization header; simdock
isolates users, so one is added.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from simdock_adapters.http.downloads import DownloadLinks
from tests.containers import engine
from tests.e2e.helpers import (
    SECRET_KEY,
    TIMEOUT,
    User,
    assert_envelope,
    assert_page,
    register_and_login,
    sse_events,
    wait_for_report,
    wait_for_run,
    wait_for_simulation,
)

JSON = {"Content-Type": "application/json"}
HEAT_SWEEP = [
    {"length": 1.0, "time_steps": 200, "diffusivity": 0.01},
    {"length": 1.0, "time_steps": 400, "diffusivity": 0.005},
    {"length": 0.5, "time_steps": 200, "diffusivity": 0.02},
]
MONTE_CARLO = {
    "simulation_type": "monte_carlo",
    "parameters": {"iterations": 10000, "seed": 42, "config": {"option1": "value1"}},
    "job_metadata": {"project": "test"},
}
#: A monte_carlo run that takes minutes unless cancelled (a million batches of 1000).
LONG_RUN = {"simulation_type": "monte_carlo",
            "params": {"iterations": 1_000_000_000, "config": {"batch_size": 1000}}}


# -- seed 000 ----------------------------------------------------------------


def test_register_a_user(base_url: str) -> None:
    response = requests.post(f"{base_url}/api/v1/auth/register", headers=JSON, timeout=TIMEOUT,
                             data=json.dumps({"email": "user@example.com",
                                              "password": "securepassword123",
                                              "full_name": "Test User"}))
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "email", "full_name", "is_active", "is_admin", "created_at"}
    assert body["is_admin"] is False
    assert body["email"] == "user@example.com" and body["full_name"] == "Test User"
    assert body["is_active"] is True and body["id"]
    assert "securepassword123" not in response.text

    again = requests.post(f"{base_url}/api/v1/auth/register", timeout=TIMEOUT,
                          json={"email": "user@example.com", "password": "anotherpassword"})
    assert_envelope(again, 409)


@pytest.fixture(scope="module")
def seed_user(base_url: str) -> User:
    return register_and_login(base_url, "seed000")


def test_login_with_the_oauth2_form(base_url: str, seed_user: User) -> None:
    response = requests.post(
        f"{base_url}/api/v1/auth/login", timeout=TIMEOUT,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data=f"username={seed_user.email}&password={seed_user.password}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"]
    assert 0 < body["expires_in"] <= 3600 and body["expires_at"]
    me = requests.get(f"{base_url}/api/v1/auth/me", timeout=TIMEOUT,
                      headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == seed_user.email

    wrong = requests.post(f"{base_url}/api/v1/auth/login", timeout=TIMEOUT,
                          data={"username": seed_user.email, "password": "wrong-password"})
    assert_envelope(wrong, 401, "AuthenticationFailure")


def test_login_with_json(base_url: str, seed_user: User) -> None:
    for name in ("email", "username"):
        response = requests.post(f"{base_url}/api/v1/auth/login", timeout=TIMEOUT,
                                 json={name: seed_user.email, "password": seed_user.password})
        assert response.status_code == 200, response.text
        assert response.json()["token_type"] == "bearer"
    unknown = requests.post(f"{base_url}/api/v1/auth/login", timeout=TIMEOUT,
                            json={"email": "nobody@example.com", "password": "whatever123"})
    assert_envelope(unknown, 401, "AuthenticationFailure")


@pytest.fixture(scope="module")
def monte_carlo(seed_user: User) -> dict[str, Any]:
    """Seed 000's example simulation, as submitted (the 201 body)."""
    response = seed_user.post("/api/v1/simulations", headers=JSON, data=json.dumps(MONTE_CARLO))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_submit_a_simulation(monte_carlo: dict[str, Any]) -> None:
    assert monte_carlo["id"] and monte_carlo["simulation_type"] == "monte_carlo"
    assert monte_carlo["job_metadata"] == {"project": "test"}
    assert monte_carlo["parameters"] == MONTE_CARLO["parameters"]
    assert monte_carlo["kind"] == "single" and monte_carlo["run_count"] == 1
    assert len(monte_carlo["run_ids"]) == 1
    assert monte_carlo["status"] in {"queued", "running", "succeeded"}


def test_check_simulation_status(seed_user: User, monte_carlo: dict[str, Any]) -> None:
    response = seed_user.get(f"/api/v1/simulations/{monte_carlo['id']}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == monte_carlo["id"]
    assert body["status"] in {"queued", "running", "succeeded"}
    assert 0.0 <= body["progress"] <= 1.0
    assert body["job_metadata"] == {"project": "test"}
    listed = seed_user.get("/api/v1/simulations").json()
    assert monte_carlo["id"] in [item["id"] for item in listed["items"]]


def test_get_simulation_result(seed_user: User, monte_carlo: dict[str, Any]) -> None:
    finished = wait_for_simulation(seed_user, monte_carlo["id"])
    assert finished["status"] == "succeeded", finished
    assert finished["completed_at"] and finished["progress"] == 1.0
    response = seed_user.get(f"/api/v1/simulations/{monte_carlo['id']}/result")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["simulation_id"] == monte_carlo["id"] and body["status"] == "succeeded"
    result = body["result"]
    assert abs(result["estimate"] - 3.1416) < 0.1
    assert result["iterations"] == 10000 and result["seed"] == 42
    assert result["config"] == {"option1": "value1"}
    assert [run["run_id"] for run in body["runs"]] == monte_carlo["run_ids"]


def test_result_of_an_unfinished_simulation_is_a_conflict(seed_user: User) -> None:
    submitted = seed_user.post("/api/v1/simulations", json={
        "simulation_type": "monte_carlo", "parameters": LONG_RUN["params"]})
    assert submitted.status_code == 201, submitted.text
    simulation_id = submitted.json()["id"]
    try:
        assert_envelope(seed_user.get(f"/api/v1/simulations/{simulation_id}/result"), 409)
    finally:
        cancelled = seed_user.post(f"/api/v1/simulations/{simulation_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
    assert wait_for_simulation(seed_user, simulation_id)["status"] == "cancelled"


@pytest.fixture(scope="module")
def pdf_report(seed_user: User, monte_carlo: dict[str, Any]) -> dict[str, Any]:
    """A summary PDF over two simulation jobs (seed 000's example has two ids), generated."""
    second = seed_user.post("/api/v1/simulations", json={
        "simulation_type": "monte_carlo", "parameters": {"iterations": 2000, "seed": 7}})
    assert second.status_code == 201, second.text
    job_ids = [monte_carlo["id"], second.json()["id"]]
    for job_id in job_ids:
        wait_for_simulation(seed_user, job_id)
    response = seed_user.post("/api/v1/reports", headers=JSON, data=json.dumps({
        "simulation_job_ids": job_ids, "report_type": "summary", "output_format": "PDF",
        "parameters": {}}))
    assert response.status_code == 201, response.text
    requested: dict[str, Any] = response.json()
    assert requested["simulation_job_ids"] == job_ids
    assert requested["report_type"] == "summary"
    assert requested["output_format"].lower() == "pdf"
    assert requested["status"] in {"queued", "running", "succeeded"}
    return wait_for_report(seed_user, requested["id"])


def test_generate_a_report(pdf_report: dict[str, Any]) -> None:
    assert pdf_report["status"] == "succeeded", pdf_report
    assert pdf_report["error_message"] is None and pdf_report["completed_at"]


def test_get_a_report_with_its_download_url(seed_user: User, pdf_report: dict[str, Any]
                                            ) -> None:
    response = seed_user.get(f"/api/v1/reports/{pdf_report['id']}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == pdf_report["id"] and body["status"] == "succeeded"
    assert body["content_type"] == "application/pdf"
    assert body["filename"].endswith(".pdf") and body["size"] > 0
    assert body["download_url"].startswith(seed_user.base_url + "/api/v1/downloads/")
    assert body["download_url_expires_at"]
    listed = seed_user.get("/api/v1/reports").json()
    assert pdf_report["id"] in [item["id"] for item in listed["items"]]


def test_download_the_report_without_credentials(seed_user: User, pdf_report: dict[str, Any]
                                                 ) -> None:
    url = seed_user.get(f"/api/v1/reports/{pdf_report['id']}").json()["download_url"]
    response = requests.get(url, timeout=TIMEOUT)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/pdf")
    assert "attachment" in response.headers.get("Content-Disposition", "")
    assert response.content.startswith(b"%PDF-")
    assert len(response.content) == pdf_report["size"]

    prefix, token = url.rsplit("/", 1)
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    for bad in (tampered, token[:-2], token + "x", "not-a-token"):
        assert_envelope(requests.get(f"{prefix}/{bad}", timeout=TIMEOUT), 404,
                        "ResourceNotFound")


def test_an_expired_download_link_is_a_documented_error(seed_user: User,
                                                        pdf_report: dict[str, Any]) -> None:
    url = seed_user.get(f"/api/v1/reports/{pdf_report['id']}").json()["download_url"]
    prefix, token = url.rsplit("/", 1)
    links = DownloadLinks(SECRET_KEY, lifetime_seconds=900)
    grant = links.open(token, datetime.now(UTC))  # the same link, made two hours ago
    expired, _ = links.grant(grant.report_id, grant.owner_id,
                             datetime.now(UTC) - timedelta(hours=2))
    response = requests.get(f"{prefix}/{expired}", timeout=TIMEOUT)
    assert_envelope(response, 403, "UnauthorizedOperation")
    document = requests.get(f"{seed_user.base_url}/api/v1/openapi.json", timeout=TIMEOUT).json()
    documented = document["paths"]["/api/v1/downloads/{token}"]["get"]["responses"]
    assert str(response.status_code) in documented, (response.status_code, sorted(documented))


# -- seed 001 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def jobs_user(base_url: str) -> User:
    return register_and_login(base_url, "seed001")


@pytest.fixture(scope="module")
def container_job(jobs_user: User) -> dict[str, Any]:
    response = jobs_user.post("/api/v1/jobs", headers=JSON, data=json.dumps({
        "container_image": "sim:local",
        "params": {"length": 1.0, "time_steps": 200, "diffusivity": 0.01,
                   "initial_temp": 100.0},
        "metadata": {"project": "heat-transfer", "user": "researcher"}}))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def heat_sweep(jobs_user: User) -> dict[str, Any]:
    response = jobs_user.post("/api/v1/jobs", json={
        "simulation_type": "heat1d", "sweep": HEAT_SWEEP,
        "metadata": {"project": "parameter-study"}})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    for run_id in body["jobs"]:
        wait_for_run(jobs_user, run_id)
    return body


def test_submit_a_single_job(container_job: dict[str, Any]) -> None:
    assert len(container_job["jobs"]) == 1 and container_job["jobs"][0]
    assert container_job["sweep_mapping"] is None
    assert container_job["simulation_id"]


def test_a_container_job_runs_seed_001_s_image(jobs_user: User,
                                               container_job: dict[str, Any]) -> None:
    engine()
    run = wait_for_run(jobs_user, container_job["jobs"][0])
    assert run["status"] == "succeeded", run
    assert run["container_image"] == "sim:local"
    assert run["params"]["initial_temp"] == 100.0
    assert run["metadata"] == {"project": "heat-transfer", "user": "researcher"}
    response = jobs_user.get(f"/api/v1/jobs/{run['id']}/result")
    assert response.status_code == 200, response.text[:300]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        assert {"artifacts/result.csv", "artifacts/meta.json",
                "artifacts/simulation_results.png", "artifacts/temperature_field.npy"} <= names
        meta = json.loads(archive.read("artifacts/meta.json"))
        assert meta["parameters"]["time_steps"] == 200
        assert meta["parameters"]["initial_temp"] == 100.0
        assert "/output/result.csv" in archive.read("logs.txt").decode()


@pytest.fixture(scope="module")
def failed_job(jobs_user: User) -> dict[str, Any]:
    """A container run whose program refuses its parameters (an unstable time step)."""
    engine()
    response = jobs_user.post("/api/v1/jobs", json={
        "container_image": "sim:local", "params": {"time_steps": 1, "diffusivity": 5.0}})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    wait_for_run(jobs_user, body["jobs"][0])
    return body


def test_a_failed_container_run_says_why(jobs_user: User, failed_job: dict[str, Any]) -> None:
    run = jobs_user.get(f"/api/v1/jobs/{failed_job['jobs'][0]}").json()
    assert run["status"] == "failed"
    assert "exited with status 2" in run["error"] and "time_steps" in run["error"]


def test_submit_a_parameter_sweep(heat_sweep: dict[str, Any]) -> None:
    ids = heat_sweep["jobs"]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert set(heat_sweep["sweep_mapping"]) == set(ids)
    assert [heat_sweep["sweep_mapping"][run_id] for run_id in ids] == HEAT_SWEEP


def test_the_sweep_runs_succeed(jobs_user: User, heat_sweep: dict[str, Any]) -> None:
    for run_id, params in heat_sweep["sweep_mapping"].items():
        run = jobs_user.get(f"/api/v1/jobs/{run_id}").json()
        assert run["status"] == "succeeded", run
        assert run["params"] == params and run["simulation_type"] == "heat1d"
        assert run["simulation_id"] == heat_sweep["simulation_id"]


def test_the_container_image_form_of_the_sweep_runs(jobs_user: User) -> None:
    response = jobs_user.post("/api/v1/jobs", headers=JSON, data=json.dumps({
        "container_image": "sim:local", "sweep": HEAT_SWEEP,
        "metadata": {"project": "parameter-study"}}))
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["jobs"]) == 3
    assert [body["sweep_mapping"][run_id] for run_id in body["jobs"]] == HEAT_SWEEP
    engine()
    for run_id, params in body["sweep_mapping"].items():
        run = wait_for_run(jobs_user, run_id)
        assert run["status"] == "succeeded", run
        result = jobs_user.get(f"/api/v1/jobs/{run_id}/result")
        with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
            meta = json.loads(archive.read("artifacts/meta.json"))
        assert meta["parameters"]["time_steps"] == params["time_steps"]
        assert meta["parameters"]["diffusivity"] == params["diffusivity"]


def test_check_job_status(jobs_user: User, heat_sweep: dict[str, Any]) -> None:
    run_id = heat_sweep["jobs"][0]
    response = jobs_user.get(f"/api/v1/jobs/{run_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == run_id and body["status"] == "succeeded"
    assert body["progress"] == 1.0 and body["attempts"] >= 1
    assert body["metadata"] == {"project": "parameter-study"}
    assert body["started_at"] and body["finished_at"] and body["duration_seconds"] >= 0


def test_get_job_logs(jobs_user: User, heat_sweep: dict[str, Any]) -> None:
    run_id = heat_sweep["jobs"][0]
    response = jobs_user.get(f"/api/v1/jobs/{run_id}/logs")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["job_id"] == run_id and body["complete"] is True
    messages = [line["message"] for line in body["lines"]]
    assert any("heat1d" in m for m in messages) and "wrote result.csv" in messages
    assert [line["seq"] for line in body["lines"]] == sorted(line["seq"] for line in body["lines"])
    assert body["next_after"] == body["lines"][-1]["seq"]
    later = jobs_user.get(f"/api/v1/jobs/{run_id}/logs", params={"after": body["next_after"]})
    assert later.json()["lines"] == []


def test_stream_job_logs(jobs_user: User, heat_sweep: dict[str, Any]) -> None:
    run_id = heat_sweep["jobs"][1]
    with jobs_user.get(f"/api/v1/jobs/{run_id}/logs/stream", stream=True) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = list(sse_events(response))
    assert events[-1] == ("end", json.dumps({"status": "succeeded"}))
    logs = [json.loads(data)["message"] for name, data in events if name == "log"]
    assert "wrote result.csv" in logs


def test_download_job_results(jobs_user: User, heat_sweep: dict[str, Any]) -> None:
    run_id = heat_sweep["jobs"][0]
    response = jobs_user.get(f"/api/v1/jobs/{run_id}/result")
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"] == "application/zip"
    assert f"{run_id}.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert {"artifacts/result.csv", "artifacts/meta.json", "artifacts/simulation_results.png",
                "artifacts/temperature_field.npy", "result.json", "parameters.json",
                "logs.txt"} <= names
        assert "error.txt" not in names
        header = archive.read("artifacts/result.csv").decode().splitlines()[0]
        assert header.split(",")[:2] == ["time", "center_temp"]
        assert json.loads(archive.read("parameters.json")) == HEAT_SWEEP[0]
        assert archive.read("artifacts/simulation_results.png").startswith(b"\x89PNG")
        assert "wrote result.csv" in archive.read("logs.txt").decode()


def test_the_result_of_a_failed_run_is_an_error_not_a_zip(jobs_user: User,
                                                          failed_job: dict[str, Any]) -> None:
    run_id = failed_job["jobs"][0]
    body = assert_envelope(jobs_user.get(f"/api/v1/jobs/{run_id}/result"), 409, "Conflict")
    assert "failed and has no results" in body["error"]["message"]
    assert "exited with status 2" in body["error"]["message"]
    assert jobs_user.get(f"/api/v1/jobs/{run_id}/logs").status_code == 200


def test_list_jobs_with_pagination(jobs_user: User, heat_sweep: dict[str, Any],
                                   container_job: dict[str, Any]) -> None:
    response = jobs_user.get("/api/v1/jobs?page=1&size=10")
    assert response.status_code == 200, response.text
    body = response.json()
    assert_page(body, 1, 10)
    assert body["total"] >= 4
    ids = {item["id"] for item in body["items"]}
    assert set(heat_sweep["jobs"]) | set(container_job["jobs"]) <= ids
    second = jobs_user.get("/api/v1/jobs?page=2&size=2").json()
    assert_page(second, 2, 2)
    assert len(second["items"]) == 2
    first = jobs_user.get("/api/v1/jobs?page=1&size=2").json()
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}


def test_list_jobs_filtered_by_status(jobs_user: User, heat_sweep: dict[str, Any],
                                      failed_job: dict[str, Any]) -> None:
    response = jobs_user.get("/api/v1/jobs?status=success")
    assert response.status_code == 200, response.text
    body = response.json()
    assert {item["status"] for item in body["items"]} == {"succeeded"}
    ids = {item["id"] for item in body["items"]}
    assert set(heat_sweep["jobs"]) <= ids and not set(failed_job["jobs"]) & ids
    failed = jobs_user.get("/api/v1/jobs?status=failed").json()
    assert set(failed_job["jobs"]) <= {item["id"] for item in failed["items"]}
    assert_envelope(jobs_user.get("/api/v1/jobs?status=bogus"), 400)


def test_cancel_a_job(jobs_user: User) -> None:
    submitted = jobs_user.post("/api/v1/jobs", json=LONG_RUN)
    assert submitted.status_code == 201, submitted.text
    run_id = submitted.json()["jobs"][0]
    response = jobs_user.delete(f"/api/v1/jobs/{run_id}")
    assert response.status_code == 200, response.text
    assert response.json() == {"id": run_id, "status": "cancelled"}
    assert wait_for_run(jobs_user, run_id)["status"] == "cancelled"
    again = jobs_user.delete(f"/api/v1/jobs/{run_id}")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_cancelling_a_finished_job_keeps_its_outcome(jobs_user: User,
                                                     heat_sweep: dict[str, Any]) -> None:
    run_id = heat_sweep["jobs"][2]
    response = jobs_user.delete(f"/api/v1/jobs/{run_id}")
    assert response.status_code == 200, response.text
    assert response.json() == {"id": run_id, "status": "succeeded"}


def test_job_statistics(jobs_user: User, heat_sweep: dict[str, Any]) -> None:
    response = jobs_user.get("/api/v1/jobs/stats")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"total", "counts", "mean_duration_seconds"}
    assert body["counts"]["succeeded"] >= 3
    assert body["total"] == sum(body["counts"].values())
    assert body["mean_duration_seconds"] is not None and body["mean_duration_seconds"] >= 0


def test_health(base_url: str) -> None:
    response = requests.get(f"{base_url}/health", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "healthy" and body["version"] and body["timestamp"]
    assert body["services"]["database"] == "healthy"
    assert set(body["services"].values()) == {"healthy"}


def test_ready_and_live(base_url: str) -> None:
    ready = requests.get(f"{base_url}/ready", timeout=TIMEOUT)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    live = requests.get(f"{base_url}/live", timeout=TIMEOUT)
    assert live.status_code == 200 and live.json()["status"] == "alive"
