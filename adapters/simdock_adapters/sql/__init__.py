"""SQLAlchemy repositories on SQLite (the embedded default) and PostgreSQL."""

from simdock_adapters.sql.engine import make_engine
from simdock_adapters.sql.uow import SqlUnitOfWork

__all__ = ["SqlUnitOfWork", "make_engine"]
