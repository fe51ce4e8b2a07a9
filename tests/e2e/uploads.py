"""Upload links of the Epistemix dialect, as the epx client asks for them."""

from __future__ import annotations

from typing import Any

import requests

from tests.e2e.helpers import TIMEOUT, User

EPX_HEADERS = {"content-type": "application/json", "fredcli-version": "0.4.0",
               "user-agent": "epx_client_1.2.2"}


def epx_headers(user: User) -> dict[str, str]:
    """Headers of the epx client with a new API token of ``user`` as its Offline-Token."""
    token = user.post("/api/v1/auth/tokens", json={"name": "epx"}).json()["token"]
    return {**EPX_HEADERS, "Offline-Token": f"Bearer {token}"}


def epx_upload_link(base_url: str, user: User) -> tuple[str, dict[str, Any]]:
    """A new Epistemix job of ``user`` and the link to upload its inputs.zip to."""
    headers = epx_headers(user)
    registered = requests.post(f"{base_url}/jobs/register", json={"tags": ["upload"]},
                               headers=headers, timeout=TIMEOUT)
    assert registered.status_code == 200, registered.text
    asked = requests.post(f"{base_url}/jobs", headers=headers, timeout=TIMEOUT,
                          json={"jobId": registered.json()["id"], "context": "job",
                                "type": "input"})
    assert asked.status_code == 200, asked.text
    return str(asked.json()["url"]), registered.json()
