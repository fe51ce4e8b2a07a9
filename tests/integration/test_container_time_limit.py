"""A container run's time limit counts from the run's start, not from its container's.

Checking the image, fetching inputs, creating and starting the container take
their time (more than a second on a busy engine); a limit counted only once the
container had started let a program that prints forever go on well past it
(seen: an 8 s limit, 12 s of output). Measured here from the run's
``started_at``: the last line the program printed (it prints the time with
each) and the moment the run was recorded as failed.
"""

from __future__ import annotations

from pathlib import Path

import simdock
from tests.containers import probe_image

LIMIT = 4.0
#: Time from the limit to the container's kill (a 50 ms poll, the engine's answer).
KILL_MARGIN = 0.6
#: Time from the limit to the run recorded failed (its last output read and written).
RECORD_MARGIN = 3.0


def test_a_container_printing_forever_is_stopped_at_its_limit_counted_from_the_run_s_start(
        tmp_path: Path) -> None:
    image = probe_image()
    with simdock.connect(f"sqlite:///{tmp_path / 'simdock.db'}",
                         artifacts_path=str(tmp_path / "artifacts"), allowed_images=image,
                         container_engine="docker") as dock:
        job = dock.submit(f"container:{image}", {"action": "print", "seconds": 0.01},
                          timeout=LIMIT)
        job.wait(timeout=60)
        run = job.run
        printed = [float(line.rsplit(" at ", 1)[1]) for line in job.logs()
                   if line.startswith("line ")]
    assert run.status.value == "failed"
    assert run.error is not None and f"time limit of {LIMIT:g} s" in run.error
    assert run.started_at is not None and run.finished_at is not None
    started = run.started_at.timestamp()
    last_printed = max(printed, default=started) - started
    recorded = (run.finished_at - run.started_at).total_seconds()
    print(f"limit {LIMIT} s: first line {min(printed, default=started) - started:.2f} s, last line "
          f"{last_printed:.2f} s, recorded {recorded:.2f} s after started_at")
    assert last_printed <= LIMIT + KILL_MARGIN
    assert recorded <= LIMIT + RECORD_MARGIN
