"""A NUL character anywhere in a request is a 4xx in the envelope, on SQLite and on PostgreSQL.

PostgreSQL cannot store U+0000 in text or JSONB (SQLite can), and seen before:
40 of 509 bad-input cases answered 500 on PostgreSQL only, among them a login
form with a NUL in the user name and ``GET /api/v1/jobs/%00`` on every route
that takes an id. Every case here runs against both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.databases import create_postgres_database
from tests.e2e.helpers import SECRET_KEY, TIMEOUT, User, assert_envelope, register_and_login
from tests.e2e.raw_http import exchange, request_head
from tests.e2e.servers import running_server

NUL = "\x00"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[str]:
    directory = tmp_path_factory.mktemp(f"nul-{request.param}")
    database = (f"sqlite:///{directory / 'simdock.db'}" if request.param == "sqlite"
                else create_postgres_database("simdock_nul"))
    with running_server(directory, SECRET_KEY=SECRET_KEY, DATABASE_URL=database,
                        DISPATCH="database") as url:
        yield url


@pytest.fixture(scope="module")
def user(server: str) -> User:
    return register_and_login(server, "nul")


@pytest.fixture(scope="module")
def ids(user: User) -> dict[str, str]:
    run = user.post("/api/v1/jobs", json={"simulation_type": "noop"}).json()
    machine = user.post("/api/v1/machines", json={"name": "m", "cpu": "x86", "memory": 4}).json()
    return {"run": run["jobs"][0], "job": run["simulation_id"], "machine": machine["id"]}


def refused(response: Any) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert_envelope(response, response.status_code)


@pytest.mark.parametrize("field", ["username", "password"])
def test_the_login_form(server: str, field: str) -> None:
    form = {"username": "a@x.com", "password": "securepassword123", field: f"a{NUL}b"}
    refused(requests.post(f"{server}/api/v1/auth/login", data=form, timeout=TIMEOUT))


BODIES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/v1/auth/register", {"email": f"a{NUL}b@x.com", "password": "password-123"}),
    ("POST", "/api/v1/auth/register",
     {"email": "nul-name@x.com", "password": "password-123", "full_name": f"a{NUL}b"}),
    ("POST", "/api/v1/auth/login", {"email": f"a{NUL}b@x.com", "password": "password-123"}),
    ("POST", "/api/v1/auth/tokens", {"name": f"ci{NUL}"}),
    ("POST", "/api/v1/jobs", {"simulation_type": "noop", "params": {"a": f"x{NUL}y"}}),
    ("POST", "/api/v1/jobs", {"simulation_type": "noop", "params": {f"a{NUL}": 1}}),
    ("POST", "/api/v1/jobs", {"simulation_type": "noop", "name": NUL}),
    ("POST", "/api/v1/jobs", {"simulation_type": "noop", "tags": [f"t{NUL}"]}),
    ("POST", "/api/v1/jobs", {"simulation_type": "noop", "metadata": {"k": [NUL]}}),
    ("POST", "/api/v1/jobs", {"simulation_type": f"noop{NUL}"}),
    ("POST", "/api/v1/jobs", {"container_image": f"sim{NUL}:local"}),
    ("POST", "/api/v1/jobs", {"simulation_type": "noop", "machine_id": f"m{NUL}"}),
    ("POST", "/api/v1/jobs", {"simulation_type": "noop", "sweep": [{"a": NUL}]}),
    ("POST", "/api/v1/jobs", {"simulation_type": "noop", "grid": {f"a{NUL}": [1]}}),
    ("POST", "/api/v1/simulations", {"simulation_type": "noop", "parameters": {"x": NUL}}),
    ("POST", "/api/v1/simulations", {"simulation_type": "noop", "job_metadata": {NUL: 1}}),
    ("POST", "/api/v1/reports", {"simulation_job_ids": [f"job{NUL}"], "report_type": "summary"}),
    ("POST", "/api/v1/reports", {"simulation_job_ids": ["{job}"], "report_type": f"s{NUL}"}),
    ("POST", "/api/v1/reports",
     {"simulation_job_ids": ["{job}"], "report_type": "summary", "output_format": NUL}),
    ("POST", "/api/v1/reports",
     {"simulation_job_ids": ["{job}"], "report_type": "summary", "parameters": {"t": NUL}}),
    ("POST", "/api/v1/machines", {"name": f"m{NUL}", "cpu": "x86", "memory": 4}),
    ("POST", "/api/v1/machines", {"name": "m", "cpu": "x86", "gpu": NUL, "memory": 4}),
    ("PATCH", "/api/v1/jobs/{run}", {"machine_id": f"mach{NUL}"}),
    ("POST", "/api/v1/convergence/data", {"run_id": f"run{NUL}", "value": 1.0}),
    ("POST", "/api/v1/convergence/data", {"run_id": "{run}", "value": 1.0, "name": f"l{NUL}"}),
]


@pytest.mark.parametrize(("method", "path", "body"), BODIES)
def test_a_json_value_or_key(user: User, ids: dict[str, str], method: str, path: str,
                             body: dict[str, Any]) -> None:
    filled = {k: ([v.format(**ids) for v in value] if k == "simulation_job_ids" else value)
              for k, value in body.items()}
    if isinstance(filled.get("run_id"), str):
        filled["run_id"] = filled["run_id"].format(**ids)
    refused(user.request(method, path.format(**ids), json=filled))


ID_ROUTES: list[tuple[str, str]] = [
    ("GET", "/api/v1/jobs/{x}"), ("PATCH", "/api/v1/jobs/{x}"), ("DELETE", "/api/v1/jobs/{x}"),
    ("GET", "/api/v1/jobs/{x}/detailed"), ("GET", "/api/v1/jobs/{x}/logs"),
    ("GET", "/api/v1/jobs/{x}/logs/stream"), ("GET", "/api/v1/jobs/{x}/result"),
    ("GET", "/api/v1/simulations/{x}"), ("GET", "/api/v1/simulations/{x}/detailed"),
    ("GET", "/api/v1/simulations/{x}/result"), ("POST", "/api/v1/simulations/{x}/cancel"),
    ("GET", "/api/v1/reports/{x}"), ("GET", "/api/v1/machines/{x}"),
    ("PATCH", "/api/v1/machines/{x}/status"), ("GET", "/api/v1/convergence/{x}/data"),
    ("GET", "/api/v1/convergence/{x}/graph"), ("GET", "/api/v1/convergence/{x}/stream"),
    ("GET", "/api/v1/convergence/{x}/events"), ("DELETE", "/api/v1/auth/tokens/{x}"),
    ("GET", "/api/v1/downloads/{x}"), ("GET", "/api/v1/no-such-route/{x}"),
]


@pytest.mark.parametrize("where", ["%00", "run-%00", "a%00b"])
@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
def test_an_id_in_the_path(user: User, method: str, path: str, where: str) -> None:
    body = {"machine_id": None} if method == "PATCH" else None
    refused(user.request(method, path.format(x=where), json=body))


@pytest.mark.parametrize("query", [
    "tag=a%00b", "simulation_type=%00", "status=%00", "order_by=%00", "machine_id=%00",
    "container_image=%00", "simulation_id=job-%00", "cursor=%00", "page=%00", "a%00=1",
])
@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/simulations", "/api/v1/reports",
                                  "/api/v1/machines"])
def test_a_query_filter(user: User, path: str, query: str) -> None:
    refused(user.get(f"{path}?{query}"))


def test_a_series_name_filter(user: User, ids: dict[str, str]) -> None:
    refused(user.get(f"/api/v1/convergence/{ids['run']}/data?name=loss%00"))


@pytest.mark.parametrize("header", ["X-Request-ID", "Authorization", "Offline-Token",
                                    "Content-Type"])
def test_a_header(server: str, user: User, header: str) -> None:
    value = "Bearer a\x00b" if header != "X-Request-ID" else "id\x00"
    headers = {"Authorization": f"Bearer {user.access_token}", header: value}
    refused(exchange(server, request_head("GET", "/api/v1/auth/me", headers)))


def test_a_metric_series_ends_at_its_last_step_with_a_clear_error(user: User,
                                                                    ids: dict[str, str]) -> None:
    # Seen: step 2147483647 was accepted, then the next point without a step was a 500 on
    # PostgreSQL ("integer out of range") and stored a step past the maximum on SQLite.
    last = {"run_id": ids["run"], "name": "edge", "value": 1.0, "step": 2**31 - 1}
    assert user.post("/api/v1/convergence/data", json=last).status_code == 201
    following = user.post("/api/v1/convergence/data",
                          json={"run_id": ids["run"], "name": "edge", "value": 2.0})
    body = assert_envelope(following, 400, "InvalidParameterValue")
    assert "no step after 2147483647" in body["error"]["message"]
    beyond = user.post("/api/v1/convergence/data", json={**last, "step": 2**31})
    assert_envelope(beyond, 422, "InvalidParameterValue")
    series = user.get(f"/api/v1/convergence/{ids['run']}/data?name=edge").json()
    assert [p["step"] for p in series["points"]] == [2**31 - 1]
