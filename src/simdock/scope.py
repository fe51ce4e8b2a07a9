"""One unit of work shared by all the use cases of a scope, such as an HTTP request.

Use cases open ``with platform.uow() as uow:`` as usual; inside a scope each
of those blocks joins the scope's one unit of work (one connection, one
transaction at a time) instead of opening its own. Commits happen where the
use cases commit; what a block leaves uncommitted is rolled back when it
ends, and an error inside a block closes the underlying unit of work.
"""

from __future__ import annotations

import dataclasses
from types import TracebackType
from typing import cast

from simdock.platform import Platform
from simdock.repositories import UnitOfWork, UnitOfWorkFactory


class SharedUnitOfWork:
    """Re-entrant access to one underlying unit of work.

    Between blocks the underlying unit of work is suspended: what a block left
    uncommitted is rolled back and the store's locks are released, so work
    elsewhere (a worker, an inline execution) is never held up by the scope.
    """

    def __init__(self, factory: UnitOfWorkFactory) -> None:
        self._factory = factory
        self._inner: UnitOfWork | None = None
        self._depth = 0

    def __enter__(self) -> UnitOfWork:
        if self._inner is None:
            self._inner = self._factory().__enter__()
        elif self._depth == 0:
            self._inner.resume()
        self._depth += 1
        return self._inner

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._depth -= 1
        if self._inner is None:
            return
        if exc is not None:
            # An error ends the underlying unit of work as its own block would (rolled
            # back, its adapter translating what it knows); the next block opens another.
            inner, self._inner, self._depth = self._inner, None, 0
            inner.__exit__(exc_type, exc, tb)
        elif self._depth == 0:
            self._inner.suspend()

    def close(self) -> None:
        """Release the underlying unit of work and its connection."""
        inner, self._inner = self._inner, None
        if inner is not None:
            if self._depth == 0:
                inner.resume()
            self._depth = 0
            inner.__exit__(None, None, None)


class Scope:
    """A platform whose use cases share one unit of work until :meth:`end`."""

    def __init__(self, platform: Platform, reading: bool = False) -> None:
        """``reading``: the scope is expected to read, so where the store allows it
        statements run without a surrounding transaction (writes still commit)."""
        factory = (platform.autocommit_uow if reading and platform.autocommit_uow
                   else platform.store)
        self._shared = SharedUnitOfWork(factory)
        self.platform = dataclasses.replace(
            platform, store=lambda: cast(UnitOfWork, self._shared))

    def end(self) -> None:
        self._shared.close()
