"""Handlers installed as package entry points (``simdock.simulations``, ``simdock.reports``)."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

from simdock.handlers import ReportHandlerRegistry, SimulationHandlerRegistry

log = logging.getLogger(__name__)


def _load(group: str, registry: Any) -> Any:
    for entry in entry_points(group=group):
        try:
            handler = entry.load()
            registry.register(entry.name, handler() if isinstance(handler, type) else handler)
        except Exception:  # a broken plugin must not stop the platform
            log.exception("could not load %s handler %r from %s", group, entry.name, entry.value)
    return registry


def installed_simulations() -> SimulationHandlerRegistry:
    return _load("simdock.simulations", SimulationHandlerRegistry())  # type: ignore[no-any-return]


def installed_reports() -> ReportHandlerRegistry:
    return _load("simdock.reports", ReportHandlerRegistry())  # type: ignore[no-any-return]
