"""``simdock worker --queues``: workers that only execute runs, or only generate reports.

Seed 000 keeps simulations and reports on separate queues so that each can have
workers of its own; a worker told to take one leaves the other's work queued.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import simdock

SIMDOCK = Path(sys.executable).parent / "simdock"


def work_off(directory: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{directory / 'simdock.db'}",
           "ARTIFACTS_PATH": str(directory / "artifacts"), "LOG_LEVEL": "WARNING"}
    done = subprocess.run([str(SIMDOCK), "worker", "--exit-when-idle", "--poll", "0.1",
                           *options], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def test_a_worker_takes_only_the_queues_it_is_given(tmp_path: Path) -> None:
    with simdock.connect(f"sqlite:///{tmp_path / 'simdock.db'}",
                         artifacts_path=str(tmp_path / "artifacts"), dispatch="database") as dock:
        job = dock.submit("noop", {"n": 1})
        assert "executed 0 runs" in work_off(tmp_path, "--queues", "reports").stdout
        assert job.status == "queued"
        assert "executed 1 runs" in work_off(tmp_path, "--queues", "simulations").stdout
        assert job.status == "succeeded"

        report = dock.report("summary", [job])
        work_off(tmp_path, "--queues", "simulations")
        assert report.status == "queued"
        assert "generated 1 reports" in work_off(tmp_path, "--queues", "reports").stdout
        assert report.status == "succeeded"


def test_an_unknown_queue_is_a_one_line_error(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'simdock.db'}"}
    refused = subprocess.run([str(SIMDOCK), "worker", "--queues", "simulations,emails"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "WORKER_QUEUES" in refused.stderr and "emails" in refused.stderr
    assert "Traceback" not in refused.stderr
