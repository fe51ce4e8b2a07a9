"""Whether this process has been reaching the store, and since when.

A run is taken back from its worker only when the worker stayed silent for a
whole lease *while the store could be reached*. After an outage every
worker's lease has lapsed by the clock, though none of them was lost: they
could not renew. So a process that has just reached the store again first
renews its own leases, and takes back lapsed runs only once it has been
reaching the store for a whole lease itself (:func:`StoreContact.steady`):
by then every live worker has renewed (each beats every
``HEARTBEAT_SECONDS``), and a run still lapsed belongs to a worker that is
really gone.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta


class StoreContact:
    """When this process's heartbeat last lost and then reached the store again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: When the store was reached again after being lost; None while it is lost, and
        #: datetime.min when it was never lost.
        self._since: datetime | None = datetime.min
        self._lost = False

    def lost(self) -> None:
        """The store could not be reached."""
        with self._lock:
            self._lost = True
            self._since = None

    def reached(self, now: datetime) -> None:
        """The store answered at ``now``."""
        with self._lock:
            if self._lost:
                self._lost = False
                self._since = now

    def steady(self, now: datetime, lease: timedelta) -> bool:
        """Whether the store has been reached for at least ``lease`` up to ``now``: long
        enough for any live worker to have renewed its leases since it came back."""
        with self._lock:
            since = self._since
        return since is not None and (since == datetime.min or now - since >= lease)
