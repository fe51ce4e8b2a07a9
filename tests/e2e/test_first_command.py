"""The README's first command: serve the API and run one heat1d job through it."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import requests

from tests.e2e.servers import SIMDOCK, free_port


def test_serve_with_the_demo_runs_heat1d_over_http(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "WEB_WORKERS": "1", "LOG_LEVEL": "WARNING"}
    for name in ("DATABASE_URL", "ARTIFACTS_PATH"):
        env.pop(name, None)  # the embedded defaults, in the working directory
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen([str(SIMDOCK), "serve", "--demo"], cwd=tmp_path, env=env,
                                  stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while "demo: docs at" not in log.read_text() and time.monotonic() < deadline:
                assert server.poll() is None, log.read_text()
                time.sleep(0.2)
            dashboard = the_demo_on_the_dashboard(log.read_text())
        finally:
            server.terminate()
            server.wait(20)
    text = log.read_text()
    assert " succeeded in " in text, text
    outputs = next(line for line in text.splitlines() if line.startswith("demo: outputs"))
    listed = set(outputs.rsplit("): ", 1)[1].split(", "))
    assert listed == {"result.csv", "meta.json", "simulation_results.png",
                      "temperature_field.npy"}
    assert (tmp_path / "simdock.db").is_file()
    assert (tmp_path / "simdock-artifacts").is_dir()
    assert "heat1d" in dashboard and "succeeded" in dashboard


def the_demo_on_the_dashboard(text: str) -> str:
    """The jobs page, signed in as the demo prints: its address and its user's password."""
    found = re.search(r"demo: dashboard at (\S+)  \(sign in as (\S+), password (\S+)\)", text)
    assert found is not None, text
    address, email, password = found.groups()
    session = requests.Session()
    signed = session.post(f"{address}sign-in", data={"email": email, "password": password})
    assert signed.status_code == 200 and signed.url.endswith("/ui/jobs"), signed.text
    return signed.text
