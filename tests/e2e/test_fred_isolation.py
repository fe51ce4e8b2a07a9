"""What a FRED run of the Epistemix API can reach of the server that runs it, over HTTP.

Seen: the FRED program inherited SECRET_KEY and DATABASE_URL (in its
/proc/self/environ); ``fredArgs`` such as ``-p /etc/passwd`` opened any file the
server could read, ``-p /nonexistent/x`` told whether a path existed, run logs
showed the server's scratch paths, and ``--end-date 9999-12-31`` ran until the time
limit. Here a real ``simdock serve`` (child processes, the default isolation) runs a
FRED program that keeps its environment and then runs the stand-in, on each store.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.databases import create_postgres_database
from tests.e2e.helpers import SECRET_KEY, TIMEOUT, register_and_login
from tests.e2e.servers import running_server

#: Credentials in the server's environment besides SECRET_KEY and DATABASE_URL.
SERVER_SECRETS = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE",
                  "AWS_SECRET_ACCESS_KEY": "aws-secret-access-key-example",
                  "SIMDOCK_SERVER_ONLY": "anything else the server has"}
HEADERS = {"fredcli-version": "0.4.0", "user-agent": "epx_client_1.2.2"}


def keeping_program(directory: Path) -> Path:
    """A FRED program that writes the environment it started with to its outputs, then
    runs the stand-in with its arguments."""
    spec = importlib.util.find_spec("simdock_sim.fred_standin")
    assert spec is not None and spec.origin is not None
    program = directory / "FRED"
    program.write_text(f"""#!/bin/sh
out=""
prev=""
for arg in "$@"; do
    if [ "$prev" = "-d" ]; then out="$arg"; fi
    prev="$arg"
done
mkdir -p "$out"
tr '\\000' '\\n' < /proc/$$/environ > "$out/environ.txt"
echo "started in $(pwd)"
exec {sys.executable} {spec.origin} "$@"
""")
    program.chmod(0o755)
    return program


class Epx:
    """Calls the Epistemix routes with one user's API token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {**HEADERS, "Offline-Token": f"Bearer {token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.base_url + path, headers=self.headers,
                                timeout=TIMEOUT, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.call(method, path, **kwargs)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def runs(self, job_id: int, *fred_args: tuple[str, str]) -> requests.Response:
        return self.call("POST", "/runs", json={"runRequests": [{
            "jobId": job_id, "fredVersion": "latest", "size": "hot", "workingDir": "/w",
            "population": {"version": "US_2010.v5", "locations": ["Loving_County_TX"]},
            "fredFiles": [], "fredArgs": [{"flag": f, "value": v} for f, v in fred_args]}]})


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, Path, str]]:
    """This module's server on each store: its URL, its directory, its DATABASE_URL."""
    directory = tmp_path_factory.mktemp(f"fred-isolation-{request.param}")
    database = (f"sqlite:///{directory / 'simdock.db'}" if request.param == "sqlite"
                else create_postgres_database("simdock_fred_isolation"))
    with running_server(directory, SECRET_KEY=SECRET_KEY, DATABASE_URL=database,
                        FRED_BINARY=str(keeping_program(directory)), **SERVER_SECRETS) as url:
        yield url, directory, database


@pytest.fixture(scope="module")
def epx(server: tuple[str, Path, str]) -> Epx:
    user = register_and_login(server[0], "fred-isolation")
    return Epx(server[0], user.post("/api/v1/auth/tokens", json={"name": "epx"}).json()["token"])


@pytest.fixture(scope="module")
def job(epx: Epx) -> int:
    """A job with its inputs.zip uploaded."""
    job_id = int(epx.ok("POST", "/jobs/register", json={"tags": ["isolation"]})["id"])
    url = epx.ok("POST", "/jobs", json={"jobId": job_id, "context": "job",
                                        "type": "input"})["url"]
    inputs = io.BytesIO()
    with zipfile.ZipFile(inputs, "w") as archive:
        archive.writestr("main.fred", "transmissibility = 0.4\n")
    assert requests.put(url, data=inputs.getvalue(), timeout=TIMEOUT).status_code == 200
    return job_id


def described(answer: requests.Response, *words: str) -> str:
    assert answer.status_code == 400, (answer.status_code, answer.text)
    text = str(answer.json()["description"])
    assert all(word in text for word in words), text
    return text


def test_file_arguments_outside_the_inputs_are_refused_up_front_alike(epx: Epx, job: int
                                                                       ) -> None:
    answers = {described(epx.runs(job, ("-p", path)), "fredArgs[0] (-p)")
               for path in ("/etc/passwd", "/nonexistent/x", "/dev/zero", "../main.fred")}
    assert len(answers) == 1, answers  # nothing told about what is there
    described(epx.runs(job, ("-p", "main.fred"), ("-o", "synthetic_population=/etc")),
              "fredArgs[1] (-o)")
    described(epx.runs(job, ("-p", "main.fred"), ("-l", "../../etc")), "not a path")
    described(epx.runs(job, ("-p", "main.fred"), ("--start-date", "2020-01-01"),
                        ("--end-date", "9999-12-31")), "FRED_MAX_DAYS", "at most 3653 days")
    assert epx.ok("GET", "/runs", params={"job_id": job})["runs"] == []


def test_the_program_sees_no_secret_and_the_logs_no_server_path(
        epx: Epx, job: int, server: tuple[str, Path, str]) -> None:
    _, directory, database = server
    answer = epx.runs(job, ("-p", "main.fred"), ("-s", "4"), ("--start-date", "2020-01-01"),
                      ("--end-date", "2020-02-01"))
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 120
    while (run := epx.ok("GET", "/runs", params={"job_id": job})["runs"][0])["status"] \
            not in {"DONE", "ERROR"}:
        assert time.monotonic() < deadline, run
        time.sleep(0.2)
    (link,) = epx.ok("GET", "/jobs/results", params={"job_id": job})["urls"]
    with zipfile.ZipFile(io.BytesIO(requests.get(link["url"], timeout=TIMEOUT).content)) as zf:
        files = {name: zf.read(name).decode() for name in zf.namelist()}
    assert run["status"] == "DONE", files.get("work/outputs/logs.txt")
    environ = files["work/outputs/environ.txt"]
    names = {line.split("=", 1)[0] for line in environ.splitlines()}
    assert not names & {"SECRET_KEY", "DATABASE_URL", *SERVER_SECRETS}, sorted(names)
    for secret in (SECRET_KEY, database, *SERVER_SECRETS.values()):
        assert secret not in environ
    logs = files["work/outputs/logs.txt"]
    assert "-p main.fred -s 4 --start-date 2020-01-01 --end-date 2020-02-01 -d outputs" in logs
    assert "/tmp/" not in logs and str(directory) not in logs, logs
