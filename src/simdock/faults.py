"""Faults logged once when they start, summed up while they last, once when they end.

A backing service that is away makes the same thing fail many times a second:
every request answered 503, every message tried again, every poll of a
consumer. Logged one by one, an outage of a minute writes thousands of lines
and hides what else happened. A :class:`FaultLog` keys faults by kind (a short
phrase such as "the database is unavailable"): the first occurrence of a kind is
logged in full, later ones are only counted, a summary says how many there were
every ``summary_seconds`` while the fault lasts, and one line says when it ended:
when the caller learnt it did (:meth:`FaultLog.recovered`), or once it has not
happened for ``quiet_seconds`` (nothing more for a fault that happened once).

Summaries and quiet ends are written by a thread that runs only while a fault
is open; :meth:`FaultLog.tick` does the same work on demand.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: How often a lasting fault is summed up, seconds.
SUMMARY_SECONDS = 30.0
#: A fault not seen for this long is over, when nothing said so before, seconds.
QUIET_SECONDS = 15.0


@dataclass
class _Fault:
    logger: logging.Logger
    started: float
    last_seen: float
    last_summary: float
    total: int = 1
    since_summary: int = 0


class FaultLog:
    """Logs each kind of fault once when it starts, in summaries while it lasts, and once
    when it ends (see the module's docstring)."""

    def __init__(self, logger: logging.Logger, *, summary_seconds: float = SUMMARY_SECONDS,
                 quiet_seconds: float = QUIET_SECONDS,
                 clock: Callable[[], float] = time.monotonic, background: bool = True) -> None:
        """``background``: whether a thread writes summaries and quiet ends as they fall
        due (without it, only :meth:`tick` does)."""
        if summary_seconds <= 0 or quiet_seconds <= 0:
            raise ValueError("a fault log needs positive intervals")
        self.logger = logger
        self.summary_seconds = summary_seconds
        self.quiet_seconds = quiet_seconds
        self._clock = clock
        self._open: dict[str, _Fault] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._background = background

    def occurred(self, kind: str, logger: logging.Logger | None = None) -> bool:
        """Count one occurrence of ``kind``; True when it starts a fault (the caller logs
        it then), False while that fault lasts. ``logger``: where its summaries and end
        go (this log's own by default)."""
        now = self._clock()
        with self._lock:
            fault = self._open.get(kind)
            if fault is not None:
                fault.total += 1
                fault.since_summary += 1
                fault.last_seen = now
                return False
            self._open[kind] = _Fault(logger or self.logger, now, now, now)
            self._watch()
            return True

    def failed(self, kind: str, message: str, *args: object,
               fields: Mapping[str, Any] | None = None, exc_info: Any = None,
               level: int = logging.WARNING) -> bool:
        """One occurrence of ``kind``: ``message % args`` is logged when it starts a fault
        (with ``fields`` and ``exc_info``), only counted while that fault lasts. True when
        it was logged."""
        if not self.occurred(kind):
            return False
        self.logger.log(level, message, *args, exc_info=exc_info,
                        extra={"fields": {**(fields or {}), "fault": kind,
                                          "fault_state": "started"}})
        return True

    def recovered(self, kind: str, message: str | None = None, *args: object) -> bool:
        """``kind`` is known to be over: logged once (``message % args``, or a line saying
        how long it lasted) if it was open. True when it was."""
        with self._lock:
            fault = self._open.pop(kind, None)
        if fault is None:
            return False
        self._log_end(kind, fault, self._clock(), message, args)
        return True

    def is_open(self, kind: str) -> bool:
        with self._lock:
            return kind in self._open

    def tick(self) -> float | None:
        """Write the summaries and quiet ends that are due; seconds until the next one is,
        None when no fault is open."""
        now = self._clock()
        summaries: list[tuple[str, _Fault, int]] = []
        ended: list[tuple[str, _Fault]] = []
        with self._lock:
            for kind, fault in list(self._open.items()):
                if now - fault.last_seen >= self.quiet_seconds:
                    ended.append((kind, self._open.pop(kind)))
                elif now - fault.last_summary >= self.summary_seconds:
                    if fault.since_summary:
                        summaries.append((kind, fault, fault.since_summary))
                    fault.since_summary = 0
                    fault.last_summary = now
            due = [min(f.last_seen + self.quiet_seconds, f.last_summary + self.summary_seconds)
                   for f in self._open.values()]
        for kind, fault, count in summaries:
            fault.logger.warning(
                "%s: %d more time(s) in the last %.0f s, %d since it started %.0f s ago",
                kind, count, self.summary_seconds, fault.total, now - fault.started,
                extra={"fields": {"fault": kind, "fault_state": "continues", "count": count,
                                  "total": fault.total}})
        for kind, fault in ended:
            if fault.total > 1:  # a fault seen once was all said when it started
                self._log_end(kind, fault, now, None, ())
        return max(0.0, min(due) - now) if due else None

    def _log_end(self, kind: str, fault: _Fault, now: float, message: str | None,
                 args: tuple[object, ...]) -> None:
        fields = {"fault": kind, "fault_state": "ended", "total": fault.total,
                  "seconds": round(now - fault.started, 1)}
        if message is not None:
            fault.logger.warning(message, *args, extra={"fields": fields})
            return
        how = "is over" if now - fault.last_seen < self.quiet_seconds else \
            f"has not happened for {self.quiet_seconds:.0f} s"
        fault.logger.warning("%s %s: it happened %d time(s) in %.0f s", kind, how,
                             fault.total, fault.last_seen - fault.started,
                             extra={"fields": fields})

    def _watch(self) -> None:
        """Have the thread that writes summaries and quiet ends running (lock held)."""
        self._changed.notify_all()
        if not self._background or (self._thread is not None and self._thread.is_alive()):
            return
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="simdock-fault-log")
        self._thread.start()

    def _loop(self) -> None:
        while True:
            wait = self.tick()
            with self._lock:
                if not self._open:
                    self._thread = None
                    return
                if wait is not None:
                    self._changed.wait(max(wait, 0.05))


class FaultFilter(logging.Filter):
    """Folds a library's repeated warnings (and worse) into faults, for the handler it is
    put on: the first record of a kind (its logger and message template) passes, the
    repeats are counted, and the fault log writes summaries and the end on the record's
    own logger. Records under WARNING, and the fault log's own, pass untouched.

    For libraries that log every failed attempt (Dramatiq's consumers retrying a broker
    that is away log each one with its traceback), where the project cannot call a
    :class:`FaultLog` itself.
    """

    def __init__(self, faults: FaultLog | None = None) -> None:
        super().__init__()
        self.faults = faults or FaultLog(logging.getLogger(__name__))

    def filter(self, record: logging.LogRecord) -> bool:
        fields = getattr(record, "fields", None)
        if record.levelno < logging.WARNING or (fields and "fault_state" in fields):
            return True
        kind = f"{record.name}: {record.msg}"
        if not self.faults.occurred(kind, logging.getLogger(record.name)):
            return False
        record.fields = {**(fields or {}), "fault": kind, "fault_state": "started"}
        return True
