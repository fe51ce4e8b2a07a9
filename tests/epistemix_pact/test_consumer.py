"""The consumer side: the real epx client against pact-python's mock servers.

One mock server plays the Epistemix API, another S3's pre-signed URLs (at
``http://localhost:5001``, where the recorded answers send the client). The client
runs its workflow (``tests/epx/driver.py pact``) from its own virtualenv; every
interaction must be called and match. The contract it records must be the one in
``pacts/epx-epistemix.json``: ``SIMDOCK_RECORD_PACT=1`` (``make pact``) writes it there.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pact import Pact

from tests.epistemix_pact.interactions import S3_PORT, TOKEN, define, results_zip_interaction
from tests.epx.client import run_epx

ROOT = Path(__file__).resolve().parents[2]
PACTS = ROOT / "pacts"
CONTRACT = PACTS / "epx-epistemix.json"


def results_zip(tmp_path: Path) -> bytes:
    """A run's results as the platform packs them: the stand-in's outputs under
    work/outputs/."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    program = tmp_path / "main.fred"
    program.write_text("transmissibility = 0.3\n")
    out = tmp_path / "outputs"
    subprocess.run([sys.executable, "-m", "simdock_sim.fred_standin", "-p", str(program),
                    "-s", "1", "-l", "Loving_County_TX", "-d", str(out)], check=True,
                   capture_output=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(out.rglob("*")):
            if path.is_file() and path.name != "logs.txt":  # logs carry the time
                archive.write(path, "work/outputs/" + path.relative_to(out).as_posix())
            elif path.name == "logs.txt":
                archive.writestr("work/outputs/logs.txt",
                                 "[2023-10-01T12:00:00.000Z] INFO: FRED stand-in\n")
    return buffer.getvalue()


def interactions(path: Path) -> list[dict[str, object]]:
    return list(json.loads(path.read_text())["interactions"])


def test_the_epx_client_s_workflow_matches_the_recorded_contract(tmp_path: Path) -> None:
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    api = Pact("epx", "epistemix")
    s3 = Pact("epx", "epistemix-s3")
    define(api, s3)
    results_zip_interaction(s3, results_zip(tmp_path / "zip"))
    with api.serve(addr="127.0.0.1", port=0) as api_server, \
            s3.serve(addr="127.0.0.1", port=S3_PORT):
        seen = run_epx("pact", str(api_server.url).rstrip("/"), TOKEN, tmp_path / "client")
    assert seen["job_id"] == 123 and seen["run_ids"] == [978]
    assert {row["run_id"] for row in seen["pop_size"]} == {978}
    assert seen["listed"] == [123] and seen["latest"] == 123
    assert seen["retried"] == [978] and seen["stop"].startswith("stopped 1 run")

    recorded = tmp_path / "pacts"
    api.write_file(recorded, overwrite=True)
    if os.environ.get("SIMDOCK_RECORD_PACT") == "1":
        api.write_file(PACTS, overwrite=True)
    if not CONTRACT.exists():
        pytest.fail(f"{CONTRACT} is missing: record it with make pact")
    assert interactions(recorded / "epx-epistemix.json") == interactions(CONTRACT), \
        "the client's calls changed: re-record the contract with make pact and review it"
