"""A running container's output, line by line, into its run's log while it runs.

stdout and stderr are followed apart (each line keeps its stream's name); a
stdout line ``progress 0.42`` reports progress instead of being logged. The
last lines are kept for the run's error when the container fails.
"""

from __future__ import annotations

import collections
import logging
import re
import threading
from typing import Any

from simdock.errors import ExecutionError
from simdock.ports import RunContext

log = logging.getLogger(__name__)
PROGRESS = re.compile(r"^progress\s+([01](?:\.\d+)?|\.\d+)\s*$")
#: A line longer than this is cut (a program printing megabytes without a newline).
MAX_LINE = 16_384


class LogPump:
    """Follows a container's output on a thread of its own."""

    def __init__(self, container: Any, context: RunContext, keep: int = 50) -> None:
        self.container = container
        self.context = context
        #: Whether reporting to the context showed the run was stopped (cancelled, taken).
        self.cancelled = False
        self._last: collections.deque[tuple[str, str]] = collections.deque(maxlen=keep)
        self._lock = threading.Lock()
        self._attached = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True,
                                        name=f"logs-{context.run_id}")

    def start(self, timeout: float = 10.0) -> None:
        """Follow the output; returns once attached (or after ``timeout`` seconds).

        Attach before the container starts: the engine's replay of earlier output
        (``logs=True``) and its live stream are not one atomic view, and a line
        written while attaching to a running container can be in neither (seen in
        CI: a cancel waiting for a container's first line, which never came).
        """
        self._thread.start()
        self._attached.wait(timeout)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def last_lines(self, count: int) -> list[str]:
        """The last ``count`` lines read, always with stderr's last line among them.

        stdout and stderr reach the engine through pipes of their own, which it copies
        apart: a program's final error message can be read before the output it printed
        just before, and ten lines before the end. That message is what a failed run's
        error most needs, so it takes the place of the oldest line when it would be cut.
        """
        with self._lock:
            lines = list(self._last)
        tail = list(range(max(0, len(lines) - count), len(lines)))
        last_error = max((i for i, (stream, _) in enumerate(lines) if stream == "stderr"),
                         default=None)
        if tail and last_error is not None and last_error not in tail:
            tail = [last_error, *tail[1:]]
        return [lines[i][1] for i in tail]

    def _follow(self) -> None:
        pending = {"stdout": b"", "stderr": b""}
        try:
            try:
                stream = self.container.attach(stdout=True, stderr=True, stream=True,
                                               logs=True, demux=True)
            finally:
                self._attached.set()
            for out, err in stream:
                for name, chunk in (("stdout", out), ("stderr", err)):
                    if chunk:
                        pending[name] = self._lines(name, pending[name] + chunk)
        except Exception as error:  # what came is kept; the run goes on without the rest
            # A killed or removed container ends the stream without an error: one raised
            # here means its output stopped reaching the run, which operators should see.
            log.warning("stopped following the output of run %s's container: %s: %s",
                        self.context.run_id, type(error).__name__, error)
        for name, rest in pending.items():
            if rest:
                self._line(name, rest)

    def _lines(self, stream: str, data: bytes) -> bytes:
        *lines, rest = data.split(b"\n")
        for line in lines:
            self._line(stream, line)
        if len(rest) > MAX_LINE:
            self._line(stream, rest)
            return b""
        return rest

    def _line(self, stream: str, raw: bytes) -> None:
        text = raw[:MAX_LINE].decode("utf-8", "replace").rstrip("\r")
        if self.cancelled:
            return
        try:
            match = PROGRESS.match(text) if stream == "stdout" else None
            if match is not None:
                self.context.progress(min(1.0, float(match.group(1))))
                return
            with self._lock:
                self._last.append((stream, text))
            self.context.log(text, stream)
        except ExecutionError:  # cancelled, or this attempt no longer holds the run
            self.cancelled = True
