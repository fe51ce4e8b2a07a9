"""Schema-driven fuzzing of the live server against its own OpenAPI document.

schemathesis generates requests for every documented operation (as a real,
logged-in user) and checks each response against the document: no 5xx, only
documented status codes, content types and headers, and bodies that match
their schemas. Bounded: MAX_EXAMPLES per operation, derandomized (the same
cases every run), and a total time budget.
"""

from __future__ import annotations

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

from tests.e2e.helpers import User

#: Nothing is executed (no worker): fuzzed submissions cannot start minutes-long runs.
SERVER_ENV = {"DISPATCH": "database"}
MAX_EXAMPLES = 25
#: Once the fuzzing has used this much time, the remaining examples are not sent.
BUDGET_SECONDS = 75.0
CONFIG = {
    "phases": {"stateful": {"enabled": False}},
    # Unknown query parameters are ignored (OpenAPI cannot forbid them), so negative cases
    # that only add one would be reported as wrongly accepted.
    "generation": {"max-examples": MAX_EXAMPLES, "allow-extra-parameters": False},
}

#: positive_data_acceptance expects every schema-valid request to succeed, but the document
#: types some values as free strings whose valid set is only known at run time (plug-in
#: simulation types and report formats, status names with synonyms such as "success", image
#: references, e-mail addresses): those get 400, a documented response with the envelope.
ALWAYS_EXCLUDED = [checks.positive_data_acceptance]

#: Checks switched off where a known application bug would fail them; each bug has its own
#: strict-xfail test (named here). Remove the entry when that test's mark is removed.
KNOWN_BUGS: dict[tuple[str, str], list[Any]] = {
    # Not a bug: /api/v1/jobs/stats also matches the template /api/v1/jobs/{job_id}, so
    # its Allow header rightly lists PATCH and DELETE (which then answer 404 for "stats").
    ("GET", "/api/v1/jobs/stats"): [checks.allow_header_conformance],
}

#: 414 URI Too Long and 431 Request Header Fields Too Large, answered by gunicorn itself.
GUNICORN_LIMITS = {414, 431}


def app_document() -> dict[str, Any]:
    """The app's OpenAPI document, built by the app's own code without starting anything.

    schemathesis 4.32's lazy ``from_fixture`` loader breaks on pytest 9 (it sets
    ``Function._nodeid``), so the schema is needed at collection time, before the
    server is up; test_the_fuzzed_document_is_the_served_one checks it is the same.
    """
    from simdock_adapters.http.api import Api
    from simdock_adapters.http.routes import ROUTE_MODULES

    api = Api("simdock", "1.0.0", "")
    for module in ROUTE_MODULES:
        module.register(api)
    return api.openapi()


DOCUMENT = app_document()
# Excluded: the two server-sent event streams (jobs/{id}/logs/stream, convergence/{id}/events)
# stay open until their run finishes, and no run finishes on this server (nothing executes),
# so a fuzzed request naming a real run would never end. The download route is kept: any
# token the fuzzer makes is refused at once.
schema = schemathesis.openapi.from_dict(
    DOCUMENT, config=SchemathesisConfig.from_dict(CONFIG)).exclude(
    path_regex=r"/(logs/stream|events)$")


def test_the_fuzzed_document_is_the_served_one(base_url: str) -> None:
    served = requests.get(f"{base_url}/api/v1/openapi.json", timeout=30).json()
    assert served["paths"] == DOCUMENT["paths"]
    assert served["components"] == DOCUMENT["components"]


def test_known_bug_exclusions_name_documented_operations() -> None:
    documented = {(m.upper(), p) for p, item in DOCUMENT["paths"].items() for m in item}
    assert set(KNOWN_BUGS) <= documented


@pytest.fixture(scope="module")
def fuzz_clock() -> Iterator[dict[str, float]]:
    clock = {"started": time.monotonic(), "skipped": 0.0, "over_limits": 0.0}
    yield clock
    if clock["skipped"]:
        warnings.warn(f"the fuzzing budget of {BUDGET_SECONDS} s ran out: "
                      f"{clock['skipped']:.0f} generated cases were not sent", stacklevel=1)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_conforms_to_its_document(case: Case[Any], base_url: str, user: User,
                                          fuzz_clock: dict[str, float]) -> None:
    if time.monotonic() - fuzz_clock["started"] > BUDGET_SECONDS:
        fuzz_clock["skipped"] += 1
        return
    excluded = [*ALWAYS_EXCLUDED,
                *KNOWN_BUGS.get((case.operation.method.upper(), case.operation.path), ())]
    response = case.call(base_url=base_url, headers=user.headers, timeout=30)
    if response.status_code in GUNICORN_LIMITS:
        # A generated URL or header over gunicorn's limits gets gunicorn's HTML page: the
        # known bug of test_bad_input.py::test_oversized_urls_and_headers_get_the_envelope.
        fuzz_clock["over_limits"] += 1
        return
    case.validate_response(response, headers=user.headers, excluded_checks=excluded,
                           transport_kwargs={"base_url": base_url, "headers": user.headers,
                                             "timeout": 30})
