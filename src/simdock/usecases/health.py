"""Whether the platform's backing services answer."""

from __future__ import annotations

from collections.abc import Callable

from simdock.errors import SimdockError
from simdock.platform import Platform


def check_services(platform: Platform) -> dict[str, str | None]:
    """Each backing service and the reason it is unavailable (None when it answers): the
    database, the blob store, the broker when work goes through one, and what else the
    composition root says this process relies on (``Platform.services``)."""

    def database() -> None:
        with platform.uow() as uow:
            uow.users.get("usr-health-probe")

    checks: dict[str, Callable[[], None]] = {"database": database,
                                             "blob_store": platform.blobs.check}
    if platform.dispatcher.broker is not None:
        checks["broker"] = platform.dispatcher.check
    checks.update(platform.services)
    result: dict[str, str | None] = {}
    for name, check in checks.items():
        try:
            check()
            result[name] = None
        except (SimdockError, OSError) as exc:
            result[name] = str(exc)
    return result
