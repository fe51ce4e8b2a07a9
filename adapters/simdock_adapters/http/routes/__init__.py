"""Route modules; each has ``register(api) -> Blueprint``."""

from simdock_adapters.http.routes import auth, health, openapi

ROUTE_MODULES = [health, openapi, auth]
