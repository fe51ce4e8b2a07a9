"""Runs already computed are reused over HTTP, against a real ``simdock serve``: a sweep
submitted again completes without executing, with the earlier runs' results and files, a
changed axis value runs only its runs, ``reuse: false`` executes everything, another
user's runs are never reused, and deleting the earlier job breaks nothing."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from tests.e2e.helpers import User, wait_for_simulation

PARAMS = {"time_steps": 40, "spatial_steps": 11}


def heat_sweep(user: User, diffusivities: list[float], **options: Any) -> dict[str, Any]:
    created = user.post("/api/v1/jobs", json={
        "simulation_type": "heat1d", "params": PARAMS, "grid": {"diffusivity": diffusivities},
        **options})
    assert created.status_code == 201, created.text
    job_id = created.json()["simulation_id"]
    wait_for_simulation(user, job_id, timeout=120)
    return {run["index"]: run for run in user.get(
        "/api/v1/jobs", params={"simulation_id": job_id, "size": 50}).json()["items"]
            } | {"job": job_id}


def files(user: User, run_id: str) -> dict[str, bytes]:
    answer = user.get(f"/api/v1/jobs/{run_id}/result")
    assert answer.status_code == 200, answer.text[:300]
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()
                if name.startswith("artifacts/")}


def test_a_sweep_submitted_again_is_answered_from_the_runs_already_computed(
        user: User, other_user: User) -> None:
    first = heat_sweep(user, [0.011, 0.012])
    again = heat_sweep(user, [0.011, 0.012, 0.013])

    for index in (0, 1):
        reused, earlier = again[index], first[index]
        assert (reused["status"], reused["attempts"], reused["reused_from"]) == (
            "succeeded", 0, earlier["id"])
        assert user.get(f"/api/v1/jobs/{reused['id']}").json()["status"] == "succeeded"
        assert files(user, reused["id"]) == files(user, earlier["id"]) != {}
    assert (again[2]["attempts"], again[2]["reused_from"]) == (1, None)
    assert user.get(f"/api/v1/simulations/{again['job']}").json()["status"] == "succeeded"

    fresh = heat_sweep(user, [0.011], reuse=False)
    assert (fresh[0]["attempts"], fresh[0]["reused_from"]) == (1, None)
    theirs = heat_sweep(other_user, [0.011])
    assert (theirs[0]["attempts"], theirs[0]["reused_from"]) == (1, None)

    kept = files(user, again[0]["id"])
    assert user.delete(f"/api/v1/simulations/{first['job']}").status_code in (200, 204)
    assert files(user, again[0]["id"]) == kept
    result = user.get(f"/api/v1/jobs/{again[0]['id']}")
    assert result.status_code == 200 and result.json()["reused_from"] == first[0]["id"]
