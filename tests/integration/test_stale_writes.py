"""On PostgreSQL, no log line of an attempt gets in once its run was taken from it.

Seen before (by reading): the context checked that its attempt held the run
with a plain read, then appended its lines and committed; a take-back (or a
cancel) committed between the two let the stale attempt's lines in. Here a
context writes lines as fast as it can while the run is cancelled under it,
many times over: once the cancel has committed, the run's log never grows.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import simdock
from simdock.errors import ConcurrencyConflict
from simdock.usecases.context import ExecutionContext
from tests.databases import migrated_postgres

TRIALS = 30


def test_no_line_of_a_cancelled_attempt_is_written_after_the_cancel(tmp_path: Path) -> None:
    url = migrated_postgres("stale_writes")
    with simdock.connect(url, artifacts_path=str(tmp_path), dispatch="database") as dock:
        platform = dock.platform
        late = []
        for trial in range(TRIALS):
            run_id = dock.submit("noop", {"trial": trial}).run.id
            with platform.uow() as uow:
                run = uow.runs.claim(run_id, "writer:1", platform.clock.now())
                uow.commit()
            assert run is not None
            context = ExecutionContext(run_id, run.job_id, platform, run.attempts, "writer:1")
            stop = threading.Event()

            def write(context: ExecutionContext = context, stop: threading.Event = stop
                      ) -> None:
                while not stop.is_set() and not context.cancelled:
                    context.log("a line")
                    context.flush()

            writer = threading.Thread(target=write)
            writer.start()
            threading.Event().wait(random.uniform(0.005, 0.03))
            while True:
                try:
                    with platform.uow() as uow:
                        taken = uow.runs.get(run_id)
                        assert taken is not None
                        taken.cancel(platform.clock.now())
                        uow.runs.update(taken)
                        uow.commit()
                    break
                except ConcurrencyConflict:
                    continue
            with platform.uow() as uow:
                at_cancel = len(uow.logs.list(run_id))
            stop.set()
            writer.join(10)
            with platform.uow() as uow:
                after = len(uow.logs.list(run_id))
            if after != at_cancel:
                late.append((trial, after - at_cancel))
    assert late == [], f"lines written after the cancel had committed: {late}"
