"""Credentials are never shown: database URLs' passwords (in a Dock's repr, settings,
errors), and no credential a request carried in ``simdock serve``'s log or its error answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import simdock
from simdock_adapters.settings import Settings
from simdock_adapters.urls import masked_url
from tests.databases import PG_USER, migrated_postgres
from tests.e2e.helpers import SECRET_KEY, TIMEOUT, register_and_login
from tests.e2e.raw_http import RawResponse, exchange, request_head
from tests.e2e.servers import running_server

PASSWORD = "pw-never-shown"
SIMDOCK = Path(sys.executable).parent / "simdock"


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://app:s3cret@db.internal:5432/simdock",
     "postgresql://app:***@db.internal:5432/simdock"),
    ("postgresql://app@db.internal:5432/simdock", "postgresql://app@db.internal:5432/simdock"),
    ("postgresql://app@db/simdock?sslmode=require&password=s3cret",
     "postgresql://app@db/simdock?sslmode=require&password=***"),
    ("postgresql://app:s3c@ret@db/simdock", "postgresql://app:***@db/simdock"),
    ("postgresql://app:s3c/ret@db/simdock", "postgresql://app:***@db/simdock"),
    ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ("app:s3cret@db/simdock", "app:***@db/simdock"),
    ("memory://", "memory://"),
    ("sqlite:///./simdock.db", "sqlite:///./simdock.db"),
    ("sqlite:////data/a:b@c.db", "sqlite:////data/a:b@c.db"),
    ("not a url at all", "not a url at all"),
    ("", ""),
])
def test_masked_url(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_a_docks_repr_and_the_settings_repr_hide_the_password(tmp_path: Path) -> None:
    url = migrated_postgres("credentials").replace(f"{PG_USER}@", f"{PG_USER}:{PASSWORD}@")
    with simdock.connect(url, artifacts_path=str(tmp_path)) as dock:
        shown = repr(dock)
    assert f"{PG_USER}:***@" in shown and PASSWORD not in shown

    settings = Settings(database_url=url, secret_key="signing-key-never-shown-0123456789")
    assert PASSWORD not in repr(settings) and "signing-key-never-shown" not in repr(settings)
    assert f"{PG_USER}:***@" in repr(settings)


def test_an_unusable_database_url_is_refused_without_its_password(tmp_path: Path) -> None:
    for url in (f"postgresql://app:{PASSWORD}@db:port/simdock", f"nonsense:{PASSWORD}@db"):
        out = subprocess.run([str(SIMDOCK), "types"], capture_output=True, text=True,
                             env={**os.environ, "DATABASE_URL": url}, cwd=tmp_path,
                             timeout=60)
        assert out.returncode == 2 and "invalid DATABASE_URL" in out.stderr, out.stderr
        assert PASSWORD not in out.stderr and "Traceback" not in out.stderr


API_TOKEN = "sdk_ApiTokenNeverShown0123456789abcdefghijklm"
LINK_TOKEN = "LinkTokenNeverShown0123456789-abcdefghijklmnopq"
COOKIE = "CookieNeverShown0123456789"

#: Requests gunicorn refuses before the application sees them, each carrying a credential.
REFUSED = [
    f"GET /api/v1/jobs?token={API_TOKEN}\x00 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    f"GET /jobs/me?access_token={API_TOKEN} HTTP/9.9\r\nHost: x\r\n\r\n".encode(),
    f"GET /api/v1/downloads/{LINK_TOKEN}\x00 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    f"DELETE /files/{LINK_TOKEN} HTTP/1.1\r\nHost: x\r\nX-A: a\x00\r\n\r\n".encode(),
    f"GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_TOKEN}\x00"
    "\r\n\r\n".encode(),
    f"GET /jobs/me HTTP/1.1\r\nHost: x\r\nOffline-Token: Bearer {API_TOKEN}\x00"
    "\r\n\r\n".encode(),
    f"GET /live HTTP/1.1\r\nHost: x\r\nCookie: session={COOKIE}\x00\r\n\r\n".encode(),
    f"GET /api/v1/ws/convergence/run-1?token={API_TOKEN}&x={'a' * 5000} HTTP/1.1\r\n"
    "Host: x\r\n\r\n".encode(),
    request_head("GET", f"/api/v1/downloads/{LINK_TOKEN}", {"X-Big": "a" * 9000}),
    f"POST /jobs/register HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
    f"Content-Length: 2\r\nOffline-Token: Bearer {API_TOKEN}\r\n\r\nab".encode(),
]
#: Requests the application answers without a route, or with one, carrying a credential.
ANSWERED = [
    ("PUT", f"/api/v1/downloads/{LINK_TOKEN}", {}),
    ("POST", f"/api/v1/downloads/{LINK_TOKEN}", {}),
    ("GET", f"/api/v1/downloads/{LINK_TOKEN}/x", {}),
    ("GET", f"/api/v1/downloads/{LINK_TOKEN}", {}),
    ("DELETE", f"/files/{LINK_TOKEN}", {}),
    ("GET", f"/files/{LINK_TOKEN}", {}),
    ("GET", f"/nothing?token={API_TOKEN}", {}),
    ("GET", f"/api/v1/nope?access_token={API_TOKEN}&x=%00", {}),
    ("GET", "/api/v1/ws/convergence/run-1?token=" + API_TOKEN, {}),
    ("GET", "/api/v1/jobs", {"Authorization": f"Bearer {API_TOKEN}"}),
    ("GET", "/jobs/me", {"Offline-Token": f"Bearer {API_TOKEN}", "fredcli-version": "1"}),
    ("GET", "/api/v1/auth/me", {"Cookie": f"session={COOKIE}"}),
]


def test_no_credential_a_request_carried_is_logged_or_answered(tmp_path: Path) -> None:
    """Seen before: an API token in a malformed request line was logged twice and quoted in
    the 400 answer; links' tokens were logged in full when no route matched their path."""
    answers: list[str] = []
    with running_server(tmp_path, SECRET_KEY=SECRET_KEY, LOG_LEVEL="INFO") as url:
        user = register_and_login(url, "secrets")
        jwt = user.access_token
        for head in [*REFUSED, request_head("GET", f"/jobs/x?token={jwt}\x00")]:
            answer: RawResponse | requests.Response = exchange(url, head)
            assert 400 <= answer.status_code < 500, (head[:80], answer.text)
            answers.append(answer.text)
        for method, path, headers in [*ANSWERED, ("GET", f"/nothing?access_token={jwt}", {})]:
            answer = requests.request(method, url + path, headers=headers, timeout=TIMEOUT)
            assert 400 <= answer.status_code < 500, (method, path, answer.text)
            answers.append(answer.text)
        time.sleep(0.5)  # the last lines written
    log = (tmp_path / "server.log").read_text()
    for secret in (API_TOKEN, LINK_TOKEN, COOKIE, jwt):
        assert secret not in log
        assert not [answer for answer in answers if secret in answer]
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    refused = [line for line in lines if line["message"].startswith("refused by the server")]
    assert len(refused) == len(REFUSED) + 1  # each refusal logged once
    paths = {line.get("path") for line in lines}
    assert {"/api/v1/downloads/<token>", "/api/v1/downloads/<token>/x",
            "/files/<token>"} <= paths
    assert all(line.startswith("{") for line in log.splitlines()[1:]), log  # all JSON lines

