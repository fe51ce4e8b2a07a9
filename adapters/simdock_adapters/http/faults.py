"""The application's fault log: what fails on every request while a service is away.

While the database (or another service) is unreachable, every request that
needs it is answered 503 and every /health call finds it down; logged one by
one, that is a line per request. Each application keeps one
:class:`simdock.faults.FaultLog`, so such a fault is logged when it starts,
summed up while it lasts and once when it ends, per worker process.
"""

from __future__ import annotations

import logging

from flask import current_app

from simdock.faults import FaultLog

log = logging.getLogger("simdock.http")

_KEY = "simdock.faults"


def app_faults() -> FaultLog:
    """The current application's fault log, made on first use."""
    faults = current_app.extensions.get(_KEY)
    if faults is None:
        faults = current_app.extensions[_KEY] = FaultLog(log)
    return faults
