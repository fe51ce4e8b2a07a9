"""Report download links: where they point, what their tokens reveal, what the log keeps.

Three real ``simdock serve`` processes share one SQLite file and blob directory:
one with no link settings, one with PUBLIC_BASE_URL, one with TRUSTED_HOSTS.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from simdock_adapters.http.downloads import DownloadLinks
from tests.e2e.helpers import (
    SECRET_KEY,
    TIMEOUT,
    User,
    assert_envelope,
    register_and_login,
    wait_for_report,
    wait_for_simulation,
)
from tests.e2e.servers import running_server

PUBLIC_BASE_URL = "https://simdock.example.com/science"
TRUSTED_HOST = "api.example.org"
EVIL_HOST = "evil.example.com"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, Path]]]:
    shared = tmp_path_factory.mktemp("links")
    data = {"DATABASE_URL": f"sqlite:///{shared / 'simdock.db'}",
            "ARTIFACTS_PATH": str(shared / "artifacts"), "SECRET_KEY": SECRET_KEY,
            "LOG_LEVEL": "INFO"}
    directories = {name: tmp_path_factory.mktemp(name) for name in ("plain", "public", "trusted")}
    with running_server(directories["plain"], **data) as plain, \
            running_server(directories["public"], PUBLIC_BASE_URL=PUBLIC_BASE_URL,
                           **data) as public, \
            running_server(directories["trusted"], TRUSTED_HOSTS=f"other.test, {TRUSTED_HOST}",
                           **data) as trusted:
        yield {"plain": (plain, directories["plain"]), "public": (public, directories["public"]),
               "trusted": (trusted, directories["trusted"])}


@pytest.fixture(scope="module")
def owner(servers: dict[str, tuple[str, Path]]) -> User:
    return register_and_login(servers["plain"][0], "reports")


@pytest.fixture(scope="module")
def report(owner: User) -> dict[str, Any]:
    job = owner.post("/api/v1/simulations", json={"simulation_type": "noop",
                                                  "parameters": {"n": 1}}).json()
    wait_for_simulation(owner, job["id"])
    requested = owner.post("/api/v1/reports", json={"simulation_job_ids": [job["id"]],
                                                     "report_type": "summary"})
    assert requested.status_code == 201, requested.text
    done = wait_for_report(owner, requested.json()["id"])
    assert done["status"] == "succeeded", done
    return done


def link(base_url: str, owner: User, report: dict[str, Any], host: str | None = None
         ) -> dict[str, Any]:
    headers = {**owner.headers, **({"Host": host} if host else {})}
    response = requests.get(f"{base_url}/api/v1/reports/{report['id']}", headers=headers,
                            timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_a_request_to_an_unknown_host_gets_a_relative_link(
        servers: dict[str, tuple[str, Path]], owner: User, report: dict[str, Any]) -> None:
    base_url = servers["plain"][0]
    port = base_url.rsplit(":", 1)[1]
    for host in (EVIL_HOST, f"{EVIL_HOST}:{port}", f"{TRUSTED_HOST}:{port}",
                 f"localhost@{EVIL_HOST}", f"{EVIL_HOST}\\@localhost"):
        url = link(base_url, owner, report, host)["download_url"]
        assert url.startswith("/api/v1/downloads/"), (host, url)
        assert requests.get(base_url + url, timeout=TIMEOUT).status_code == 200
    assert link(base_url, owner, report)["download_url"].startswith(
        f"{base_url}/api/v1/downloads/")  # the address the server binds to
    assert link(base_url, owner, report, f"localhost:{port}")["download_url"].startswith(
        f"http://localhost:{port}/api/v1/downloads/")


def test_links_start_with_the_public_base_url_whatever_the_host(
        servers: dict[str, tuple[str, Path]], owner: User, report: dict[str, Any]) -> None:
    for host in (None, EVIL_HOST):
        url = link(servers["public"][0], owner, report, host)["download_url"]
        assert url.startswith(f"{PUBLIC_BASE_URL}/api/v1/downloads/"), url
        local = servers["public"][0] + url.removeprefix(PUBLIC_BASE_URL)
        assert requests.get(local, timeout=TIMEOUT).content == requests.get(
            local, timeout=TIMEOUT).content != b""


def test_a_trusted_host_gets_absolute_links(servers: dict[str, tuple[str, Path]], owner: User,
                                            report: dict[str, Any]) -> None:
    base_url = servers["trusted"][0]
    port = base_url.rsplit(":", 1)[1]
    url = link(base_url, owner, report, f"{TRUSTED_HOST}:{port}")["download_url"]
    assert url.startswith(f"http://{TRUSTED_HOST}:{port}/api/v1/downloads/"), url
    assert link(base_url, owner, report, EVIL_HOST)["download_url"].startswith("/api/v1/")


def test_the_token_reveals_nothing_and_downloads_the_report(
        servers: dict[str, tuple[str, Path]], owner: User, report: dict[str, Any]) -> None:
    base_url = servers["plain"][0]
    body = link(base_url, owner, report)
    token = token_of(body["download_url"])
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for secret in (report["id"], owner.id, "reports/", report["filename"]):
        assert secret.encode() not in raw and secret not in token

    downloaded = requests.get(body["download_url"], timeout=TIMEOUT)
    assert downloaded.status_code == 200
    assert len(downloaded.content) == report["size"]
    assert json.loads(downloaded.content)  # the summary report is a JSON document
    assert report["filename"] in downloaded.headers["Content-Disposition"]

    opened = DownloadLinks(SECRET_KEY, 900).open(token, datetime.now(UTC))
    assert (opened.report_id, opened.owner_id) == (report["id"], owner.id)
    expires_at = datetime.fromisoformat(body["download_url_expires_at"].replace("Z", "+00:00"))
    assert opened.expires_at == expires_at  # the answer says when the link really expires
    assert timedelta(seconds=895) < expires_at - datetime.now(UTC) <= timedelta(seconds=900)


def test_tampered_foreign_and_expired_tokens(servers: dict[str, tuple[str, Path]], owner: User,
                                             report: dict[str, Any]) -> None:
    base_url = servers["plain"][0]
    token = token_of(link(base_url, owner, report)["download_url"])
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    now = datetime.now(UTC)
    foreign, _ = DownloadLinks("another-deployment-key-0123456789abcdef", 900).grant(
        report["id"], owner.id, now)
    for bad in (tampered, token[:-2], token + "x", "not-a-token", foreign):
        assert_envelope(requests.get(f"{base_url}/api/v1/downloads/{bad}", timeout=TIMEOUT),
                        404, "ResourceNotFound")
    expired, _ = DownloadLinks(SECRET_KEY, 900).grant(report["id"], owner.id,
                                                      now - timedelta(seconds=901))
    assert_envelope(requests.get(f"{base_url}/api/v1/downloads/{expired}", timeout=TIMEOUT),
                    403, "UnauthorizedOperation")
    stranger, _ = DownloadLinks(SECRET_KEY, 900).grant(report["id"], "usr-someone-else", now)
    assert_envelope(requests.get(f"{base_url}/api/v1/downloads/{stranger}", timeout=TIMEOUT),
                    404, "ResourceNotFound")


def test_the_access_log_never_holds_a_token(servers: dict[str, tuple[str, Path]], owner: User,
                                            report: dict[str, Any]) -> None:
    base_url, directory = servers["plain"]
    url = link(base_url, owner, report)["download_url"]
    assert requests.get(url, timeout=TIMEOUT).status_code == 200
    assert requests.get(url + "x", timeout=TIMEOUT).status_code == 404
    log = (directory / "server.log").read_text()
    downloads = [json.loads(line) for line in log.splitlines()
                 if line.startswith("{") and "downloads" in line]
    assert len(downloads) >= 2
    assert {e["path"] for e in downloads} == {"/api/v1/downloads/<token>"}
    assert token_of(url)[:12] not in log and not re.search(r"downloads/(?!<token>)", log)
