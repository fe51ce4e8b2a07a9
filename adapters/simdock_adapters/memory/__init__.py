"""In-memory repositories: a first-class adapter for notebooks, tests and demos."""

from simdock_adapters.memory.store import MemoryStore
from simdock_adapters.memory.uow import MemoryUnitOfWork

__all__ = ["MemoryStore", "MemoryUnitOfWork"]
