"""``simdock worker --processes 2``: a worker process killed is started again, the sweep
finishes, and SIGTERM stops them all.

Dramatiq's own main process shuts every worker down about 4 s after one is
killed; simdock's supervisor keeps the others and starts a new one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import simdock
from tests.brokers import queue_prefix, require_redis
from tests.databases import migrated_postgres

SIMDOCK = Path(sys.executable).parent / "simdock"


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(p) for p in text)
    return found


def test_a_killed_worker_process_is_started_again_and_the_work_goes_on(
        tmp_path: Path) -> None:
    settings = {"DATABASE_URL": migrated_postgres("supervisor"), "REDIS_URL": require_redis(),
                "BROKER_QUEUE_PREFIX": queue_prefix(), "ARTIFACTS_PATH": str(tmp_path),
                "LEASE_SECONDS": "3", "HEARTBEAT_SECONDS": "0.5", "LOG_LEVEL": "WARNING"}
    supervisor = subprocess.Popen(
        [str(SIMDOCK), "worker", "--processes", "2", "--concurrency", "2"],
        env={**os.environ, **settings}, stdout=(tmp_path / "out.log").open("w"),
        stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while len(children(supervisor.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        first = children(supervisor.pid)
        assert len(first) == 2
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = children(supervisor.pid)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.1)
        assert len(now) == 2 and victim not in now and (first - {victim}) <= now

        with simdock.connect(**{k.lower(): v for k, v in settings.items()
                                if k != "LOG_LEVEL"}) as dock:
            sweep = dock.sweep("noop", grid={"i": list(range(200))})
            assert sweep.wait(timeout=60).status == "succeeded"
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(60)
    assert supervisor.returncode == 0, (tmp_path / "out.log").read_text()[-2000:]
    assert "1 started again after dying" in (tmp_path / "out.log").read_text()
