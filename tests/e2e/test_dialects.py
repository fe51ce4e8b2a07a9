"""Errors no view answers are in the path's dialect, on SQLite and on PostgreSQL.

Seen before: paths the Epistemix routes do not match (``GET /jobs/x/y``,
``POST /nothing``), a NUL in the path or in a header, and a request line over
the limit (414) were answered with the ``/api/v1`` envelope although the epx
client reads only ``{"description": ...}``. Each is now a 4xx in the Epistemix
shape on the Epistemix paths (everything at the root but simdock's own routes),
whether Flask answers it (no route, wrong method) or gunicorn refuses it before
the application sees it; ``/api/v1`` and simdock's own root routes keep the
envelope.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.databases import create_postgres_database
from tests.e2e.helpers import SECRET_KEY, TIMEOUT, assert_envelope
from tests.e2e.raw_http import RawResponse, exchange, request_head
from tests.e2e.servers import running_server

EPX = {"Offline-Token": "Bearer sdk_unknown", "fredcli-version": "0.4.0"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[str]:
    directory = tmp_path_factory.mktemp(f"dialects-{request.param}")
    database = (f"sqlite:///{directory / 'simdock.db'}" if request.param == "sqlite"
                else create_postgres_database("simdock_dialects"))
    with running_server(directory, SECRET_KEY=SECRET_KEY, DATABASE_URL=database) as url:
        yield url


def described(response: requests.Response | RawResponse, status: int) -> str:
    """The answer is the Epistemix dialect's ``{"description": ...}`` with ``status``."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers.get("Content-Type", "").startswith("application/json")
    body = response.json()
    assert set(body) == {"description"}, body
    assert isinstance(body["description"], str) and body["description"]
    assert response.headers.get("X-Request-ID")
    return str(body["description"])


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/jobs/x/y", 404), ("POST", "/nothing", 404), ("GET", "/runs/7", 404),
    ("GET", "/jobs/me/x", 404), ("PUT", "/jobs/register", 405),
    ("DELETE", "/runs", 405), ("GET", "/jobs/a%00b", 400), ("GET", "/nothing?x=a%00", 400),
])
def test_what_no_epistemix_view_matches_is_answered_in_its_dialect(
        server: str, method: str, path: str, status: int) -> None:
    response = requests.request(method, server + path, headers=EPX, json={}, timeout=TIMEOUT)
    text = described(response, status)
    if status == 405:
        assert response.headers["Allow"]
    if status == 400:
        assert "NUL" in text


@pytest.mark.parametrize(("head", "status", "words"), [
    (b"GET /jobs/a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "request line"),
    (b"GET /jobs/me HTTP/1.1\r\nHost: x\r\nOffline-Token: Bearer a\x00b\r\n\r\n", 400,
     "OFFLINE-TOKEN"),
    (b"GET /runs HTTP/1.1\r\nHost: x\r\nX-Note: a\x00b\r\n\r\n", 400, "X-NOTE"),
    (b"GET /jobs/" + b"7" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "4094 bytes"),
    (request_head("GET", "/runs", {"X-Big": "a" * 9000}), 431, "8190 bytes"),
    (b"GET /jobs HTTP/9.9\r\nHost: x\r\n\r\n", 400, "HTTP Version"),
    (b"POST /runs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\n", 501,
     "Transfer-Encoding"),
])
def test_what_gunicorn_refuses_on_an_epistemix_path_is_in_its_dialect(
        server: str, head: bytes, status: int, words: str) -> None:
    response = exchange(server, head)
    assert words in described(response, status)
    assert response.headers["Connection"] == "close"
    assert requests.get(f"{server}/live", timeout=TIMEOUT).status_code == 200


@pytest.mark.parametrize(("head", "status"), [
    (b"GET /api/v1/jobs/a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\x00b\r\n\r\n", 400),
    (b"GET /api/v1/jobs/" + b"r" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /files/" + b"t" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /live HTTP/1.1\r\nHost: x\r\nX-Note: a\x00b\r\n\r\n", 400),
    (b"GARBAGE\r\n\r\n", 400),
])
def test_simdock_paths_keep_the_envelope(server: str, head: bytes, status: int) -> None:
    assert_envelope(exchange(server, head), status)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/v1/jobs/x/y/z", 404), ("PUT", "/health", 405), ("POST", "/live", 405),
    ("DELETE", "/files/some-token", 405), ("GET", "/docs/x/y", 404),
    ("GET", "/api/v1/jobs/a%00b", 400),
])
def test_simdock_routes_at_the_root_keep_the_envelope(server: str, method: str, path: str,
                                                       status: int) -> None:
    response = requests.request(method, server + path, timeout=TIMEOUT)
    assert_envelope(response, status)
