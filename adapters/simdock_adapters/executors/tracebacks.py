"""A failing handler's traceback as its run's log shows it: the handler's frames only.

The frames that led into the handler (the executor's thread, the platform's
calls) say nothing to whoever wrote the handler and show the platform's
installation paths, so a run's log starts at the handler's first frame. The
exception line and its chained causes are kept.
"""

from __future__ import annotations

import traceback
from types import TracebackType

#: The packages whose frames lead into a handler; the sample simulations are handlers.
PLATFORM_PACKAGES = ("simdock", "simdock_adapters")


def handler_traceback(error: BaseException) -> str:
    """The formatted exception, its chain, and only the frames from the handler on."""
    summary = traceback.TracebackException.from_exception(error)
    _trim(summary, error, set())
    return "".join(summary.format()).rstrip()


def _trim(summary: traceback.TracebackException | None, error: BaseException | None,
          seen: set[int]) -> None:
    if summary is None or error is None or id(summary) in seen:
        return
    seen.add(id(summary))
    skipped = _leading_platform_frames(error.__traceback__)
    if skipped:
        summary.stack = traceback.StackSummary.from_list(list(summary.stack)[skipped:])
    _trim(summary.__cause__, error.__cause__, seen)
    _trim(summary.__context__, error.__context__, seen)


def _leading_platform_frames(tb: TracebackType | None) -> int:
    count = 0
    while tb is not None and _is_platform(tb.tb_frame.f_globals.get("__name__", "")):
        count += 1
        tb = tb.tb_next
    return count


def _is_platform(module: str) -> bool:
    return any(module == package or module.startswith(f"{package}.")
               for package in PLATFORM_PACKAGES)
