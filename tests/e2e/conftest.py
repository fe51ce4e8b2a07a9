"""Fixtures of the HTTP end-to-end tests: one real ``simdock serve`` per module, and users.

A module can set ``SERVER_ENV = {...}`` to start its server with more settings
(``ENABLE_METRICS``, ``DISPATCH``...); every server gets ``helpers.SECRET_KEY``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.helpers import (
    SECRET_KEY,
    User,
    register_and_login,
    wait_for_run,
    wait_for_simulation,
)
from tests.e2e.servers import running_server


@pytest.fixture(scope="module")
def base_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[str]:
    """The base URL of this module's server (SQLite and blobs in a temporary directory)."""
    environment: dict[str, str] = {"SECRET_KEY": SECRET_KEY,
                                   **getattr(request.module, "SERVER_ENV", {})}
    directory = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with running_server(directory, **environment) as url:
        yield url


@pytest.fixture(scope="module")
def new_user(base_url: str) -> Callable[[str], User]:
    """Registers and logs in a fresh user: ``new_user("alice").headers``."""

    def make(prefix: str = "user") -> User:
        return register_and_login(base_url, prefix)

    return make


@pytest.fixture(scope="module")
def user(new_user: Callable[[str], User]) -> User:
    """A user of this module's server (user A)."""
    return new_user("alice")


@pytest.fixture(scope="module")
def other_user(new_user: Callable[[str], User]) -> User:
    """Another user of the same server (user B)."""
    return new_user("bob")


@pytest.fixture(scope="module")
def auth_headers(user: User) -> dict[str, str]:
    return user.headers


@pytest.fixture
def wait_run() -> Callable[..., dict[str, Any]]:
    """``wait_run(user, run_id)`` polls a run until it finished and returns it."""
    return wait_for_run


@pytest.fixture
def wait_simulation() -> Callable[..., dict[str, Any]]:
    """``wait_simulation(user, simulation_id)`` polls a simulation job until it finished."""
    return wait_for_simulation
