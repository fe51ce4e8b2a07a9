"""Shared test helpers: real services skip when absent, except in CI where they fail."""

from __future__ import annotations

import os
import socket

import pytest


def services_required() -> bool:
    """True when CI asked that a missing service fail the run instead of skipping."""
    return os.environ.get("SIMDOCK_REQUIRE_SERVICES") == "1"


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or, with SIMDOCK_REQUIRE_SERVICES=1, fail) unless host:port accepts connections."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        reason = f"{name} is not reachable at {host}:{port} ({exc})"
    if services_required():
        pytest.fail(reason)
    pytest.skip(reason)


def pytest_configure(config: pytest.Config) -> None:
    """pact-python reports usage unless told not to; tests send nothing outside."""
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the scratch PostgreSQL databases the session created."""
    from tests import databases

    databases.drop_scratch_databases()
