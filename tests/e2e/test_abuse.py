"""What one user cannot do to others over HTTP: guess passwords at will, lock others out,
change others' machines.

Seen before: 200 wrong passwords in 7 s met no resistance, and any user could
put another's machine into maintenance (after which the owner's submissions
on it were refused). Then: 10 wrong passwords locked the account for 15 minutes,
the owner's right password included, and 50 failures from one address over any
accounts locked out every user behind it, bystanders who had never failed too.
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


def login(base_url: str, email: str, password: str) -> requests.Response:
    return requests.post(f"{base_url}/api/v1/auth/login", timeout=TIMEOUT,
                         data={"username": email, "password": password})


def test_guessing_an_account_from_one_address_waits_longer_and_longer(
        server: tuple[str, Path]) -> None:
    # Every request of this module comes from 127.0.0.1 (PROXY_HOPS=0).
    base_url = server[0]
    victim = register_and_login(base_url, "victim")
    statuses = [login(base_url, victim.email, "wrong-password").status_code for _ in range(6)]
    assert statuses == [401] * 6  # five free failures, then each one more waits
    waits = []
    for _ in range(3):
        refused = login(base_url, victim.email, PASSWORD)  # even the right password, for now
        body = assert_envelope(refused, 429, "ResourceLimitExceeded")
        assert "for this account from this address" in body["error"]["message"]
        waits.append(int(refused.headers["Retry-After"]))
        time.sleep(waits[-1])
        if len(waits) < 3:
            assert login(base_url, victim.email, "wrong-password").status_code == 401
    assert waits == [1, 2, 4]
    assert login(base_url, victim.email, PASSWORD).status_code == 200  # the owner, not locked
    assert victim.get("/api/v1/auth/me").status_code == 200  # a token already held works


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


def test_users_behind_one_address_are_not_locked_out_by_one_of_them(
        server: tuple[str, Path]) -> None:
    # Over LOGIN_FAILURES_PER_ADDRESS (100) failures from one address, one at each account.
    base_url = server[0]
    bystander = "bystander@example.com"  # registered, never logged in, never failed
    assert requests.post(f"{base_url}/api/v1/auth/register", timeout=TIMEOUT, json={
        "email": bystander, "password": PASSWORD}).status_code == 201
    sprayed = [f"sprayed{i}@example.com" for i in range(110)]
    statuses = [login(base_url, email, "wrong-password").status_code for email in sprayed]
    assert statuses == [401] * 110
    # Over its limit, the address has no free failures left: the account it failed for
    # last waits 1 s after that failure (2 s after one more, should this machine be slow).
    again = [login(base_url, sprayed[-1], "wrong-password") for _ in range(2)]
    refused = next(r for r in again if r.status_code != 401)
    assert_envelope(refused, 429, "ResourceLimitExceeded")
    assert refused.headers["Retry-After"] in ("1", "2")
    assert login(base_url, bystander, PASSWORD).status_code == 200
