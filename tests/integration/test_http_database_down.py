"""When the database goes away under a running API, requests get 503 in the envelope."""

from __future__ import annotations

from pathlib import Path

from simdock_adapters.http import create_app
from simdock_adapters.settings import Settings
from tests.databases import create_postgres_database, drop_scratch_database


def test_a_lost_database_is_a_503_envelope_naming_it(tmp_path: Path) -> None:
    url = create_postgres_database("http_down")
    app = create_app(Settings(database_url=url, artifacts_path=str(tmp_path)))
    client = app.test_client()
    assert client.post("/api/v1/auth/register", json={
        "email": "a@example.com", "password": "password123"}).status_code == 201
    drop_scratch_database(url)

    response = client.post("/api/v1/auth/login", json={"email": "a@example.com",
                                                        "password": "password123"})
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"]["code"] == "ServiceUnavailable"
    assert "127.0.0.1" in body["error"]["message"] and body["request_id"]
    health = client.get("/health")
    assert health.status_code == 503 and health.get_json()["services"]["database"] == "unhealthy"
    ready = client.get("/ready")
    assert ready.status_code == 503 and "database" in ready.get_json()["detail"]
