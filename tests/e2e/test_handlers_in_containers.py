"""HANDLER_ISOLATION=container: registered handlers execute in containers of sim:local,
isolated as container runs are, behind the same HTTP API."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator

import pytest

from tests.containers import engine
from tests.e2e.fred_jobs import run_fred_job
from tests.e2e.helpers import SECRET_KEY, User, register_and_login, wait_for_run
from tests.e2e.servers import running_server


def children() -> list[object]:
    """The handler containers running now."""
    return list(engine().containers.list(filters={"label": "io.simdock.run=handler-child"}))


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[User]:
    engine()
    directory = tmp_path_factory.mktemp("handlers-in-containers")
    with running_server(directory, SECRET_KEY=SECRET_KEY, CONTAINER_ENGINE="docker",
                        HANDLER_ISOLATION="container", EXECUTOR_WORKERS="2") as url:
        yield register_and_login(url, "isolated")


def test_heat1d_runs_in_a_container_with_its_outputs_and_metrics(user: User) -> None:
    answer = user.post("/api/v1/jobs", json={"simulation_type": "heat1d",
                                             "params": {"time_steps": 200}})
    run = wait_for_run(user, answer.json()["jobs"][0], timeout=120)
    assert run["status"] == "succeeded", run
    result = user.get(f"/api/v1/jobs/{run['id']}/result")
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        assert {"artifacts/result.csv", "artifacts/meta.json",
                "artifacts/simulation_results.png"} <= set(archive.namelist())
    points = user.get(f"/api/v1/convergence/{run['id']}/data").json()["points"]
    assert {p["name"] for p in points} == {"center_temp"} and len(points) > 10


def test_a_silent_handler_in_a_container_is_stopped_by_a_cancel(user: User) -> None:
    answer = user.post("/api/v1/jobs", json={"simulation_type": "sleep",
                                             "params": {"seconds": 120}})
    run_id = answer.json()["jobs"][0]
    deadline = time.monotonic() + 60
    while user.get(f"/api/v1/jobs/{run_id}").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(0.5)
    before = len(children())
    cancelled = time.monotonic()
    assert user.delete(f"/api/v1/jobs/{run_id}").status_code == 200
    # The container executing the cancelled run is killed within 2 s; the others stay.
    while len(children()) >= before:
        assert time.monotonic() - cancelled < 2, "the cancelled run's container still runs"
        time.sleep(0.05)
    assert wait_for_run(user, run_id)["status"] == "cancelled"
    following = user.post("/api/v1/jobs", json={"simulation_type": "noop", "params": {}})
    assert wait_for_run(user, following.json()["jobs"][0], timeout=60)["status"] == "succeeded"


def test_a_fred_run_of_the_epistemix_api_executes_in_a_container_with_its_inputs(
        user: User) -> None:
    run, files = run_fred_job(user, "transmissibility = 0.5\n", [
        {"flag": "-p", "value": "main.fred"}, {"flag": "-s", "value": "3"},
        {"flag": "-l", "value": "Loving_County_TX"}])
    assert run["status"] == "DONE", files.get("work/outputs/logs.txt")
    popsize = files["work/outputs/DAILY/Popsize.txt"].decode().split()
    assert popsize[:2] == ["0", "2638"]  # the stand-in's population of Loving_County_TX
