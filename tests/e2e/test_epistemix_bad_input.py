"""Bad input to the Epistemix dialect: a clear 4xx in ``{"description"}``, nothing lost.

Each refusal names what was wrong, writes nothing outside the job's storage and
leaves every other job as it was. Every case runs on SQLite and on PostgreSQL, whose
integer column ends at 2**31 - 1 where SQLite's goes on to 2**63 - 1: seen before,
ids past either end, a date past 9999-12-30 and deeply nested bodies answered 500.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.databases import create_postgres_database
from tests.e2e.helpers import SECRET_KEY, TIMEOUT, User
from tests.e2e.servers import running_server

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


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def base_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[str]:
    """This module's server, on each store."""
    directory = tmp_path_factory.mktemp(f"epistemix-bad-input-{request.param}")
    database = (f"sqlite:///{directory / 'simdock.db'}" if request.param == "sqlite"
                else create_postgres_database("simdock_epx_bad_input"))
    with running_server(directory, SECRET_KEY=SECRET_KEY, DATABASE_URL=database,
                        **SERVER_ENV) as url:
        yield url


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


MAX_ID = 2**31 - 1
#: Not ids: past PostgreSQL's integer, past SQLite's, past 64 bits, zero, negative.
NOT_IDS = [2**31, 2**63, 2**64, 10**30, 0, -1]


def with_id(epx: Epx, job_id: int, where: str, value: int | str) -> requests.Response:
    """Call the route and parameter ``where`` names with ``value`` as the id, every other
    input sound (``job_id`` a job of the caller's with one run)."""
    upload = {"jobId": job_id, "context": "job", "type": "input"}
    run_request = {**RUN_REQUEST, "jobId": job_id}
    calls: dict[str, tuple[str, str, dict[str, Any]]] = {
        "GET /runs ?id": ("GET", "/runs", {"params": {"id": value}}),
        "GET /runs ?job_id": ("GET", "/runs", {"params": {"job_id": value}}),
        "PATCH /runs ?id": ("PATCH", "/runs", {"params": {"id": value}}),
        "GET /jobs/results ?job_id": ("GET", "/jobs/results", {"params": {"job_id": value}}),
        "DELETE /jobs/{id}": ("DELETE", f"/jobs/{value}", {}),
        "POST /runs/retry form": ("POST", "/runs/retry",
                                  {"data": f"runRequestIds={value}"}),
        "POST /runs/retry json": ("POST", "/runs/retry",
                                  {"data": json.dumps({"runRequestIds": [value]})}),
        "POST /jobs jobId": ("POST", "/jobs", {"data": json.dumps({**upload, "jobId": value})}),
        "POST /jobs runId": ("POST", "/jobs", {"data": json.dumps(
            {**upload, "context": "run", "type": "config", "runId": value})}),
        "POST /runs jobId": ("POST", "/runs", {"data": json.dumps(
            {"runRequests": [run_request, {**run_request, "jobId": value}]})}),
    }
    method, path, kwargs = calls[where]
    return epx.call(method, path, **kwargs)


#: Every id-bearing parameter of every route, and the name its refusal gives it.
ID_PARAMETERS = {
    "GET /runs ?id": "id", "GET /runs ?job_id": "job_id", "PATCH /runs ?id": "id",
    "GET /jobs/results ?job_id": "job_id", "DELETE /jobs/{id}": "job id",
    "POST /runs/retry form": "runRequestIds", "POST /runs/retry json": "runRequestIds.0",
    "POST /jobs jobId": "jobId", "POST /jobs runId": "runId",
    "POST /runs jobId": "runRequests.1.jobId",
}


@pytest.mark.parametrize("where", list(ID_PARAMETERS))
@pytest.mark.parametrize("value", NOT_IDS)
def test_an_id_outside_1_to_2_31_is_a_400_naming_the_parameter_on_every_route(
        epx: Epx, ready_job: int, where: str, value: int) -> None:
    answer = with_id(epx, ready_job, where, value)
    described(answer, 400, ID_PARAMETERS[where])
    assert len(runs_of(epx, ready_job)) == 1


@pytest.mark.parametrize("where", ["GET /runs ?id", "GET /runs ?job_id", "PATCH /runs ?id",
                                   "DELETE /jobs/{id}", "POST /runs/retry form"])
@pytest.mark.parametrize("value", ["abc", "1.0", "1e3", "+5", " 5", "1_0", "\u0661", "0x10",
                                   "9" * 1000])
def test_an_id_that_is_not_decimal_digits_is_a_400(epx: Epx, ready_job: int, where: str,
                                                   value: str) -> None:
    described(with_id(epx, ready_job, where, value), 400, ID_PARAMETERS[where])


@pytest.mark.parametrize("where", ["POST /jobs jobId", "POST /runs jobId",
                                   "POST /runs/retry json"])
@pytest.mark.parametrize("value", ["5", 5.0, True, None, [5]])
def test_an_id_in_a_body_must_be_a_json_integer(epx: Epx, ready_job: int, where: str,
                                                value: Any) -> None:
    described(with_id(epx, ready_job, where, value), 400, ID_PARAMETERS[where])


def test_the_largest_id_names_nothing_and_is_answered_as_unknown(epx: Epx,
                                                                 ready_job: int) -> None:
    """2**31 - 1 is an id: on either store it is simply not found."""
    assert with_id(epx, ready_job, "GET /runs ?id", MAX_ID).json() == {"runs": []}
    stopped = with_id(epx, ready_job, "PATCH /runs ?id", MAX_ID).json()
    assert stopped["failedIds"] == [{"runId": MAX_ID, "reason": "NotFound"}]
    for where in ["GET /runs ?job_id", "GET /jobs/results ?job_id", "DELETE /jobs/{id}",
                  "POST /runs/retry form", "POST /runs/retry json", "POST /jobs jobId",
                  "POST /jobs runId", "POST /runs jobId"]:
        described(with_id(epx, ready_job, where, MAX_ID), 404, "not found")
    assert len(runs_of(epx, ready_job)) == 1


@pytest.mark.parametrize("name", ["startDate", "endDate"])
@pytest.mark.parametrize("value", ["9999-12-31", "0000-01-01", "2023-02-30", "20230101",
                                   "2023-W01-1", "2023-01-01T00:00", "\u0662023-01-01"])
def test_a_date_that_is_not_one_of_the_dates_a_window_can_hold_is_a_400(
        epx: Epx, name: str, value: str) -> None:
    described(epx.call("GET", "/jobs/me", params={name: value}), 400, name, "YYYY-MM-DD")


def test_the_widest_window_lists_every_job(epx: Epx, ready_job: int) -> None:
    answer = epx.call("GET", "/jobs/me", params={"startDate": "0001-01-01",
                                                 "endDate": "9999-12-30"})
    assert answer.status_code == 200, answer.text
    assert ready_job in {job["id"] for job in answer.json()["jobs"]}


def nested(levels: int) -> Any:
    """A value of ``levels`` objects inside each other."""
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/jobs/register", "[" * 1000 + "]" * 1000),
    ("POST", "/jobs/register", '{"tags": ' + "[" * 1000 + "]" * 1000 + "}"),
    ("POST", "/jobs/register", json.dumps({"tags": [], "x": nested(500)})),
    ("POST", "/jobs", '{"jobId": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("POST", "/runs/retry", '{"runRequestIds": ' + "[" * 1000 + "]" * 1000 + "}"),
])
def test_a_body_nested_too_deeply_is_a_400(epx: Epx, method: str, path: str,
                                           body: str) -> None:
    described(epx.call(method, path, data=body), 400, "nested more than 64 levels")


def test_a_run_request_with_a_field_nested_500_levels_deep_adds_nothing(
        epx: Epx, ready_job: int) -> None:
    body = {"runRequests": [{**RUN_REQUEST, "jobId": ready_job, "extra": nested(500)}]}
    described(epx.call("POST", "/runs", data=json.dumps(body)), 400, "nested")
    assert len(runs_of(epx, ready_job)) == 1


def test_run_requests_for_two_jobs_are_added_all_or_none(epx: Epx) -> None:
    first, second = epx.job(), epx.job()
    for job_id in (first, second):
        assert requests.put(epx.upload_url(job_id), data=zipped({"main.fred": b"x = 1\n"}),
                            timeout=TIMEOUT).status_code == 200
    refused = {**RUN_REQUEST, "jobId": second,
               "fredArgs": [{"flag": "-p", "value": "../outside.fred"}]}
    body = {"runRequests": [{**RUN_REQUEST, "jobId": first}, refused]}
    described(epx.call("POST", "/runs", json=body), 400, "-p")
    assert (runs_of(epx, first), runs_of(epx, second)) == ([], [])

    body = {"runRequests": [{**RUN_REQUEST, "jobId": first}, {**RUN_REQUEST, "jobId": second},
                            {**RUN_REQUEST, "jobId": first}]}
    answer = epx.call("POST", "/runs", json=body)
    assert answer.status_code == 200, answer.text
    assert [r["jobId"] for r in answer.json()["runResponses"]] == [first, second, first]
    assert (len(runs_of(epx, first)), len(runs_of(epx, second))) == (2, 1)


def test_a_run_request_nested_up_to_the_limit_is_kept_as_sent(epx: Epx) -> None:
    job_id = epx.job()
    assert requests.put(epx.upload_url(job_id), data=zipped({"main.fred": b"x = 1\n"}),
                        timeout=TIMEOUT).status_code == 200
    deepest = nested(64 - 3)  # the body, runRequests and the request hold it
    body = {"runRequests": [{**RUN_REQUEST, "jobId": job_id, "extra": deepest}]}
    answer = epx.call("POST", "/runs", data=json.dumps(body))
    assert answer.status_code == 200, answer.text
    (run,) = runs_of(epx, job_id)
    assert run["request"]["extra"] == deepest


def test_a_login_access_token_as_offline_token_is_a_403_asking_for_an_api_token(
        base_url: str, user: User) -> None:
    headers = {**HEADERS, "Offline-Token": f"Bearer {user.access_token}"}
    for method, path in [("GET", "/jobs/me"), ("POST", "/jobs/register")]:
        answer = requests.request(method, base_url + path, headers=headers, json={},
                                  timeout=TIMEOUT)
        described(answer, 403, "API token", "sdk_", "POST /api/v1/auth/tokens")


@pytest.mark.parametrize(("value", "words"), [
    ("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"),
    ("1e999", "1e999"), ("-1e400", "-1e400")])
def test_a_number_json_cannot_hold_is_refused_not_stored_as_something_else(
        epx: Epx, ready_job: int, value: str, words: str) -> None:
    """Seen before: NaN in a run request was stored as null, 1e999 as null too."""
    request = json.dumps({**RUN_REQUEST, "jobId": ready_job, "extra": {"x": "VALUE"}})
    body = '{"runRequests": [' + request.replace('"VALUE"', value) + "]}"
    described(epx.call("POST", "/runs", data=body), 400, "standard JSON", words)
    assert len(runs_of(epx, ready_job)) == 1


@pytest.mark.parametrize("count", [10_001, 20_000])
def test_a_form_with_too_many_ids_is_refused(epx: Epx, ready_job: int, count: int) -> None:
    """Seen before: past 10,001 fields the form parser's own limit answered 500."""
    body = "&".join(["runRequestIds=1"] * count)
    described(epx.call("POST", "/runs/retry", data=body), 400, "at most 10000")
