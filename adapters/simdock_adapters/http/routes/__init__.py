"""Route modules; each has ``register(api) -> Blueprint``."""

from simdock_adapters.http.routes import (
    auth,
    convergence,
    health,
    jobs,
    machines,
    openapi,
    reports,
    simulations,
)

ROUTE_MODULES = [health, openapi, auth, jobs, simulations, reports, machines, convergence]
