"""The dashboard's workers page over HTTP: administrators see the live workers (a real
``simdock worker`` beating beside the server), the queues and each user's share, the
services and the machines; other users get a 403 page and no link to it."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.browser import VIEWPORTS, chromium, screenshot
from tests.e2e.dashboard_session import signed_in
from tests.e2e.helpers import SECRET_KEY, register_and_login
from tests.e2e.servers import SIMDOCK, running_server
from tests.e2e.test_abuse import grant_admin


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    directory = tmp_path_factory.mktemp("workers")
    with running_server(directory, SECRET_KEY=SECRET_KEY, DISPATCH="database") as url:
        yield url, directory


def test_an_administrator_sees_a_live_worker_the_queues_and_each_users_share(
        server: tuple[str, Path]) -> None:
    base_url, directory = server
    admin, busy = register_and_login(base_url, "ops"), register_and_login(base_url, "busy")
    assert grant_admin(directory, admin).returncode == 0
    for _ in range(3):  # queued: no worker takes simulations yet
        busy.post("/api/v1/jobs", json={"simulation_type": "noop"})
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{directory / 'simdock.db'}",
           "ARTIFACTS_PATH": str(directory / "artifacts"), "WORKER_QUEUES": "reports",
           "EXECUTOR_WORKERS": "3", "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen([str(SIMDOCK), "worker"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        browser = signed_in(admin)
        deadline = time.monotonic() + 60
        while "<table>" not in (page := browser.get(f"{base_url}/ui/workers").text).split(
                "Live workers")[1].split("Machines")[0]:
            assert time.monotonic() < deadline, page
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(30)
    live = page.split("Live workers")[1].split("</table>")[0]
    assert f":{worker.pid}</code>" in live and "<td>reports</td>" in live
    assert "<td>3</td>" in live  # its slots
    queues = page.split("Queues")[1].split("Live workers")[0]
    assert "simulations: queued runs</dt><dd>3</dd>" in queues
    assert busy.email in queues and "100%" in queues
    assert "answers</span> database" in page and "answers</span> blob store" in page
    assert 'href="/ui/workers"' in page  # in an administrator's navigation


def test_another_user_gets_a_403_page_and_no_link(server: tuple[str, Path]) -> None:
    base_url, _ = server
    user = register_and_login(base_url, "plain")
    browser = signed_in(user)
    refused = browser.get(f"{base_url}/ui/workers")
    assert refused.status_code == 403 and "administrators only" in refused.text
    assert 'href="/ui/workers"' not in browser.get(f"{base_url}/ui/jobs").text
    assert requests.get(f"{base_url}/ui/workers", allow_redirects=False).status_code == 303


@pytest.mark.slow
def test_the_workers_page_in_a_browser(server: tuple[str, Path]) -> None:
    base_url, directory = server
    admin = register_and_login(base_url, "ops2")
    assert grant_admin(directory, admin).returncode == 0
    session = signed_in(admin).cookies["simdock_session"]
    with chromium() as browser:
        for name, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport)
            context.add_cookies([{"name": "simdock_session", "value": session,
                                  "url": f"{base_url}/ui"}])
            page = context.new_page()
            problems: list[str] = []
            page.on("console", lambda m, seen=problems: seen.append(m.text)
                    if m.type == "error" else None)
            page.goto(f"{base_url}/ui/workers")
            assert page.get_by_role("heading", name="Workers and queues").is_visible()
            screenshot(page, f"workers-{name}")
            context.close()
            assert problems == []


def test_an_administrator_sees_every_users_jobs_and_runs(server: tuple[str, Path]) -> None:
    base_url, directory = server
    admin, owner = register_and_login(base_url, "ops3"), register_and_login(base_url, "own")
    assert grant_admin(directory, admin).returncode == 0
    job = owner.post("/api/v1/jobs", json={"simulation_type": "noop", "name": "owned"}).json()
    browser = signed_in(admin)
    assert "owned" in browser.get(f"{base_url}/ui/jobs", params={"type": "noop"}).text
    assert browser.get(f"{base_url}/ui/jobs/{job['simulation_id']}").status_code == 200
    assert browser.get(f"{base_url}/ui/runs/{job['jobs'][0]}").status_code == 200
    other = signed_in(register_and_login(base_url, "nosy"))
    assert other.get(f"{base_url}/ui/jobs/{job['simulation_id']}").status_code == 404
