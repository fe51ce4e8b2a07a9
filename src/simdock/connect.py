"""Finding a platform builder through the ``simdock.platforms`` entry point.

The core never imports the adapters: it asks the installed packages for
whoever provides the platform.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from simdock.errors import ServiceUnavailable
from simdock.notebook import Dock


def connect(url: str | None = None, *, user: str | None = None, provider: str = "default",
            **settings: Any) -> Dock:
    """A :class:`Dock` on an embedded platform (or the one ``url`` names).

    ``settings`` override the environment (``artifacts_path=...``,
    ``executor_workers=...``).
    """
    matches = [e for e in entry_points(group="simdock.platforms") if e.name == provider]
    if not matches:
        raise ServiceUnavailable(
            f"no simdock platform provider named {provider!r} is installed; "
            "install simdock with its adapters (pip install simdock)"
        )
    platform = matches[0].load()(url, **settings)
    return Dock(platform, user or "local@simdock")
