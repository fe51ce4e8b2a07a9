"""When the database goes away under a running API, requests get 503 in the envelope.

The answer says only that the database is unavailable; where it is and what the
driver said is logged for operators, with the request id.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from simdock_adapters.http import create_app
from simdock_adapters.settings import Settings
from tests.databases import create_postgres_database, drop_scratch_database


def test_a_lost_database_is_a_503_envelope_that_logs_where_it_is(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = create_postgres_database("http_down")
    app = create_app(Settings(database_url=url, artifacts_path=str(tmp_path)))
    client = app.test_client()
    assert client.post("/api/v1/auth/register", json={
        "email": "a@example.com", "password": "password123"}).status_code == 201
    drop_scratch_database(url)

    with caplog.at_level(logging.WARNING, logger="simdock.http"):
        response = client.post("/api/v1/auth/login", json={"email": "a@example.com",
                                                            "password": "password123"})
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == {"code": "ServiceUnavailable",
                             "message": "the database is unavailable"}
    assert body["request_id"]
    logged = [r for r in caplog.records if body["request_id"] in r.getMessage()]
    assert logged and "127.0.0.1" in logged[0].getMessage()
    assert logged[0].fields["request_id"] == body["request_id"]  # type: ignore[attr-defined]
    health = client.get("/health")
    assert health.status_code == 503 and health.get_json()["services"]["database"] == "unhealthy"
    ready = client.get("/ready")
    assert ready.status_code == 503 and "database" in ready.get_json()["detail"]
