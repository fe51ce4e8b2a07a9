"""A run in a list is the document ``GET /api/v1/jobs/{id}`` answers for it, and the
document ``RunOut`` describes (both are written directly, no model per run: the model
must read them back unchanged). Over runs of every kind and state, on SQLite.
"""

from __future__ import annotations

from pathlib import Path

from simdock_adapters.http.app import create_app
from simdock_adapters.http.views import RunOut
from simdock_adapters.settings import Settings
from tests.integration.signing_in import signed_in


def test_each_listed_run_is_the_single_runs_document(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/simdock.db",
                              artifacts_path=str(tmp_path), dispatch="inline",
                              handler_isolation="thread"))
    client = app.test_client()
    headers = signed_in(client)
    submissions = [
        {"simulation_type": "noop", "params": {"x": 1.5, "nested": {"a": [1, None]}},
         "tags": ["a", "b"], "metadata": {"who": "é"}},
        {"simulation_type": "noop", "grid": {"i": [1, 2, 3]}, "name": "swept"},
        {"container_image": "sim:local", "params": {"n": 2},
         "resources": {"memory_mb": 128}},  # a container run: fails, no engine here
    ]
    for body in submissions:
        response = client.post("/api/v1/jobs", headers=headers, json=body)
        assert response.status_code == 201, response.get_data(as_text=True)
    listed = client.get("/api/v1/jobs?size=100", headers=headers).get_json()["items"]
    statuses = {item["status"] for item in listed}
    assert {"succeeded", "failed"} <= statuses, statuses
    assert any(item["resources"] for item in listed)

    for item in listed:
        single = client.get(f"/api/v1/jobs/{item['id']}", headers=headers)
        assert single.status_code == 200
        assert item == single.get_json()
        assert RunOut.model_validate(item).model_dump(mode="json") == item
