"""Whether the platform's backing services answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from simdock.errors import SimdockError
from simdock.ports import BlobStore, Dispatcher
from simdock.scope import UnitsOfWork


@dataclass(frozen=True)
class Health:
    """Whether the platform's backing services answer."""

    blobs: BlobStore
    dispatcher: Dispatcher
    services: Mapping[str, Callable[[], None]]
    uow: UnitsOfWork

    def check_services(self) -> dict[str, str | None]:
        """Each backing service and the reason it is unavailable (None when it answers): the
        database, the blob store, the broker when work goes through one, and what else the
        composition root says this process relies on (``Platform.services``)."""

        def database() -> None:
            with self.uow() as uow:
                uow.users.get("usr-health-probe")

        checks: dict[str, Callable[[], None]] = {"database": database,
                                                 "blob_store": self.blobs.check}
        if self.dispatcher.broker is not None:
            checks["broker"] = self.dispatcher.check
        checks.update(self.services)
        result: dict[str, str | None] = {}
        for name, check in checks.items():
            try:
                check()
                result[name] = None
            except (SimdockError, OSError) as exc:
                result[name] = str(exc)
        return result
