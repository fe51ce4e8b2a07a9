"""The authorization matrix: every operation the OpenAPI document marks as secured.

Each secured operation is called without a credential and with credentials
that must not work (expired, forged, unsigned, revoked...): all get 401 in
the envelope. User A calling them on user B's resources gets 404, never 403
and never B's data. API tokens, and production's refusal of a weak
SECRET_KEY, are checked over real HTTP and a real process too.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from tests.e2e.helpers import (
    SECRET_KEY,
    TIMEOUT,
    User,
    assert_envelope,
)
from tests.e2e.servers import SIMDOCK, free_port, running_server

#: Runs stay queued (no worker), so B's resources keep a state A could disturb.
SERVER_ENV = {"DISPATCH": "database"}

#: Path parameters naming resources a user owns, and those naming shared ones.
OWNED = {"job_id", "run_id", "simulation_id", "report_id", "token_id"}
SHARED = {"machine_id"}
UNKNOWN = {"job_id": "run-00000000000000000", "run_id": "run-00000000000000000",
           "simulation_id": "job-00000000000000000", "report_id": "rpt-00000000000000000",
           "token_id": "tok-00000000000000000", "machine_id": "mach-00000000000000000"}


@pytest.fixture(scope="module")
def document(base_url: str) -> dict[str, Any]:
    response = requests.get(f"{base_url}/api/v1/openapi.json", timeout=TIMEOUT)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def secured(document: dict[str, Any]) -> list[tuple[str, str]]:
    """``(METHOD, path template)`` of every operation that declares ``security``."""
    operations = [(method.upper(), path) for path, item in document["paths"].items()
                  for method, spec in item.items() if spec.get("security")]
    assert len(operations) >= 30, operations
    return operations


@pytest.fixture(scope="module")
def marker() -> str:
    """A string only B's resources contain: it must never reach A."""
    return f"bob-private-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def tag_marker() -> str:
    """B's tag (kept apart from ``marker``: see test_jobs_show_only_their_own_tags)."""
    return f"bob-tag-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def bob(other_user: User, marker: str, tag_marker: str) -> dict[str, str]:
    """B's resources: a run, its job, a report, an API token, a machine."""
    submitted = other_user.post("/api/v1/jobs", json={
        "simulation_type": "noop", "params": {"note": marker}, "metadata": {"secret": marker},
        "name": marker, "tags": [tag_marker]})
    assert submitted.status_code == 201, submitted.text
    run_id, job_id = submitted.json()["jobs"][0], submitted.json()["simulation_id"]
    point = other_user.post("/api/v1/convergence/data", json={"run_id": run_id, "value": 0.5})
    assert point.status_code == 201, point.text
    report = other_user.post("/api/v1/reports", json={
        "simulation_job_ids": [job_id], "report_type": "summary",
        "parameters": {"title": marker}})
    assert report.status_code == 201, report.text
    token = other_user.post("/api/v1/auth/tokens", json={"name": marker})
    assert token.status_code == 201, token.text
    machine = other_user.post("/api/v1/machines", json={"name": marker, "cpu": "x86",
                                                        "memory": 8})
    assert machine.status_code == 201, machine.text
    return {"job_id": run_id, "run_id": run_id, "simulation_id": job_id,
            "report_id": report.json()["id"], "token_id": token.json()["id"],
            "token": token.json()["token"], "machine_id": machine.json()["id"],
            "unused_id": "999"}


def body_for(method: str, path: str, ids: dict[str, str]) -> dict[str, Any] | None:
    """A minimal valid body for each operation that takes one (ids: the resources to name)."""
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/api/v1/auth/tokens"): {"name": "matrix"},
        ("POST", "/api/v1/jobs"): {"simulation_type": "noop", "params": {}},
        ("PATCH", "/api/v1/jobs/{job_id}"): {"machine_id": None},
        ("POST", "/api/v1/simulations"): {"simulation_type": "noop"},
        ("POST", "/api/v1/reports"): {"simulation_job_ids": [ids["simulation_id"]],
                                      "report_type": "summary"},
        ("POST", "/api/v1/machines"): {"name": "matrix", "cpu": "x86", "memory": 1},
        ("PATCH", "/api/v1/machines/{machine_id}/status"): {"status": "maintenance"},
        ("POST", "/api/v1/convergence/data"): {"run_id": ids["run_id"], "value": 1.0},
        ("POST", "/api/v1/convergence/{run_id}/add-bare-sql"): {"value": 1.0},
        ("PUT", "/api/v1/simulations/{simulation_id}"): {"name": "matrix"},
        ("POST", "/api/v1/simulations/{unused_id}/create-bare-sql"): {
            "simulation_type": "noop"},
    }
    if (method, path) in bodies:
        return bodies[(method, path)]
    assert method in {"GET", "DELETE"} or path.endswith(("/cancel", "/retry")), \
        f"the matrix needs a body for {method} {path}"
    return None


def fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


def call(base_url: str, method: str, path: str, ids: dict[str, str],
         headers: dict[str, str]) -> tuple[int, str, dict[str, Any] | None, requests.Response]:
    """Send one operation; streams are closed unread if they are (wrongly) opened."""
    body = body_for(method, path, ids)
    response = requests.request(method, base_url + fill(path, ids), json=body, headers=headers,
                                timeout=TIMEOUT, stream=True)
    if response.headers.get("Content-Type", "").startswith("text/event-stream"):
        response.close()
        return response.status_code, "<an event stream>", None, response
    text = response.text
    try:
        parsed = response.json()
    except ValueError:
        parsed = None
    return response.status_code, text, parsed, response


# -- credentials that must not work -----------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(user_id: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": user_id, "iat": now, "exp": now + 600, "iss": "simdock", "typ": "access",
            **changes}


def unsigned(payload: dict[str, Any]) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(payload).encode())}."


def hs512(payload: dict[str, Any]) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the key is short for HS512: not the point here
        return jwt.encode(payload, SECRET_KEY, algorithm="HS512")


def bad_credentials(user: User) -> dict[str, dict[str, str]]:
    """Authorization headers that must all be refused (401), by name."""
    now = int(time.time())
    bearer: dict[str, str] = {
        "expired JWT": jwt.encode(claims(user.id, iat=now - 7200, exp=now - 3600), SECRET_KEY,
                                  algorithm="HS256"),
        "JWT signed with another key": jwt.encode(claims(user.id), "another-key-" * 4,
                                                  algorithm="HS256"),
        "JWT with alg none": unsigned(claims(user.id)),
        "JWT with alg none and no dot": unsigned(claims(user.id)).rstrip("."),
        "JWT signed HS512 with the right key": hs512(claims(user.id)),
        "JWT from another issuer": jwt.encode(claims(user.id, iss="someone-else"), SECRET_KEY,
                                              algorithm="HS256"),
        "JWT that is not an access token": jwt.encode(claims(user.id, typ="refresh"),
                                                      SECRET_KEY, algorithm="HS256"),
        "JWT of a user that does not exist": jwt.encode(claims("usr-00000000000000000"),
                                                        SECRET_KEY, algorithm="HS256"),
        "JWT without exp": jwt.encode({k: v for k, v in claims(user.id).items() if k != "exp"},
                                      SECRET_KEY, algorithm="HS256"),
        "garbage": "not-a-token",
        "unknown API token": "sdk_" + "x" * 43,
    }
    headers = {name: {"Authorization": f"Bearer {token}"} for name, token in bearer.items()}
    headers["no credential"] = {}
    headers["empty bearer"] = {"Authorization": "Bearer "}
    headers["basic scheme"] = {"Authorization": "Basic " + b64url(b"a@b.c:password")}
    return headers


def test_a_self_signed_jwt_with_the_server_key_works(base_url: str, user: User) -> None:
    """The control: the forged tokens below fail for their flaw, not for a wrong setup."""
    token = jwt.encode(claims(user.id), SECRET_KEY, algorithm="HS256")
    response = requests.get(f"{base_url}/api/v1/auth/me", timeout=TIMEOUT,
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == user.id


@pytest.fixture(scope="module")
def revoked_token(user: User) -> str:
    created = user.post("/api/v1/auth/tokens", json={"name": "to revoke"})
    assert created.status_code == 201, created.text
    secret = created.json()["token"]
    works = requests.get(f"{user.base_url}/api/v1/auth/me", timeout=TIMEOUT,
                         headers={"Authorization": f"Bearer {secret}"})
    assert works.status_code == 200
    assert user.delete(f"/api/v1/auth/tokens/{created.json()['id']}").status_code == 200
    return str(secret)


def credential_cases() -> list[str]:
    names = list(bad_credentials(User("", "", "", "usr-x", "")).keys())
    return [*names, "revoked API token"]


@pytest.mark.parametrize("credential", credential_cases())
def test_every_secured_operation_refuses(base_url: str, secured: list[tuple[str, str]],
                                         bob: dict[str, str], user: User, revoked_token: str,
                                         credential: str) -> None:
    if credential == "revoked API token":
        headers = {"Authorization": f"Bearer {revoked_token}"}
    else:
        headers = bad_credentials(user)[credential]
    problems = []
    for method, path in secured:
        status, text, body, response = call(base_url, method, path, bob, headers)
        if status != 401 or body is None or body.get("error", {}).get("code") \
                != "AuthenticationFailure":
            problems.append(f"{method} {path}: {status} {text[:200]}")
            continue
        assert_envelope(response, 401, "AuthenticationFailure")
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert not problems, "\n".join(problems)


def test_operations_without_security_need_no_credential(base_url: str,
                                                        document: dict[str, Any]) -> None:
    """The document's ``security`` is accurate the other way round too."""
    open_operations = {(m.upper(), p) for p, item in document["paths"].items()
                       for m, spec in item.items() if not spec.get("security")}
    assert open_operations == {
        ("GET", "/health"), ("GET", "/ready"), ("GET", "/live"),
        ("POST", "/api/v1/auth/register"), ("POST", "/api/v1/auth/login"),
        ("GET", "/api/v1/downloads/{token}")}
    for path in ("/health", "/ready", "/live"):
        assert requests.get(base_url + path, timeout=TIMEOUT).status_code == 200


# -- user A on user B's resources -------------------------------------------


def test_another_users_resources_are_not_found(base_url: str, secured: list[tuple[str, str]],
                                               bob: dict[str, str], user: User,
                                               marker: str) -> None:
    problems = []
    checked = 0
    for method, path in secured:
        params = {name for name in OWNED | SHARED if "{" + name + "}" in path}
        if not params & OWNED:
            continue
        checked += 1
        status, text, body, response = call(base_url, method, path, bob, user.headers)
        if status != 404 or body is None or marker in text:
            problems.append(f"{method} {path}: {status} {text[:200]}")
            continue
        assert_envelope(response, 404, "ResourceNotFound")
    assert checked >= 15
    assert not problems, "\n".join(problems)


def test_unknown_ids_are_not_found(base_url: str, secured: list[tuple[str, str]],
                                   user: User, bob: dict[str, str]) -> None:
    problems = []
    ids = {**UNKNOWN, "token": "x"}
    for method, path in secured:
        if not any("{" + name + "}" in path for name in OWNED | SHARED):
            continue
        status, text, _, response = call(base_url, method, path, ids, user.headers)
        if status != 404:
            problems.append(f"{method} {path}: {status} {text[:200]}")
            continue
        assert_envelope(response, 404, "ResourceNotFound")
    assert not problems, "\n".join(problems)


def test_bodies_naming_another_users_resources_are_not_found(user: User, bob: dict[str, str],
                                                             marker: str) -> None:
    for path, body in [
        ("/api/v1/reports", {"simulation_job_ids": [bob["simulation_id"]],
                             "report_type": "summary"}),
        ("/api/v1/convergence/data", {"run_id": bob["run_id"], "value": 1.0}),
        ("/api/v1/convergence/data", {"simulation_id": bob["run_id"], "loss_value": 1.0}),
    ]:
        response = user.post(path, json=body)
        assert marker not in response.text
        assert_envelope(response, 404, "ResourceNotFound")


def test_listings_hold_only_your_own(user: User, bob: dict[str, str], marker: str,
                                     tag_marker: str) -> None:
    mine = user.post("/api/v1/jobs", json={"simulation_type": "noop"})
    assert mine.status_code == 201
    for path in ("/api/v1/jobs", "/api/v1/simulations", "/api/v1/reports",
                 "/api/v1/auth/tokens", "/api/v1/jobs/stats", "/api/v1/auth/me",
                 f"/api/v1/jobs?simulation_id={bob['simulation_id']}"):
        response = user.get(path)
        assert response.status_code == 200, (path, response.text)
        assert marker not in response.text, path
        for name in ("run_id", "simulation_id", "report_id", "token_id"):
            assert bob[name] not in response.text, (path, name)
    assert user.get("/api/v1/jobs").json()["items"][0]["id"] == mine.json()["jobs"][0]
    assert user.get("/api/v1/jobs/stats").json()["total"] >= 1
    for path in (f"/api/v1/simulations?tag={tag_marker}", f"/api/v1/jobs?tag={tag_marker}"):
        assert user.get(path).json()["total"] == 0


def test_jobs_show_only_their_own_tags(user: User, bob: dict[str, str], tag_marker: str
                                       ) -> None:
    """Tags are per job: B's tags never appear on A's jobs (a SQLite regression)."""
    submitted = user.post("/api/v1/jobs", json={"simulation_type": "noop", "tags": ["mine"]})
    assert submitted.status_code == 201, submitted.text
    run_id, job_id = submitted.json()["jobs"][0], submitted.json()["simulation_id"]
    for path in (f"/api/v1/jobs/{run_id}", f"/api/v1/simulations/{job_id}",
                 "/api/v1/jobs", "/api/v1/simulations"):
        response = user.get(path)
        assert response.status_code == 200
        assert tag_marker not in response.text, f"B's tag is in A's GET {path}"
    assert user.get(f"/api/v1/jobs/{run_id}").json()["tags"] == ["mine"]
    assert user.get(f"/api/v1/simulations/{job_id}").json()["tags"] == ["mine"]


def test_machines_are_a_shared_pool(user: User, bob: dict[str, str]) -> None:
    """Machines have no owner (seed 002): any user sees them and may change their status."""
    seen = user.get(f"/api/v1/machines/{bob['machine_id']}")
    assert seen.status_code == 200 and seen.json()["id"] == bob["machine_id"]
    listed = user.get("/api/v1/machines?size=1000").json()
    assert bob["machine_id"] in [m["id"] for m in listed["items"]]


def test_b_resources_are_untouched_by_a(other_user: User, bob: dict[str, str],
                                        user: User, base_url: str,
                                        secured: list[tuple[str, str]]) -> None:
    """After A's attempts (run here again), B's run, job, token and series are as B left them."""
    for method, path in secured:
        if "{" in path and method != "GET":
            call(base_url, method, path, bob, user.headers)
    run = other_user.get(f"/api/v1/jobs/{bob['run_id']}").json()
    assert run["status"] == "queued" and run["machine_id"] is None
    job = other_user.get(f"/api/v1/simulations/{bob['simulation_id']}").json()
    assert job["status"] == "queued"
    tokens = other_user.get("/api/v1/auth/tokens").json()["items"]
    assert [t["revoked_at"] for t in tokens if t["id"] == bob["token_id"]] == [None]
    works = requests.get(f"{base_url}/api/v1/auth/me", timeout=TIMEOUT,
                         headers={"Authorization": f"Bearer {bob['token']}"})
    assert works.status_code == 200 and works.json()["id"] == other_user.id
    points = other_user.get(f"/api/v1/convergence/{bob['run_id']}/data").json()["points"]
    assert [p["value"] for p in points] == [0.5]


# -- API tokens --------------------------------------------------------------


def test_api_tokens(base_url: str, new_user: Callable[[str], User]) -> None:
    owner, stranger = new_user("token-owner"), new_user("token-stranger")
    created = owner.post("/api/v1/auth/tokens", json={"name": "ci", "expires_in_days": 30})
    assert created.status_code == 201, created.text
    token = created.json()
    secret = token["token"]
    assert secret.startswith("sdk_") and len(secret) > 30
    assert token["prefix"] == secret[:len(token["prefix"])] and len(token["prefix"]) < 16
    assert token["name"] == "ci" and token["revoked_at"] is None and token["expires_at"]

    listed = owner.get("/api/v1/auth/tokens")
    assert listed.status_code == 200
    assert secret not in listed.text and secret[len(token["prefix"]):] not in listed.text
    item = next(t for t in listed.json()["items"] if t["id"] == token["id"])
    assert "token" not in item and item["prefix"] == token["prefix"]

    as_bearer = {"Authorization": f"Bearer {secret}"}
    me = requests.get(f"{base_url}/api/v1/auth/me", headers=as_bearer, timeout=TIMEOUT)
    assert me.status_code == 200 and me.json()["id"] == owner.id
    submitted = requests.post(f"{base_url}/api/v1/jobs", headers=as_bearer, timeout=TIMEOUT,
                              json={"simulation_type": "noop"})
    assert submitted.status_code == 201
    assert owner.get(f"/api/v1/jobs/{submitted.json()['jobs'][0]}").status_code == 200
    used = next(t for t in owner.get("/api/v1/auth/tokens").json()["items"]
                if t["id"] == token["id"])
    assert used["last_used_at"] is not None
    # Offline-Token is the Epistemix dialect's header: /api/v1 does not read it.
    offline = {"Offline-Token": f"Bearer {secret}", "fredcli-version": "0.4.0"}
    assert_envelope(requests.get(f"{base_url}/api/v1/auth/me", timeout=TIMEOUT,
                                 headers=offline), 401, "AuthenticationFailure")
    epistemix = requests.get(f"{base_url}/jobs/me", timeout=TIMEOUT, headers=offline)
    assert epistemix.status_code == 200 and epistemix.json() == {"jobs": []}

    assert secret not in stranger.get("/api/v1/auth/tokens").text
    assert_envelope(stranger.delete(f"/api/v1/auth/tokens/{token['id']}"), 404,
                    "ResourceNotFound")
    assert requests.get(f"{base_url}/api/v1/auth/me", headers=as_bearer,
                        timeout=TIMEOUT).status_code == 200

    revoked = owner.delete(f"/api/v1/auth/tokens/{token['id']}")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None and "token" not in revoked.json()
    refused = requests.get(f"{base_url}/api/v1/auth/me", headers=as_bearer, timeout=TIMEOUT)
    assert_envelope(refused, 401, "AuthenticationFailure")
    again = owner.delete(f"/api/v1/auth/tokens/{token['id']}")
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]


def test_bad_token_requests(user: User) -> None:
    for body in ({}, {"name": ""}, {"name": "x", "expires_in_days": 0},
                 {"name": "x", "expires_in_days": 100000}, {"name": "x", "scope": "admin"}):
        response = user.post("/api/v1/auth/tokens", json=body)
        assert response.status_code in {400, 422}, (body, response.text)
        assert_envelope(response, response.status_code)


# -- production refuses a weak SECRET_KEY ------------------------------------


DEVELOPMENT_KEY = "simdock-development-key-not-for-production"


def serve_env(directory: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k.upper() not in {"SECRET_KEY", "SIMDOCK_ENV", "DATABASE_URL"}}
    return {**env, "DATABASE_URL": f"sqlite:///{directory / 'simdock.db'}",
            "ARTIFACTS_PATH": str(directory / "artifacts"), "HOST": "127.0.0.1",
            "PORT": str(free_port()), "SIMDOCK_ENV": "production", "AUTO_MIGRATE": "true",
            **settings}


@pytest.mark.parametrize("secret", [None, "short-key", DEVELOPMENT_KEY, " " * 40, "k" * 48],
                         ids=["unset", "short", "development default", "blank", "one letter"])
def test_production_refuses_a_weak_secret_key(tmp_path: Path, secret: str | None) -> None:
    settings = {"SECRET_KEY": secret} if secret is not None else {}
    process = subprocess.run([str(SIMDOCK), "serve"], env=serve_env(tmp_path, **settings),
                             capture_output=True, text=True, timeout=30)
    assert process.returncode != 0
    assert "SECRET_KEY" in process.stderr, process.stderr
    assert "Traceback" not in process.stderr


def test_production_starts_with_a_strong_secret_key(tmp_path: Path) -> None:
    with running_server(tmp_path, SIMDOCK_ENV="production", SECRET_KEY=secrets.token_urlsafe(36),
                        AUTO_MIGRATE="true") as url:
        assert requests.get(f"{url}/health", timeout=TIMEOUT).status_code == 200
