"""The dashboard over HTTP, against a real ``simdock serve``: sessions, isolation, hostile
content, CSRF, bad input, and the actions that go through the core's use cases."""

from __future__ import annotations

import csv
import html
import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.e2e.dashboard_session import act, csrf_of, signed_in
from tests.e2e.helpers import User

PAGES = ["/ui", "/ui/", "/ui/jobs", "/ui/jobs?status=failed", "/ui/jobs/table",
         "/ui/jobs/job-0123456789abcdef0", "/ui/jobs/job-0123456789abcdef0/results.zip",
         "/ui/tokens", "/ui/runs/run-0/download"]
HOSTILE = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>',
           "javascript:alert(1)"]


@pytest.fixture(scope="module")
def browser(user: User) -> requests.Session:
    return signed_in(user)


def submit(user: User, **body: Any) -> dict[str, Any]:
    response = user.post("/api/v1/jobs", json={"simulation_type": "noop", **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def status_of(user: User, job_id: str) -> str:
    return str(user.get(f"/api/v1/simulations/{job_id}").json()["status"])


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_out_request_to_any_page_is_sent_to_sign_in(base_url: str, path: str) -> None:
    response = requests.get(f"{base_url}{path}", allow_redirects=False)
    assert response.status_code in (303, 308), response.text
    if response.status_code == 308:  # /ui -> /ui/
        return
    assert response.headers["Location"].startswith("/ui/sign-in?next=")


def test_signing_in_makes_an_http_only_same_site_session_that_signing_out_ends(
        base_url: str, user: User) -> None:
    session = requests.Session()
    response = session.post(f"{base_url}/ui/sign-in", allow_redirects=False, data={
        "email": user.email, "password": user.password, "next": "/ui/tokens"})
    assert response.status_code == 303 and response.headers["Location"] == "/ui/tokens"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/ui" in cookie
    assert "Secure" not in cookie  # served over plain HTTP here
    assert session.get(f"{base_url}/ui/jobs").status_code == 200

    out = act(session, base_url, "/ui/sign-out")
    assert out.status_code == 303
    assert session.get(f"{base_url}/ui/jobs", allow_redirects=False).status_code == 303


def test_a_wrong_password_shows_the_form_again_saying_so(base_url: str, user: User) -> None:
    response = requests.post(f"{base_url}/ui/sign-in", allow_redirects=False,
                             data={"email": user.email, "password": "not-the-password"})
    assert response.status_code == 401
    assert "incorrect email or password" in response.text
    assert "Set-Cookie" not in response.headers


def test_sign_in_goes_back_only_to_a_dashboard_page(base_url: str, user: User) -> None:
    for wanted in ("https://elsewhere.example/", "//elsewhere.example/ui/", "/api/v1/jobs"):
        response = requests.post(f"{base_url}/ui/sign-in", allow_redirects=False, data={
            "email": user.email, "password": user.password, "next": wanted})
        assert response.headers["Location"] == "/ui/jobs"


@pytest.mark.parametrize("path", ["/ui/jobs", "/ui/tokens", "/ui/jobs/job-0123456789abcdef0",
                                  "/ui/nowhere", "/ui/jobs?status=bogus"])
def test_every_answer_forbids_inline_script_and_framing(browser: requests.Session,
                                                        base_url: str, path: str) -> None:
    response = browser.get(f"{base_url}{path}")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.text  # only <script src=...> from this server


def test_hostile_names_tags_parameters_and_errors_are_shown_as_text(
        browser: requests.Session, base_url: str, user: User) -> None:
    job = submit(user, name=HOSTILE[0], tags=HOSTILE[1:],
                 params={"note": HOSTILE[0], "link": HOSTILE[2]}, metadata={"x": HOSTILE[1]})
    pages = [browser.get(f"{base_url}/ui/jobs").text,
             browser.get(f"{base_url}/ui/jobs/{job['simulation_id']}").text]
    for page in pages:
        assert '<script>alert' not in page and "<img src=x" not in page
        assert 'href="javascript:' not in page
        assert all(text in html.unescape(page) for text in HOSTILE)  # shown, as text


def test_another_users_job_is_a_404_page(base_url: str, user: User,
                                        new_user: Callable[[str], User]) -> None:
    theirs = submit(new_user("carol"))
    response = signed_in(user).get(f"{base_url}/ui/jobs/{theirs['simulation_id']}")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<h1>Not found</h1>" in response.text and "Back to your jobs" in response.text


def test_an_action_without_the_csrf_token_is_refused_and_changes_nothing(
        browser: requests.Session, base_url: str, user: User) -> None:
    job = submit(user, simulation_type="sleep", params={"seconds": 30})
    response = browser.post(f"{base_url}/ui/jobs/{job['simulation_id']}/cancel",
                            headers={"Origin": base_url}, allow_redirects=False)
    assert response.status_code == 403
    assert "reload the page" in response.text
    assert status_of(user, job["simulation_id"]) in ("queued", "running")
    user.post(f"/api/v1/simulations/{job['simulation_id']}/cancel")


def test_an_action_from_another_origin_is_refused_even_with_the_token(
        browser: requests.Session, base_url: str, user: User) -> None:
    job = submit(user, simulation_type="sleep", params={"seconds": 30})
    token = act(browser, base_url, "/ui/tokens", name="probe").text  # the token exists
    assert "probe" in token
    refused = browser.post(f"{base_url}/ui/jobs/{job['simulation_id']}/cancel",
                           data={"csrf_token": csrf_of(browser, base_url)},
                           headers={"Origin": "http://attacker.example"},
                           allow_redirects=False)
    assert refused.status_code == 403
    assert status_of(user, job["simulation_id"]) in ("queued", "running")
    user.post(f"/api/v1/simulations/{job['simulation_id']}/cancel")


@pytest.mark.parametrize("query, named", [
    ("status=bogus", "unknown status 'bogus'"), ("from=yesterday", "from"),
    ("cursor=garbage", "cursor"), ("order=color", "order"),
    ("from=2026-02-01&to=2026-01-01", "before the 'from' date")])
def test_bad_filters_and_cursors_are_400_pages_that_name_them(
        browser: requests.Session, base_url: str, query: str, named: str) -> None:
    response = browser.get(f"{base_url}/ui/jobs?{query}")
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert named in html.unescape(response.text)


@pytest.mark.parametrize("cookie", ["forged", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"])
def test_a_forged_session_cookie_sends_the_browser_to_sign_in(base_url: str,
                                                              cookie: str) -> None:
    response = requests.get(f"{base_url}/ui/jobs", cookies={"simdock_session": cookie},
                            allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/ui/sign-in")


def test_an_api_token_is_created_shown_once_used_and_revoked(
        browser: requests.Session, base_url: str) -> None:
    created = act(browser, base_url, "/ui/tokens", name="laptop", expires_in_days="30")
    assert created.status_code == 201
    secret = created.text.split('id="new-token" class="secret" readonly value="')[1].split('"')[0]
    api = {"Authorization": f"Bearer {secret}"}
    assert requests.get(f"{base_url}/api/v1/auth/me", headers=api).status_code == 200
    listed = browser.get(f"{base_url}/ui/tokens").text
    assert "laptop" in listed and secret not in listed
    listing = requests.get(f"{base_url}/api/v1/auth/tokens", headers=api).json()["items"]
    token_id = next(t["id"] for t in listing if t["name"] == "laptop")

    assert act(browser, base_url, f"/ui/tokens/{token_id}/revoke").status_code == 303
    assert requests.get(f"{base_url}/api/v1/auth/me", headers=api).status_code == 401
    assert "revoked" in browser.get(f"{base_url}/ui/tokens").text


def test_a_token_without_a_name_is_a_400_page(browser: requests.Session, base_url: str) -> None:
    response = act(browser, base_url, "/ui/tokens", name="  ")
    assert response.status_code == 400 and "token name" in response.text


def test_cancel_then_retry_from_the_job_page(browser: requests.Session, base_url: str,
                                             user: User) -> None:
    job = submit(user, simulation_type="sleep", params={"seconds": 1})
    page = browser.get(f"{base_url}/ui/jobs/{job['simulation_id']}").text
    assert "Cancel 1 unfinished run" in page

    assert act(browser, base_url, f"/ui/jobs/{job['simulation_id']}/cancel").status_code == 303
    assert status_of(user, job["simulation_id"]) == "cancelled"
    assert "Retry 1 failed or cancelled run" in browser.get(
        f"{base_url}/ui/jobs/{job['simulation_id']}").text

    assert act(browser, base_url, f"/ui/jobs/{job['simulation_id']}/retry").status_code == 303
    deadline = time.monotonic() + 30
    while status_of(user, job["simulation_id"]) != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    run = user.get(f"/api/v1/jobs/{job['jobs'][0]}").json()
    assert run["attempts"] >= 1 and run["id"] == job["jobs"][0]


def test_a_sweeps_results_download_as_a_zip_of_a_table_and_json_lines(
        browser: requests.Session, base_url: str, user: User,
        new_user: Callable[[str], User]) -> None:
    job = submit(user, sweep=[{"x": 1, "label": HOSTILE[0]}, {"x": 2, "label": "=2+2"},
                              {"x": 3, "label": "plain"}])["simulation_id"]
    deadline = time.monotonic() + 30
    while status_of(user, job) != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert f'href="/ui/jobs/{job}/results.zip"' in browser.get(f"{base_url}/ui/jobs/{job}").text

    response = browser.get(f"{base_url}/ui/jobs/{job}/results.zip")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert f'filename="{job}-results.zip"' in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as opened:
        table = list(csv.reader(io.StringIO(opened.read("runs.csv").decode())))
        lines = [json.loads(line) for line in opened.read("runs.jsonl").splitlines()]
    assert table[0] == ["index", "run_id", "status", "error", "x", "label", "parameters"]
    assert [row[:3] for row in table[1:]] == [
        [str(line["index"]), line["run_id"], "succeeded"] for line in lines]
    assert [row[4:6] for row in table[1:]] == [["1", HOSTILE[0]], ["2", "'=2+2"],
                                                ["3", "plain"]]
    assert [line["result"] for line in lines] == [
        {"parameters": {"x": 1, "label": HOSTILE[0]}}, {"parameters": {"x": 2, "label": "=2+2"}},
        {"parameters": {"x": 3, "label": "plain"}}]
    assert signed_in(new_user("dave")).get(
        f"{base_url}/ui/jobs/{job}/results.zip").status_code == 404


def test_retry_over_the_api_queues_only_failed_and_cancelled_runs(user: User) -> None:
    job = submit(user, simulation_type="sleep", params={"seconds": 30})
    assert user.post(f"/api/v1/simulations/{job['simulation_id']}/cancel").status_code == 200
    retried = user.post(f"/api/v1/simulations/{job['simulation_id']}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] in ("queued", "running")
    user.post(f"/api/v1/simulations/{job['simulation_id']}/cancel")
    done = submit(user)
    assert user.post(f"/api/v1/simulations/{done['simulation_id']}/retry").status_code == 200


def test_the_jobs_page_pages_by_keyset_and_keeps_its_filter(browser: requests.Session,
                                                          base_url: str, user: User) -> None:
    for _ in range(53):
        submit(user, tags=["paged"])
    first = browser.get(f"{base_url}/ui/jobs?tag=paged")
    assert "Jobs 1\N{EN DASH}50 of 53 matching the filter" in first.text
    following = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "tag=paged" in following and "cursor=" in following
    second = browser.get(f"{base_url}{html.unescape(following)}")
    assert "Jobs 51\N{EN DASH}53 of 53 matching the filter" in second.text
    table = browser.get(f"{base_url}/ui/jobs/table?tag=paged")
    assert table.text.lstrip().startswith('<section id="jobs"')
    assert 'hx-get="/ui/jobs/table?tag=paged"' in table.text


def test_bulk_cancel_of_selected_jobs_asks_first_then_cancels_them_all(
        browser: requests.Session, base_url: str, user: User) -> None:
    jobs = [submit(user, simulation_type="sleep", params={"seconds": 30})["simulation_id"]
            for _ in range(2)]
    asked = act(browser, base_url, "/ui/jobs/bulk", action="cancel:selected", job=jobs)
    assert asked.status_code == 200 and "Cancel 2 jobs?" in asked.text
    assert {status_of(user, job) for job in jobs} <= {"queued", "running"}  # not yet

    done = act(browser, base_url, "/ui/jobs/bulk", action="cancel:selected", job=jobs,
               confirmed="1")
    assert done.status_code == 200 and "of 2 jobs cancelled" in done.text
    assert {status_of(user, job) for job in jobs} == {"cancelled"}


def test_bulk_retry_of_every_job_a_filter_matches(browser: requests.Session, base_url: str,
                                                  user: User) -> None:
    tag = "bulk-retry"
    jobs = [submit(user, simulation_type="sleep", params={"seconds": 30}, tags=[tag])
            for _ in range(3)]
    for job in jobs:
        user.post(f"/api/v1/simulations/{job['simulation_id']}/cancel")
    asked = act(browser, base_url, "/ui/jobs/bulk", action="retry:matching", tag=tag)
    assert "Retry 3 jobs?" in asked.text and "every job the filter matches" in asked.text
    assert f'name="tag" value="{tag}"' in asked.text
    done = act(browser, base_url, "/ui/jobs/bulk", action="retry:matching", tag=tag,
               confirmed="1")
    assert "3 runs of 3 jobs queued again" in done.text
    assert {status_of(user, job["simulation_id"]) for job in jobs} <= {"queued", "running"}
    act(browser, base_url, "/ui/jobs/bulk", action="cancel:matching", tag=tag, confirmed="1")


@pytest.mark.parametrize("form, says", [
    ({"action": "cancel:selected"}, "select at least one job"),
    ({"action": "delete:selected", "job": "job-x"}, "unknown action"),
    ({"action": "cancel:everything"}, "unknown action")])
def test_a_bulk_action_without_jobs_or_with_an_unknown_action_is_a_400_page(
        browser: requests.Session, base_url: str, form: dict[str, str], says: str) -> None:
    response = act(browser, base_url, "/ui/jobs/bulk", **form)
    assert response.status_code == 400 and says in response.text


def test_a_bulk_action_naming_another_users_job_changes_nothing(
        browser: requests.Session, base_url: str, user: User,
        new_user: Callable[[str], User]) -> None:
    mine = submit(user, simulation_type="sleep", params={"seconds": 30})["simulation_id"]
    theirs = submit(new_user("erin"), simulation_type="sleep", params={"seconds": 30})
    response = act(browser, base_url, "/ui/jobs/bulk", action="cancel:selected",
                   job=[mine, theirs["simulation_id"]], confirmed="1")
    assert response.status_code == 404
    assert status_of(user, mine) in ("queued", "running")
    user.post(f"/api/v1/simulations/{mine}/cancel")
