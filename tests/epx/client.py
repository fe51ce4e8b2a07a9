"""Running the real epx client: its virtualenv (built once) and the scenario driver."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import services_required

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-epx"
DRIVER = Path(__file__).with_name("driver.py")


def epx_python() -> Path:
    """The epx virtualenv's interpreter, building the virtualenv on first use."""
    if not (VENV / ".installed").exists():
        built = subprocess.run([str(ROOT / "build-support" / "epx-venv.sh"), str(VENV)],
                               capture_output=True, text=True, timeout=600)
        if built.returncode != 0:
            reason = f"could not build the epx virtualenv: {built.stderr[-2000:]}"
            if services_required():
                pytest.fail(reason)
            pytest.skip(reason)
    return VENV / "bin" / "python"


def run_epx(scenario: str, api_url: str, token: str, workdir: Path, job_id: int | None = None,
            timeout: float = 240) -> dict[str, Any]:
    """Run one scenario of ``driver.py`` with the real client; returns what it printed."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [str(epx_python()), str(DRIVER), scenario, api_url, token, str(workdir)]
    if job_id is not None:
        command.append(str(job_id))
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          cwd=workdir)
    for line in done.stdout.splitlines():
        if line.startswith("EPX-RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("EPX-RESULT "))
            return result
    raise AssertionError(f"epx {scenario} failed (exit {done.returncode}):\n"
                         f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
