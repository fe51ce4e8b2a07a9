"""Reports on the dashboard over HTTP: requested, followed, previewed and downloaded."""

from __future__ import annotations

import html
import re
import time

import pytest
import requests

from tests.e2e.dashboard_session import act, signed_in
from tests.e2e.helpers import User, wait_for_simulation


@pytest.fixture(scope="module")
def browser(user: User) -> requests.Session:
    return signed_in(user)


@pytest.fixture(scope="module")
def finished_job(user: User) -> str:
    job = user.post("/api/v1/jobs", json={"simulation_type": "noop", "params": {"x": 1},
                                          "name": "reported"}).json()["simulation_id"]
    wait_for_simulation(user, job)
    return str(job)


def requested(browser: requests.Session, base_url: str, job: str, output_format: str) -> str:
    """Request a report through the form; follow it until it is done; its page's text."""
    response = act(browser, base_url, "/ui/reports", jobs=job, report_type="summary",
                   output_format=output_format)
    assert response.status_code == 303, response.text
    page_url = f"{base_url}{response.headers['Location']}"
    deadline = time.monotonic() + 60
    while "s-succeeded" not in (page := browser.get(page_url).text):
        assert "s-failed" not in page and time.monotonic() < deadline, page
        time.sleep(0.3)
    return page


def test_an_html_report_is_previewed_in_a_sandboxed_frame_and_downloaded(
        browser: requests.Session, base_url: str, finished_job: str) -> None:
    page = requested(browser, base_url, finished_job, "html")
    frame = re.search(r'<iframe class="document" sandbox="" src="([^"]+)"', page)
    assert frame is not None
    document = browser.get(f"{base_url}{frame.group(1)}")
    assert document.headers["Content-Type"].startswith("text/html")
    assert "sandbox" in document.headers["Content-Security-Policy"]
    assert "reported" in document.text or finished_job in document.text
    link = re.search(r'<a class="button" href="([^"]+)">Download', page)
    assert link is not None
    downloaded = requests.get(html.unescape(link.group(1)))  # a link works without a session
    assert downloaded.status_code == 200 and downloaded.content == document.content


def test_a_pdf_report_is_shown_by_the_browsers_viewer_and_text_as_text(
        browser: requests.Session, base_url: str, finished_job: str) -> None:
    pdf = requested(browser, base_url, finished_job, "pdf")
    frame = re.search(r'<iframe class="document" src="([^"#]+)#page=1"', pdf)
    assert frame is not None
    document = browser.get(f"{base_url}{frame.group(1)}")
    assert document.headers["Content-Type"] == "application/pdf"
    assert document.content.startswith(b"%PDF")
    markdown = requested(browser, base_url, finished_job, "markdown")
    assert '<pre class="preview">' in markdown and finished_job in markdown


def test_the_reports_page_lists_them_and_a_job_page_offers_one(
        browser: requests.Session, base_url: str, finished_job: str) -> None:
    requested(browser, base_url, finished_job, "json")
    listing = browser.get(f"{base_url}/ui/reports").text
    assert "summary" in listing and f'href="/ui/jobs/{finished_job}"' in listing
    assert f'href="/ui/reports?jobs={finished_job}"' in browser.get(
        f"{base_url}/ui/jobs/{finished_job}").text
    assert f'value="{finished_job}"' in browser.get(
        f"{base_url}/ui/reports", params={"jobs": finished_job}).text


@pytest.mark.parametrize("form, says", [
    ({"jobs": " ", "report_type": "summary", "output_format": "pdf"}, "at least one job"),
    ({"jobs": "job-x", "report_type": "nope", "output_format": "pdf"}, "nope"),
    ({"jobs": "job-x", "report_type": "summary", "output_format": "docx"}, "docx")])
def test_a_bad_request_is_a_400_page_saying_why(browser: requests.Session, base_url: str,
                                                form: dict[str, str], says: str) -> None:
    response = act(browser, base_url, "/ui/reports", **form)
    assert response.status_code in (400, 404), response.text
    assert says in html.unescape(response.text)


def test_another_users_report_is_a_404_page(browser: requests.Session, base_url: str,
                                            finished_job: str, other_user: User) -> None:
    page = requested(browser, base_url, finished_job, "csv")
    report_id = re.search(r"<small>(rpt-[0-9a-f]+)</small>", page)
    assert report_id is not None
    theirs = signed_in(other_user)
    for path in ("", "/document"):
        response = theirs.get(f"{base_url}/ui/reports/{report_id.group(1)}{path}")
        assert response.status_code == 404
