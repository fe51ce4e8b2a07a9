"""Default clock and id generator; standard library only, replaceable in tests."""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ManualClock:
    """A clock that moves only when told to, for deterministic tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def sleep(self, seconds: float) -> None:
        """Nobody waits: the clock moves on by ``seconds``."""
        self.advance(max(seconds, 0.0))

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._elapsed += seconds


class RandomIds:
    """Prefixed ids in the seed-003 style: ``job-`` and 17 hex digits."""

    def new(self, prefix: str) -> str:
        return f"{prefix}-{secrets.token_hex(9)[:17]}"

    def new_many(self, prefix: str, count: int) -> list[str]:
        digits = secrets.token_hex(9 * count)  # one read of the system's randomness
        return [f"{prefix}-{digits[i:i + 17]}" for i in range(0, 18 * count, 18)]


class SequentialIds:
    """Predictable ids (``job-00000000000000001``) for tests and examples."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}-{next(self._counter):017d}"

    def new_many(self, prefix: str, count: int) -> list[str]:
        return [self.new(prefix) for _ in range(count)]
