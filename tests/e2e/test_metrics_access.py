"""Who may read /metrics, and what it shows.

With METRICS_TOKEN set, /metrics answers only to ``Authorization: Bearer
<METRICS_TOKEN>`` (what a Prometheus scrape job sends with ``authorization:
credentials``); neither an anonymous caller nor a user's own credentials read
it. Whoever reads it sees totals only: runs by status and requests by route,
with no label naming a user, a job or a run. Production refuses ENABLE_METRICS
without METRICS_TOKEN.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from simdock.errors import ValidationError
from simdock_adapters.settings import Settings
from tests.e2e.helpers import SECRET_KEY, TIMEOUT, User, assert_envelope, register_and_login
from tests.e2e.servers import running_server

METRICS_TOKEN = "scrape-token-5b0c8f2e9d4a41c7a3e1"
#: The labels /metrics may carry: none names a user, job or run.
TOTAL_LABELS = {"status", "method", "endpoint", "le"}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("metrics-token"), SECRET_KEY=SECRET_KEY,
                        ENABLE_METRICS="true", METRICS_TOKEN=METRICS_TOKEN) as url:
        yield url


def labels_and_values(text: str) -> tuple[set[str], str]:
    """The label names of every sample, and the text of every label value."""
    names: set[str] = set()
    values = []
    for line in text.splitlines():
        if line.startswith("#") or "{" not in line:
            continue
        for name, value in re.findall(r'(\w+)="([^"]*)"', line.split("{", 1)[1]):
            names.add(name)
            values.append(value)
    return names, "\n".join(values)


def users_with_work(base_url: str) -> list[User]:
    users = [register_and_login(base_url, name) for name in ("alice", "bob")]
    for user in users:
        answer = user.post("/api/v1/jobs", json={"simulation_type": "noop"})
        assert answer.status_code == 201, answer.text
        assert user.get(f"/api/v1/jobs/{answer.json()['jobs'][0]}").status_code == 200
    return users


def assert_totals_only(text: str, users: list[User]) -> None:
    names, values = labels_and_values(text)
    assert names <= TOTAL_LABELS, names - TOTAL_LABELS
    for user in users:
        assert user.id not in text and user.email not in text
    assert not re.search(r"(run|job|usr)-[0-9a-f]{6}", values)
    statuses = dict(re.findall(r'^simdock_runs\{status="(\w+)"\} ([0-9.]+)$', text, re.M))
    assert sum(float(v) for v in statuses.values()) >= len(users)


def test_without_the_token_metrics_are_refused(guarded: str) -> None:
    users = users_with_work(guarded)
    for headers in ({}, {"Authorization": "Bearer wrong-token"},
                    {"Authorization": f"Bearer {METRICS_TOKEN}x"},
                    {"Authorization": METRICS_TOKEN},
                    {"Authorization": f"Basic {METRICS_TOKEN}"},
                    users[0].headers):
        response = requests.get(f"{guarded}/metrics", headers=headers, timeout=TIMEOUT)
        assert_envelope(response, 401, "AuthenticationFailure")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "simdock_runs" not in response.text


def test_with_the_token_metrics_show_totals_only(guarded: str) -> None:
    users = users_with_work(guarded)
    response = requests.get(f"{guarded}/metrics", timeout=TIMEOUT,
                            headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE simdock_runs gauge" in response.text
    assert "simdock_queue_depth" in response.text
    assert_totals_only(response.text, users)


def test_without_a_token_configured_metrics_are_totals(tmp_path: Path) -> None:
    with running_server(tmp_path, SECRET_KEY=SECRET_KEY, ENABLE_METRICS="true") as url:
        users = users_with_work(url)
        response = requests.get(f"{url}/metrics", timeout=TIMEOUT)
        assert response.status_code == 200
        assert_totals_only(response.text, users)


def test_production_refuses_metrics_without_a_token() -> None:
    strong = "production-key-0123456789-abcdefghijklmnop"
    with pytest.raises(ValidationError, match="METRICS_TOKEN"):
        Settings(simdock_env="production", secret_key=strong,
                 enable_metrics=True).check_for_production()
    with pytest.raises(ValidationError, match="METRICS_TOKEN"):
        Settings(simdock_env="production", secret_key=strong, enable_metrics=True,
                 metrics_token="short").check_for_production()
    Settings(simdock_env="production", secret_key=strong, enable_metrics=True,
             metrics_token=METRICS_TOKEN).check_for_production()
    Settings(simdock_env="production", secret_key=strong).check_for_production()
