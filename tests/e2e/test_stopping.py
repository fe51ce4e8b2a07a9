"""SIGTERM to ``simdock serve`` or ``simdock worker`` in the middle of a sweep: it drains.

Seen before: gunicorn workers exited without closing their platform, so the runs
they were executing stayed ``running`` until their leases lapsed and were taken
back (25-29 s later on SQLite), counted as a lost attempt. Now a stopping
process lets the runs in hand go on for ``SHUTDOWN_GRACE_SECONDS``, then stops
them and hands them back at once: queued again, their attempt not counted, their
metric points dropped. Nothing stays running, and the next process executes
every run once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import simdock
from simdock.domain import Run, RunStatus
from simdock.usecases.execute import HANDED_BACK
from tests.brokers import queue_prefix, require_redis
from tests.databases import create_postgres_database
from tests.e2e.helpers import register_and_login
from tests.e2e.servers import SIMDOCK, free_port
from tests.e2e.test_serve_killed import start

GRACE = 2.0
SHORT, LONG = 3, 6  # runs that end within the grace, and runs that never could
SETTINGS = {"SHUTDOWN_GRACE_SECONDS": str(GRACE), "EXECUTOR_WORKERS": "3",
            "LEASE_SECONDS": "30", "HEARTBEAT_SECONDS": "1"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'simdock.db'}"
    return create_postgres_database("simdock_stopping")


def stored_runs(database: str, tmp_path: Path, job_id: str) -> list[Run]:
    with simdock.connect(database, dispatch="database",
                         artifacts_path=str(tmp_path / "artifacts")) as dock, \
            dock.platform.uow() as uow:
        return uow.runs.for_job(job_id)


def wait_until_running(database: str, tmp_path: Path, job_id: str, count: int) -> None:
    """Until ``count`` of the long runs are executing."""
    deadline = time.monotonic() + 60
    while sum(run.status is RunStatus.RUNNING and run.index >= SHORT
              for run in stored_runs(database, tmp_path, job_id)) < count:
        assert time.monotonic() < deadline, "the runs never started"
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> float:
    """SIGTERM, then how long the process took to end."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(60)
    return time.monotonic() - started


def check_drained(runs: list[Run], database: str, tmp_path: Path) -> None:
    long_runs = [run for run in runs if run.index >= SHORT]
    assert [run.status for run in runs if run.index < SHORT] == [RunStatus.SUCCEEDED] * SHORT
    assert [(run.status, run.attempts, run.worker) for run in long_runs] == [
        (RunStatus.QUEUED, 0, None)] * LONG
    with simdock.connect(database, dispatch="database",
                         artifacts_path=str(tmp_path / "artifacts")) as dock, \
            dock.platform.uow() as uow:
        stopped = 0
        for run in long_runs:
            assert uow.metrics.list(run.id) == []
            messages = [line.message for line in uow.logs.list(run.id)]
            if messages:  # it had started: its log says it was stopped and queued again
                assert messages[-1] == HANDED_BACK and messages[0].startswith("tick 1 of")
                stopped += 1
        assert stopped >= 3


def sweep_body() -> dict[str, object]:
    """Three runs that end within the grace, then six that never could."""
    return {"simulation_type": "ticks", "sweep": [
        *({"ticks": 2, "interval": 0.1 + i / 1000} for i in range(SHORT)),
        *({"ticks": 50, "interval": 0.1 + i / 1000} for i in range(LONG))]}


def test_sigterm_to_serve_drains_its_runs_and_the_next_server_executes_them_once(
        tmp_path: Path, database: str) -> None:
    port = free_port()
    server = start(tmp_path, port, database, SETTINGS)
    try:
        user = register_and_login(f"http://127.0.0.1:{port}", "stopping")
        answer = user.post("/api/v1/jobs", json=sweep_body())
        assert answer.status_code == 201, answer.text
        job_id = answer.json()["simulation_id"]
        wait_until_running(database, tmp_path, job_id, 3)
        time.sleep(0.5)
        took = stop(server)
    finally:
        if server.poll() is None:
            server.kill()

    assert took < GRACE + 10, f"stopping took {took:.1f} s"
    check_drained(stored_runs(database, tmp_path, job_id), database, tmp_path)

    again = start(tmp_path, port, database, SETTINGS)
    try:
        deadline = time.monotonic() + 90
        while not all(run.terminal for run in stored_runs(database, tmp_path, job_id)):
            assert time.monotonic() < deadline, "the runs handed back never ended"
            time.sleep(0.5)
    finally:
        stop(again)
    runs = stored_runs(database, tmp_path, job_id)
    assert [(run.status, run.attempts) for run in runs] == [(RunStatus.SUCCEEDED, 1)] * (
        SHORT + LONG)


@pytest.mark.parametrize("broker", ["none", "redis"])
def test_sigterm_to_a_worker_drains_its_runs(tmp_path: Path, database: str, broker: str
                                             ) -> None:
    """A worker taking runs from the database, or through Dramatiq on Redis."""
    settings = {} if broker == "none" else {
        "REDIS_URL": require_redis(), "BROKER_QUEUE_PREFIX": queue_prefix()}
    environment = {**os.environ, **SETTINGS, **settings, "DATABASE_URL": database,
                   "ARTIFACTS_PATH": str(tmp_path / "artifacts"), "LOG_LEVEL": "WARNING"}
    with simdock.connect(database, artifacts_path=str(tmp_path / "artifacts"),
                         **({"dispatch": "database"} if broker == "none" else
                            {key.lower(): value for key, value in settings.items()})) as dock:
        job = dock.sweep("ticks", sweep_body()["sweep"])  # type: ignore[arg-type]
    worker = subprocess.Popen([str(SIMDOCK), "worker", "--concurrency", "3"], env=environment,
                              start_new_session=True,
                              stdout=(tmp_path / "worker.log").open("w"),
                              stderr=subprocess.STDOUT)
    try:
        wait_until_running(database, tmp_path, job.id, 3)
        time.sleep(0.5)
        took = stop(worker)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert took < GRACE + 10, f"stopping took {took:.1f} s"
    check_drained(stored_runs(database, tmp_path, job.id), database, tmp_path)
