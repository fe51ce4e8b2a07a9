"""A real ``simdock serve`` on PostgreSQL while the database goes away and comes back.

The server reaches PostgreSQL through a TCP proxy the test cuts, which drops every
connection its pools hold. Callers are told only that the database is unavailable;
where it is and what the driver said goes to the server's JSON log. Once the
database is back, no request fails on a connection that died with it.

The server has one worker process: it is fully up once it answers, so no worker
is still starting (and connecting) when the database goes away.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.databases import PG_HOST, PG_PORT, PG_USER, create_postgres_database
from tests.e2e.helpers import PASSWORD, SECRET_KEY, TIMEOUT, register_and_login
from tests.e2e.servers import running_server
from tests.proxy import TcpProxy

URL_PASSWORD = "url-password-never-shown"


@dataclass
class Deployment:
    base_url: str
    proxy: TcpProxy
    database: str
    log: Path

    def log_entries(self) -> list[dict[str, Any]]:
        """The JSON lines of the server's output (gunicorn's own lines are not JSON)."""
        entries = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                entries.append(json.loads(line))
        return entries


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    url = create_postgres_database("outage")
    database = url.rsplit("/", 1)[1]
    directory = tmp_path_factory.mktemp("outage")
    with TcpProxy((PG_HOST, PG_PORT)) as proxy:
        proxied = f"postgresql://{PG_USER}:{URL_PASSWORD}@127.0.0.1:{proxy.port}/{database}"
        with running_server(directory, DATABASE_URL=proxied, SECRET_KEY=SECRET_KEY,
                            WEB_WORKERS="1", WEB_THREADS="4") as base_url:
            yield Deployment(base_url, proxy, database, directory / "server.log")


def log_in(deployment: Deployment, email: str) -> requests.Response:
    return requests.post(f"{deployment.base_url}/api/v1/auth/login", timeout=TIMEOUT,
                         json={"email": email, "password": PASSWORD})


def test_the_start_line_masks_the_database_password(deployment: Deployment) -> None:
    output = deployment.log.read_text()
    assert f"postgresql://{PG_USER}:***@127.0.0.1:{deployment.proxy.port}/" in output
    assert URL_PASSWORD not in output


def test_a_database_outage_is_answered_without_saying_where_the_database_is(
        deployment: Deployment) -> None:
    user = register_and_login(deployment.base_url, "outage")
    internals = ("127.0.0.1", str(deployment.proxy.port), deployment.database, "psycopg",
                 "postgresql", "connection", URL_PASSWORD)
    with deployment.proxy.down():
        login = log_in(deployment, user.email)
        register = requests.post(f"{deployment.base_url}/api/v1/auth/register",
                                 timeout=TIMEOUT, json={"email": "new@example.com",
                                                        "password": PASSWORD})
        health = requests.get(f"{deployment.base_url}/health", timeout=TIMEOUT)
        ready = requests.get(f"{deployment.base_url}/ready", timeout=TIMEOUT)

    for answer in (login, register):
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == {"code": "ServiceUnavailable",
                                          "message": "the database is unavailable"}
        assert not [word for word in internals if word in answer.text], answer.text
    assert health.status_code == 503
    services = health.json()["services"]
    assert (services["database"], services["blob_store"]) == ("unhealthy", "healthy")
    assert set(services) <= {"database", "blob_store", "container_engine"}
    assert set(health.json()) == {"status", "version", "timestamp", "services"}
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "detail": "unavailable: database"}

    # The first request the outage failed is logged with where the database is; the
    # requests failed after it are counted in the fault's summaries, not logged each.
    def logged(answer: requests.Response) -> list[dict[str, Any]]:
        return [e for e in deployment.log_entries()
                if e.get("request_id") == answer.headers["X-Request-ID"] and "detail" in e]

    [first] = logged(login)
    assert first["level"] == "warning" and first["fault_state"] == "started"
    assert f"127.0.0.1:{deployment.proxy.port}/{deployment.database}" in first["detail"]
    assert logged(register) == []
    assert URL_PASSWORD not in deployment.log.read_text()


def test_after_an_outage_no_request_fails_on_a_stale_connection(deployment: Deployment
                                                                 ) -> None:
    user = register_and_login(deployment.base_url, "stale")
    for _ in range(40):  # the worker's pool holds connections
        assert log_in(deployment, user.email).status_code == 200
    with deployment.proxy.down():
        time.sleep(3)
    statuses = [log_in(deployment, user.email).status_code for _ in range(60)]
    assert statuses == [200] * 60, statuses
