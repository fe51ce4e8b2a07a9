"""Bad input to the Epistemix dialect: a clear 4xx in ``{"description"}``, nothing lost.

Each refusal names what was wrong, writes nothing outside the job's storage and
leaves every other job as it was.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.helpers import TIMEOUT, User

SERVER_ENV = {"MAX_INPUT_BYTES": "20000"}
HEADERS = {"content-type": "application/json", "fredcli-version": "0.4.0",
           "user-agent": "epx_client_1.2.2"}
RUN_REQUEST = {"workingDir": "/w", "size": "hot", "fredVersion": "latest",
               "population": {"version": "US_2010.v5", "locations": ["Loving_County_TX"]},
               "fredArgs": [{"flag": "-p", "value": "main.fred"}], "fredFiles": []}


class Epx:
    """Calls the Epistemix routes as the epx client does, with one user's token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {**HEADERS, "Offline-Token": f"Bearer {token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, self.base_url + path, headers=headers,
                                timeout=TIMEOUT, **kwargs)

    def job(self) -> int:
        answer = self.call("POST", "/jobs/register", json={"tags": ["bad-input"]})
        assert answer.status_code == 200, answer.text
        return int(answer.json()["id"])

    def upload_url(self, job_id: int) -> str:
        answer = self.call("POST", "/jobs", json={"jobId": job_id, "context": "job",
                                                  "type": "input"})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["url"])


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def described(response: requests.Response, status: int, *words: str) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    text = response.json()["description"]
    assert isinstance(text, str) and all(w in text for w in words), text
    return text


@pytest.fixture(scope="module")
def epx(base_url: str, user: User) -> Epx:
    return Epx(base_url, user.post("/api/v1/auth/tokens", json={"name": "epx"}).json()["token"])


@pytest.fixture(scope="module")
def other(base_url: str, other_user: User) -> Epx:
    return Epx(base_url, other_user.post("/api/v1/auth/tokens",
                                         json={"name": "epx"}).json()["token"])


@pytest.fixture(scope="module")
def ready_job(epx: Epx) -> int:
    """A job of the user with sound inputs and one run: what no refusal may disturb."""
    job_id = epx.job()
    assert requests.put(epx.upload_url(job_id), data=zipped({"main.fred": b"x = 1\n"}),
                        timeout=TIMEOUT).status_code == 200
    answer = epx.call("POST", "/runs", json={"runRequests": [{**RUN_REQUEST, "jobId": job_id}]})
    assert answer.status_code == 200, answer.text
    return job_id


def runs_of(epx: Epx, job_id: int) -> list[dict[str, Any]]:
    answer = epx.call("GET", "/runs", params={"job_id": job_id})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["runs"])


@pytest.mark.parametrize(("header", "status"), [
    (None, 401), ("sdk_nottoken", 401), ("Bearer", 401), ("Token sdk_x", 401),
    ("Bearer sdk_unknown0000000000000000000000000000000", 403),
    ("Bearer not-an-api-token", 401)])
def test_a_missing_malformed_or_unknown_token_is_refused(base_url: str, header: str | None,
                                                         status: int) -> None:
    headers = {**HEADERS, **({"Offline-Token": header} if header else {})}
    answer = requests.post(f"{base_url}/jobs/register", json={"tags": ["x"]}, headers=headers,
                           timeout=TIMEOUT)
    described(answer, status)


def test_a_revoked_token_is_refused(base_url: str, user: User) -> None:
    created = user.post("/api/v1/auth/tokens", json={"name": "to revoke"}).json()
    epx = Epx(base_url, created["token"])
    assert epx.call("GET", "/jobs/me").status_code == 200
    assert user.delete(f"/api/v1/auth/tokens/{created['id']}").status_code == 200
    described(epx.call("GET", "/jobs/me", headers={"fredcli-version": "0.4.0"}), 403)


def test_the_fredcli_version_header_is_required(epx: Epx) -> None:
    headers = {k: v for k, v in epx.headers.items() if k != "fredcli-version"}
    answer = requests.get(f"{epx.base_url}/jobs/me", headers=headers, timeout=TIMEOUT)
    described(answer, 400, "fredcli-version")


def test_unknown_and_other_users_jobs_and_runs_are_not_found(epx: Epx, other: Epx,
                                                             ready_job: int) -> None:
    run_id = runs_of(epx, ready_job)[0]["id"]
    for caller, job_id in ((epx, 99_999_999), (other, ready_job)):
        described(caller.call("POST", "/jobs", json={"jobId": job_id, "context": "job",
                                                     "type": "input"}), 404, "not found")
        described(caller.call("POST", "/runs", json={"runRequests": [
            {**RUN_REQUEST, "jobId": job_id}]}), 404)
        described(caller.call("GET", "/runs", params={"job_id": job_id}), 404)
        described(caller.call("GET", "/jobs/results", params={"job_id": job_id}), 404)
        described(caller.call("DELETE", f"/jobs/{job_id}"), 404)
    assert other.call("GET", "/runs", params={"id": run_id}).json() == {"runs": []}
    described(other.call("POST", "/runs/retry", data={"runRequestIds": [run_id]}), 404)
    stopped = other.call("PATCH", "/runs", params={"id": run_id})
    assert stopped.json()["deletedIds"] == []
    assert stopped.json()["failedIds"] == [{"runId": run_id, "reason": "NotFound"}]
    assert len(runs_of(epx, ready_job)) == 1


@pytest.mark.parametrize(("body", "words"), [
    (b"this is not a zip", ["not a zip archive"]),
    (zipped({"../../escape.fred": b"x"}), ["would leave its directory", "../../escape.fred"]),
    (zipped({"/abs/path.fred": b"x"}), ["would leave its directory"]),
])
def test_an_unsound_inputs_zip_is_refused_and_nothing_is_written(
        epx: Epx, ready_job: int, body: bytes, words: list[str], tmp_path: Path) -> None:
    job_id = epx.job()
    answer = requests.put(epx.upload_url(job_id), data=body, timeout=TIMEOUT)
    assert answer.status_code == 400, answer.text
    assert all(w in answer.text for w in words), answer.text
    refused = epx.call("POST", "/runs", json={"runRequests": [{**RUN_REQUEST, "jobId": job_id}]})
    described(refused, 400, "inputs.zip", "never uploaded")
    assert runs_of(epx, job_id) == []
    assert len(runs_of(epx, ready_job)) == 1


def test_an_oversized_upload_is_refused(epx: Epx) -> None:
    job_id = epx.job()
    answer = requests.put(epx.upload_url(job_id), timeout=TIMEOUT,
                          data=zipped({"main.fred": os.urandom(30_000)}))
    assert answer.status_code == 413, answer.text


def test_a_run_request_without_fred_args_or_with_a_bad_one_adds_nothing(epx: Epx,
                                                                        ready_job: int) -> None:
    no_args = {k: v for k, v in RUN_REQUEST.items() if k != "fredArgs"}
    described(epx.call("POST", "/runs", json={"runRequests": [
        {**RUN_REQUEST, "jobId": ready_job}, {**no_args, "jobId": ready_job}]}),
        400, "runRequests.1.fredArgs")
    described(epx.call("POST", "/runs", json={"runRequests": [
        {**RUN_REQUEST, "jobId": ready_job, "fredArgs": [{"flag": "-d", "value": "/etc"}]}]}),
        400, "-d")
    described(epx.call("POST", "/runs", json={"runRequests": []}), 400, "runRequests")
    described(epx.call("POST", "/runs", data=b"{not json"), 400, "JSON")
    described(epx.call("POST", "/jobs", json={"jobId": ready_job, "context": "run",
                                              "type": "input"}), 400, "no upload")
    described(epx.call("POST", "/jobs", json={"jobId": "123", "context": "job",
                                              "type": "input"}), 400, "jobId")
    described(epx.call("GET", "/runs", params={"job_id": "abc"}), 400, "job_id")
    described(epx.call("GET", "/jobs/me", params={"startDate": "yesterday"}), 400, "startDate")
    assert len(runs_of(epx, ready_job)) == 1


def test_an_expired_or_forged_file_link_is_refused(epx: Epx, base_url: str) -> None:
    job_id = epx.job()
    url = epx.upload_url(job_id)
    forged = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
    assert requests.put(forged, data=b"x", timeout=TIMEOUT).status_code == 404
    assert requests.get(url, timeout=TIMEOUT).status_code == 404  # an upload link only
