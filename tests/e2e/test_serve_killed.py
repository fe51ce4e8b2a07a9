"""``kill -9`` of the whole embedded ``simdock serve`` mid-sweep, then starting it again.

Seen before: the runs being executed when the server died stayed ``running``
for good. Now their leases lapse and the restarted server takes them back:
every run ends succeeded, once, with one result, and the attempts say which
runs were executed twice. Seen later: a run executed twice showed the dead
attempt's metric points beside the new one's (154 points for 100 steps); each
run now has its series once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.databases import create_postgres_database
from tests.e2e.helpers import User, register_and_login
from tests.e2e.servers import SIMDOCK, free_port

RUNS = 24
TICKS = 20
LEASES = {"LEASE_SECONDS": "3", "HEARTBEAT_SECONDS": "0.5", "EXECUTOR_WORKERS": "2"}


def start(directory: Path, port: int, database: str,
          settings: Mapping[str, str] = LEASES) -> subprocess.Popen[bytes]:
    """``simdock serve`` (one gunicorn worker) on ``database``, answering on ``port``."""
    env = {**os.environ, "DATABASE_URL": database,
           "ARTIFACTS_PATH": str(directory / "artifacts"), "HOST": "127.0.0.1",
           "PORT": str(port), "WEB_WORKERS": "1", "WEB_THREADS": "8", "LOG_LEVEL": "WARNING",
           **settings}
    log = directory / f"server-{port}-{time.monotonic_ns()}.log"
    process = subprocess.Popen([str(SIMDOCK), "serve"], env=env, start_new_session=True,
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if requests.get(f"http://127.0.0.1:{port}/live", timeout=1).status_code == 200:
                return process
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    raise RuntimeError("simdock serve did not start")


def runs_of(user: User, simulation_id: str) -> list[dict[str, Any]]:
    response = user.get(f"/api/v1/jobs?simulation_id={simulation_id}&size=100")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'simdock.db'}"
    return create_postgres_database("simdock_serve_killed")


def test_a_killed_server_started_again_finishes_every_run_once(tmp_path: Path,
                                                              database: str) -> None:
    port = free_port()
    first = start(tmp_path, port, database)
    try:
        user = register_and_login(f"http://127.0.0.1:{port}", "killed")
        answer = user.post("/api/v1/jobs", json={
            "simulation_type": "ticks", "params": {"ticks": TICKS},
            "grid": {"interval": [0.05 + i / 100_000 for i in range(RUNS)]}})
        assert answer.status_code == 201, answer.text
        simulation_id = answer.json()["simulation_id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            statuses = [r["status"] for r in runs_of(user, simulation_id)]
            if statuses.count("succeeded") >= 2 and "running" in statuses:
                break
            time.sleep(0.05)
        running = {r["id"] for r in runs_of(user, simulation_id) if r["status"] == "running"}
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    assert running, "the server was to be killed with runs in flight"

    second = start(tmp_path, port, database)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            runs = runs_of(user, simulation_id)
            if all(r["status"] in ("succeeded", "failed", "cancelled") for r in runs):
                break
            time.sleep(0.2)
        runs = runs_of(user, simulation_id)
        results = [user.get(f"/api/v1/jobs/{run['id']}/result").status_code for run in runs]
        series = {run["id"]: [point["step"] for point in user.get(
            f"/api/v1/convergence/{run['id']}/data").json()["points"]] for run in runs}
    finally:
        second.terminate()
        second.wait(20)

    assert [r["status"] for r in runs] == ["succeeded"] * RUNS
    assert results == [200] * RUNS
    attempts = {r["id"]: r["attempts"] for r in runs}
    # Those seen running were executed again; any other was executed once (or was claimed
    # after the last look, just before the kill).
    assert {attempts[run_id] for run_id in running} == {2}
    assert set(attempts.values()) <= {1, 2}
    assert {run_id: steps for run_id, steps in series.items()
            if sorted(steps) != list(range(TICKS))} == {}
