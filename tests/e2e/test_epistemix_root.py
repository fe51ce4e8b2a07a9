"""Seed 004's unauthenticated routes, and CORS on the Epistemix routes."""

from __future__ import annotations

import re

import requests

from tests.e2e.helpers import TIMEOUT


def test_root_says_what_is_served_and_health_answers_as_seed_004_shows(base_url: str) -> None:
    root = requests.get(f"{base_url}/", timeout=TIMEOUT)
    assert root.status_code == 200
    assert "/jobs/register" in root.json()["endpoints"] and root.json()["status"] == "running"
    health = requests.get(f"{base_url}/health", timeout=TIMEOUT).json()
    assert health["status"] == "healthy"
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}", health["timestamp"])


def test_a_browser_may_call_the_epistemix_routes_across_origins(base_url: str) -> None:
    preflight = requests.options(f"{base_url}/runs", timeout=TIMEOUT, headers={
        "Origin": "https://notebook.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "offline-token, fredcli-version, content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] in {"*", "https://notebook.example"}
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "offline-token" in allowed and "fredcli-version" in allowed
    refused = requests.get(f"{base_url}/jobs/me", timeout=TIMEOUT,
                           headers={"Origin": "https://notebook.example"})
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] in {"*", "https://notebook.example"}
