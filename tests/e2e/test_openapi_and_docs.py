"""The OpenAPI document, the Swagger UI pages, CORS and the Prometheus metrics.

``openapi_spec_validator`` is not installed in the project's environment, so
the document is validated against the official OpenAPI 3.1 JSON schema that
schemathesis bundles, and every schema in it against the JSON Schema 2020-12
meta-schema (both with ``jsonschema_rs``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jsonschema_rs
import pytest
import requests
from schemathesis.specs.openapi.definitions import OPENAPI_31

from tests.e2e.helpers import SECRET_KEY, TIMEOUT, User, assert_envelope, register_and_login
from tests.e2e.servers import running_server

#: Routes that are deliberately not API operations: the document itself, the
#: Swagger UI and ReDoc pages and their files, WebSockets (not describable in
#: OpenAPI 3.1) and the Prometheus scrape endpoint.
NOT_OPERATIONS = re.compile(r"^((/api/v1)?/openapi\.json|/(api/v1/)?(docs|redoc)(/.*)?|"
                            r"/static/.*|/redoc-assets/.*|(/api/v1)?/ws/.*|/metrics)$")
VALIDATOR = jsonschema_rs.validator_for(OPENAPI_31)


@pytest.fixture(scope="module")
def document(base_url: str) -> dict[str, Any]:
    response = requests.get(f"{base_url}/api/v1/openapi.json", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    errors = [f"{list(e.instance_path)}: {e.message}" for e in VALIDATOR.iter_errors(document)]
    assert not errors, "\n".join(errors[:20])
    assert document["info"]["title"] and document["info"]["version"]


def test_the_validator_catches_an_invalid_document(document: dict[str, Any]) -> None:
    """The control: the meta-schema really checks (a response without description fails)."""
    broken = copy.deepcopy(document)
    broken["paths"]["/health"]["get"]["responses"]["200"].pop("description")
    assert not VALIDATOR.is_valid(broken)


def schemas_in(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON schema the document holds (components, parameters, media types)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema" and isinstance(value, dict):
                yield value
            else:
                yield from schemas_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from schemas_in(value)


def test_every_schema_is_valid_json_schema(document: dict[str, Any]) -> None:
    schemas = list(schemas_in(document["paths"])) + list(
        document["components"]["schemas"].values())
    assert len(schemas) > 50
    invalid = [s for s in schemas if not jsonschema_rs.meta.is_valid(s)]
    assert not invalid, invalid[:3]


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    text = repr(document)
    refs = set(re.findall(r"'\$ref': '([^']+)'", text))
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in document["components"]["schemas"], ref


def test_operations_are_well_formed(document: dict[str, Any]) -> None:
    operation_ids = []
    for path, item in document["paths"].items():
        declared = set(re.findall(r"{(\w+)}", path))
        for method, spec in item.items():
            operation_ids.append(spec["operationId"])
            params = {p["name"] for p in spec.get("parameters", []) if p["in"] == "path"}
            assert params == declared, (method, path)
            assert spec["summary"], (method, path)
            assert any(code.startswith("2") for code in spec["responses"]), (method, path)
            for code, response in spec["responses"].items():
                if int(code) >= 400 and (path, code) not in {("/health", "503"),
                                                              ("/ready", "503")}:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}
            if spec.get("security"):
                assert "401" in spec["responses"], (method, path)
    assert len(operation_ids) == len(set(operation_ids))
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.fixture(scope="module")
def app_routes(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    """``(METHOD, path)`` of every /api/v1-family route the Flask app really serves (built
    in-process). The Epistemix dialect's routes and its file links are left out: their
    contract is the Pact file (pacts/epx-epistemix.json), verified by
    tests/epistemix_pact."""
    from simdock_adapters.http.app import create_app
    from simdock_adapters.settings import Settings

    directory: Path = tmp_path_factory.mktemp("routes")
    app = create_app(Settings(database_url=f"sqlite:///{directory}/x.db",
                              artifacts_path=str(directory), dispatch="database",
                              secret_key=SECRET_KEY, enable_metrics=True))
    try:
        routes = set()
        for rule in app.url_map.iter_rules():
            if rule.endpoint.split(".")[0] in {"epistemix", "files", "dashboard"}:  # not API
                continue
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                routes.add((method, path))
        return routes
    finally:
        app.extensions["simdock"].platform.close()


def test_every_route_of_the_app_is_documented(document: dict[str, Any],
                                              app_routes: set[tuple[str, str]]) -> None:
    documented = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item}
    operations = {(m, p) for m, p in app_routes if not NOT_OPERATIONS.match(p)}
    assert operations - documented == set(), "routes missing from the document"
    assert documented - app_routes == set(), "documented operations the app does not serve"
    assert len(documented) >= 38


# -- Swagger UI --------------------------------------------------------------


class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"href", "src"} and value:
                self.urls.append(value)


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/docs/"])
def test_swagger_ui_pages(base_url: str, page: str) -> None:
    response = requests.get(base_url + page, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert '"url": "/api/v1/openapi.json"' in response.text
    parser = Assets()
    parser.feed(response.text)
    assets = parser.urls
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    kinds = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for asset in assets:
        fetched = requests.get(urljoin(base_url + page, asset), timeout=TIMEOUT)
        assert fetched.status_code == 200, asset
        assert len(fetched.content) > 100, asset
        suffix = Path(asset).suffix
        assert kinds[suffix] in fetched.headers["Content-Type"], asset
    without_slash = requests.get(base_url + page.rstrip("/"), timeout=TIMEOUT)
    assert without_slash.status_code == 200 and without_slash.url.endswith(page)


def test_the_document_is_also_at_the_root(base_url: str, document: dict[str, Any]) -> None:
    """Where seed 003 (and FastAPI's habit) looks for it: the same document."""
    response = requests.get(f"{base_url}/openapi.json", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == document


# -- ReDoc -------------------------------------------------------------------


@pytest.mark.parametrize("page", ["/redoc", "/api/v1/redoc", "/redoc/"])
def test_redoc_pages_load_nothing_from_elsewhere(base_url: str, page: str,
                                                 document: dict[str, Any]) -> None:
    response = requests.get(base_url + page, timeout=TIMEOUT, allow_redirects=False)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert '<redoc spec-url="/api/v1/openapi.json">' in response.text
    parser = Assets()
    parser.feed(response.text)
    assert parser.urls, "the page loads no script"
    for asset in parser.urls:
        url = urljoin(base_url + page, asset)
        assert url.startswith(base_url + "/"), f"{asset} is not served by the app itself"
        fetched = requests.get(url, timeout=TIMEOUT)
        assert fetched.status_code == 200, asset
        assert "javascript" in fetched.headers["Content-Type"], asset
        assert len(fetched.content) > 100_000 and b"Redoc" in fetched.content[:4096], asset
        assert "cdn." not in asset and "//" not in asset
    spec = requests.get(base_url + "/api/v1/openapi.json", timeout=TIMEOUT)
    assert spec.json() == document


def test_redoc_ships_with_its_licence() -> None:
    from simdock_adapters.http.redoc import ASSETS, REDOC_VERSION

    assert "MIT License" in (ASSETS / "LICENSE").read_text()
    bundle = (ASSETS / "redoc.standalone.js").read_text(encoding="utf-8", errors="replace")
    assert f'Version: "{REDOC_VERSION}"' in (ASSETS / "redoc.standalone.js.LICENSE.txt"
                                            ).read_text()
    assert "redoc.standalone.js.LICENSE.txt" in bundle[:200]


# -- CORS --------------------------------------------------------------------


def test_cors_allows_any_origin_by_default(base_url: str, user: User) -> None:
    origin = {"Origin": "http://example.com"}
    for response in (requests.get(f"{base_url}/health", headers=origin, timeout=TIMEOUT),
                     requests.get(f"{base_url}/api/v1/jobs", headers=origin, timeout=TIMEOUT),
                     user.get("/api/v1/jobs", headers=origin)):
        assert response.headers["Access-Control-Allow-Origin"] in {"*", "http://example.com"}
        assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]
    preflight = requests.options(f"{base_url}/api/v1/jobs", timeout=TIMEOUT, headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] in {"*", "http://example.com"}
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()


# -- metrics, and CORS limited to configured origins -------------------------


@pytest.fixture(scope="module")
def metrics_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("metrics"), SECRET_KEY=SECRET_KEY,
                        ENABLE_METRICS="true",
                        CORS_ORIGINS="http://allowed.example, http://other.example") as url:
        yield url


def test_metrics_are_off_by_default(base_url: str) -> None:
    assert_envelope(requests.get(f"{base_url}/metrics", timeout=TIMEOUT), 404,
                    "ResourceNotFound")


def test_prometheus_metrics(metrics_server: str) -> None:
    user = register_and_login(metrics_server, "metrics")
    submitted = user.post("/api/v1/jobs", json={"simulation_type": "noop"})
    assert submitted.status_code == 201
    user.get("/api/v1/jobs/run-unknown")
    response = requests.get(f"{metrics_server}/metrics", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = response.text
    assert "# TYPE simdock_http_requests_total counter" in text
    assert re.search(r'simdock_http_requests_total\{endpoint="/api/v1/jobs",method="POST",'
                     r'status="201"\} [1-9]', text)
    assert re.search(r'simdock_http_requests_total\{endpoint="/api/v1/jobs/<job_id>",'
                     r'method="GET",status="404"\} [1-9]', text)
    assert "simdock_http_request_duration_seconds_bucket" in text
    assert "# TYPE simdock_runs gauge" in text
    statuses = dict(re.findall(r'^simdock_runs\{status="(\w+)"\} ([0-9.]+)$', text, re.M))
    assert {"queued", "running", "succeeded", "failed", "cancelled"} <= set(statuses)
    assert sum(float(v) for v in statuses.values()) >= 1
    assert "simdock_queue_depth" in text


def test_cors_is_limited_to_the_configured_origins(metrics_server: str) -> None:
    allowed = requests.get(f"{metrics_server}/health", timeout=TIMEOUT,
                           headers={"Origin": "http://other.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://other.example"
    refused = requests.get(f"{metrics_server}/health", timeout=TIMEOUT,
                           headers={"Origin": "http://example.com"})
    assert "Access-Control-Allow-Origin" not in refused.headers


# -- responses the document does not describe --------------------------------


def test_a_failed_login_is_a_documented_401(base_url: str, user: User,
                                            document: dict[str, Any]) -> None:
    response = requests.post(f"{base_url}/api/v1/auth/login", timeout=TIMEOUT,
                             data={"username": user.email, "password": "wrong-password"})
    assert_envelope(response, 401, "AuthenticationFailure")
    assert "401" in document["paths"]["/api/v1/auth/login"]["post"]["responses"]


def test_a_request_without_its_required_body_is_refused(base_url: str, user: User,
                                                        document: dict[str, Any]) -> None:
    problems = []
    for path, item in document["paths"].items():
        for method, spec in item.items():
            if not spec.get("requestBody", {}).get("required") or "{" in path:
                continue
            response = requests.request(method, base_url + path, headers=user.headers,
                                        timeout=TIMEOUT)
            if response.status_code < 400:
                problems.append(f"{method.upper()} {path}: {response.status_code}")
    assert not problems, problems


# -- The document says what validation accepts ---------------------------------
# Seen: the document allowed a timeout of 604,800 s while MAX_JOB_TIMEOUT is 3,600, both an
# image and a simulation type, any email, and declared event streams as plain JSON strings;
# schemathesis' schema-valid requests were then refused. Each limit is checked on both sides.


def test_the_documented_timeout_is_the_server_s_maximum(document: dict[str, Any],
                                                        base_url: str, user: User) -> None:
    timeout = document["components"]["schemas"]["JobSubmission"]["properties"]["timeout"]
    maximum = next(s["maximum"] for s in timeout["anyOf"] if "maximum" in s)
    assert maximum == 3600.0
    for value, accepted in ((maximum, True), (maximum + 1, False)):
        response = requests.post(f"{base_url}/api/v1/jobs", headers=user.headers, timeout=TIMEOUT,
                                 json={"simulation_type": "noop", "timeout": value})
        assert (response.status_code == 201) is accepted, response.text


def test_an_image_and_a_type_together_are_refused_as_documented(document: dict[str, Any],
                                                                base_url: str, user: User
                                                                ) -> None:
    refused = document["components"]["schemas"]["JobSubmission"]["not"]
    assert set(refused["required"]) == {"container_image", "simulation_type"}
    response = requests.post(f"{base_url}/api/v1/jobs", headers=user.headers, timeout=TIMEOUT,
                             json={"simulation_type": "noop", "container_image": "sim:local"})
    assert_envelope(response, 422)


def test_the_documented_email_pattern_is_the_one_registration_checks(
        document: dict[str, Any], base_url: str) -> None:
    email = document["components"]["schemas"]["Registration"]["properties"]["email"]
    pattern = re.compile(email["pattern"])
    for address in ("someone@example.com", "no-at-sign.example.com", "a@b"):
        response = requests.post(f"{base_url}/api/v1/auth/register", timeout=TIMEOUT, json={
            "email": address, "password": "securepassword123"})
        assert (response.status_code == 201) is bool(pattern.search(address)), (address,
                                                                              response.text)


def test_event_streams_are_documented_as_event_streams(document: dict[str, Any]) -> None:
    streams = [path for path in document["paths"] if path.endswith(("/logs/stream", "/events"))]
    assert len(streams) == 2
    for path in streams:
        content = document["paths"][path]["get"]["responses"]["200"]["content"]
        assert list(content) == ["text/event-stream"], path
