"""Recently used sweep specifications, parsed, by job id.

A job's specification never changes once stored, so each process keeps the
parsed specs it used last: executing the runs of a sweep, or showing them,
reads the spec (perhaps a large blob) once instead of once per run.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from simdock.domain import SweepSpec

MAX_ENTRIES = 256
MAX_BYTES = 256 * 1024 * 1024


class SpecCache:
    """A bounded least-recently-used map of job id -> parsed spec, safe across threads."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[SweepSpec, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, job_id: str) -> SweepSpec | None:
        with self._lock:
            entry = self._entries.get(job_id)
            if entry is None:
                return None
            self._entries.move_to_end(job_id)
            return entry[0]

    def put(self, job_id: str, spec: SweepSpec, size: int) -> None:
        """Keep ``spec`` (``size``: its encoded bytes); a spec larger than the whole
        budget is not kept."""
        if size > self._max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(job_id, None)
            if previous is not None:
                self._bytes -= previous[1]
            self._entries[job_id] = (spec, size)
            self._bytes += size
            while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        """Forget every spec (as a process that has read none)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def forget(self, job_id: str) -> None:
        with self._lock:
            entry = self._entries.pop(job_id, None)
            if entry is not None:
                self._bytes -= entry[1]
