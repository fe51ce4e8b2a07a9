"""Lists show a run's parameters up to PARAMETERS_SIZE_THRESHOLD and link to the rest.

Seen before: one 15 MB parameter made a page of ``GET /api/v1/jobs`` 18.7 MB and
3-7 s. Now a list (``GET /jobs``, a simulation's ``/detailed`` runs and its
``/result`` runs, ``GET /reports``) shows parameters whole while their JSON fits the
threshold the store keeps payloads inline by; past it the largest are each an
OmittedParameter (``omitted``, ``size``, ``url``), named in ``params_omitted``,
and ``url`` gives the whole set. A single run is shown whole.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.e2e.helpers import TIMEOUT, User, wait_for_simulation

THRESHOLD = 20_000
SERVER_ENV = {"PARAMETERS_SIZE_THRESHOLD": str(THRESHOLD)}
#: About 270 KB of JSON: more than thirteen times the threshold.
FIELD = [i / 7 for i in range(15_000)]


def size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def marker(value: Any) -> bool:
    return isinstance(value, dict) and value.get("omitted") is True


def assert_listed(params: dict[str, Any], omitted: list[str], whole: dict[str, Any],
                  user: User) -> None:
    """``params`` as a list shows ``whole``: the same names in the same order, those
    in ``omitted`` as markers whose link gives ``whole``, the rest as they are."""
    assert list(params) == list(whole)
    assert omitted and omitted == [name for name, value in params.items() if marker(value)]
    for name, value in params.items():
        if name in omitted:
            assert value["size"] == size(whole[name])
            fetched = requests.get(value["url"], headers=user.headers, timeout=TIMEOUT)
            assert fetched.status_code == 200 and fetched.json() == whole
        else:
            assert value == whole[name]
    assert size({n: v for n, v in params.items() if n not in omitted}) <= THRESHOLD


def test_a_list_shows_small_parameters_and_links_to_a_large_one(user: User) -> None:
    whole = {"alpha": 0.5, "field": FIELD, "label": "big"}
    (run_id,) = user.post("/api/v1/jobs", json={"simulation_type": "noop",
                                                "params": whole}).json()["jobs"]
    user.post("/api/v1/jobs", json={"simulation_type": "noop", "params": {"alpha": 1}})
    page = user.get("/api/v1/jobs", params={"page_size": 10})
    assert page.status_code == 200
    assert len(page.content) < 10_000  # the parameter alone is 270 KB
    items = {item["id"]: item for item in page.json()["items"]}
    listed = items[run_id]
    assert listed["params_omitted"] == ["field"]
    assert_listed(listed["params"], listed["params_omitted"], whole, user)
    small = [i for i in items.values() if i["id"] != run_id]
    assert small[0]["params"] == {"alpha": 1} and small[0]["params_omitted"] == []

    single = user.get(f"/api/v1/jobs/{run_id}").json()
    assert single["params"] == whole and single["params_omitted"] == []
    detailed = user.get(f"/api/v1/jobs/{run_id}/detailed").json()
    assert detailed["params"] == whole and detailed["params_omitted"] == []
    assert user.get(f"/api/v1/jobs/{run_id}/parameters").json() == whole


def test_a_sweep_over_a_large_base_lists_what_each_run_varies(user: User) -> None:
    submitted = user.post("/api/v1/simulations", json={
        "simulation_type": "noop", "parameters": {"field": FIELD, "seed": 1},
        "grid": {"alpha": [1, 2, 3]}}).json()
    finished = wait_for_simulation(user, submitted["id"])
    assert finished["status"] == "succeeded", finished
    runs = user.get("/api/v1/jobs", params={"simulation_id": submitted["id"],
                                            "order_by": "index"}).json()["items"]
    assert [r["params"]["alpha"] for r in runs] == [1, 2, 3]
    for run in runs:
        assert run["params_omitted"] == ["field"]
        assert_listed(run["params"], run["params_omitted"],
                      {"field": FIELD, "seed": 1, "alpha": run["params"]["alpha"]}, user)

    detailed = user.get(f"/api/v1/simulations/{submitted['id']}/detailed")
    assert len(detailed.content) < 20_000
    for run in detailed.json()["runs"]:
        assert run["params_omitted"] == ["field"] and run["params"]["seed"] == 1
    result = user.get(f"/api/v1/simulations/{submitted['id']}/result")
    assert result.status_code == 200, result.text
    for run in result.json()["runs"]:
        assert run["parameters_omitted"] == ["field"] and marker(run["parameters"]["field"])


def test_many_parameters_together_over_the_threshold_keep_the_smallest(user: User) -> None:
    whole = {f"p{i}": "v" * (3_000 * (i + 1)) for i in range(6)}  # 3 KB to 18 KB each
    (run_id,) = user.post("/api/v1/jobs", json={"simulation_type": "noop",
                                                "params": whole}).json()["jobs"]
    listed = next(i for i in user.get("/api/v1/jobs").json()["items"] if i["id"] == run_id)
    assert listed["params_omitted"] == ["p3", "p4", "p5"]  # 3 + 6 + 9 KB fit in 20 KB
    assert_listed(listed["params"], listed["params_omitted"], whole, user)


def test_a_list_of_reports_links_to_a_report_with_large_parameters(user: User) -> None:
    job = user.post("/api/v1/simulations", json={"simulation_type": "noop"}).json()
    wait_for_simulation(user, job["id"])
    whole = {"note": "kept", "field": FIELD}
    requested = user.post("/api/v1/reports", json={"simulation_job_ids": [job["id"]],
                                                    "report_type": "summary",
                                                    "parameters": whole})
    assert requested.status_code == 201, requested.text
    report_id = requested.json()["id"]
    page = user.get("/api/v1/reports")
    assert len(page.content) < 10_000
    listed = next(r for r in page.json()["items"] if r["id"] == report_id)
    assert listed["parameters_omitted"] == ["field"]
    assert listed["parameters"]["note"] == "kept" and marker(listed["parameters"]["field"])
    assert listed["parameters"]["field"]["size"] == size(FIELD)
    fetched = requests.get(listed["parameters"]["field"]["url"], headers=user.headers,
                           timeout=TIMEOUT).json()
    assert fetched["id"] == report_id
    assert fetched["parameters"] == whole and fetched["parameters_omitted"] == []


def test_parameters_of_another_users_run_are_not_found(user: User, other_user: User) -> None:
    (run_id,) = user.post("/api/v1/jobs", json={"simulation_type": "noop",
                                                "params": {"field": FIELD}}).json()["jobs"]
    assert other_user.get(f"/api/v1/jobs/{run_id}/parameters").status_code == 404
    assert user.get("/api/v1/jobs/run-0123456789abcdef0/parameters").status_code == 404


def test_the_document_describes_the_marker_and_the_route(base_url: str) -> None:
    document = requests.get(f"{base_url}/api/v1/openapi.json", timeout=TIMEOUT).json()
    run = document["components"]["schemas"]["RunOut"]
    assert "params_omitted" in run["required"]
    params = run["properties"]["params"]
    assert "PARAMETERS_SIZE_THRESHOLD" in params["description"]
    assert params["additionalProperties"]["anyOf"][0]["required"] == ["omitted", "size", "url"]
    operation = document["paths"]["/api/v1/jobs/{job_id}/parameters"]["get"]
    assert "200" in operation["responses"] and "404" in operation["responses"]
