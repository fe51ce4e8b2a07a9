"""The Flask HTTP API (``/api/v1``): a translation of requests into use cases."""

from simdock_adapters.http.app import create_app

__all__ = ["create_app"]
