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
from simdock_adapters.bootstrap import build_platform
from simdock_adapters.settings import Settings
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
        polling = build_platform(Settings(
            database_url=postgres_url, artifacts_path=str(tmp_path), dispatch="database",
            handler_isolation="thread", executor_workers=2, worker_poll_seconds=0.2),
            consume=True)
        polling.simulations.register("naps", Naps())
        stop = threading.Event()
        worker = threading.Thread(target=serve, args=(polling, False, stop))
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


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_a_single_run_starts_within_seconds_behind_a_10000_run_sweep_through_dramatiq(
        broker: str, tmp_path: Path) -> None:
    from simdock_adapters.bootstrap import build_platform
    from simdock_adapters.settings import Settings
    from tests.brokers import delete_queues, queue_prefix, require_rabbitmq, require_redis

    url = require_redis() if broker == "redis" else require_rabbitmq()
    settings = Settings(database_url=migrated_postgres("fair_dramatiq"),
                        artifacts_path=str(tmp_path), executor_workers=2,
                        broker_queue_prefix=queue_prefix(), **{f"{broker}_url": url})
    platform = build_platform(settings, consume=True)
    try:
        alice = simdock.Dock(platform, "alice@example.com")
        alice.register_handler("naps", Naps())
        flood = alice.sweep("naps", grid={"i": list(range(10_000))})  # minutes of work
        time.sleep(1.0)
        bob = simdock.Dock(platform, "bob@example.com")
        single = bob.submit("naps")
        assert seconds_to_start(bob, single.id) < 5.0
        assert alice.statistics()["queued"] > 9_000
        flood.cancel()
    finally:
        platform.close()
        delete_queues(platform.dispatcher.broker, platform.dispatcher.queues)  # type: ignore[attr-defined]
