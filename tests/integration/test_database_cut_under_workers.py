"""PostgreSQL cut for a few seconds under a Dramatiq worker in the middle of a sweep.

The worker reaches PostgreSQL through a proxy this test controls (the shared
server is not stopped): the proxy drops every connection and refuses new ones
for a few seconds, shorter than a lease. Runs finished meanwhile keep their
outcomes until the database is back; wake-ups that found the store away are
tried again. Every run ends succeeded, with one result, executed once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import simdock
from simdock.domain import RunStatus
from tests.brokers import queue_prefix, require_redis
from tests.databases import migrated_postgres
from tests.proxy import TcpProxy

SIMDOCK = Path(sys.executable).parent / "simdock"
RUNS = 150
OUTAGE_SECONDS = 3.0


def test_a_sweep_goes_through_a_database_outage_under_its_worker(tmp_path: Path) -> None:
    database = migrated_postgres("cut_under_workers")
    parts = urlsplit(database)
    assert parts.hostname is not None and parts.port is not None
    settings = {"REDIS_URL": require_redis(), "BROKER_QUEUE_PREFIX": queue_prefix(),
                "ARTIFACTS_PATH": str(tmp_path / "artifacts"), "LOG_LEVEL": "WARNING"}
    log = tmp_path / "worker.log"
    with TcpProxy((parts.hostname, parts.port)) as proxy:
        proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
        worker = subprocess.Popen([str(SIMDOCK), "worker", "--concurrency", "2"],
                                  env={**os.environ, **settings, "DATABASE_URL": proxied},
                                  start_new_session=True, stdout=log.open("w"),
                                  stderr=subprocess.STDOUT)
        try:
            with simdock.connect(database, **{k.lower(): v for k, v in settings.items()
                                              if k != "LOG_LEVEL"}) as dock:
                sweep = dock.sweep("sleep", grid={"seconds": [0.03 + i / 100_000
                                                              for i in range(RUNS)]})
                deadline = time.monotonic() + 60
                while dock.statistics()["succeeded"] < 20:
                    assert time.monotonic() < deadline, log.read_text()[-2000:]
                    time.sleep(0.05)
                with proxy.down():
                    time.sleep(OUTAGE_SECONDS)
                    during = dock.statistics()
                sweep.wait(timeout=120)
                with dock.platform.uow() as uow:
                    stored = uow.runs.for_job(sweep.id)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
    assert during["succeeded"] < RUNS, "the outage came after the sweep had ended"
    assert [r.status for r in stored] == [RunStatus.SUCCEEDED] * RUNS, log.read_text()[-3000:]
    assert all(r.result is not None for r in stored)
    assert {r.attempts for r in stored} == {1}
    assert "Traceback" not in log.read_text()
