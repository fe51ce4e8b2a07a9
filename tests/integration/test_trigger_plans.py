"""A connection that has updated one run still updates a whole sweep at once (PostgreSQL).

Seen: cancelling a 10,000-run sweep took 43 s beside two workers, 0.5 s on a fresh
connection. The statement triggers on ``runs`` kept the plan of their first execution
in the session: a nested loop joining one old row to one new row, then run over every
pair of the sweep's rows. The sweep here is 20,000 runs: at that size the kept loop
takes minutes, past the statement timeout set below; the triggers of migration 0013
take a fraction of a second.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import simdock
from simdock_adapters.sql import make_engine
from tests.databases import migrated_postgres

pytestmark = pytest.mark.slow

RUNS = 20_000


def test_a_sweep_is_cancelled_in_one_statement_after_single_run_updates(
        tmp_path: Path) -> None:
    url = migrated_postgres("trigger_plans")
    with simdock.connect(url, artifacts_path=str(tmp_path), dispatch="database") as dock:
        single = dock.submit("noop")
        sweep = dock.sweep("noop", grid={"i": list(range(RUNS))})
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:  # the connection every statement below uses
            connection.exec_driver_sql("SET statement_timeout = '20s'")
            for status in ("running", "succeeded"):  # one run claimed, then finished
                connection.execute(sa.text(
                    "UPDATE runs SET status = :status, attempts = 1, worker = 'w' "
                    "WHERE job_id = :job"), {"status": status, "job": single.id})
            cancelled = connection.execute(sa.text(
                "UPDATE runs SET status = 'cancelled' WHERE job_id = :job"),
                {"job": sweep.id}).rowcount
            started = connection.execute(sa.text(
                "UPDATE runs SET status = 'running', attempts = 1 WHERE job_id = :job"),
                {"job": sweep.id}).rowcount
            counts = dict(connection.execute(sa.text(
                "SELECT status, sum(runs) FROM job_run_counts WHERE job_id = :job "
                "GROUP BY status HAVING sum(runs) <> 0"), {"job": sweep.id}).all())
            owner = dict(connection.execute(sa.text(
                "SELECT status, sum(delta) FROM run_status_counts "
                "GROUP BY status HAVING sum(delta) <> 0")).all())
            attempts = connection.execute(sa.text(
                "SELECT count(*) FROM run_attempts")).scalar_one()
    finally:
        engine.dispose()
    assert cancelled == started == RUNS
    assert counts == {"running": RUNS}
    assert owner == {"running": RUNS, "succeeded": 1}
    assert attempts == RUNS + 1
