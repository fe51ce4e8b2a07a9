"""Bad requests get the error envelope with the right status: never HTML, never a 500.

Malformed and mistyped bodies, unknown simulation types, impossible sweeps,
out-of-range pagination, oversized bodies (with a Content-Length or chunked),
unknown routes and methods, requests gunicorn refuses before the application
sees them, and the request id that ties an error to the server's log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.helpers import TIMEOUT, User, assert_envelope, register_and_login
from tests.e2e.raw_http import chunked, exchange, request_head
from tests.e2e.servers import running_server

#: Every endpoint that reads a JSON body, with a valid body for it (ids filled in by ``body``).
BODY_ENDPOINTS: list[tuple[str, str]] = [
    ("POST", "/api/v1/auth/register"), ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/tokens"), ("POST", "/api/v1/jobs"), ("PATCH", "/api/v1/jobs/{run}"),
    ("POST", "/api/v1/simulations"), ("POST", "/api/v1/reports"), ("POST", "/api/v1/machines"),
    ("PATCH", "/api/v1/machines/{machine}/status"), ("POST", "/api/v1/convergence/data"),
]
LISTS = ["/api/v1/jobs", "/api/v1/simulations", "/api/v1/reports", "/api/v1/machines"]
HEX_ID = re.compile(r"^[0-9a-f]{32}$")
#: MAX_CONTENT_LENGTH's default.
DEFAULT_LIMIT = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def ids(user: User) -> dict[str, str]:
    run = user.post("/api/v1/jobs", json={"simulation_type": "noop"})
    machine = user.post("/api/v1/machines", json={"name": "m", "cpu": "x86", "memory": 4})
    assert run.status_code == 201 and machine.status_code == 201
    return {"run": run.json()["jobs"][0], "job": run.json()["simulation_id"],
            "machine": machine.json()["id"]}


def url(user: User, path: str, ids: dict[str, str]) -> str:
    return user.url(path.format(**ids))


def test_malformed_json_is_400(user: User, ids: dict[str, str]) -> None:
    for method, path in BODY_ENDPOINTS:
        for raw in ('{"simulation_type": ', "{bad", "[1, 2", b'{"s": "\xff"}', "nul\x00l"):
            response = requests.request(method, url(user, path, ids), data=raw,
                                        timeout=TIMEOUT, headers={
                                            **user.headers, "Content-Type": "application/json"})
            body = assert_envelope(response, 400, "InvalidParameterValue")
            assert "not valid JSON" in body["error"]["message"], (method, path, raw)


def test_a_json_body_that_is_not_an_object_is_422(user: User, ids: dict[str, str]) -> None:
    for method, path in BODY_ENDPOINTS:
        for raw in ("[1, 2]", '"text"', "42", "null", "true"):
            response = requests.request(method, url(user, path, ids), data=raw,
                                        timeout=TIMEOUT, headers={
                                            **user.headers, "Content-Type": "application/json"})
            assert_envelope(response, 422, "InvalidParameterValue")


def test_wrong_content_type_is_415(user: User, ids: dict[str, str]) -> None:
    for method, path in BODY_ENDPOINTS:
        for content_type in ("text/plain", "application/xml", "application/octet-stream"):
            response = requests.request(method, url(user, path, ids), data="{}",
                                        timeout=TIMEOUT,
                                        headers={**user.headers, "Content-Type": content_type})
            body = assert_envelope(response, 415, "UnsupportedMediaType")
            assert content_type in body["error"]["message"]
    form = user.post("/api/v1/jobs", data={"simulation_type": "noop"})
    assert_envelope(form, 415, "UnsupportedMediaType")


def test_the_login_form_is_the_only_form_accepted(base_url: str, user: User) -> None:
    response = requests.post(f"{base_url}/api/v1/auth/login", timeout=TIMEOUT,
                             data={"username": user.email, "password": user.password})
    assert response.status_code == 200
    missing = requests.post(f"{base_url}/api/v1/auth/login", data={"username": user.email},
                            timeout=TIMEOUT)
    assert_envelope(missing, 422, "InvalidParameterValue")


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/simulations", {"simulation_type": 5}, "simulation_type"),
    ("/api/v1/simulations", {"simulation_type": "noop", "timeout": "soon"}, "timeout"),
    ("/api/v1/simulations", {"simulation_type": "noop", "tags": "a,b"}, "tags"),
    ("/api/v1/simulations", {"simulation_type": "noop", "unknown": 1}, "unknown"),
    ("/api/v1/simulations", {}, "simulation_type"),
    ("/api/v1/jobs", {"simulation_type": ["heat1d"]}, "simulation_type"),
    ("/api/v1/jobs", {"simulation_type": "noop", "metadata": [1]}, "metadata"),
    ("/api/v1/jobs", {"simulation_type": "noop", "sweep": [1, 2]}, "sweep"),
    ("/api/v1/jobs", {"simulation_type": "noop", "grid": {"a": 5}}, "grid"),
    ("/api/v1/jobs", {"simulation_type": "noop", "timeout": -1}, "timeout"),
    ("/api/v1/jobs", {"container_image": "sim:local", "simulation_type": "noop"}, "not both"),
    ("/api/v1/reports", {"simulation_job_ids": "job-1", "report_type": "summary"},
     "simulation_job_ids"),
    ("/api/v1/reports", {"simulation_job_ids": [], "report_type": "summary"},
     "simulation_job_ids"),
    ("/api/v1/machines", {"name": "m", "cpu": "c", "memory": "lots"}, "memory"),
    ("/api/v1/machines", {"name": "m", "cpu": "c", "memory": -1}, "memory"),
    ("/api/v1/convergence/data", {"run_id": "run-1", "value": "low"}, "value"),
    ("/api/v1/convergence/data", {"run_id": "run-1", "value": 1, "step": -1}, "step"),
    ("/api/v1/auth/register", {"email": "a@b.co", "password": 12345678}, "password"),
    ("/api/v1/auth/tokens", {"name": 7}, "name"),
])
def test_wrong_types_are_422(user: User, path: str, body: dict[str, Any], field: str) -> None:
    response = user.post(path, json=body)
    envelope = assert_envelope(response, 422, "InvalidParameterValue")
    assert field in envelope["error"]["message"]


def test_params_that_are_not_an_object_are_422(user: User) -> None:
    for path, name in (("/api/v1/jobs", "params"), ("/api/v1/simulations", "parameters")):
        for value in ([1, 2], "x=1", 3, True):
            body = {"simulation_type": "noop", name: value}
            envelope = assert_envelope(user.post(path, json=body), 422, "InvalidParameterValue")
            assert name in envelope["error"]["message"]


def test_unknown_simulation_type_is_400_naming_it(user: User) -> None:
    for path in ("/api/v1/jobs", "/api/v1/simulations"):
        response = user.post(path, json={"simulation_type": "heat2d"})
        envelope = assert_envelope(response, 400, "InvalidParameterValue")
        assert "heat2d" in envelope["error"]["message"]
        assert "heat1d" in envelope["error"]["message"]  # and says what is known


def test_invalid_parameters_are_400_naming_them(user: User) -> None:
    for body, words in (({"simulation_type": "heat1d", "params": {"time_steps": -5}},
                         "time_steps"),
                        ({"simulation_type": "heat1d", "params": {"bogus": 1}}, "bogus"),
                        ({"simulation_type": "heat1d", "params": {
                            "spatial_steps": 100_000_000, "time_steps": 200,
                            "end_time": 1e-12, "snapshots": 2}}, "MAX_RUN_MEMORY_MB")):
        envelope = assert_envelope(user.post("/api/v1/jobs", json=body), 400)
        assert words in envelope["error"]["message"]
    envelope = assert_envelope(user.post("/api/v1/jobs", json={"container_image": "Not An!"}),
                               400)  # and the document's pattern says so too
    assert "not a container image reference: 'Not An!'" in envelope["error"]["message"]
    for raw in ('{"simulation_type": "noop", "params": {"x": NaN}}',
                '{"simulation_type": "noop", "params": {"x": [Infinity]}}'):
        envelope = assert_envelope(raw_post(user, "/api/v1/jobs", raw), 400)
        assert "finite" in envelope["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/simulations"])
def test_impossible_sweeps_are_400(user: User, path: str) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"sweep": []}, "at least one variant"),
        ({"sweep": [{}] * 100_001}, "100000"),
        ({"grid": {"a": list(range(1000)), "b": list(range(101))}}, "100000"),
        ({"grid": {"diffusivity": []}}, "'diffusivity' is empty"),
        ({"grid": {"a": [1], "b": []}}, "'b' is empty"),
        ({"grid": {}}, "grid"),
        ({"zip": {"a": [1, 2], "b": [1]}}, "equal lengths"),
        ({"sweep": [{}], "grid": {"a": [1]}}, "exactly one"),
    ]
    before = user.get("/api/v1/jobs?size=1").json()["total"]
    for extra, words in cases:
        response = user.post(path, json={"simulation_type": "noop", **extra})
        envelope = assert_envelope(response, 400)
        assert words in envelope["error"]["message"], (extra.keys(), envelope)
    assert user.get("/api/v1/jobs?size=1").json()["total"] == before  # nothing was created


@pytest.mark.parametrize("path", LISTS)
def test_bad_page_numbers_and_sizes_are_422(user: User, path: str) -> None:
    for query in ("page=0", "page=-1", "page=1000001", f"page={10 ** 30}", "page=abc",
                  "page=1.5", "page=", "size=0", "size=-3", "size=1001", f"size={10 ** 30}",
                  "page_size=0", "page_size=-1", "page_size=100000", "page_size=ten"):
        response = user.get(f"{path}?{query}")
        envelope = assert_envelope(response, 422, "InvalidParameterValue")
        assert query.split("=")[0] in envelope["error"]["message"], (path, query)


@pytest.mark.parametrize("path", LISTS)
def test_the_largest_page_numbers_and_sizes_are_served(user: User, path: str) -> None:
    response = user.get(f"{path}?page=1000000&page_size=1000")
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [] and response.json()["page_size"] == 1000


def test_unknown_filters_are_refused(user: User) -> None:
    assert_envelope(user.get("/api/v1/jobs?status=bogus"), 400)
    assert_envelope(user.get("/api/v1/simulations?status=bogus"), 400)
    assert_envelope(user.get("/api/v1/reports?status=bogus"), 422)
    assert_envelope(user.get("/api/v1/machines?status=broken"), 422)
    assert_envelope(user.get("/api/v1/jobs?order_by=password"), 400)
    # Seen by the deep fuzzing pass: an empty order_by was accepted, but is not documented.
    for path in ("/api/v1/jobs", "/api/v1/simulations"):
        assert "order_by" in assert_envelope(user.get(f"{path}?order_by="), 400)["error"][
            "message"]


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("small"), MAX_CONTENT_LENGTH="2048") as url:
        yield url


def test_a_body_over_the_limit_is_413(small_server: str) -> None:
    created = requests.post(f"{small_server}/api/v1/auth/register", timeout=TIMEOUT,
                            json={"email": "big@example.com", "password": "securepassword123"})
    assert created.status_code == 201
    big = {"email": "big2@example.com", "password": "securepassword123",
           "full_name": "x" * 4000}
    response = requests.post(f"{small_server}/api/v1/auth/register", json=big, timeout=TIMEOUT)
    envelope = assert_envelope(response, 413, "ResourceLimitExceeded")
    assert "2048" in envelope["error"]["message"]
    token = requests.post(f"{small_server}/api/v1/auth/login", timeout=TIMEOUT, json={
        "email": "big@example.com", "password": "securepassword123"}).json()["access_token"]
    sweep: dict[str, Any] = {"simulation_type": "noop",
                             "sweep": [{"i": i} for i in range(500)]}
    response = requests.post(f"{small_server}/api/v1/jobs", json=sweep, timeout=TIMEOUT,
                             headers={"Authorization": f"Bearer {token}"})
    assert_envelope(response, 413, "ResourceLimitExceeded")
    small = requests.post(f"{small_server}/api/v1/jobs", json={"simulation_type": "noop"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert small.status_code == 201


@pytest.fixture(scope="module")
def small_user(small_server: str) -> User:
    return register_and_login(small_server, "small")


def test_every_body_over_the_limit_is_413(small_user: User) -> None:
    """Whatever the route and however the body is framed; nothing is created."""
    run = small_user.post("/api/v1/jobs", json={"simulation_type": "noop"}).json()["jobs"][0]
    machine = small_user.post("/api/v1/machines",
                              json={"name": "m", "cpu": "x86", "memory": 4}).json()["id"]
    totals = {path: small_user.get(f"{path}?size=1").json()["total"] for path in LISTS}
    for method, path in BODY_ENDPOINTS:
        target = path.format(run=run, machine=machine)
        for size, framing in ((2049, "chunked"), (3000, "chunked"), (2049, "length")):
            body = b'{"simulation_type": "noop"}'.ljust(size)
            headers = {**small_user.headers, "Content-Type": "application/json"}
            if framing == "chunked":
                head = request_head(method, target, {**headers, "Transfer-Encoding": "chunked"})
                response = exchange(small_user.base_url, head, chunked(body, 500))
            else:
                head = request_head(method, target, {**headers, "Content-Length": str(size)})
                response = exchange(small_user.base_url, head, [body])
            envelope = assert_envelope(response, 413, "ResourceLimitExceeded")
            assert "2048" in envelope["error"]["message"], (method, path, framing)
    form = f"username={small_user.email}&password={'x' * 3000}".encode()
    head = request_head("POST", "/api/v1/auth/login", {
        "Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked"})
    assert_envelope(exchange(small_user.base_url, head, chunked(form, 500)), 413,
                    "ResourceLimitExceeded")
    assert {path: small_user.get(f"{path}?size=1").json()["total"] for path in LISTS} == totals


def test_a_chunked_body_within_the_limit_is_read_whole(small_user: User) -> None:
    head = request_head("POST", "/api/v1/jobs", {
        **small_user.headers, "Content-Type": "application/json",
        "Transfer-Encoding": "chunked"})
    for size in (2047, 2048):
        response = exchange(small_user.base_url, head, chunked(padded_job(size), 100))
        assert response.status_code == 201, response.text


def test_unknown_routes_are_404(base_url: str, user: User) -> None:
    for path in ("/api/v1/nope", "/api/v1/jobs/x/y/z", "/api/v1/simulations/x/unknown",
                 "/api/v1/", "/api/v1/auth"):
        response = requests.get(base_url + path, headers=user.headers, timeout=TIMEOUT)
        assert_envelope(response, 404, "ResourceNotFound")
    response = requests.post(f"{base_url}/api/v1/nope", json={}, timeout=TIMEOUT)
    assert_envelope(response, 404, "ResourceNotFound")
    for path in ("/nope", "/api/v2/jobs"):  # the root is the Epistemix dialect's
        response = requests.get(base_url + path, headers=user.headers, timeout=TIMEOUT)
        assert response.status_code == 404
        assert response.json() == {"description": "no such resource or route"}


def test_wrong_methods_are_405(base_url: str, user: User, ids: dict[str, str]) -> None:
    for method, path, allowed in (
        ("PUT", "/health", {"GET"}),
        ("DELETE", "/api/v1/jobs", {"GET", "POST"}),
        ("PUT", "/api/v1/jobs/{run}", {"GET", "PATCH", "DELETE"}),
        ("GET", "/api/v1/auth/login", {"POST"}),
        ("PATCH", "/api/v1/simulations/{job}", {"GET", "PUT", "DELETE"}),
        ("POST", "/api/v1/reports/rpt-1", {"GET"}),
        ("PATCH", "/api/v1/machines", {"GET", "POST"}),
    ):
        response = requests.request(method, base_url + path.format(**ids), json={},
                                    headers=user.headers, timeout=TIMEOUT)
        assert_envelope(response, 405, "MethodNotAllowed")
        assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_request_ids(base_url: str) -> None:
    given = requests.get(f"{base_url}/live", headers={"X-Request-ID": "trace-42.a:b_c"},
                         timeout=TIMEOUT)
    assert given.headers["X-Request-ID"] == "trace-42.a:b_c"
    error = requests.get(f"{base_url}/api/v1/nope", headers={"X-Request-ID": "abc-123"},
                         timeout=TIMEOUT)
    assert assert_envelope(error, 404)["request_id"] == "abc-123"

    generated = {requests.get(f"{base_url}/live", timeout=TIMEOUT).headers["X-Request-ID"]
                 for _ in range(3)}
    assert len(generated) == 3 and all(HEX_ID.match(r) for r in generated)
    for unsafe in ("has spaces", "x" * 129, "<script>", "a\tb", ""):
        response = requests.get(f"{base_url}/api/v1/nope", headers={"X-Request-ID": unsafe},
                                timeout=TIMEOUT)
        envelope = assert_envelope(response, 404)
        assert HEX_ID.match(envelope["request_id"]), unsafe


def test_request_id_of_an_authentication_error(base_url: str) -> None:
    response = requests.get(f"{base_url}/api/v1/jobs", headers={"X-Request-ID": "auth-1"},
                            timeout=TIMEOUT)
    assert assert_envelope(response, 401, "AuthenticationFailure")["request_id"] == "auth-1"


def test_odd_requests_never_get_a_500_or_html(base_url: str, user: User) -> None:
    odd = [
        ("GET", "/api/v1/jobs/%00"), ("GET", "/api/v1/jobs/" + "r" * 3000),
        ("GET", "/api/v1/simulations/%F0%9F%98%80"), ("GET", "/api/v1/reports/..%2F..%2Fetc"),
        ("GET", "/api/v1/jobs?page=%00"), ("GET", "/api/v1/jobs?status=%FF"),
        ("GET", "/api/v1/jobs?order_by=-"), ("GET", "/api/v1/jobs?order_by=" + "x" * 300),
        ("GET", "/api/v1/convergence/run-1/stream?since=yesterday"),
        ("GET", "/api/v1/convergence/run-1/stream?since_step=-2"),
        ("GET", "/api/v1/jobs/run-1/logs?after=-1"), ("GET", "/api/v1/jobs/run-1/logs?limit=0"),
        ("GET", "/api/v1/downloads/" + "A" * 3000), ("DELETE", "/api/v1/auth/tokens/%20"),
        ("POST", "/api/v1/simulations/job-1/cancel"), ("GET", "/static/../../etc/passwd"),
    ]
    for method, path in odd:
        response = requests.request(method, base_url + path, headers=user.headers,
                                    timeout=TIMEOUT)
        assert response.status_code < 500, (method, path, response.status_code, response.text)
        if response.status_code < 400:
            continue
        if urlsplit(response.url).path.startswith(("/api/v1/", "/static/")):
            assert_envelope(response, response.status_code)
        else:  # the dot segments took it out of simdock's paths, to the Epistemix dialect's
            assert set(response.json()) == {"description"}, (path, response.text)


def raw_post(user: User, path: str, raw: str) -> requests.Response:
    return requests.post(user.url(path), data=raw.encode(), timeout=TIMEOUT,
                         headers={**user.headers, "Content-Type": "application/json"})


def test_deeply_nested_json_is_a_client_error(user: User) -> None:
    """Nesting that would exhaust the parser's recursion is refused, not a 500."""
    for depth in (1000, 5000):
        objects = '{"simulation_type": "noop", "params": ' + '{"a": ' * depth + "1" \
            + "}" * depth + "}"
        arrays = '{"simulation_type": "noop", "params": {"a": ' + "[" * depth + "]" * depth \
            + "}}"
        for raw in (objects, arrays):
            response = raw_post(user, "/api/v1/jobs", raw)
            assert response.status_code in {400, 413, 422}, (depth, response.text)
            assert_envelope(response, response.status_code)


def test_nesting_is_limited(user: User) -> None:
    def nested(depth: int) -> str:
        return '{"simulation_type": "noop", "params": ' + '{"a": ' * depth + "1" \
            + "}" * depth + "}"

    assert raw_post(user, "/api/v1/jobs", nested(50)).status_code == 201
    envelope = assert_envelope(raw_post(user, "/api/v1/jobs", nested(100)), 400)
    assert "nested deeper" in envelope["error"]["message"]


@pytest.mark.parametrize(("path", "headers", "status", "limit"), [
    ("/api/v1/jobs/" + "r" * 5000, {}, 414, "4094 bytes"),
    ("/api/v1/jobs?" + "a=1&" * 1100, {}, 414, "4094 bytes"),
    ("/live", {"X-Big": "a" * 9000}, 431, "8190 bytes"),
    ("/live", {f"X-H{i}": "a" for i in range(120)}, 431, "limit of 100"),
])
def test_oversized_urls_and_headers_get_the_envelope(
        base_url: str, user: User, path: str, headers: dict[str, str], status: int,
        limit: str) -> None:
    """gunicorn refuses these before the application sees them, in the envelope too."""
    response = requests.get(base_url + path, headers={**user.headers, **headers},
                            timeout=TIMEOUT)
    envelope = assert_envelope(response, status, "ResourceLimitExceeded")
    assert limit in envelope["error"]["message"]
    assert HEX_ID.match(envelope["request_id"])
    assert response.headers["Connection"] == "close"


@pytest.mark.parametrize(("head", "status", "words"), [
    (b"GET /live HTTP/1.1\r\nHost: x\r\nX-Request-ID: ab\x00cd\r\n\r\n", 400,
     "X-REQUEST-ID"),
    (b"GET /live HTTP/1.1\r\nHost: x\r\nX-Note: a\x00b\r\n\r\n", 400, "X-NOTE"),
    (b"GARBAGE\r\n\r\n", 400, "request line"),
    (b"GET /live HTTP/9.9\r\nHost: x\r\n\r\n", 400, "HTTP Version"),
    (b"G(T /live HTTP/1.1\r\nHost: x\r\n\r\n", 400, "method"),
    (b"GET /live HTTP/1.1\r\nHost: x\r\nBad Name: a\r\n\r\n", 400, "header name"),
    (b"GET /live HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n", 400, "folding"),
    (b"POST /live HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
     400, "CONTENT-LENGTH"),
    (b"POST /live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400,
     "TRANSFER-ENCODING"),
    (b"POST /live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\n", 501,
     "Transfer-Encoding is not supported"),
    (b"POST /live HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 0\r\n\r\n",
     417, "magic"),
    (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 400, "request line"),
])
def test_malformed_requests_get_the_envelope(base_url: str, head: bytes, status: int,
                                             words: str) -> None:
    """Requests gunicorn cannot parse: the envelope, a made-up request id, then close."""
    response = exchange(base_url, head)
    envelope = assert_envelope(response, status)
    assert envelope["error"]["code"] in {"InvalidParameterValue", "ResourceLimitExceeded"}
    assert words in envelope["error"]["message"], envelope
    assert HEX_ID.match(envelope["request_id"])
    assert response.headers["Connection"] == "close"
    assert requests.get(f"{base_url}/live", timeout=TIMEOUT).status_code == 200


@pytest.mark.parametrize("framing", [
    b"zz\r\n{}\r\n0\r\n\r\n",                  # a chunk size that is not hexadecimal
    b"2\r\n{}XX0\r\n\r\n",                        # a chunk not ended by CRLF
    b"2;a=\"b\r\n{}\r\n0\r\n\r\n",                # an unterminated chunk extension
])
def test_bad_chunked_encoding_is_400(user: User, framing: bytes) -> None:
    before = user.get("/api/v1/jobs?size=1").json()["total"]
    head = request_head("POST", "/api/v1/jobs", {
        **user.headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    envelope = assert_envelope(exchange(user.base_url, head + framing), 400,
                               "InvalidParameterValue")
    assert "chunked" in envelope["error"]["message"]
    assert user.get("/api/v1/jobs?size=1").json()["total"] == before


def padded_job(size: int) -> bytes:
    """A valid ``POST /jobs`` body of exactly ``size`` bytes."""
    body = b'{"simulation_type": "noop"}'
    return body + b" " * (size - len(body))


def test_a_chunked_body_over_the_limit_is_413(user: User) -> None:
    """Werkzeug reads a chunked body only up to MAX_CONTENT_LENGTH: it must not be cut and
    accepted, but refused; one just under the limit still works."""
    head = request_head("POST", "/api/v1/jobs", {
        **user.headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    before = user.get("/api/v1/jobs?size=1").json()["total"]
    for size in (20_000_000, DEFAULT_LIMIT + 1):
        response = exchange(user.base_url, head, chunked(padded_job(size)))
        envelope = assert_envelope(response, 413, "ResourceLimitExceeded")
        assert str(DEFAULT_LIMIT) in envelope["error"]["message"]
    assert user.get("/api/v1/jobs?size=1").json()["total"] == before
    for size in (DEFAULT_LIMIT - 1, DEFAULT_LIMIT):
        response = exchange(user.base_url, head, chunked(padded_job(size)))
        assert response.status_code == 201, response.text
    assert user.get("/api/v1/jobs?size=1").json()["total"] == before + 2


def test_lone_surrogates_are_a_client_error(user: User) -> None:
    """A lone surrogate escape is valid JSON syntax but no unicode character."""
    for path, raw in (
        ("/api/v1/jobs", r'{"simulation_type": "noop", "params": {"s": "\ud800"}}'),
        ("/api/v1/jobs", r'{"simulation_type": "noop", "params": {"\ud800": 1}}'),
        ("/api/v1/jobs", r'{"simulation_type": "noop", "tags": ["\ud800"]}'),
        ("/api/v1/jobs", r'{"simulation_type": "noop", "metadata": {"s": ["\udc00"]}}'),
        ("/api/v1/jobs", r'{"simulation_type": "\ud800"}'),
        ("/api/v1/jobs", r'{"simulation_type": "noop", "name": "\ud800"}'),
        ("/api/v1/simulations", r'{"simulation_type": "noop", "parameters": {"s": "\udfff"}}'),
        ("/api/v1/machines", r'{"name": "\ud800", "cpu": "c", "memory": 1}'),
    ):
        response = raw_post(user, path, raw)
        assert response.status_code in {400, 422}, (path, raw, response.text)
        assert_envelope(response, response.status_code)


def test_json_bodies_are_not_coerced(user: User) -> None:
    run_id = user.post("/api/v1/jobs", json={"simulation_type": "noop"}).json()["jobs"][0]
    for path, body in (
        ("/api/v1/auth/tokens", {"name": "x", "expires_in_days": True}),
        ("/api/v1/auth/tokens", {"name": "x", "expires_in_days": "5"}),
        ("/api/v1/machines", {"name": "m", "cpu": "c", "memory": True}),
        ("/api/v1/machines", {"name": "m", "cpu": "c", "memory": "64"}),
        ("/api/v1/convergence/data", {"run_id": run_id, "value": "0.5"}),
        ("/api/v1/convergence/data", {"run_id": run_id, "value": 1.0, "step": "7"}),
        ("/api/v1/jobs", {"simulation_type": "noop", "timeout": "10"}),
    ):
        response = user.post(path, json=body)
        assert response.status_code == 422, (path, body, response.status_code)
