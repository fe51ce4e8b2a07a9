"""With several gunicorn workers, /metrics reports the requests of all of them."""

from __future__ import annotations

import re
from pathlib import Path

import requests

from tests.e2e.servers import running_server


def total_requests(text: str, path: str) -> float:
    pattern = rf'simdock_http_requests_total\{{[^}}]*endpoint="{re.escape(path)}"[^}}]*\}} (\S+)'
    return sum(float(value) for value in re.findall(pattern, text))


def test_metrics_add_up_across_worker_processes(tmp_path: Path) -> None:
    with running_server(tmp_path, ENABLE_METRICS="true", WEB_WORKERS="3",
                        WEB_THREADS="2") as url:
        session_count = 60
        for _ in range(session_count):  # new connections, spread over the workers
            assert requests.get(f"{url}/live", timeout=10,
                                headers={"Connection": "close"}).status_code == 200
        seen = [total_requests(requests.get(f"{url}/metrics", timeout=10).text, "/live")
                for _ in range(6)]
    assert all(value >= session_count for value in seen), seen
