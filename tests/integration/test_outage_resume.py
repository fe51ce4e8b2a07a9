"""Work survives a database outage: queued runs go on once it is back, by themselves.

Seen before: after a 10 s outage (a proxy in front of PostgreSQL killed and
restarted) queued runs never moved again while /ready said ready; the
in-process queue had been drained by claims that failed. Here the database
really goes away (a proxy the test cuts) in the middle of a sweep.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import simdock
from simdock.handlers import ProgressCallback, SimulationHandler
from tests.databases import PG_HOST, PG_PORT, PG_USER, migrated_postgres
from tests.proxy import TcpProxy


class Naps(SimulationHandler):
    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        time.sleep(0.02)
        return {"i": parameters["i"]}


def test_a_sweep_interrupted_by_an_outage_finishes_once_the_database_is_back(
        tmp_path: Path) -> None:
    url = migrated_postgres("outage")
    with TcpProxy((PG_HOST, PG_PORT)) as proxy:
        proxied = url.replace(f"{PG_USER}@{PG_HOST}:{PG_PORT}/",
                              f"{PG_USER}@127.0.0.1:{proxy.port}/")
        with simdock.connect(proxied, artifacts_path=str(tmp_path), executor_workers=2,
                             database_pool_timeout=2) as dock:
            dock.register_handler("naps", Naps())
            sweep = dock.sweep("naps", grid={"i": list(range(200))})
            time.sleep(0.5)
            with proxy.down():
                time.sleep(5)
            sweep.wait(timeout=120)
            counts = dock.statistics()
    assert counts["succeeded"] == 200 and counts["queued"] == counts["running"] == 0
