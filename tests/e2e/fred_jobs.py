"""A FRED job through the Epistemix routes, as plain HTTP calls (no epx client)."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

import requests

from tests.e2e.helpers import TIMEOUT, User


def run_fred_job(user: User, program: str, fred_args: list[dict[str, str]],
                 timeout: float = 120) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Register a job, upload its inputs.zip, add one run and wait for it; returns the
    run's document and the files of its results zip."""
    token = user.post("/api/v1/auth/tokens", json={"name": "epx"}).json()["token"]
    headers = {"Offline-Token": f"Bearer {token}", "fredcli-version": "0.4.0"}

    def call(method: str, path: str, **kwargs: Any) -> Any:
        answer = requests.request(method, user.url(path), headers=headers, timeout=TIMEOUT,
                                  **kwargs)
        assert answer.status_code == 200, answer.text
        return answer.json()

    job_id = call("POST", "/jobs/register", json={"tags": ["fred"]})["id"]
    url = call("POST", "/jobs", json={"jobId": job_id, "context": "job",
                                      "type": "input"})["url"]
    inputs = io.BytesIO()
    with zipfile.ZipFile(inputs, "w") as archive:
        archive.writestr("main.fred", program)
    assert requests.put(url, data=inputs.getvalue(), timeout=TIMEOUT).status_code == 200
    call("POST", "/runs", json={"runRequests": [{"jobId": job_id, "fredArgs": fred_args}]})
    deadline = time.monotonic() + timeout
    while True:
        (run,) = call("GET", "/runs", params={"job_id": job_id})["runs"]
        if run["status"] in {"DONE", "ERROR"}:
            break
        assert time.monotonic() < deadline, run
        time.sleep(0.2)
    (link,) = call("GET", "/jobs/results", params={"job_id": job_id})["urls"]
    with zipfile.ZipFile(io.BytesIO(requests.get(link["url"], timeout=TIMEOUT).content)) as zf:
        return run, {name: zf.read(name) for name in zf.namelist()}
