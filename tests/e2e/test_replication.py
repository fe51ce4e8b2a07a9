"""Adaptive replication over HTTP, against a real ``simdock serve``: a replicated sweep runs
to its answer, its summary says where each point stands, and bad options are 4xx errors
that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.dashboard_session import signed_in
from tests.e2e.helpers import User, wait_for_simulation

RULE = {"metric": "estimate", "half_width": 0.08, "min": 4, "batch": 4, "max": 200}


def test_a_replicated_sweep_runs_until_each_point_is_precise_enough(user: User) -> None:
    created = user.post("/api/v1/jobs", json={
        "simulation_type": "monte_carlo", "params": {"iterations": 200},
        "grid": {"config": [{}, {"batch_size": 20}]}, "replicate": RULE, "seed": 99})
    assert created.status_code == 201, created.text
    body = created.json()
    assert len(body["jobs"]) == 8  # two points, four replicates each to begin with
    job_id = body["simulation_id"]

    finished = wait_for_simulation(user, job_id, timeout=120)
    summary = user.get(f"/api/v1/simulations/{job_id}/summary")

    assert summary.status_code == 200, summary.text
    found = summary.json()
    assert (found["replicate"]["metric"], found["seed"], found["seed_parameter"]) == (
        "estimate", 99, "seed")
    assert [point["parameters"] for point in found["points"]] == [
        {"iterations": 200, "config": {}}, {"iterations": 200, "config": {"batch_size": 20}}]
    for point in found["points"]:
        assert point["met"] and point["outcome"] == "met" and point["reason"] is None
        assert point["half_width"] <= 0.08 and point["low"] <= point["mean"] <= point["high"]
        assert abs(point["mean"] - 3.14159) < 0.25
        assert point["n"] == point["replicates"] == point["finished"] >= 4
    assert finished["status"] == "succeeded"
    runs = sum(point["replicates"] for point in found["points"])
    listed = user.get("/api/v1/jobs", params={"simulation_id": job_id, "page_size": 500})
    assert listed.json()["total"] == runs
    page = signed_in(user).get(f"{user.base_url}/ui/jobs/{job_id}").text
    card = page.split('id="points-title"')[1].split("</section>")[0]
    assert card.count('<span class="status s-succeeded">met</span>') == 2
    assert "<code>estimate</code> is within ±0.08" in card


def test_a_job_not_replicated_has_no_points(user: User) -> None:
    job_id = user.post("/api/v1/jobs", json={"simulation_type": "noop"}).json()[
        "simulation_id"]
    wait_for_simulation(user, job_id)
    summary = user.get(f"/api/v1/simulations/{job_id}/summary").json()
    assert (summary["replicate"], summary["points"]) == (None, [])
    assert [(p["parameters"], p["runs"]) for p in summary["results"]] == [({}, 1)]


def test_a_sweep_over_seeds_is_summarised_per_point_without_replication(user: User) -> None:
    job_id = user.post("/api/v1/jobs", json={
        "simulation_type": "monte_carlo", "grid": {"iterations": [100, 400],
                                                   "seed": list(range(1, 7))}}).json()[
        "simulation_id"]
    wait_for_simulation(user, job_id, timeout=120)
    results = user.get(f"/api/v1/simulations/{job_id}/summary").json()["results"]
    assert [(p["parameters"], p["runs"], p["succeeded"]) for p in results] == [
        ({"iterations": 100}, 6, 6), ({"iterations": 400}, 6, 6)]
    for point in results:
        estimate = point["fields"]["estimate"]
        assert estimate["n"] == 6 and estimate["low"] < estimate["mean"] < estimate["high"]
        assert "seed" not in point["fields"] and "iterations" not in point["fields"]


@pytest.mark.parametrize(("replicate", "status", "named"), [
    ({"metric": "estimate", "half_width": 0.1, "relative": 0.01}, 400, "exactly one of"),
    ({"metric": "estimate"}, 400, "exactly one of"),
    ({"metric": "estimate", "half_width": 0.1, "min": 10, "max": 5}, 400, "replicate.min"),
    ({"metric": "estimate", "half_width": 0.1, "confidence": 1}, 422, "confidence"),
    ({"metric": "estimate", "half_width": 0.1, "min": 1}, 422, "min"),
    ({"metric": "estimate", "half_width": 0.1, "max": 100_001}, 422, "max"),
    ({"half_width": 0.1}, 422, "metric"),
    ({"metric": "estimate", "half_width": 0.1, "runs": 3}, 422, "runs"),
])
def test_contradictory_options_are_refused_naming_the_field(
        user: User, replicate: dict[str, Any], status: int, named: str) -> None:
    response = user.post("/api/v1/jobs", json={
        "simulation_type": "monte_carlo", "params": {"iterations": 100},
        "replicate": replicate})
    assert response.status_code == status, response.text
    assert named in response.text
    assert user.get("/api/v1/jobs", params={"simulation_type": "monte_carlo",
                                            "status": "queued"}).json()["total"] == 0


def test_a_type_without_a_seed_is_refused_and_so_is_a_seed_alone(user: User) -> None:
    refused = user.post("/api/v1/simulations", json={
        "simulation_type": "noop", "replicate": {"metric": "x", "half_width": 1}})
    assert refused.status_code == 400
    assert "'noop' declares no seed parameter" in refused.text
    alone = user.post("/api/v1/jobs", json={"simulation_type": "monte_carlo", "seed": 4})
    assert alone.status_code == 400 and "give replicate with it" in alone.text


def test_another_users_summary_is_not_found(user: User, other_user: User) -> None:
    job_id = user.post("/api/v1/jobs", json={
        "simulation_type": "monte_carlo", "params": {"iterations": 100},
        "replicate": RULE}).json()["simulation_id"]
    assert other_user.get(f"/api/v1/simulations/{job_id}/summary").status_code == 404
