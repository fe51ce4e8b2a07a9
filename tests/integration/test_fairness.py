"""One user's sweep does not starve another's run, on the embedded platform and its workers.

Seen before fair claiming: user B's single run waited 16 s behind user A's
300-run sweep on two threads (runs were started first come, first served).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import simdock
from simdock.handlers import ProgressCallback, SimulationHandler
from simdock_adapters.worker import serve
from tests.databases import migrated_postgres

STEP_SECONDS = 0.05


class Naps(SimulationHandler):
    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        time.sleep(STEP_SECONDS)
        return {}


@pytest.fixture(params=["sqlite", "memory", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return {"sqlite": lambda: f"sqlite:///{tmp_path / 'simdock.db'}",
            "memory": lambda: "memory://",
            "postgresql": lambda: migrated_postgres("fairness")}[request.param]()


def seconds_to_start(dock: simdock.Dock, job_id: str) -> float:
    run = dock.job(job_id).wait(timeout=60).run
    assert run.started_at is not None
    return (run.started_at - run.created_at).total_seconds()


def test_a_single_run_starts_within_seconds_behind_another_users_sweep(
        url: str, tmp_path: Path) -> None:
    with simdock.connect(url, artifacts_path=str(tmp_path), executor_workers=2) as alice:
        alice.register_handler("naps", Naps())
        flood = alice.sweep("naps", grid={"i": list(range(300))})  # 7.5 s of work on 2 threads
        time.sleep(0.3)
        bob = simdock.Dock(alice.platform, "bob@example.com")
        single = bob.submit("naps")
        assert seconds_to_start(bob, single.id) < 2.0
        assert flood.status in ("running", "queued")
        flood.cancel()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield migrated_postgres("fair_workers")


def test_database_polling_workers_start_runs_fairly(postgres_url: str, tmp_path: Path) -> None:
    with simdock.connect(postgres_url, artifacts_path=str(tmp_path), dispatch="database") as alice:
        alice.register_handler("naps", Naps())
        stop = threading.Event()
        worker = threading.Thread(target=serve, args=(alice.platform, 2, 0.2, False, stop))
        worker.start()
        try:
            flood = alice.sweep("naps", grid={"i": list(range(300))})
            time.sleep(0.3)
            bob = simdock.Dock(alice.platform, "bob@example.com")
            single = bob.submit("naps")
            assert seconds_to_start(bob, single.id) < 2.0
            flood.cancel()
        finally:
            stop.set()
            worker.join(30)
