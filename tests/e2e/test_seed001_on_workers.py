"""Seed 001's curl examples on a worker deployment: the API sends, a Dramatiq worker runs
the containers.

``simdock serve`` queues and sends only (REDIS_URL set, no engine needed by it);
a ``simdock worker`` on the same PostgreSQL database, Redis and blob directory
executes each run as a ``sim:local`` container. The single job and the sweep
succeed and their results are heat1d's output files.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.brokers import queue_prefix, require_redis
from tests.containers import engine
from tests.databases import migrated_postgres
from tests.e2e.helpers import SECRET_KEY, User, register_and_login, wait_for_run
from tests.e2e.servers import running_server

SIMDOCK = Path(sys.executable).parent / "simdock"
OUTPUTS = {"result.csv", "meta.json", "simulation_results.png", "temperature_field.npy"}


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[User]:
    engine()
    directory = tmp_path_factory.mktemp("seed001-workers")
    settings = {"DATABASE_URL": migrated_postgres("seed001_workers"),
                "REDIS_URL": require_redis(), "BROKER_QUEUE_PREFIX": queue_prefix(),
                "ARTIFACTS_PATH": str(directory / "artifacts"), "SECRET_KEY": SECRET_KEY}
    worker = subprocess.Popen([str(SIMDOCK), "worker", "--concurrency", "2"],
                              env={**os.environ, **settings, "CONTAINER_ENGINE": "docker",
                                   "LOG_LEVEL": "WARNING"},
                              start_new_session=True, stderr=subprocess.STDOUT,
                              stdout=(directory / "worker.log").open("w"))
    try:
        with running_server(directory, **settings, CONTAINER_ENGINE="none") as url:
            yield register_and_login(url, "seed001")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)


def outputs(user: User, run_id: str) -> dict[str, bytes]:
    response = user.get(f"/api/v1/jobs/{run_id}/result")
    assert response.status_code == 200, response.text[:300]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name.removeprefix("artifacts/"): archive.read(name)
                for name in archive.namelist() if name.startswith("artifacts/")}


def test_the_single_job_example_runs_in_a_container_on_a_worker(user: User) -> None:
    answer = user.post("/api/v1/jobs", json={
        "container_image": "sim:local",
        "params": {"length": 1.0, "time_steps": 200, "diffusivity": 0.01, "initial_temp": 100.0},
        "metadata": {"project": "heat-transfer", "user": "researcher"}})
    assert answer.status_code == 201, answer.text
    (run_id,) = answer.json()["jobs"]
    run = wait_for_run(user, run_id, timeout=120)
    assert run["status"] == "succeeded", run
    files = outputs(user, run_id)
    assert set(files) >= OUTPUTS
    assert json.loads(files["meta.json"])["parameters"]["initial_temp"] == 100.0


def test_the_sweep_example_runs_every_variant(user: User) -> None:
    sweep = [{"length": 1.0, "time_steps": 200, "diffusivity": 0.01},
             {"length": 1.0, "time_steps": 400, "diffusivity": 0.005},
             {"length": 0.5, "time_steps": 200, "diffusivity": 0.02}]
    answer = user.post("/api/v1/jobs", json={"container_image": "sim:local", "sweep": sweep,
                                             "metadata": {"project": "parameter-study"}})
    assert answer.status_code == 201, answer.text
    mapping = answer.json()["sweep_mapping"]
    for run_id, params in mapping.items():
        assert wait_for_run(user, run_id, timeout=120)["status"] == "succeeded"
        meta = json.loads(outputs(user, run_id)["meta.json"])
        assert {k: meta["parameters"][k] for k in params} == params
