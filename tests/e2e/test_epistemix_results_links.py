"""``GET /runs`` links each run to its results, as the Epistemix platform's contract records.

Each run carries ``url``, a pre-signed link to its results archive: null while it has
none (queued, running), the same archive ``GET /jobs/results`` links to once it
finished, and, for a run stopped while it ran, the files it had left (its logs so far)
once its attempt handed them in.
"""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

import requests

from tests.e2e.helpers import TIMEOUT, User
from tests.e2e.test_epistemix_bad_input import HEADERS, RUN_REQUEST, zipped


class Client:
    def __init__(self, user: User) -> None:
        token = user.post("/api/v1/auth/tokens", json={"name": "epx"}).json()["token"]
        self.base_url = user.base_url
        self.headers = {**HEADERS, "Offline-Token": f"Bearer {token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = requests.request(method, self.base_url + path, headers=self.headers,
                                  timeout=TIMEOUT, **kwargs)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def job(self, program: bytes) -> int:
        job_id = int(self.call("POST", "/jobs/register", json={"tags": ["links"]})["id"])
        url = self.call("POST", "/jobs", json={"jobId": job_id, "context": "job",
                                               "type": "input"})["url"]
        assert requests.put(url, data=zipped({"main.fred": program}),
                            timeout=TIMEOUT).status_code == 200
        return job_id

    def run(self, job_id: int) -> dict[str, Any]:
        (run,) = self.call("GET", "/runs", params={"job_id": job_id})["runs"]
        return dict(run)

    def wait(self, job_id: int, done: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not done(run := self.run(job_id)):
            assert time.monotonic() < deadline, run
            time.sleep(0.2)
        return run


def wait_until_logged(user: User, text: str, timeout: float = 60) -> None:
    """Until the user's running FRED run has logged a line holding ``text`` (simdock's
    own log of the run, read over ``/api/v1``)."""
    deadline = time.monotonic() + timeout
    while True:
        running = user.get("/api/v1/jobs", params={"status": "running",
                                                   "simulation_type": "fred"}).json()["items"]
        for run in running:
            lines = user.get(f"/api/v1/jobs/{run['id']}/logs").json()["lines"]
            if any(text in line["message"] for line in lines):
                return
        assert time.monotonic() < deadline, f"no running run logged {text!r}"
        time.sleep(0.2)


def entries(url: str) -> dict[str, bytes]:
    answer = requests.get(url, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_finished_run_links_to_the_results_that_jobs_results_links_to(user: User) -> None:
    client = Client(user)
    job_id = client.job(b"transmissibility = 0.4\n")
    client.call("POST", "/runs", json={"runRequests": [{**RUN_REQUEST, "jobId": job_id}]})
    first = client.run(job_id)
    assert first["status"] != "DONE" and first["url"] is None
    run = client.wait(job_id, lambda r: r["status"] == "DONE")
    (listed,) = client.call("GET", "/jobs/results", params={"job_id": job_id})["urls"]
    assert listed["run_id"] == run["id"]
    linked = entries(run["url"])
    assert linked == entries(listed["url"])
    assert {"work/outputs/logs.txt", "work/outputs/DAILY/Popsize.txt"} <= set(linked)
    (by_id,) = client.call("GET", "/runs", params={"id": run["id"]})["runs"]
    assert by_id["url"] is not None


def test_a_run_stopped_while_it_runs_links_to_the_logs_it_kept(user: User) -> None:
    client = Client(user)
    job_id = client.job(b"seconds_per_day = 0.2\n")
    client.call("POST", "/runs", json={"runRequests": [{**RUN_REQUEST, "jobId": job_id}]})
    client.wait(job_id, lambda r: r["status"] == "RUNNING")
    wait_until_logged(user, "day 1 of 31")
    run = client.run(job_id)
    assert run["url"] is None
    stopped = client.call("PATCH", "/runs", params={"id": run["id"]})
    assert stopped["deletedIds"] == [{"runId": run["id"], "reason": "Success"}]
    run = client.wait(job_id, lambda r: r["url"] is not None, timeout=15)
    assert run["status"] == "ERROR" and run["userDeleted"] is True
    logs = entries(run["url"])["work/outputs/logs.txt"].decode()
    assert "INFO: FRED stand-in" in logs and "INFO: day 1 of 31" in logs, logs
    assert "summary" not in logs
    (listed,) = client.call("GET", "/jobs/results", params={"job_id": job_id})["urls"]
    assert entries(listed["url"]) == entries(run["url"])

