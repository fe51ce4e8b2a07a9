"""A worker lost in the middle of a claim does not keep the runs it had locked.

When a worker's host is lost, nothing tells PostgreSQL: the connection stays
open and its transaction idle, holding the row locks of the queued runs it was
claiming. Every other worker's claim skips locked rows, so those runs would wait
for as long as the connection lives. The server ends such a transaction after
DATABASE_IDLE_TRANSACTION_SECONDS and the runs go to the other workers.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta
from pathlib import Path

import simdock
from simdock.domain import RunStatus
from simdock.execution import Execution
from simdock.fair_queue import FairQueue
from simdock_adapters.sql import SqlUnitOfWork, make_engine
from tests.databases import migrated_postgres

HEAT = {"spatial_steps": 11, "time_steps": 10}


def claim_within(seconds: float, dock: simdock.Dock, worker: str) -> list[str]:
    """The ids of the runs ``worker`` claims, trying until it gets some or time is up."""
    platform = dock.platform
    queue = FairQueue()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = platform.clock.now()
        with platform.uow() as uow:
            claimed = queue.claim(uow, worker, now, 10, now + timedelta(seconds=60))
            uow.commit()
        if claimed:
            return [run.id for run in claimed]
        time.sleep(0.1)
    return []


def test_runs_locked_by_a_lost_worker_are_claimed_once_its_transaction_is_ended(
        tmp_path: Path) -> None:
    url = migrated_postgres("lost_transactions")
    with simdock.connect(url, dispatch="database", artifacts_path=str(tmp_path),
                         database_idle_transaction_seconds=1) as dock:
        sweep = dock.sweep("heat1d", grid={"diffusivity": [0.01, 0.02]}, base=HEAT)
        # The lost worker's engine is made as every worker's is, from the same setting.
        engine = make_engine(url, pool_size=1, idle_transaction_seconds=1)
        lost = SqlUnitOfWork(engine)
        try:
            lost.__enter__()
            now = dock.platform.clock.now()
            held = FairQueue().claim(lost, "lost-host:1", now, 10, now + timedelta(seconds=60))
            assert len(held) == 2  # claimed, never committed: its host is gone

            taken = claim_within(10, dock, "other-host:2")
        finally:
            with contextlib.suppress(Exception):
                lost.__exit__(None, None, None)
            engine.dispose()
        assert sorted(taken) == sorted(run.id for run in held)
        with dock.platform.uow() as uow:
            runs = uow.runs.for_job(sweep.id)
        assert {(r.status, r.worker, r.attempts) for r in runs} == {
            (RunStatus.RUNNING, "other-host:2", 1)}


def test_without_the_bound_the_locked_runs_stay_out_of_reach(tmp_path: Path) -> None:
    """What the bound is for: with it off (0), the claim of a lost worker is never undone
    while its connection lives."""
    url = migrated_postgres("lost_transactions")
    with simdock.connect(url, dispatch="database", artifacts_path=str(tmp_path),
                         database_idle_transaction_seconds=0) as dock:
        dock.sweep("heat1d", grid={"diffusivity": [0.01]}, base=HEAT)
        engine = make_engine(url, pool_size=1, idle_transaction_seconds=0)
        lost = SqlUnitOfWork(engine)
        try:
            lost.__enter__()
            now = dock.platform.clock.now()
            assert FairQueue().claim(lost, "lost-host:1", now, 10, now + timedelta(seconds=60))
            assert claim_within(3, dock, "other-host:2") == []
        finally:
            with contextlib.suppress(Exception):
                lost.__exit__(None, None, None)
            engine.dispose()


def test_a_run_whose_lost_worker_was_writing_its_logs_is_claimed_at_once(
        tmp_path: Path) -> None:
    """A lost worker's unfinished log insert only references its run (a key-share lock):
    the run, taken back, is claimed at once, even with the bound off."""
    url = migrated_postgres("lost_transactions")
    with simdock.connect(url, dispatch="database", artifacts_path=str(tmp_path),
                         database_idle_transaction_seconds=0) as dock:
        dock.sweep("heat1d", grid={"diffusivity": [0.01]}, base=HEAT)
        [run_id] = claim_within(3, dock, "lost-host:1")
        engine = make_engine(url, pool_size=1, idle_transaction_seconds=0)
        lost = SqlUnitOfWork(engine)
        try:
            lost.__enter__()
            lost.logs.append(run_id, [(dock.platform.clock.now(), "stdout", "step 1")])
            with dock.platform.uow() as uow:  # its lease lapsed: taken back
                run = uow.runs.get(run_id)
                assert run is not None
                run.requeue(dock.platform.clock.now())
                uow.runs.update(run)
                uow.commit()
            assert claim_within(3, dock, "other-host:2") == [run_id]
        finally:
            with contextlib.suppress(Exception):
                lost.__exit__(None, None, None)
            engine.dispose()


def test_a_run_whose_lost_worker_held_its_row_is_taken_back_about_a_lease_later(
        tmp_path: Path) -> None:
    """Seen: a host cut off in the middle of a write kept its run's row locked for 30 s,
    so the run came back after 31 s, not 10. Now the server ends the idle transaction
    well within a lease (the default bound is half of it), and the beats that find the
    row locked skip it instead of waiting: renewals go on meanwhile."""
    url = migrated_postgres("lost_transactions")
    with simdock.connect(url, dispatch="database", artifacts_path=str(tmp_path),
                         lease_seconds=4) as dock:
        assert dock.platform.limits.lease_seconds == 4
        job = dock.sweep("heat1d", grid={"diffusivity": [0.01]}, base=HEAT)
        another_worker = dock.platform.work(Execution("another-worker"))
        with dock.platform.uow() as uow:
            claimed = uow.runs.claim(job.runs()[0].id, "lost-host:1", dock.platform.clock.now(),
                                     another_worker.leases.lease_until())
            uow.commit()
        assert claimed is not None
        run_id = claimed.id
        # The lost worker's engine, made as every worker's is, with the default bound.
        engine = make_engine(url, pool_size=1, idle_transaction_seconds=dock_idle_bound(dock))
        lost = SqlUnitOfWork(engine)
        try:
            lost.__enter__()
            run = lost.runs.get(run_id)
            assert run is not None
            run.touch(dock.platform.clock.now())
            lost.runs.update(run)  # its host is lost before the commit: the row stays locked
            locked_at = time.monotonic()
            taken_back = None
            while time.monotonic() - locked_at < 20:
                beat = time.monotonic()
                requeued = another_worker.leases.recover_lapsed()
                assert time.monotonic() - beat < 1.5, "a beat waited for the locked row"
                if requeued == [run_id]:
                    taken_back = time.monotonic() - locked_at
                    break
                time.sleep(0.2)
        finally:
            with contextlib.suppress(Exception):
                lost.__exit__(None, None, None)
            engine.dispose()
    assert taken_back is not None, "the run never came back"
    assert taken_back < 4 + 5 + 2  # a lease, the idle bound, and a beat or two


def dock_idle_bound(dock: simdock.Dock) -> float:
    """The bound the platform's own engine was made with: the default one."""
    from simdock_adapters.settings import load_settings

    return load_settings(lease_seconds=dock.platform.limits.lease_seconds
                         ).idle_transaction_seconds
