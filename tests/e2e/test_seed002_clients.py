"""Seed 002 as its users try it, and what seed 000's users see of a cancelled simulation.

Over HTTP, against a real ``simdock serve`` that executes runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import (
    SECRET_KEY,
    User,
    assert_envelope,
    wait_for_run,
    wait_for_simulation,
)
from tests.e2e.servers import running_server

#: A monte_carlo run that takes minutes unless cancelled, reporting progress as it goes.
LONG = {"iterations": 1_000_000_000, "config": {"batch_size": 1000}}
HEAT = {"length": 1.0, "time_steps": 200, "diffusivity": 0.01}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("seed002")


@pytest.fixture(scope="module")
def base_url(data_dir: Path) -> Iterator[str]:
    """This module's server, whose blob directory the tests look into."""
    with running_server(data_dir, SECRET_KEY=SECRET_KEY) as url:
        yield url


def blobs_of(data_dir: Path, prefix: str) -> list[str]:
    root = data_dir / "artifacts"
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and p.relative_to(root).as_posix().startswith(prefix))


def submit(user: User, path: str = "/api/v1/simulations", **body: Any) -> dict[str, Any]:
    response = user.post(path, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def long_simulation(user: User, **extra: Any) -> dict[str, Any]:
    return submit(user, simulation_type="monte_carlo", parameters=LONG, **extra)


def cancel(user: User, simulation_id: str) -> dict[str, Any]:
    assert user.post(f"/api/v1/simulations/{simulation_id}/cancel").status_code == 200
    return wait_for_simulation(user, simulation_id)


def wait_until(check: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.1)


def run_of(user: User, run_id: str) -> dict[str, Any]:
    response = user.get(f"/api/v1/jobs/{run_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- collection routes with a trailing slash -----------------------------------


def test_collection_routes_answer_with_a_trailing_slash_and_no_redirect(user: User) -> None:
    finished = submit(user, "/api/v1/simulations/", simulation_type="noop", parameters={})
    wait_for_simulation(user, finished["id"])
    bodies = {
        "machines": {"name": "node", "cpu": "x86", "memory": 8},
        "simulations": {"simulation_type": "noop", "parameters": {"a": 1}},
        "jobs": {"simulation_type": "noop", "params": {"a": 1}},
        "reports": {"simulation_job_ids": [finished["id"]], "report_type": "summary",
                    "output_format": "json"},
    }
    for collection, body in bodies.items():
        listed = user.get(f"/api/v1/{collection}/", allow_redirects=False)
        assert listed.status_code == 200, (collection, listed.status_code, listed.text)
        assert listed.json()["total"] == user.get(f"/api/v1/{collection}").json()["total"]
        created = user.post(f"/api/v1/{collection}/", json=body, allow_redirects=False)
        assert created.status_code == 201, (collection, created.status_code, created.text)
        without = user.post(f"/api/v1/{collection}", json=body)
        assert created.json().keys() == without.json().keys(), collection
        refused = user.post(f"/api/v1/{collection}/", json={"nonsense": True})
        assert_envelope(refused, 422, "InvalidParameterValue")


def test_the_document_lists_each_path_once(user: User) -> None:
    paths = list(user.get("/api/v1/openapi.json").json()["paths"])
    assert not [p for p in paths if p.endswith("/")]
    assert "/api/v1/simulations" in paths and "/api/v1/machines" in paths


# -- DELETE /simulations/{id} ----------------------------------------------------


def test_deleting_a_finished_simulation_removes_everything_it_made(user: User,
                                                                   data_dir: Path) -> None:
    sweep = submit(user, "/api/v1/simulations", simulation_type="heat1d", parameters=HEAT,
                   sweep=[{"diffusivity": 0.01}, {"diffusivity": 0.02}], tags=["doomed"])
    simulation_id, run_ids = sweep["id"], sweep["run_ids"]
    assert wait_for_simulation(user, simulation_id)["status"] == "succeeded"
    for run_id in run_ids:
        assert f"runs/{run_id}/artifacts/result.csv" in blobs_of(data_dir, f"runs/{run_id}/")
        assert user.get(f"/api/v1/jobs/{run_id}/logs").json()["lines"]
    stats = user.get("/api/v1/jobs/stats").json()

    deleted = user.delete(f"/api/v1/simulations/{simulation_id}")

    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"id": simulation_id, "message": "Simulation deleted successfully",
                              "run_count": 2}
    assert_envelope(user.get(f"/api/v1/simulations/{simulation_id}"), 404, "ResourceNotFound")
    for run_id in run_ids:
        for path in (f"/api/v1/jobs/{run_id}", f"/api/v1/jobs/{run_id}/logs",
                     f"/api/v1/jobs/{run_id}/result", f"/api/v1/convergence/{run_id}/data"):
            assert_envelope(user.get(path), 404, "ResourceNotFound")
        assert blobs_of(data_dir, f"runs/{run_id}/") == []
        assert not (data_dir / "artifacts" / "runs" / run_id).exists()
    assert blobs_of(data_dir, f"jobs/{simulation_id}/") == []
    assert simulation_id not in user.get("/api/v1/simulations?tag=doomed").text
    after = user.get("/api/v1/jobs/stats").json()
    assert after["total"] == stats["total"] - 2
    assert after["counts"].get("succeeded", 0) == stats["counts"]["succeeded"] - 2
    assert_envelope(user.delete(f"/api/v1/simulations/{simulation_id}"), 404)


def test_a_simulation_still_running_is_cancelled_before_it_is_deleted(user: User) -> None:
    simulation = long_simulation(user)
    refused = user.delete(f"/api/v1/simulations/{simulation['id']}")
    message = assert_envelope(refused, 409, "Conflict")["error"]["message"]
    assert "queued or running" in message and "cancel" in message
    assert user.get(f"/api/v1/simulations/{simulation['id']}").status_code == 200

    assert cancel(user, simulation["id"])["status"] == "cancelled"
    assert user.delete(f"/api/v1/simulations/{simulation['id']}").status_code == 200
    assert_envelope(user.get(f"/api/v1/simulations/{simulation['id']}"), 404)


def test_another_users_simulation_cannot_be_deleted_or_updated(user: User, other_user: User
                                                               ) -> None:
    theirs = submit(other_user, simulation_type="noop", parameters={}, name="theirs")
    wait_for_simulation(other_user, theirs["id"])
    assert_envelope(user.delete(f"/api/v1/simulations/{theirs['id']}"), 404,
                    "ResourceNotFound")
    assert_envelope(user.put(f"/api/v1/simulations/{theirs['id']}", json={"name": "mine"}),
                    404, "ResourceNotFound")
    assert other_user.get(f"/api/v1/simulations/{theirs['id']}").json()["name"] == "theirs"


# -- PUT /simulations/{id} -------------------------------------------------------


def test_an_update_changes_name_tags_and_metadata_and_answers_as_get(user: User) -> None:
    simulation = submit(user, simulation_type="noop", parameters={}, name="before",
                        tags=["a"], job_metadata={"k": 1})
    wait_for_simulation(user, simulation["id"])
    path = f"/api/v1/simulations/{simulation['id']}"

    renamed = user.put(path, json={"name": "after", "tags": ["b", "c"]})

    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == user.get(path).json()
    assert (renamed.json()["name"], renamed.json()["tags"]) == ("after", ["b", "c"])
    assert renamed.json()["job_metadata"] == {"k": 1}
    changed = user.put(path, json={"job_metadata": {"project": "x"}, "name": None}).json()
    assert (changed["name"], changed["tags"], changed["job_metadata"]) == (
        None, ["b", "c"], {"project": "x"})
    assert user.put(path, json={}).json() == changed
    listed = user.get("/api/v1/simulations?tag=c").json()["items"]
    assert [item["id"] for item in listed] == [simulation["id"]]


def test_an_update_refuses_a_status_and_unknown_fields(user: User) -> None:
    simulation = long_simulation(user)
    path = f"/api/v1/simulations/{simulation['id']}"
    try:
        for body in ({"status": "finished"}, {"status": "cancelled", "name": "x"}):
            message = assert_envelope(user.put(path, json=body), 422)["error"]["message"]
            assert "status" in message and "cancel" in message
        for body in ({"colour": "red"}, {"tags": "a"}, {"name": 5}, {"job_metadata": None}):
            assert_envelope(user.put(path, json=body), 422, "InvalidParameterValue")
        assert_envelope(user.put(path, data="name=x"), 415)
        assert user.get(path).json()["status"] in {"queued", "running"}
    finally:
        cancel(user, simulation["id"])


def test_an_update_places_the_runs_that_have_not_finished(user: User) -> None:
    def machine(status: str) -> str:
        created = user.post("/api/v1/machines", json={"name": status, "cpu": "x86",
                                                      "memory": 16, "status": status})
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    first, second, resting = machine("available"), machine("busy"), machine("maintenance")
    simulation = long_simulation(user, machine_id=first)
    path, run_id = f"/api/v1/simulations/{simulation['id']}", simulation["run_ids"][0]
    try:
        moved = user.put(path, json={"machine_id": second})
        assert moved.status_code == 200, moved.text
        assert run_of(user, run_id)["machine_id"] == second
        detailed = user.get(f"{path}/detailed").json()
        assert [r["machine"]["id"] for r in detailed["runs"]] == [second]
        assert user.put(path, json={"machine_id": None}).status_code == 200
        assert run_of(user, run_id)["machine_id"] is None
        refused = user.put(path, json={"machine_id": resting, "name": "not kept"})
        assert "maintenance" in assert_envelope(refused, 409)["error"]["message"]
        assert_envelope(user.put(path, json={"machine_id": "mach-00000000000000000"}), 404)
        assert user.get(path).json()["name"] is None
    finally:
        cancel(user, simulation["id"])
    finished = user.put(path, json={"machine_id": first})
    assert "no unfinished run" in assert_envelope(finished, 409)["error"]["message"]
    assert run_of(user, run_id)["machine_id"] is None


# -- the bare-SQL routes ---------------------------------------------------------


def test_create_bare_sql_is_post_simulations(user: User) -> None:
    machine_id = user.post("/api/v1/machines", json={"name": "bare", "cpu": "x86",
                                                     "memory": 4}).json()["id"]
    body = {"simulation_type": "noop", "parameters": {"n": 1}, "name": "bare_sql_sim",
            "machine_id": machine_id}
    created = submit(user, "/api/v1/simulations/999/create-bare-sql", **body)
    plain = submit(user, "/api/v1/simulations", **body)
    assert created.keys() == plain.keys()
    assert (created["name"], created["parameters"]) == ("bare_sql_sim", {"n": 1})
    assert created["id"] != plain["id"]
    run = wait_for_run(user, created["run_ids"][0])
    assert run["machine_id"] == machine_id and run["status"] == "succeeded"
    for bad in ({}, {"simulation_type": "noop", "unknown": 1},
                {"simulation_type": "noop", "machine_id": "mach-00000000000000000"},
                {"simulation_type": "no-such-type"}):
        bare = user.post("/api/v1/simulations/1/create-bare-sql", json=bad)
        usual = user.post("/api/v1/simulations", json=bad)
        assert bare.status_code == usual.status_code >= 400, bad
        assert bare.json()["error"] == usual.json()["error"], bad


def test_add_bare_sql_adds_a_point_to_the_run_in_the_path(user: User, other_user: User
                                                          ) -> None:
    simulation = long_simulation(user)
    run_id = simulation["run_ids"][0]
    path = f"/api/v1/convergence/{run_id}/add-bare-sql"
    try:
        added = user.post(path, json={"loss_value": 0.3, "name": "client_loss"})
        assert added.status_code == 201, added.text
        point = added.json()
        assert (point["simulation_id"], point["run_id"]) == (run_id, run_id)
        assert (point["loss_value"], point["value"], point["step"]) == (0.3, 0.3, 0)
        same = user.post(path, json={"simulation_id": run_id, "loss_value": 0.2,
                                     "name": "client_loss"})
        assert same.status_code == 201 and same.json()["step"] == 1
        other = user.post(path, json={"simulation_id": "run-00000000000000000",
                                      "loss_value": 0.1})
        assert "path" in assert_envelope(other, 400, "InvalidParameterValue")["error"]["message"]
        assert_envelope(user.post(path, json={}), 422)
        assert_envelope(user.post("/api/v1/convergence/run-00000000000000000/add-bare-sql",
                                  json={"loss_value": 1.0}), 404, "ResourceNotFound")
        assert_envelope(other_user.post(path, json={"loss_value": 1.0}), 404)
        series = user.get(f"/api/v1/convergence/{run_id}/data?name=client_loss").json()
        assert [p["loss_value"] for p in series["points"]] == [0.3, 0.2]
    finally:
        cancel(user, simulation["id"])


# -- convergence in seed 002's words, and no points once a run finished ------------


def test_every_convergence_answer_names_the_simulation_and_the_loss(user: User) -> None:
    simulation = long_simulation(user)
    run_id = simulation["run_ids"][0]
    try:
        user.post("/api/v1/convergence/data", json={"simulation_id": run_id,
                                                    "loss_value": 0.5, "name": "fit"})
        user.post("/api/v1/convergence/data", json={"run_id": run_id, "value": 0.25,
                                                    "name": "fit"})
        for path in ("data", "stream"):
            body = user.get(f"/api/v1/convergence/{run_id}/{path}?name=fit").json()
            assert body["simulation_id"] == body["run_id"] == run_id
            assert [(p["simulation_id"], p["loss_value"], p["value"]) for p in body["points"]
                    ] == [(run_id, 0.5, 0.5), (run_id, 0.25, 0.25)]
            assert all(p["timestamp"] for p in body["points"])
        graph = user.get(f"/api/v1/convergence/{run_id}/graph?name=fit").json()
        assert graph["simulation_id"] == run_id
        assert graph["loss_values"] == graph["values"] == [0.5, 0.25]
        assert len(graph["timestamps"]) == 2
    finally:
        cancel(user, simulation["id"])


def test_a_finished_run_takes_no_more_points(user: User) -> None:
    simulation = long_simulation(user)
    run_id = simulation["run_ids"][0]
    added = user.post("/api/v1/convergence/data", json={"simulation_id": run_id,
                                                       "loss_value": 0.9, "name": "fit"})
    assert added.status_code == 201, added.text
    cancel(user, simulation["id"])
    graph = user.get(f"/api/v1/convergence/{run_id}/graph?name=fit").json()
    assert graph["complete"] is True and graph["loss_values"] == [0.9]

    for path, body in (("/api/v1/convergence/data", {"simulation_id": run_id}),
                       (f"/api/v1/convergence/{run_id}/add-bare-sql", {})):
        refused = user.post(path, json={**body, "loss_value": 0.1, "name": "fit"})
        assert "cancelled" in assert_envelope(refused, 409, "Conflict")["error"]["message"]
    after = user.get(f"/api/v1/convergence/{run_id}/graph?name=fit").json()
    assert after["loss_values"] == [0.9] and after["complete"] is True


# -- what a cancelled seed 000 simulation reports ----------------------------------


def test_a_sweep_cancelled_part_way_is_cancelled_with_the_progress_it_reached(user: User
                                                                            ) -> None:
    sweep = submit(user, simulation_type="monte_carlo", parameters=LONG,
                   sweep=[{"iterations": 1000}, {}])
    quick, slow = sweep["run_ids"]
    wait_for_run(user, quick)
    wait_until(lambda: run_of(user, slow)["progress"] > 0, "progress of the long run")

    cancelled = cancel(user, sweep["id"])

    runs = [run_of(user, run_id) for run_id in sweep["run_ids"]]
    assert [r["status"] for r in runs] == ["succeeded", "cancelled"]
    assert cancelled["status"] == "cancelled"
    assert 0 < runs[1]["progress"] < 1
    assert cancelled["progress"] == pytest.approx((1.0 + runs[1]["progress"]) / 2)
    listed = user.get("/api/v1/simulations?status=cancelled&size=1000").json()["items"]
    assert sweep["id"] in [item["id"] for item in listed]
    failed = user.get("/api/v1/simulations?status=failed&size=1000").json()["items"]
    assert sweep["id"] not in [item["id"] for item in failed]


def test_a_cancelled_simulation_shows_the_progress_it_reached(user: User) -> None:
    simulation = long_simulation(user)
    run_id = simulation["run_ids"][0]
    wait_until(lambda: run_of(user, run_id)["progress"] > 0, "progress of the run")

    cancelled = cancel(user, simulation["id"])

    reached = run_of(user, run_id)["progress"]
    assert cancelled["status"] == "cancelled" and 0 < reached < 1
    assert cancelled["progress"] == pytest.approx(reached)
