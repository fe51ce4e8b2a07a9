"""What one user cannot do to others over HTTP: guess passwords at will, change others' machines.

Seen before: 200 wrong passwords in 7 s met no resistance, and any user could
put another's machine into maintenance (after which the owner's submissions
on it were refused).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.helpers import (
    PASSWORD,
    SECRET_KEY,
    TIMEOUT,
    User,
    assert_envelope,
    register_and_login,
)
from tests.e2e.servers import SIMDOCK, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    directory = tmp_path_factory.mktemp("abuse")
    with running_server(directory, SECRET_KEY=SECRET_KEY, DISPATCH="database") as url:
        yield url, directory


def login(base_url: str, email: str, password: str,
          forwarded: str | None = None) -> requests.Response:
    return requests.post(f"{base_url}/api/v1/auth/login", timeout=TIMEOUT,
                         data={"username": email, "password": password})


def test_failed_logins_for_an_account_are_throttled_with_retry_after(
        server: tuple[str, Path]) -> None:
    base_url = server[0]
    victim = register_and_login(base_url, "victim")
    statuses = [login(base_url, victim.email, "wrong-password").status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10
    refused = login(base_url, victim.email, PASSWORD)  # even the right password, for now
    body = assert_envelope(refused, 429, "ResourceLimitExceeded")
    assert "try again in" in body["error"]["message"]
    assert 800 <= int(refused.headers["Retry-After"]) <= 900
    assert victim.get("/api/v1/auth/me").status_code == 200  # a token already held still works


def test_a_machine_is_changed_by_its_creator_and_administrators_only(
        server: tuple[str, Path]) -> None:
    base_url, directory = server
    owner, other = register_and_login(base_url, "owner"), register_and_login(base_url, "other")
    machine = owner.post("/api/v1/machines", json={"name": "gpu-1", "cpu": "x86",
                                                   "memory": 64}).json()
    assert machine["created_by"] == owner.id
    path = f"/api/v1/machines/{machine['id']}/status"
    refused = other.patch(path, json={"status": "maintenance"})
    body = assert_envelope(refused, 403, "UnauthorizedOperation")
    assert "creator" in body["error"]["message"]
    assert owner.get(f"/api/v1/machines/{machine['id']}").json()["status"] == "available"
    assert owner.post("/api/v1/jobs", json={"simulation_type": "noop",
                                            "machine_id": machine["id"]}).status_code == 201
    assert owner.patch(path, json={"status": "busy"}).status_code == 200

    granted = grant_admin(directory, other)
    assert granted.returncode == 0, granted.stderr
    assert f"{other.email} is now an administrator" in granted.stdout
    # The server remembers who presented a credential for AUTH_CACHE_SECONDS (5 s).
    deadline = time.monotonic() + 10
    while not other.get("/api/v1/auth/me").json()["is_admin"]:
        assert time.monotonic() < deadline, "the grant never reached the server"
        time.sleep(0.5)
    assert other.patch(path, json={"status": "maintenance"}).status_code == 200


def grant_admin(directory: Path, user: User, action: str = "grant"
                ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{directory / 'simdock.db'}",
           "ARTIFACTS_PATH": str(directory / "artifacts")}
    return subprocess.run([str(SIMDOCK), "admin", action, user.email], env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_revoked_administrator_changes_only_their_own_machines(
        server: tuple[str, Path]) -> None:
    base_url, directory = server
    owner, ops = register_and_login(base_url, "owner2"), register_and_login(base_url, "ops")
    machine = owner.post("/api/v1/machines", json={"name": "cpu-2", "cpu": "x86",
                                                   "memory": 8}).json()
    path = f"/api/v1/machines/{machine['id']}/status"
    assert grant_admin(directory, ops).returncode == 0
    revoked = grant_admin(directory, ops, "revoke")
    assert revoked.returncode == 0, revoked.stderr
    # The server remembers who presented a credential for AUTH_CACHE_SECONDS (5 s).
    deadline = time.monotonic() + 10
    while ops.get("/api/v1/auth/me").json()["is_admin"]:
        assert time.monotonic() < deadline, "the revocation never reached the server"
        time.sleep(0.5)
    assert_envelope(ops.patch(path, json={"status": "maintenance"}), 403,
                    "UnauthorizedOperation")


def test_granting_an_unknown_user_is_a_one_line_error(server: tuple[str, Path]) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{server[1] / 'simdock.db'}",
           "ARTIFACTS_PATH": str(server[1] / "artifacts")}
    out = subprocess.run([str(SIMDOCK), "admin", "grant", "nobody@example.com"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "nobody@example.com" in out.stderr and "Traceback" not in out.stderr


def test_one_address_guessing_across_accounts_is_throttled(server: tuple[str, Path]) -> None:
    # Runs last in this module: afterwards, this address is throttled for a while. At most
    # 50 failures are allowed from one address (this module's first test made 10 of them;
    # refused attempts do not count), each account keeping under its own limit of 10.
    base_url = server[0]
    users = [register_and_login(base_url, f"guessed{i}") for i in range(6)]
    statuses = [login(base_url, users[i % 5].email, "wrong-password").status_code
                for i in range(40)]
    assert statuses == [401] * 40
    assert_envelope(login(base_url, users[5].email, PASSWORD), 429, "ResourceLimitExceeded")
