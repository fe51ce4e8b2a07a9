"""One unit of work shared by all the use cases of a scope, such as an HTTP request.

Use cases open ``with platform.uow() as uow:`` as usual; inside a scope each
of those blocks joins the scope's one unit of work (one connection, one
transaction at a time) instead of opening its own. Commits happen where the
use cases commit; whatever is left uncommitted is rolled back when the scope
ends, and an error inside a block rolls back what is pending and closes the
underlying unit of work.
"""

from __future__ import annotations

import dataclasses
from types import TracebackType
from typing import cast

from simdock.platform import Platform
from simdock.ports import UnitOfWork, UnitOfWorkFactory


class SharedUnitOfWork:
    """Re-entrant access to one underlying unit of work."""

    def __init__(self, factory: UnitOfWorkFactory) -> None:
        self._factory = factory
        self._inner: UnitOfWork | None = None

    def __enter__(self) -> UnitOfWork:
        return self._open()

    def _open(self) -> UnitOfWork:
        if self._inner is None:
            self._inner = self._factory().__enter__()
        return self._inner

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # An error ends the underlying unit of work as its own block would (rolled
        # back, its adapter translating what it knows); the next block opens another.
        if exc is not None and self._inner is not None:
            inner, self._inner = self._inner, None
            inner.__exit__(exc_type, exc, tb)

    def close(self) -> None:
        """Roll back what is uncommitted and release the connection."""
        inner, self._inner = self._inner, None
        if inner is not None:
            inner.__exit__(None, None, None)


class Scope:
    """A platform whose use cases share one unit of work until :meth:`end`."""

    def __init__(self, platform: Platform, reading: bool = False) -> None:
        """``reading``: the scope is expected to read, so where the store allows it
        statements run without a surrounding transaction (writes still commit)."""
        factory = platform.autocommit_uow if reading and platform.autocommit_uow else platform.uow
        self._shared = SharedUnitOfWork(factory)
        self.platform = dataclasses.replace(
            platform, uow=lambda: cast(UnitOfWork, self._shared))

    def end(self) -> None:
        self._shared.close()
