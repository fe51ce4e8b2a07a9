"""Links open only in the spelling the server issued: every other one is a 404.

A report's download link (``/api/v1/downloads/<token>``) and a blob link
(``/files/<token>``, for uploading a job's inputs.zip or downloading a blob) are
credentials. The same bytes spelled another way in base64 (padding, ``+`` for
``-``, skipped characters, other unused bits in the last character) are not the
same link, and an upload through one stores nothing.
"""

from __future__ import annotations

import time

import requests

from simdock_adapters.http.blob_links import KEY_PURPOSE
from simdock_adapters.http.sealed import SealedTokens
from tests.e2e.helpers import (
    SECRET_KEY,
    TIMEOUT,
    User,
    assert_envelope,
    wait_for_report,
    wait_for_simulation,
)
from tests.e2e.uploads import epx_upload_link
from tests.spellings import other_spellings
from tests.zips import zipped


def spellings(token: str) -> list[str]:
    """The other spellings of ``token`` that can travel in a URL path as they are."""
    kinds = other_spellings(token)
    assert "padding" in kinds and "skipped characters" in kinds
    return [v for variants in kinds.values() for v in variants if not any(
        c.isspace() for c in v)]


def test_a_report_link_opens_only_as_issued(base_url: str, user: User) -> None:
    job = user.post("/api/v1/simulations", json={"simulation_type": "noop",
                                                 "parameters": {"n": 1}}).json()
    wait_for_simulation(user, job["id"])
    requested = user.post("/api/v1/reports", json={"simulation_job_ids": [job["id"]],
                                                    "report_type": "summary"})
    assert requested.status_code == 201, requested.text
    report = wait_for_report(user, requested.json()["id"])
    url = report["download_url"]
    prefix, token = url.rsplit("/", 1)
    assert requests.get(url, timeout=TIMEOUT).status_code == 200
    for variant in spellings(token):
        assert_envelope(requests.get(f"{prefix}/{variant}", timeout=TIMEOUT), 404,
                        "ResourceNotFound")
    assert requests.get(url, timeout=TIMEOUT).status_code == 200


def test_an_upload_link_opens_only_as_issued_and_stores_nothing_otherwise(
        base_url: str, user: User) -> None:
    url, _ = epx_upload_link(base_url, user)
    prefix, token = url.rsplit("/", 1)
    assert prefix.endswith("/files")
    body = zipped({"main.fred": b"x = 1\n"})
    for variant in spellings(token):
        assert_envelope(requests.put(f"{prefix}/{variant}", data=body, timeout=TIMEOUT), 404,
                        "ResourceNotFound")
    jobs = user.get("/api/v1/simulations").json()["items"]
    key = f"jobs/{jobs[0]['id']}/inputs/inputs.zip"
    download = SealedTokens(SECRET_KEY, KEY_PURPOSE).seal(["GET", key, int(time.time()) + 600])
    assert requests.get(f"{prefix}/{download}", timeout=TIMEOUT).status_code == 404  # none yet

    assert requests.put(url, data=body, timeout=TIMEOUT).status_code == 200
    fetched = requests.get(f"{prefix}/{download}", timeout=TIMEOUT)
    assert fetched.status_code == 200 and fetched.content == body
    for variant in spellings(download):
        assert_envelope(requests.get(f"{prefix}/{variant}", timeout=TIMEOUT), 404,
                        "ResourceNotFound")
