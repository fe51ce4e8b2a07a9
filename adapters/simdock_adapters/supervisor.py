"""Keeps ``simdock worker --processes N`` at N worker processes.

Each worker process is ``simdock worker`` itself (one process, its threads);
the supervisor starts them, starts again one that died (killed, out of memory)
after a short pause, and on SIGTERM or SIGINT passes the signal on and waits
for them. What a dead process was executing is taken back by the leases of
the runs it held, by the others.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections.abc import Sequence

log = logging.getLogger(__name__)

#: Pause before starting again a process that died, so a crash loop does not spin.
RESTART_SECONDS = 1.0
#: How long stopping waits for the processes to drain before killing them.
STOP_SECONDS = 30.0


def supervise(command: Sequence[str], processes: int, stop: threading.Event | None = None,
              restart_seconds: float = RESTART_SECONDS, stop_seconds: float = STOP_SECONDS
              ) -> int:
    """Run ``processes`` copies of ``command`` until stopped; returns how many were
    started again after dying. Stopping passes SIGTERM on and waits ``stop_seconds`` for
    them to drain (their runs end or are handed back) before killing them."""
    stop = stop or threading.Event()
    children = [subprocess.Popen(list(command)) for _ in range(processes)]
    log.info("supervising %d worker processes: %s", processes, [c.pid for c in children])
    restarts = 0
    try:
        while not stop.wait(0.2):
            for i, child in enumerate(children):
                code = child.poll()
                if code is None or stop.is_set():
                    continue
                log.warning("worker process %d ended with %s; starting another", child.pid,
                            code)
                time.sleep(restart_seconds)
                children[i] = subprocess.Popen(list(command))
                restarts += 1
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + stop_seconds
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
    return restarts
