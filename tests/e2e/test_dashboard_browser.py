"""The dashboard in a real Chromium: what a person does, seen as they see it.

Each test keeps screenshots of the pages it visits, at a laptop's width and a
phone's (``tests.e2e.browser.SCREENSHOTS``). A page that breaks its own
Content-Security-Policy (an inline script or style) logs an error in the console:
every test fails on any console error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.e2e.browser import VIEWPORTS, chromium, screenshot
from tests.e2e.helpers import User, wait_for_simulation

pytestmark = pytest.mark.slow
LIVE = 20_000  # ms: several refreshes of a live table


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as started:
        yield started


@pytest.fixture(params=list(VIEWPORTS))
def page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    tab = context.new_page()
    tab.set_default_timeout(LIVE)
    problems: list[tuple[str, str]] = []
    tab.on("console", lambda m: problems.append((m.text, m.location.get("url", "")))
           if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append((str(e), "")))
    tab.viewport_name = request.param
    tab.missing_on_purpose = set()
    yield tab
    context.close()
    assert [(text, url) for text, url in problems
            if url not in tab.missing_on_purpose] == [], problems


def sign_in(page: Any, user: User) -> None:
    page.goto(f"{user.base_url}/ui/jobs")
    assert "/ui/sign-in" in page.url
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/ui/jobs$"))


def until(page: Any, check: str, timeout: float = LIVE / 1000) -> None:
    """Wait until ``check`` (a JavaScript function of no argument) is true in ``page``.

    Evaluated from outside the page: the page's CSP forbids the eval that Playwright's own
    ``wait_for_function`` would need inside it."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(check):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {check}"
        page.wait_for_timeout(100)


def line_count(page: Any) -> int:
    return int(page.evaluate("() => document.querySelectorAll('#log-lines .line').length"))


def shot(page: Any, name: str) -> None:
    screenshot(page, f"{name}-{page.viewport_name}")


def test_sign_in_then_watch_a_sweep_progress_live_to_its_end(page: Any, user: User) -> None:
    page.goto(f"{user.base_url}/ui/sign-in")
    shot(page, "sign-in")
    sign_in(page, user)
    page.evaluate("window.stillTheSamePage = true")
    sweep = user.post("/api/v1/jobs", json={
        "simulation_type": "ticks", "name": f"live sweep {page.viewport_name}",
        "sweep": [{"ticks": 6, "interval": 0.5}, {"ticks": 8, "interval": 0.5},
                  {"ticks": 4, "interval": 0.5}], "tags": ["browser"]}).json()
    row = page.locator("tr", has_text=f"live sweep {page.viewport_name}")
    row.wait_for()  # appeared without a reload
    row.get_by_text("succeeded").wait_for(timeout=60_000)
    assert "3 / 3" in row.inner_text()
    assert page.evaluate("window.stillTheSamePage") is True
    shot(page, "jobs")

    row.get_by_role("link").first.click()
    page.wait_for_url(re.compile(sweep["simulation_id"]))
    assert page.get_by_text("3 of 3 runs finished").is_visible()
    shot(page, "job")


def test_cancel_a_running_job_then_retry_it_until_it_succeeds(page: Any, user: User) -> None:
    sign_in(page, user)
    job = user.post("/api/v1/jobs", json={"simulation_type": "ticks",
                                           "params": {"ticks": 12, "interval": 0.5}}).json()
    page.goto(f"{user.base_url}/ui/jobs/{job['simulation_id']}")
    page.locator(".summary .status", has_text="running").wait_for()
    page.get_by_role("button", name=re.compile("Cancel 1 unfinished run")).click()
    page.locator(".summary .status", has_text="cancelled").wait_for()
    shot(page, "job-cancelled")

    page.get_by_role("button", name=re.compile("Retry 1 failed or cancelled run")).click()
    page.locator(".summary .status", has_text="succeeded").wait_for(timeout=60_000)
    run = user.get(f"/api/v1/jobs/{job['jobs'][0]}").json()
    assert run["status"] == "succeeded" and run["attempts"] == 2
    shot(page, "job-retried")


def test_create_and_revoke_a_token(page: Any, user: User) -> None:
    sign_in(page, user)
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill(f"epx on {page.viewport_name}")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("Your new token").input_value()
    api = {"Authorization": f"Bearer {secret}"}
    assert requests.get(f"{user.base_url}/api/v1/auth/me", headers=api).status_code == 200
    shot(page, "tokens")
    page.get_by_role("button", name=f"Revoke token epx on {page.viewport_name}").click()
    page.get_by_text("revoked").first.wait_for()
    assert requests.get(f"{user.base_url}/api/v1/auth/me", headers=api).status_code == 401


def test_another_users_job_is_the_404_page(page: Any, user: User,
                                          new_user: Callable[[str], User]) -> None:
    theirs = new_user("dave").post("/api/v1/jobs", json={"simulation_type": "noop"}).json()
    sign_in(page, user)
    theirs_page = f"{user.base_url}/ui/jobs/{theirs['simulation_id']}"
    page.missing_on_purpose.add(theirs_page)  # its 404 is what this test looks for
    response = page.goto(theirs_page)
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    shot(page, "not-found")


PAINTED = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { painted += 1; } }
  return painted;
}"""


def test_log_lines_appear_live_can_be_paused_and_the_convergence_plot_draws(
        page: Any, user: User) -> None:
    sign_in(page, user)
    run_id = user.post("/api/v1/jobs", json={"simulation_type": "ticks", "params": {
        "ticks": 60, "interval": 0.25}}).json()["jobs"][0]
    page.goto(f"{user.base_url}/ui/runs/{run_id}")
    seen = line_count(page)
    until(page, f"() => document.querySelectorAll('#log-lines .line').length > {seen + 4}")
    canvas = page.locator(".plot canvas").first
    canvas.wait_for()
    until(page, "() => Number(document.querySelector('.plot').dataset.points) > 5")
    assert canvas.evaluate(PAINTED) > 500  # the series is drawn, not an empty frame
    shot(page, "run-live")

    page.get_by_label("Pause following").check()
    paused_at = line_count(page)
    page.wait_for_timeout(3000)
    assert line_count(page) == paused_at
    page.get_by_label("Pause following").uncheck()
    until(page, f"() => document.querySelectorAll('#log-lines .line').length > {paused_at}")
    page.locator("#log-follow", has_text="End of the log: the run has succeeded").wait_for(
        timeout=60_000)
    seqs = page.eval_on_selector_all("#log-lines .seq", "(spans) => spans.map(s => +s.textContent)")
    lines = user.get(f"/api/v1/jobs/{run_id}/logs").json()["lines"]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # none twice, none left out
    assert seqs[-1] == len(lines)


def test_a_finished_run_shows_its_result_and_previews(page: Any, user: User) -> None:
    run_id = user.post("/api/v1/jobs", json={"simulation_type": "heat1d", "params": {
        "length": 1.0, "time_steps": 200, "diffusivity": 0.01}}).json()["jobs"][0]
    sign_in(page, user)
    page.goto(f"{user.base_url}/ui/runs/{run_id}")
    page.locator("#run-summary .status", has_text="succeeded").wait_for()
    page.reload()
    image = page.get_by_role("img", name="simulation_results.png")
    image.wait_for()
    assert image.evaluate("(img) => img.complete && img.naturalWidth") > 100
    assert page.locator("table.preview tr").count() > 5
    shot(page, "run-finished")


def test_a_reused_run_says_which_run_it_reuses_and_shows_its_files(
        page: Any, user: User) -> None:
    params = {"length": 1.0, "time_steps": 120, "diffusivity": 0.013}
    def submitted() -> str:
        run_id = str(user.post("/api/v1/jobs", json={"simulation_type": "heat1d",
                                                     "params": params}).json()["jobs"][0])
        deadline = time.monotonic() + 60
        while user.get(f"/api/v1/jobs/{run_id}").json()["status"] != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        return run_id

    first, again = submitted(), submitted()
    source = user.get(f"/api/v1/jobs/{again}").json()["reused_from"]
    assert source in (first, user.get(f"/api/v1/jobs/{first}").json()["reused_from"])
    sign_in(page, user)
    page.goto(f"{user.base_url}/ui/runs/{again}")
    summary = page.locator("#run-summary")
    summary.locator(".status", has_text="succeeded").wait_for()
    assert summary.get_by_role("link", name=source).count() == 1
    image = page.get_by_role("img", name="simulation_results.png")
    image.wait_for()
    assert image.evaluate("(img) => img.complete && img.naturalWidth") > 100
    assert page.get_by_role("link", name="the run it reuses").count() == 2  # log, metrics
    shot(page, "run-reused")


def test_request_a_report_from_a_job_and_preview_it(page: Any, user: User) -> None:
    job = user.post("/api/v1/jobs", json={"simulation_type": "noop", "name": "for a report"}
                    ).json()["simulation_id"]
    sign_in(page, user)
    page.goto(f"{user.base_url}/ui/jobs/{job}")
    page.get_by_role("link", name="Request a report").click()
    assert page.get_by_label("Jobs (ids, separated by spaces or commas)").input_value() == job
    page.get_by_label("Format").select_option("html")
    page.get_by_role("button", name="Request").click()
    page.locator("#report .status", has_text="succeeded").wait_for()
    frame = page.frame_locator("iframe.document")
    frame.locator("body").wait_for()
    assert job in frame.locator("body").inner_text()
    shot(page, "report")
    page.get_by_role("link", name="Reports").first.click()
    page.get_by_role("cell", name="html").first.wait_for()
    shot(page, "reports")


def test_a_reports_plots_of_means_and_intervals_show_in_its_preview(
        page: Any, user: User) -> None:
    job = user.post("/api/v1/jobs", json={
        "simulation_type": "monte_carlo", "name": "points to plot",
        "grid": {"iterations": [100, 400, 1600], "seed": list(range(1, 5))}}
                    ).json()["simulation_id"]
    assert wait_for_simulation(user, job, timeout=90)["status"] == "succeeded"
    sign_in(page, user)
    page.goto(f"{user.base_url}/ui/jobs/{job}")
    page.get_by_role("link", name="Request a report").click()
    page.get_by_label("Format").select_option("html")
    page.get_by_role("button", name="Request").click()
    page.locator("#report .status", has_text="succeeded").wait_for()
    frame = page.frame_locator("iframe.document")
    frame.get_by_role("heading", name="Parameter points").wait_for()
    plot = frame.get_by_role("img", name="estimate against iterations: mean and 95% interval")
    plot.wait_for()
    assert plot.evaluate("(img) => img.complete && img.naturalWidth") > 300
    shot(page, "report-plots")


def test_select_jobs_and_cancel_them_after_saying_how_many(page: Any, user: User) -> None:
    names = [f"bulk {page.viewport_name} {i}" for i in range(2)]
    for name in names:
        user.post("/api/v1/jobs", json={"simulation_type": "sleep", "name": name,
                                        "params": {"seconds": 30}})
    sign_in(page, user)
    for name in names:
        page.get_by_label(f"select {name}").check()
    page.wait_for_timeout(4000)  # a refresh would have come: the boxes stay ticked
    assert all(page.get_by_label(f"select {name}").is_checked() for name in names)
    page.get_by_role("button", name="Cancel", exact=True).click()
    page.get_by_role("heading", name="Cancel 2 jobs?").wait_for()
    shot(page, "bulk-confirm")
    page.get_by_role("button", name="Yes, cancel 2 jobs").click()
    page.get_by_text("of 2 jobs cancelled").wait_for()


def test_a_replicated_sweep_shows_each_points_interval(page: Any, user: User) -> None:
    job = user.post("/api/v1/jobs", json={
        "simulation_type": "monte_carlo", "params": {"iterations": 300},
        "grid": {"config": [{}, {"batch_size": 30}, {"batch_size": 60}]},
        "replicate": {"metric": "estimate", "half_width": 0.06, "min": 4, "batch": 4}}
                    ).json()["simulation_id"]
    assert wait_for_simulation(user, job, timeout=90)["status"] == "succeeded"
    sign_in(page, user)
    page.goto(f"{user.base_url}/ui/jobs/{job}")
    card = page.get_by_role("region", name="Replication")
    card.wait_for()
    assert card.locator("tbody tr").count() == 3
    assert card.locator(".status", has_text="met").count() == 3
    shot(page, "job-replicated")


def test_a_sweeps_result_is_plotted_against_each_parameter(page: Any, user: User) -> None:
    job = user.post("/api/v1/jobs", json={"simulation_type": "monte_carlo", "grid": {
        "iterations": [1000, 4000, 16000, 64000], "seed": [1, 2, 3]}}).json()["simulation_id"]
    deadline = time.monotonic() + 60
    while user.get(f"/api/v1/simulations/{job}").json()["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    sign_in(page, user)
    page.goto(f"{user.base_url}/ui/jobs/{job}?y=estimate")
    canvas = page.locator("[data-results-url] canvas").first
    canvas.wait_for()
    assert canvas.evaluate(PAINTED) > 500
    assert page.get_by_label("Result", exact=True).input_value() == "estimate"
    assert page.get_by_label("against", exact=True).input_value() == "iterations"
    assert page.locator(".parallel-wrap.shown canvas").evaluate(PAINTED) > 500
    assert "12 runs, 4 points" in page.locator(".plot-note").inner_text()
    shot(page, "job-plot")
    page.get_by_label("against", exact=True).select_option("seed")
    page.get_by_role("button", name="Plot").click()
    page.wait_for_url(re.compile(r"x=seed"))
    until(page, "() => document.querySelector('.plot-note').textContent.includes('3 points')")


def test_page_through_a_ten_thousand_run_sweep(page: Any, user: User) -> None:
    job = user.post("/api/v1/jobs", json={"simulation_type": "noop", "name": "ten thousand",
                                          "grid": {"i": list(range(10_000))}}).json()
    sign_in(page, user)
    page.goto(f"{user.base_url}/ui/jobs/{job['simulation_id']}")
    assert "Runs 1\N{EN DASH}50 of 10,000" in page.locator(".count").last.inner_text()
    for first in (51, 101, 151):
        page.get_by_role("link", name="Next page »").click()
        page.wait_for_url(re.compile("cursor="))
        assert f"Runs {first:,}\N{EN DASH}{first + 49:,} of 10,000" in page.locator(
            ".count").last.inner_text()
    assert page.locator("tbody tr").count() == 50
    shot(page, "sweep-paged")


def test_hostile_content_is_shown_as_text_and_never_runs(page: Any, user: User) -> None:
    hostile = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>',
               "javascript:alert(1)"]
    job = user.post("/api/v1/jobs", json={
        "simulation_type": "noop", "name": hostile[0], "tags": hostile[1:],
        "params": {"note": hostile[1]}, "metadata": {"x": hostile[2]}}).json()
    dialogs: list[str] = []

    def opened(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", opened)
    sign_in(page, user)
    for path in ("/ui/jobs", f"/ui/jobs/{job['simulation_id']}", f"/ui/runs/{job['jobs'][0]}"):
        page.goto(f"{user.base_url}{path}")
        page.wait_for_timeout(500)
        assert hostile[0] in page.content().replace("&lt;", "<").replace("&gt;", ">")
    assert page.get_by_text(hostile[1]).first.is_visible()
    assert dialogs == []  # nothing ran
