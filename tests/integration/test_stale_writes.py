"""On PostgreSQL, no log line of an attempt gets in once its run was taken from it.

Seen before (by reading): the context checked that its attempt held the run
with a plain read, then appended its lines and committed; a take-back committed
between the two let the stale attempt's lines in. Here a context writes lines as
fast as it can while the run is taken back under it, many times over: once the
take-back has committed, the run's log never grows. A cancelled run keeps the
lines its attempt wrote until it learnt of the cancel (they show how far it got):
its log grows by that one write at most, never after.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

import simdock
from simdock.errors import ConcurrencyConflict
from simdock.usecases.recording import ExecutionContext
from tests.databases import migrated_postgres

TRIALS = 30


@pytest.mark.parametrize("stop", ["taken back", "cancelled"])
def test_no_line_of_an_attempt_is_written_once_its_run_was_taken_or_it_knew_of_the_cancel(
        tmp_path: Path, stop: str) -> None:
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
            context = platform.recording.context(run_id, run.job_id, run.attempts, "writer:1")
            stopped = threading.Event()

            def write(context: ExecutionContext = context, stopped: threading.Event = stopped
                      ) -> None:
                while not stopped.is_set() and not context.cancelled:
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
                        if stop == "cancelled":
                            taken.cancel(platform.clock.now())
                        else:
                            taken.requeue(platform.clock.now())
                        uow.runs.update(taken)
                        uow.commit()
                    break
                except ConcurrencyConflict:
                    continue
            with platform.uow() as uow:
                at_cancel = len(uow.logs.list(run_id))
            stopped.set()
            writer.join(10)
            context.log("once it knew")
            context.flush()
            with platform.uow() as uow:
                after = len(uow.logs.list(run_id))
            if after - at_cancel > (1 if stop == "cancelled" else 0):
                late.append((trial, after - at_cancel))
    assert late == [], f"writes after the run was {stop}: {late}"
