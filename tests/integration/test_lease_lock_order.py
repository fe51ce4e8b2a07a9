"""A heartbeat renewing leases and a worker recording outcomes lock runs in one order
(PostgreSQL), so neither waits for the other forever.

Seen: "deadlock detected" every few seconds while two executor threads ran a 10,000-run
sweep: the heartbeat's UPDATE of the runs it holds locked them in the table's order, a
worker recording two outcomes in its order; each held one run the other waited for.
Here the runs are stored so that the table's order is not the id order, a worker holds
the first run by id, and a renewal of both starts while it does.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import sqlalchemy as sa

from simdock.domain import Payload, RunStatus
from simdock_adapters.sql import SqlUnitOfWork, make_engine
from tests.contract.test_repositories import T0, job, run, user
from tests.databases import migrated_postgres


def test_a_renewal_waits_for_a_worker_recording_two_outcomes_without_a_deadlock() -> None:
    engine = make_engine(migrated_postgres("lease_lock_order"))
    parent = job("job-1", run_count=2)
    with SqlUnitOfWork(engine) as uow:
        uow.users.add(user())
        uow.jobs.add(parent, Payload(inline={"base": {}}, size=11))
        held = dict(status=RunStatus.RUNNING, attempts=1, worker="w1",
                    lease_expires_at=T0 + timedelta(seconds=10))
        uow.runs.add_many([run("run-b", parent, 0, **held)])  # stored first
        uow.runs.add_many([run("run-a", parent, 1, **held)])
        uow.commit()
    renewal: list[object] = []

    def renew() -> None:
        try:
            with SqlUnitOfWork(engine) as uow:
                renewal.append(uow.runs.renew("w1", {"run-a": 1, "run-b": 1},
                                              T0 + timedelta(seconds=30)))
                uow.commit()
        except Exception as exc:  # what the test reports
            renewal.append(exc)

    try:
        with engine.connect() as worker:
            with worker.begin():
                progress = sa.text("UPDATE runs SET progress = 0.5 WHERE id = :id")
                worker.execute(progress, {"id": "run-a"})  # the worker records in id order
                beat = threading.Thread(target=renew)
                beat.start()
                time.sleep(0.5)  # the renewal is waiting now
                worker.execute(progress, {"id": "run-b"})
            beat.join(30)
    finally:
        engine.dispose()
    assert renewal == [{"run-a", "run-b"}]
