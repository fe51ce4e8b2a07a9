"""Schema-driven fuzzing of the live server against its own OpenAPI document.

schemathesis generates requests for every documented operation (as a real,
logged-in user; NUL characters included) and checks each response against the
document: no 5xx, only documented status codes, content types and headers,
bodies that match their schemas, schema-violating requests refused and, where
the document can say exactly what is valid, schema-valid requests accepted.
It runs against a server on SQLite and one on PostgreSQL (which refuses what
SQLite keeps, such as NUL characters). Bounded: MAX_EXAMPLES per operation,
derandomized (the same cases every run), and a time budget per server. A deeper
pass (the issue's 200 examples per operation) is the same test with
``SIMDOCK_FUZZ_EXAMPLES=200 SIMDOCK_FUZZ_BUDGET=0`` (no budget).
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
from schemathesis.config import SchemathesisConfig

from simdock.handlers import ReportHandlerRegistry, SimulationHandlerRegistry
from simdock_adapters.plugins import installed_reports, installed_simulations
from simdock_adapters.settings import Settings
from tests.databases import create_postgres_database
from tests.e2e.helpers import SECRET_KEY, User, register_and_login
from tests.e2e.servers import running_server

#: Nothing is executed (no worker): fuzzed submissions cannot start minutes-long runs.
SERVER_ENV = {"DISPATCH": "database"}
MAX_EXAMPLES = int(os.environ.get("SIMDOCK_FUZZ_EXAMPLES", "25"))
#: Once the fuzzing has used this much time, the remaining examples are not sent (0: no limit).
BUDGET_SECONDS = float(os.environ.get("SIMDOCK_FUZZ_BUDGET", "75"))
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

#: Where a schema-valid request may still be refused, with a 400 in the envelope, because its
#: validity is not a matter of the document: a simulation's parameters are checked by its
#: handler, a cursor is valid only as the server made it, and a point's body may name its run
#: only if that is the run in the path.
NOT_ALWAYS_ACCEPTED: dict[tuple[str, str], list[Any]] = {
    ("POST", "/api/v1/jobs"): [checks.positive_data_acceptance],
    ("POST", "/api/v1/simulations"): [checks.positive_data_acceptance],
    ("POST", "/api/v1/simulations/{unused_id}/create-bare-sql"): [checks.positive_data_acceptance],
    ("GET", "/api/v1/jobs"): [checks.positive_data_acceptance],
    ("POST", "/api/v1/convergence/{run_id}/add-bare-sql"): [checks.positive_data_acceptance],
    ("GET", "/api/v1/simulations"): [checks.positive_data_acceptance],
}


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
# Excluded: the two server-sent event streams (jobs/{id}/logs/stream, convergence/{id}/events)
# stay open until their run finishes, and no run finishes on this server (nothing executes),
# so a fuzzed request naming a real run would never end. The download route is kept: any
# token the fuzzer makes is refused at once.
schema = schemathesis.openapi.from_dict(
    DOCUMENT, config=SchemathesisConfig.from_dict(CONFIG)).exclude(
    path_regex=r"/(logs/stream|events)$")


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


def test_exclusions_name_documented_operations() -> None:
    documented = {(m.upper(), p) for p, item in DOCUMENT["paths"].items() for m in item}
    assert set(NOT_ALWAYS_ACCEPTED) <= documented


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
    excluded = NOT_ALWAYS_ACCEPTED.get((case.operation.method.upper(), case.operation.path), [])
    response = case.call(base_url=base_url, headers=user.headers, timeout=30)
    case.validate_response(response, headers=user.headers, excluded_checks=excluded,
                           transport_kwargs={"base_url": base_url, "headers": user.headers,
                                             "timeout": 30})
