"""A run's page over HTTP: result, artifacts and their previews, metrics, the log followed,
paged and searched, and what it refuses."""

from __future__ import annotations

import html
import json
import re
import time
from typing import Any

import pytest
import requests

from tests.e2e.dashboard_session import signed_in
from tests.e2e.helpers import User, wait_for_run

HEAT1D = {"length": 1.0, "time_steps": 200, "diffusivity": 0.01}


@pytest.fixture(scope="module")
def browser(user: User) -> requests.Session:
    return signed_in(user)


@pytest.fixture(scope="module")
def heat_run(user: User) -> str:
    run_id = str(user.post("/api/v1/jobs", json={"simulation_type": "heat1d",
                                                 "params": HEAT1D}).json()["jobs"][0])
    assert wait_for_run(user, run_id)["status"] == "succeeded"
    return run_id


@pytest.fixture(scope="module")
def ticked_run(user: User) -> str:
    run_id = str(user.post("/api/v1/jobs", json={"simulation_type": "ticks", "params": {
        "ticks": 30, "interval": 0.01}}).json()["jobs"][0])
    assert wait_for_run(user, run_id)["status"] == "succeeded"
    return run_id


def lines_of(page: str) -> list[int]:
    block = page.split('id="log-lines"', 1)[1].split("</div>\n", 1)[0] if (
        'id="log-lines"' in page) else page
    return [int(seq) for seq in re.findall(r'<span class="seq">(\d+)</span>', block)]


def test_a_run_page_shows_its_result_artifacts_with_previews_and_its_log(
        browser: requests.Session, base_url: str, heat_run: str) -> None:
    page = browser.get(f"{base_url}/ui/runs/{heat_run}")
    assert page.status_code == 200
    text = page.text
    assert "succeeded" in text and "final_center_temp" in text  # the result, readable
    png = f"/ui/runs/{heat_run}/artifacts/simulation_results.png?inline=1"
    assert f'src="{png}"' in text  # previewed as an image
    assert '<table class="preview">' in text and "center_temp" in text  # the CSV's rows
    assert '<pre class="preview">' in text  # meta.json, indented
    assert "temperature_field.npy" in text  # listed, only downloaded
    assert lines_of(text) and "heat1d: done" in text
    assert f'data-metrics-url="/ui/runs/{heat_run}/metrics.json"' in text
    attempts = text.split('id="attempts-title"')[1].split("</table>")[0]
    assert attempts.count("<tr>") == 2 and '<span class="status s-succeeded">' in attempts


def test_only_a_real_png_is_served_inline_and_every_artifact_is_sandboxed(
        browser: requests.Session, base_url: str, heat_run: str) -> None:
    image = browser.get(f"{base_url}/ui/runs/{heat_run}/artifacts/simulation_results.png",
                        params={"inline": "1"})
    assert image.headers["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert "attachment" not in image.headers.get("Content-Disposition", "")
    table = browser.get(f"{base_url}/ui/runs/{heat_run}/artifacts/result.csv",
                        params={"inline": "1"})
    assert table.headers["Content-Type"] == "application/octet-stream"
    assert table.headers["Content-Disposition"].startswith("attachment")
    for answer in (image, table):
        assert "sandbox" in answer.headers["Content-Security-Policy"]
    missing = browser.get(f"{base_url}/ui/runs/{heat_run}/artifacts/nothing.png")
    assert missing.status_code == 404 and "text/html" in missing.headers["Content-Type"]


def test_a_runs_metrics_come_aligned_by_step_for_the_plot(
        browser: requests.Session, base_url: str, heat_run: str) -> None:
    body: dict[str, Any] = browser.get(f"{base_url}/ui/runs/{heat_run}/metrics.json").json()
    assert body["names"] == ["center_temp"] and body["complete"] is True
    assert len(body["steps"]) == len(body["values"][0]) == body["points"] > 1
    assert body["steps"] == sorted(body["steps"])


def test_the_log_pages_from_a_line_and_searches_whatever_the_case(
        browser: requests.Session, base_url: str, ticked_run: str) -> None:
    whole = browser.get(f"{base_url}/ui/runs/{ticked_run}", params={"after": "0"}).text
    assert lines_of(whole) == list(range(1, 31))
    later = browser.get(f"{base_url}/ui/runs/{ticked_run}", params={"after": "25"}).text
    assert lines_of(later) == [26, 27, 28, 29, 30]
    found = browser.get(f"{base_url}/ui/runs/{ticked_run}", params={"q": "TICK 2"}).text
    assert lines_of(found) == [2, *range(20, 30)]
    assert "11 lines holding \u201cTICK 2\u201d among lines 1\u201330 of 30" in html.unescape(found)


def events_of(stream: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, data) of each event of a server-sent event stream's text."""
    found = []
    for block in stream.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines()
                      if not line.startswith(":") and ": " in line)
        if "event" in fields:
            found.append((fields["event"], json.loads(fields["data"])))
    return found


def test_following_a_log_streams_the_new_lines_and_ends_with_the_run(
        browser: requests.Session, base_url: str, ticked_run: str) -> None:
    stream = browser.get(f"{base_url}/ui/runs/{ticked_run}/log/events",
                         params={"after": "28"}, timeout=30)
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    events = events_of(stream.text)
    assert [(name, data.get("seq")) for name, data in events] == [
        ("log", 29), ("log", 30), ("end", None)]
    assert events[-1][1] == {"status": "succeeded"}
    again = browser.get(f"{base_url}/ui/runs/{ticked_run}/log/events",
                        headers={"Last-Event-ID": "29"}, timeout=30)  # taken up again
    assert [data.get("seq") for _, data in events_of(again.text)] == [30, None]


def test_a_running_log_is_followed_from_its_end(browser: requests.Session, base_url: str,
                                               user: User) -> None:
    run_id = user.post("/api/v1/jobs", json={"simulation_type": "ticks", "params": {
        "ticks": 200, "interval": 0.05}}).json()["jobs"][0]
    deadline = time.monotonic() + 30
    while not user.get(f"/api/v1/jobs/{run_id}/logs").json()["lines"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    page = browser.get(f"{base_url}/ui/runs/{run_id}").text
    follow = re.search(rf'id="log-follow" [^>]*data-events-url="/ui/runs/{run_id}/log/events"'
                       r' data-after="(\d+)"', page)
    assert follow is not None and int(follow.group(1)) == max(lines_of(page))
    assert 'id="log-pause"' in page
    assert user.delete(f"/api/v1/jobs/{run_id}").status_code == 200  # cancels it
    cancelled = browser.get(f"{base_url}/ui/runs/{run_id}").text
    assert '<span class="status s-cancelled">' in cancelled, cancelled
    assert "cancelled by request" in cancelled and "The log's last" in cancelled
    attempt = cancelled.split('id="attempts-title"')[1].split("</table>")[0]
    assert '<span class="status s-cancelled">cancelled</span>' in attempt


@pytest.mark.parametrize("path", ["", "/log/events"])
@pytest.mark.parametrize("query", ["after=-1", "after=x", "q=" + "x" * 201])
def test_a_bad_log_address_is_a_400_page(browser: requests.Session, base_url: str,
                                         ticked_run: str, query: str, path: str) -> None:
    response = browser.get(f"{base_url}/ui/runs/{ticked_run}{path}?{query}")
    assert response.status_code == 400 and "text/html" in response.headers["Content-Type"]


def test_a_bad_last_event_id_is_a_400_page(browser: requests.Session, base_url: str,
                                           ticked_run: str) -> None:
    response = browser.get(f"{base_url}/ui/runs/{ticked_run}/log/events",
                           headers={"Last-Event-ID": "x"})
    assert response.status_code == 400 and "after" in response.text


def test_another_users_run_is_a_404_page(base_url: str, heat_run: str,
                                         other_user: User) -> None:
    theirs = signed_in(other_user)
    for path in ("", "/metrics.json", "/log/events", "/artifacts/result.csv", "/summary"):
        assert theirs.get(f"{base_url}/ui/runs/{heat_run}{path}").status_code == 404


def test_a_sweeps_plot_aggregate_is_bounded_and_checked(browser: requests.Session,
                                                        base_url: str, user: User,
                                                        other_user: User) -> None:
    job = user.post("/api/v1/jobs", json={"simulation_type": "ticks", "grid": {
        "ticks": [1, 2, 3], "interval": [0.0, 0.01]}}).json()["simulation_id"]
    deadline = time.monotonic() + 30
    while user.get(f"/api/v1/simulations/{job}").json()["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    body = browser.get(f"{base_url}/ui/jobs/{job}/plot.json",
                       params={"y": "interval"}).json()
    assert (body["x"], body["y"], body["varied"]) == ("ticks", "interval",
                                                      ["ticks", "interval"])
    assert body["xs"] == [1, 2, 3] and body["mean"] == [0.005] * 3
    assert body["runs"] == [2, 2, 2] and body["axes"] == ["ticks", "interval", "interval"]
    sweep_page = html.unescape(browser.get(f"{base_url}/ui/jobs/{job}").text)
    assert "ticks (3 values) \N{MULTIPLICATION SIGN} interval (2 values)" in sweep_page
    unknown = browser.get(f"{base_url}/ui/jobs/{job}/plot.json", params={"x": "zz"})
    assert unknown.status_code == 400 and "no parameter named" in html.unescape(unknown.text)
    theirs = signed_in(other_user).get(f"{base_url}/ui/jobs/{job}/plot.json")
    assert theirs.status_code == 404
