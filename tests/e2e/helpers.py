"""Plain helpers shared by the end-to-end tests of the HTTP API (fixtures are in conftest)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from tests.e2e.raw_http import RawResponse

#: The SECRET_KEY every module's server is started with, so tests can sign their own JWTs.
SECRET_KEY = "e2e-secret-key-0123456789-abcdefghijklmnop"
PASSWORD = "securepassword123"
TIMEOUT = 30
TERMINAL = {"succeeded", "failed", "cancelled"}


@dataclass
class User:
    """A registered, logged-in user of one server."""

    base_url: str
    email: str
    password: str
    id: str
    access_token: str
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", TIMEOUT)
        return self.session.request(method, self.url(path), headers=headers, **kwargs)


def register_and_login(base_url: str, prefix: str = "user") -> User:
    """Register a fresh user (a unique email) and log in with the OAuth2 form."""
    email = f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"
    created = requests.post(f"{base_url}/api/v1/auth/register", timeout=TIMEOUT,
                            json={"email": email, "password": PASSWORD, "full_name": prefix})
    assert created.status_code == 201, created.text
    login = requests.post(f"{base_url}/api/v1/auth/login", timeout=TIMEOUT,
                          data={"username": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return User(base_url, email, PASSWORD, created.json()["id"], login.json()["access_token"])


def wait_for_run(user: User, run_id: str, timeout: float = 60) -> dict[str, Any]:
    """Poll ``GET /api/v1/jobs/{run_id}`` until the run is terminal; returns it."""
    return _wait(user, f"/api/v1/jobs/{run_id}", timeout)


def wait_for_simulation(user: User, simulation_id: str, timeout: float = 60) -> dict[str, Any]:
    """Poll ``GET /api/v1/simulations/{id}`` until every run finished; returns it."""
    return _wait(user, f"/api/v1/simulations/{simulation_id}", timeout)


def wait_for_report(user: User, report_id: str, timeout: float = 60) -> dict[str, Any]:
    return _wait(user, f"/api/v1/reports/{report_id}", timeout)


def _wait(user: User, path: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = user.get(path)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in TERMINAL:
            return body
        assert time.monotonic() < deadline, f"{path} still {body['status']} after {timeout} s"
        time.sleep(0.1)


def assert_envelope(response: requests.Response | RawResponse, status: int,
                    code: str | None = None) -> dict[str, Any]:
    """The response is the JSON error envelope with this status (and code); returns the body."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers.get("Content-Type", "").startswith("application/json"), \
        response.headers.get("Content-Type")
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "request_id"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["request_id"] and body["request_id"] == response.headers.get("X-Request-ID")
    if code is not None:
        assert body["error"]["code"] == code, body
    return body


def assert_page(body: dict[str, Any], page: int, page_size: int) -> None:
    """Seed 003's pagination envelope (and where the next page starts, by cursor)."""
    assert set(body) == {"items", "total", "page", "page_size", "total_pages",
                         "next_cursor"}, body.keys()
    assert isinstance(body["items"], list)
    assert body["page"] == page and body["page_size"] == page_size
    assert body["total_pages"] == -(-body["total"] // page_size)
    assert len(body["items"]) <= page_size


def sse_events(response: requests.Response, limit_seconds: float = 30
               ) -> Iterator[tuple[str, str]]:
    """``(event, data)`` pairs of a server-sent event stream, until it ends or time runs out."""
    deadline = time.monotonic() + limit_seconds
    name, data = "message", list[str]()
    for raw in response.iter_lines():
        assert time.monotonic() < deadline, "the event stream did not end in time"
        line = raw.decode() if isinstance(raw, bytes) else str(raw or "")
        if not line:
            if data:
                yield name, "\n".join(data)
            name, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())
