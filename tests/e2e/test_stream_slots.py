"""Live streams are bounded per server process; past the bound they get a 503 envelope."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from tests.e2e.servers import running_server


def test_streams_past_the_bound_are_refused_and_slots_come_back(tmp_path: Path) -> None:
    with running_server(tmp_path, DISPATCH="database", MAX_OPEN_STREAMS="1") as url:
        requests.post(f"{url}/api/v1/auth/register",
                      json={"email": "s@example.com", "password": "password123"}, timeout=10)
        token = requests.post(f"{url}/api/v1/auth/login", timeout=10, json={
            "email": "s@example.com", "password": "password123"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        run_id = requests.post(f"{url}/api/v1/jobs", json={"simulation_type": "noop"},
                               headers=headers, timeout=10).json()["jobs"][0]
        stream = f"{url}/api/v1/jobs/{run_id}/logs/stream"

        first = requests.get(stream, headers=headers, stream=True, timeout=10)
        assert first.status_code == 200
        refused = requests.get(stream, headers=headers, timeout=10)
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "ServiceUnavailable"
        assert requests.get(f"{url}/api/v1/jobs/{run_id}/logs", headers=headers,
                            timeout=10).status_code == 200

        first.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            again = requests.get(stream, headers=headers, stream=True, timeout=10)
            if again.status_code == 200:
                again.close()
                return
            time.sleep(0.5)
        raise AssertionError("the slot of a closed stream never came back")
