"""Schema-driven fuzzing of the live server against its own OpenAPI document.

schemathesis generates requests for every documented operation (as a real,
logged-in user; NUL characters included) and runs every one of its checks on
each response: no 5xx, only documented status codes, content types and headers,
bodies (and each server-sent event) that match their schemas, schema-violating
requests refused, and schema-valid requests accepted. The document and the
validation must agree exactly: a schema-valid request is refused only where its
validity is a matter the document cannot state (:func:`beyond_the_document`),
each named there for its own cases, never for a whole operation. It runs
against a server on SQLite and one on PostgreSQL (which refuses what SQLite
keeps, such as NUL characters). Bounded: MAX_EXAMPLES per operation,
derandomized (the same cases every run), and a time budget per server. A deeper
pass is the same test with ``SIMDOCK_FUZZ_EXAMPLES=200 SIMDOCK_FUZZ_BUDGET=0``
(no budget).
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, checks
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from simdock.handlers import ReportHandlerRegistry, SimulationHandlerRegistry
from simdock_adapters.plugins import installed_reports, installed_simulations
from simdock_adapters.settings import Settings
from tests.databases import create_postgres_database
from tests.e2e.helpers import SECRET_KEY, User, register_and_login
from tests.e2e.servers import running_server

#: Nothing is executed (no worker): fuzzed submissions cannot start minutes-long runs.
SERVER_ENV = {"DISPATCH": "database"}
MAX_EXAMPLES = int(os.environ.get("SIMDOCK_FUZZ_EXAMPLES", "20"))
#: Once the fuzzing has used this much time, the remaining examples are not sent (0: no limit).
BUDGET_SECONDS = float(os.environ.get("SIMDOCK_FUZZ_BUDGET", "55"))
#: A generated request over the server's own limits is rightly refused before any route
#: sees it: 413 (body), 414 (request line) and 431 (headers), in the envelope and documented.
OVER_LIMITS = ["413", "414", "431"]
CONFIG = {
    "phases": {"stateful": {"enabled": False}},
    # Unknown query parameters are ignored (OpenAPI cannot forbid them), so negative cases
    # that only add one would be reported as wrongly accepted.
    "generation": {"max-examples": MAX_EXAMPLES, "allow-extra-parameters": False,
                   "allow-x00": True},
    "checks": {"negative_data_rejection": {"expected-statuses": [
        "400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429",
        *OVER_LIMITS]}},
}

load_all_checks()
#: Every check schemathesis has, whatever its defaults.
ALL_CHECKS = CHECKS.get_all()
SUBMISSIONS = {("POST", "/api/v1/jobs"), ("POST", "/api/v1/simulations"),
               ("POST", "/api/v1/simulations/{unused_id}/create-bare-sql")}


def beyond_the_document(case: Case[Any]) -> str | None:
    """Why a schema-valid ``case`` may still be refused (400, in the envelope) by a rule
    no JSON Schema can state, or None when the document alone decides it."""
    operation = (case.operation.method.upper(), case.operation.path)
    query = case.query or {}
    body = case.body if isinstance(case.body, dict) else {}
    if query.get("cursor") is not None:
        return "a cursor is valid only as the server made it"
    if operation in SUBMISSIONS:
        if body.get("simulation_type") is not None:
            return "a handler checks its own parameters (names, values, memory needed)"
        if body.get("grid") is not None or body.get("zip") is not None:
            return "a zip's lists have one length, and a grid's product stays within " \
                   "MAX_SWEEP_VARIANTS"
    if operation == ("POST", "/api/v1/auth/register") and not str(
            body.get("email", "")).isascii():
        return "an email address is refused for characters that are unassigned, invisible " \
               "or look like others, by Unicode's tables"
    if operation == ("POST", "/api/v1/convergence/{run_id}/add-bare-sql"):
        named = body.get("run_id", body.get("simulation_id"))
        if named is not None and named != (case.path_parameters or {}).get("run_id"):
            return "a body may name only the run the path names"
    return None


def app_document() -> dict[str, Any]:
    """The OpenAPI document a server with default settings and the installed handlers serves,
    built by the app's own code without starting anything.

    schemathesis 4.32's lazy ``from_fixture`` loader breaks on pytest 9 (it sets
    ``Function._nodeid``), so the schema is needed at collection time, before the
    server is up; test_the_fuzzed_document_is_the_served_one checks it is the same.
    """
    from simdock_adapters.http.api import Api
    from simdock_adapters.http.routing import register_routes

    api = Api("simdock", "1.0.0", "")
    register_routes(api, Settings(), SimulationHandlerRegistry(installed_simulations()),
                    ReportHandlerRegistry(installed_reports()))
    return api.openapi()


DOCUMENT = app_document()
# Every operation, the two server-sent event streams too: a fuzzed run id names no run
# (404 at once), and test_event_streams_conform_to_their_document reads both to the end.
schema = schemathesis.openapi.from_dict(DOCUMENT, config=SchemathesisConfig.from_dict(CONFIG))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def base_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[str]:
    """A server (nothing executes: no fuzzed submission can start a long run) per backend."""
    directory = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    database = (f"sqlite:///{directory / 'simdock.db'}" if request.param == "sqlite"
                else create_postgres_database("simdock_fuzz"))
    with running_server(directory, SECRET_KEY=SECRET_KEY, DATABASE_URL=database,
                        DISPATCH="database") as url:
        yield url


@pytest.fixture(scope="module")
def user(base_url: str) -> User:
    return register_and_login(base_url, "fuzzer")


def test_the_fuzzed_document_is_the_served_one(base_url: str) -> None:
    served = requests.get(f"{base_url}/api/v1/openapi.json", timeout=30).json()
    assert served["paths"] == DOCUMENT["paths"]
    assert served["components"] == DOCUMENT["components"]


def test_every_check_runs() -> None:
    names = {check.__name__ for check in ALL_CHECKS}
    assert {"positive_data_acceptance", "negative_data_rejection", "response_schema_conformance",
            "status_code_conformance", "content_type_conformance", "ignored_auth",
            "not_a_server_error", "missing_required_header", "unsupported_method"} <= names


def test_only_named_cases_go_beyond_the_document() -> None:
    """The control: cases the document decides alone are not set aside."""
    jobs = schema["/api/v1/jobs"]
    assert beyond_the_document(jobs["POST"].Case(body={"params": {"n": 1}})) is None
    assert beyond_the_document(jobs["GET"].Case(query={"container_image": ""})) is None
    assert beyond_the_document(jobs["GET"].Case(query={"cursor": "x"})) is not None
    assert beyond_the_document(jobs["POST"].Case(body={"simulation_type": "noop"})) is not None


def test_event_streams_conform_to_their_document(base_url: str, user: User) -> None:
    """Each server-sent event of a finished run's streams matches the document."""
    run_id = user.post("/api/v1/jobs", json={"simulation_type": "noop"}).json()["jobs"][0]
    assert user.delete(f"/api/v1/jobs/{run_id}").json()["status"] == "cancelled"
    for path, name in (("/api/v1/jobs/{job_id}/logs/stream", "job_id"),
                       ("/api/v1/convergence/{run_id}/events", "run_id")):
        case = schema[path]["GET"].Case(path_parameters={name: run_id})
        response = case.call(base_url=base_url, headers=user.headers, timeout=30)
        assert response.status_code == 200 and "event: end" in response.text
        case.validate_response(response, checks=ALL_CHECKS, headers=user.headers,
                               transport_kwargs={"base_url": base_url,
                                                 "headers": user.headers, "timeout": 30})


def test_an_integral_number_is_an_integer(user: User) -> None:
    """JSON Schema's integer includes 441.0, so the body's integer fields take it as 441."""
    resources = DOCUMENT["components"]["schemas"]["ResourcesIn"]["properties"]
    assert resources["pids"]["anyOf"][0]["type"] == "integer"
    submitted = user.post("/api/v1/jobs", json={"container_image": "sim:local", "resources": {
        "pids": 441.0, "memory_mb": 64.0, "cpus": 1.0}})
    assert submitted.status_code == 201, submitted.text
    run = user.get(f"/api/v1/jobs/{submitted.json()['jobs'][0]}").json()
    assert run["resources"] == {"pids": 441, "memory_mb": 64, "cpus": 1.0}
    refused = user.post("/api/v1/jobs", json={"container_image": "sim:local",
                                              "resources": {"pids": 441.5}})
    assert refused.status_code == 422 and "resources.pids" in refused.text


@pytest.fixture(scope="module")
def fuzz_clock(base_url: str) -> Iterator[dict[str, float]]:
    clock = {"started": time.monotonic(), "skipped": 0.0}
    yield clock
    if clock["skipped"]:
        warnings.warn(f"the fuzzing budget of {BUDGET_SECONDS} s ran out: "
                      f"{clock['skipped']:.0f} generated cases were not sent", stacklevel=1)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_conforms_to_its_document(case: Case[Any], base_url: str, user: User,
                                          fuzz_clock: dict[str, float]) -> None:
    if BUDGET_SECONDS and time.monotonic() - fuzz_clock["started"] > BUDGET_SECONDS:
        fuzz_clock["skipped"] += 1
        return
    excluded = [checks.positive_data_acceptance] if beyond_the_document(case) else []
    response = case.call(base_url=base_url, headers=user.headers, timeout=30)
    case.validate_response(response, checks=ALL_CHECKS, headers=user.headers,
                           excluded_checks=excluded,
                           transport_kwargs={"base_url": base_url, "headers": user.headers,
                                             "timeout": 30})
