"""Many worker processes against one database: every run is executed exactly once."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import simdock
from simdock.domain import RunStatus
from tests.databases import migrated_postgres

WORKER = """
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import simdock
from simdock.handlers import SimulationHandler, SimulationHandlerRegistry
from simdock_adapters.bootstrap import build_platform
from simdock_adapters.settings import load_settings
from simdock_adapters.worker import serve

url, artifacts, ledger, go = sys.argv[1:5]


class Recorded(SimulationHandler):
    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: Any = None) -> Any:
        with open(ledger, "a") as handle:  # one line per execution, appended atomically
            handle.write(job_id + "\\n")
        time.sleep(0.002)  # long enough that every worker gets a share
        return {"i": parameters["i"]}


SimulationHandlerRegistry.register("recorded", Recorded())
settings = load_settings(database_url=url, artifacts_path=artifacts, dispatch="database",
                         handler_isolation="thread", executor_workers=2,
                         worker_poll_seconds=0.05)
print("ready", flush=True)
while not Path(go).exists():  # start together, so that all of them compete
    time.sleep(0.005)
stats = serve(build_platform(settings, consume=True), exit_when_idle=True)
print(stats.runs)
"""


def run_workers(url: str, tmp_path: Path, processes: int, runs: int) -> None:
    artifacts = str(tmp_path / "artifacts")
    ledger = tmp_path / "ledger.txt"
    ledger.touch()
    with simdock.connect(url, artifacts_path=artifacts, dispatch="database") as dock:
        dock.register_handler("recorded", _Placeholder())
        sweep = dock.sweep("recorded", grid={"i": list(range(runs))})
        go = tmp_path / "go"
        workers = [subprocess.Popen([sys.executable, "-c", WORKER, url, artifacts, str(ledger),
                                     str(go)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(processes)]
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready", worker.stderr
        go.touch()
        outputs = [w.communicate(timeout=240) for w in workers]
        assert all(w.returncode == 0 for w in workers), [err for _, err in outputs]
        executed_per_process = [int(out.strip().splitlines()[-1]) for out, _ in outputs]
        runs_by_id = {run.id: run for run in sweep.runs()}

    executions = Counter(ledger.read_text().split())
    assert sum(executed_per_process) == runs
    assert len(executions) == runs and set(executions.values()) == {1}
    assert set(executions) == set(runs_by_id)
    assert all(r.status is RunStatus.SUCCEEDED and r.attempts == 1 for r in runs_by_id.values())
    assert sum(1 for n in executed_per_process if n > 0) >= 2, executed_per_process
    assert len({r.worker for r in runs_by_id.values()}) >= 2


class _Placeholder(simdock.SimulationHandler):
    """Lets the submitter accept the type; only the worker processes execute it."""

    def execute(self, job_id: str, simulation_type: str, parameters: object,
                progress_callback: object = None) -> object:
        raise AssertionError("the submitting process must not execute runs")


@pytest.mark.slow
def test_worker_processes_on_postgresql_execute_each_run_once(tmp_path: Path) -> None:
    run_workers(migrated_postgres("workers"), tmp_path, processes=4, runs=400)


@pytest.mark.slow
def test_worker_processes_on_sqlite_execute_each_run_once(tmp_path: Path) -> None:
    run_workers(f"sqlite:///{tmp_path / 'simdock.db'}", tmp_path, processes=3, runs=150)
