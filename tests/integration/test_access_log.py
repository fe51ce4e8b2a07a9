"""The access log: one record per request with its fields, never a credential in the path,
and no work at all when the level leaves it out."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from simdock_adapters.http import create_app
from simdock_adapters.settings import Settings

ACCESS = "simdock.http.access"


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS]


def test_each_request_is_logged_with_its_fields_and_no_credential(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client = create_app(Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite",
                                 artifacts_path=str(tmp_path))).test_client()
    with caplog.at_level(logging.INFO, logger=ACCESS):
        live = client.get("/live", headers={"X-Request-ID": "trace-1"})
        link = client.get("/api/v1/downloads/secret-link-token")

    assert live.headers["X-Request-ID"] == "trace-1"
    first, second = _records(caplog)
    assert first.fields == {  # type: ignore[attr-defined]
        "request_id": "trace-1", "method": "GET", "path": "/live", "status": 200,
        "duration_ms": first.fields["duration_ms"],  # type: ignore[attr-defined]
        "user_id": None, "remote_addr": "127.0.0.1"}
    assert second.fields["status"] == link.status_code  # type: ignore[attr-defined]
    assert "secret-link-token" not in second.getMessage()
    assert "secret-link-token" not in str(second.fields)  # type: ignore[attr-defined]


def test_below_info_nothing_is_logged_and_the_request_id_is_still_answered(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client = create_app(Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite",
                                 artifacts_path=str(tmp_path))).test_client()
    with caplog.at_level(logging.WARNING, logger=ACCESS):
        answer = client.get("/live")

    assert _records(caplog) == []
    assert len(answer.headers["X-Request-ID"]) == 32


@pytest.mark.parametrize(("method", "path", "status", "route"), [
    ("PUT", "/api/v1/downloads/secret-link-token", 405, "/api/v1/downloads/<token>"),
    ("POST", "/api/v1/downloads/secret-link-token", 405, "/api/v1/downloads/<token>"),
    ("GET", "/api/v1/downloads/secret-link-token/x", 404, "/api/v1/downloads/<token>/x"),
    ("DELETE", "/files/secret-link-token", 405, "/files/<token>"),
    ("GET", "/files/secret-link-token/x", 404, "/files/<token>/x"),
])
def test_a_credential_in_a_path_no_route_matches_is_not_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, method: str, path: str, status: int,
        route: str) -> None:
    """Seen before: a link's token was logged in full when no route matched its path."""
    client = create_app(Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite",
                                 artifacts_path=str(tmp_path))).test_client()
    with caplog.at_level(logging.INFO, logger=ACCESS):
        answer = client.open(path, method=method)

    assert answer.status_code == status
    assert "secret-link-token" not in answer.get_data(as_text=True)
    (record,) = _records(caplog)
    assert record.fields["path"] == route  # type: ignore[attr-defined]
    assert "secret-link-token" not in record.getMessage()
    assert "secret-link-token" not in str(record.fields)  # type: ignore[attr-defined]

