"""Credentials recently checked in this process, so a polling client is not looked up each time.

A client that polls a run's status every 100 ms would otherwise cost a
database round trip per request just to learn who it is. An entry is kept
for at most a few seconds (``Limits.credential_cache_seconds``) and never
past the credential's own expiry; revoking a token forgets it here at once,
and other processes stop accepting it when their entry lapses.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from simdock.domain import User
from simdock.ports import Clock

MAX_ENTRIES = 10_000


class CredentialCache:
    """A bounded map of credential key -> (user, monotonic expiry), safe across threads."""

    def __init__(self, seconds: float, clock: Clock, max_entries: int = MAX_ENTRIES) -> None:
        self.seconds = seconds
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[User, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> User | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[1] <= self._clock.monotonic():
                del self._entries[key]
                return None
            return entry[0]

    def put(self, key: str, user: User, valid_seconds: float | None = None) -> None:
        """Keep ``user`` under ``key`` for the cache's time, or less if the credential
        itself stops being valid sooner (``valid_seconds``)."""
        seconds = self.seconds if valid_seconds is None else min(self.seconds, valid_seconds)
        if seconds <= 0:
            return
        with self._lock:
            self._entries[key] = (user, self._clock.monotonic() + seconds)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)
