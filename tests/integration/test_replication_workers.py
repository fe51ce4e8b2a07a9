"""Replicated jobs on worker processes against one database: each point's batches are
decided once however many workers end its replicates at the same time, and the workers
start with no specification in memory (they read it inside their own transaction)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import simdock
from simdock.domain import RunStatus
from simdock.domain.replication import Outcome, Replication
from simdock.usecases.submit import Submit
from tests.brokers import delete_queues, queue_prefix, require_redis
from tests.databases import migrated_postgres

SIMDOCK = Path(sys.executable).parent / "simdock"

WORKER = """
import sys
import time
from pathlib import Path

from simdock_adapters.bootstrap import build_platform
from simdock_adapters.settings import load_settings
from simdock_adapters.worker import serve

url, artifacts, go = sys.argv[1:4]
settings = load_settings(database_url=url, artifacts_path=artifacts, dispatch="database",
                         handler_isolation="thread", executor_workers=2,
                         worker_poll_seconds=0.02)
print("ready", flush=True)
while not Path(go).exists():
    time.sleep(0.005)
stats = serve(build_platform(settings, consume=True), exit_when_idle=True)
print(stats.runs)
"""
RULE = Replication("estimate", half_width=0.06, min=4, max=400, batch=6)


def replicate_on_workers(url: str, tmp_path: Path, processes: int) -> None:
    artifacts = str(tmp_path / "artifacts")
    with simdock.connect(url, artifacts_path=artifacts, dispatch="database") as dock:
        submitted = dock.platform.submitting.submit(Submit(
            owner_id=dock.user.id, simulation_type="monte_carlo",
            parameters={"iterations": 300}, grid={"config": [{}, {"batch_size": 50}]},
            replicate=RULE, seed=7))
        job_id = submitted.job.id
        go = tmp_path / "go"
        workers = [subprocess.Popen([sys.executable, "-c", WORKER, url, artifacts, str(go)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(processes)]
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready", worker.stderr
        go.touch()
        outputs = [w.communicate(timeout=300) for w in workers]
        assert all(w.returncode == 0 for w in workers), [err for _, err in outputs]
        executed = sum(int(out.strip().splitlines()[-1]) for out, _ in outputs)
        points = dock.platform.replicating.points(job_id, dock.user.id)
        runs = dock.job(job_id).runs()

    assert [p.state.outcome for p in points] == [Outcome.MET, Outcome.MET]
    for point in points:
        summary = point.state.summary(RULE)
        assert summary.half_width is not None and summary.half_width <= RULE.half_width
        assert point.state.finished == point.state.planned == summary.n
        assert (point.state.planned - RULE.min) % RULE.batch == 0  # whole batches, once each
    assert len(runs) == executed == sum(p.state.planned for p in points)
    assert all(run.status is RunStatus.SUCCEEDED and run.attempts == 1 for run in runs)
    seeds = Counter(run.index for run in runs)
    assert set(seeds.values()) == {1}  # no replicate added twice


@pytest.mark.slow
def test_replicated_points_decide_once_on_postgresql_workers(tmp_path: Path) -> None:
    replicate_on_workers(migrated_postgres("replication"), tmp_path, processes=3)


def test_replicated_points_decide_once_on_sqlite_workers(tmp_path: Path) -> None:
    replicate_on_workers(f"sqlite:///{tmp_path / 'simdock.db'}", tmp_path, processes=2)


def test_a_notebook_replicates_and_summarises_as_a_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'simdock.db'}"
    with simdock.connect(url, dispatch="inline", artifacts_path=str(tmp_path)) as dock:
        sweep = dock.sweep("monte_carlo", grid={"iterations": [200, 800]},
                           replicate={"metric": "estimate", "half_width": 0.06}, seed=5)
        sweep.wait(timeout=120)
        table = sweep.summary()
        single = dock.submit("monte_carlo", {"iterations": 300},
                             replicate={"metric": "estimate", "relative": 0.03, "min": 3})
        single.wait(timeout=120)
        assert len(single.summary()) == 1 and single.summary()["met"].tolist() == [True]
        with pytest.raises(simdock.errors.ValidationError, match="exactly one of"):
            dock.sweep("monte_carlo", grid={"iterations": [100]}, replicate={"metric": "x"})
        plain = dock.sweep("monte_carlo", grid={"iterations": [100]}).wait().summary()
        assert [(row["iterations"], row["runs"]) for row in plain.rows] == [(100, 1)]  # no met
        assert "met" not in plain.columns  # not replicated: no target to meet

    assert table["iterations"].tolist() == [200, 800]
    assert table["met"].tolist() == [True, True]
    assert (table["half_width"] <= 0.06).all() and (table["low"] < table["high"]).all()
    assert (table["n"] == table["replicates"]).all() and (table["n"] >= 5).all()


def test_a_killed_dramatiq_worker_never_adds_a_batch_twice_or_loses_one(
        tmp_path: Path) -> None:
    """``kill -9`` of one of two ``simdock worker`` processes (Redis) in the middle of a
    replicated job: what it held is taken back by the other once its leases lapse, and
    every point still gets each batch once, decided after the batch's ends commit."""
    settings = {"REDIS_URL": require_redis(), "BROKER_QUEUE_PREFIX": queue_prefix(),
                "DATABASE_URL": migrated_postgres("replicate_kill"),
                "ARTIFACTS_PATH": str(tmp_path / "artifacts"), "LEASE_SECONDS": "3",
                "HEARTBEAT_SECONDS": "0.5", "LOG_LEVEL": "WARNING"}
    env = {**os.environ, **settings}
    rule = Replication("estimate", half_width=0.0015, min=5, max=200, batch=4)
    with simdock.connect(**{k.lower(): v for k, v in settings.items()
                            if k != "LOG_LEVEL"}) as dock:
        first, second = (subprocess.Popen(
            [str(SIMDOCK), "worker", "--concurrency", "2"], env=env, start_new_session=True,
            stdout=(tmp_path / f"w{n}.log").open("w"), stderr=subprocess.STDOUT)
            for n in (1, 2))
        victim = f"{socket.gethostname()}:{first.pid}"
        try:
            job = dock.sweep("monte_carlo", grid={"iterations": [300_000, 400_000, 500_000]},
                             replicate=rule.to_record(), seed=17)
            deadline = time.monotonic() + 90
            while True:
                runs = job.runs()
                held = [r for r in runs if r.status is RunStatus.RUNNING and r.worker == victim]
                if held and sum(r.status is RunStatus.SUCCEEDED for r in runs) >= 10:
                    break
                assert time.monotonic() < deadline, (tmp_path / "w1.log").read_text()[-2000:]
                time.sleep(0.005)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
            job.wait(timeout=180)
        finally:
            for process in (first, second):
                if process.poll() is None:
                    process.terminate()
                    process.wait(20)
            delete_queues(dock.platform.dispatcher.broker,  # type: ignore[attr-defined]
                          dock.platform.dispatcher.queues)  # type: ignore[attr-defined]
        points = dock.platform.replicating.points(job.id, dock.user.id)
        runs = job.runs()

    assert [p.state.outcome for p in points] == [Outcome.MET] * 3, \
        (tmp_path / "w2.log").read_text()[-3000:]
    for point in points:
        assert point.state.finished == point.state.planned == point.state.moments.n
        assert (point.state.planned - rule.min) % rule.batch == 0
    assert len(runs) == sum(p.state.planned for p in points)
    assert len({run.index for run in runs}) == len(runs)
    assert all(run.status is RunStatus.SUCCEEDED for run in runs)
    assert any(run.attempts == 2 for run in runs)  # what the killed worker held, again
