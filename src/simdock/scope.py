"""One unit of work shared by all the use cases of a scope, such as an HTTP request.

Use cases open ``with self.uow() as uow:`` as usual; inside a scope each
of those blocks joins the scope's one unit of work (one connection, one
transaction at a time) instead of opening its own. Commits happen where the
use cases commit; what a block leaves uncommitted is rolled back when it
ends, and an error inside a block closes the underlying unit of work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import TracebackType
from typing import cast

from simdock.outbox import OutboxUnitOfWork
from simdock.ports import Sender
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


class UnitsOfWork:
    """Opens the units of work use cases write through: each block its own, or inside a
    scope (:meth:`begin`, such as an HTTP request) the scope's one shared unit of work.

    A scope belongs to the context (thread) that began it, like SQLAlchemy's
    ``scoped_session``: use cases are bound to this object once and never copied.
    """

    def __init__(self, store: UnitOfWorkFactory, sender: Sender,
                 autocommit: UnitOfWorkFactory | None = None) -> None:
        """``autocommit``: units of work whose statements commit one by one (no
        transaction), for scopes that only read; None where the store has no such mode."""
        self.store = store
        self._sender = sender
        self._autocommit = autocommit
        self._scope: ContextVar[SharedUnitOfWork | None] = ContextVar(
            f"simdock-scope-{id(self)}", default=None)

    def __call__(self) -> OutboxUnitOfWork:
        """A unit of work whose dispatches are sent once it commits."""
        shared = self._scope.get()
        store = cast(UnitOfWork, shared) if shared is not None else self.store()
        return OutboxUnitOfWork(store, self._sender)

    def begin(self, reading: bool = False) -> Token[SharedUnitOfWork | None]:
        """Have this context's use cases share one unit of work until :meth:`end`.

        ``reading``: the scope is expected to read, so where the store allows it
        statements run without a surrounding transaction (writes still commit)."""
        factory = self._autocommit if reading and self._autocommit else self.store
        return self._scope.set(SharedUnitOfWork(factory))

    def end(self, token: Token[SharedUnitOfWork | None]) -> None:
        """End the scope :meth:`begin` returned ``token`` for, releasing its connection."""
        shared = self._scope.get()
        self._scope.reset(token)
        if shared is not None:
            shared.close()

    @contextmanager
    def scope(self, reading: bool = False) -> Iterator[None]:
        """:meth:`begin` and :meth:`end` around a block."""
        token = self.begin(reading)
        try:
            yield
        finally:
            self.end(token)
