"""The Flask HTTP API (``/api/v1``): a translation of requests into use cases.

``create_app`` is imported on first use, so that ``simdock serve`` can set up
the server (and Prometheus's shared metric directory) before any of the
application's modules load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simdock_adapters.http.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from simdock_adapters.http.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
