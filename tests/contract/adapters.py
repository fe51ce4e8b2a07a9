"""The adapters the contract suites run against: one registry per port.

Every suite in this directory is parametrised over one of the registries
below, so each of its tests runs once per adapter (``test_...[memory]``,
``test_...[local]``, ...). A new adapter is done when it passes its suite.

How to add an adapter
---------------------
1. Write a small factory function in the section of its port below. A
   factory is a context manager: it builds the adapter, yields it, and
   cleans up after the test (drop the database, empty the bucket, close the
   dispatcher). It receives the test's ``tmp_path`` for files it may need.
2. Add it to that port's registry under a short id (``"sqlite"``,
   ``"postgresql"``, ``"s3"``, ``"docker"``, ``"dramatiq"``).
3. An adapter that needs a real service calls
   ``tests.conftest.require_service(name, host, port)`` at the start of its
   factory, so the suite skips when the service is absent (and fails in CI,
   where ``SIMDOCK_REQUIRE_SERVICES=1``).

Nothing else changes: the fixtures (``uow_factory``, ``blob_store``,
``executor``, ``dispatcher``) take their parameter lists from here.

Known bugs
----------
A test that exposes a bug in some adapters is decorated with
:func:`xfail_for`; the suite's fixture turns that into a strict
``pytest.mark.xfail`` for those adapters only, so a fix (or a new adapter)
is never hidden by it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from simdock.handlers import SimulationHandlerRegistry
from simdock.ports import BlobStore, Dispatcher, Executor
from simdock.repositories import UnitOfWork, UnitOfWorkFactory
from simdock_adapters.blobs.local import LocalBlobStore
from simdock_adapters.blobs.memory import MemoryBlobStore
from simdock_adapters.dispatch.inline import InlineDispatcher
from simdock_adapters.dispatch.threads import ThreadDispatcher
from simdock_adapters.executors.inprocess import InProcessExecutor
from simdock_adapters.executors.processes import ProcessExecutor
from simdock_adapters.executors.routing import RoutingExecutor
from simdock_adapters.memory import MemoryStore, MemoryUnitOfWork
from simdock_adapters.sql import SqlUnitOfWork, make_engine
from tests.brokers import delete_queues, queue_prefix, require_rabbitmq, require_redis
from tests.databases import migrated_postgres, migrated_sqlite
from tests.s3 import new_bucket, s3_client, s3_endpoint

# --------------------------------------------------------------------------
# Repositories + unit of work  (suite: test_repositories.py, fixture: uow_factory)
#
# A factory yields a UnitOfWorkFactory over a fresh, empty store. Every unit
# of work it makes must see what the others committed (they share one
# database), and each must be usable from its own thread.
# --------------------------------------------------------------------------


@contextmanager
def memory_unit_of_work(tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    store = MemoryStore()

    def factory() -> UnitOfWork:
        return MemoryUnitOfWork(store)

    yield factory


@contextmanager
def sqlite_unit_of_work(tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    engine = make_engine(migrated_sqlite(tmp_path / "contract.db"))
    yield lambda: SqlUnitOfWork(engine)
    engine.dispose()


@contextmanager
def postgresql_unit_of_work(tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    engine = make_engine(migrated_postgres("contract"))
    yield lambda: SqlUnitOfWork(engine)
    engine.dispose()


UnitOfWorkAdapter = Callable[[Path], AbstractContextManager[UnitOfWorkFactory]]

UNIT_OF_WORK_ADAPTERS: dict[str, UnitOfWorkAdapter] = {
    "memory": memory_unit_of_work,
    "sqlite": sqlite_unit_of_work,
    "postgresql": postgresql_unit_of_work,
}

# --------------------------------------------------------------------------
# Blob stores  (suite: test_blob_store.py, fixture: blob_store)
#
# A factory yields an empty store.
# --------------------------------------------------------------------------


@contextmanager
def memory_blob_store(tmp_path: Path) -> Iterator[BlobStore]:
    yield MemoryBlobStore()


@contextmanager
def local_blob_store(tmp_path: Path) -> Iterator[BlobStore]:
    yield LocalBlobStore(tmp_path / "blobs")


@contextmanager
def s3_blob_store(tmp_path: Path) -> Iterator[BlobStore]:
    """An S3 blob store on a real S3-compatible server over HTTP, in a bucket of its own,
    under a prefix (so keys are shown without it)."""
    from simdock_adapters.blobs.s3 import S3BlobStore

    endpoint = s3_endpoint("moto")
    yield S3BlobStore(new_bucket(endpoint), prefix="deployment/a",
                      client=s3_client(endpoint))


BlobStoreAdapter = Callable[[Path], AbstractContextManager[BlobStore]]

BLOB_STORE_ADAPTERS: dict[str, BlobStoreAdapter] = {
    "memory": memory_blob_store,
    "local": local_blob_store,
    "s3": s3_blob_store,
}

#: Blob stores that keep every blob in a local file (``local_path`` gives it).
BLOB_STORES_WITH_LOCAL_FILES = frozenset({"local"})

# --------------------------------------------------------------------------
# Executors  (suite: test_executor.py, fixture: executor)
#
# A factory yields an executor that runs the handlers registered in
# ``registry``. The suite registers its test handlers in that registry
# before the first call to ``check`` or ``execute``.
# --------------------------------------------------------------------------


@contextmanager
def inprocess_executor(registry: SimulationHandlerRegistry, tmp_path: Path
                       ) -> Iterator[Executor]:
    yield InProcessExecutor(registry)


@contextmanager
def routing_executor(registry: SimulationHandlerRegistry, tmp_path: Path
                     ) -> Iterator[Executor]:
    """The composition root's executor: handlers here, container images elsewhere."""
    yield RoutingExecutor(InProcessExecutor(registry))


@contextmanager
def process_executor(registry: SimulationHandlerRegistry, tmp_path: Path
                     ) -> Iterator[Executor]:
    """Handlers in child processes, with no thread fallback: every handler crosses over."""
    executor = ProcessExecutor(registry, grace_seconds=0.3)
    try:
        yield executor
    finally:
        executor.close()


@contextmanager
def container_executor(registry: SimulationHandlerRegistry, tmp_path: Path
                       ) -> Iterator[Executor]:
    """Handlers in containers of sim:local on a real Docker engine, with this installation
    mounted: the process executor's children, isolated as every container run is."""
    from simdock_adapters.executors.containers import ContainerPolicy, DockerExecutor
    from simdock_adapters.executors.handler_containers import (
        ContainerHandlerExecutor,
        installation_mounts,
    )
    from tests.containers import engine

    engine()
    mounts, sites = installation_mounts()
    docker = DockerExecutor(ContainerPolicy(), "contract:containers")
    executor = ContainerHandlerExecutor(registry, docker, "sim:local", mounts, sites,
                                        grace_seconds=0.3)
    try:
        yield executor
    finally:
        executor.close()
        docker.close()


ExecutorAdapter = Callable[[SimulationHandlerRegistry, Path], AbstractContextManager[Executor]]

EXECUTOR_ADAPTERS: dict[str, ExecutorAdapter] = {
    "inprocess": inprocess_executor,
    "processes": process_executor,
    "containers": container_executor,
    "routing": routing_executor,
}

#: Executors whose handlers run in a process of their own: a handler that never returns is
#: stopped for good, and one that ends its process fails only its run.
EXECUTORS_THAT_STOP_HANDLERS = frozenset({"processes", "containers"})

# --------------------------------------------------------------------------
# Dispatchers  (suite: test_dispatcher.py, fixture: dispatcher)
#
# A factory yields an unbound dispatcher; the suite binds it to its own
# Work, which stands for the store. ``background`` says whether dispatched work
# runs outside the caller's thread (so ``join`` can time out while a worker is
# busy); ``from_store`` whether its workers take queued work from the store
# (so work queued without a dispatch, or while the store failed, still gets done).
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DispatcherAdapter:
    make: Callable[[Path], AbstractContextManager[Dispatcher]]
    background: bool
    from_store: bool


@contextmanager
def inline_dispatcher(tmp_path: Path) -> Iterator[Dispatcher]:
    dispatcher = InlineDispatcher(heartbeat_seconds=0.05)
    try:
        yield dispatcher
    finally:
        dispatcher.close()


@contextmanager
def thread_dispatcher(tmp_path: Path) -> Iterator[Dispatcher]:
    dispatcher = ThreadDispatcher(run_workers=4, report_workers=2, poll_seconds=0.2,
                                  heartbeat_seconds=0.05)
    try:
        yield dispatcher
    finally:
        dispatcher.close()


def broker_dispatcher(url: Callable[[], str]) -> Callable[[Path], AbstractContextManager[
        Dispatcher]]:
    """A consuming Dramatiq dispatcher on real Redis or RabbitMQ, with queues of its own."""
    @contextmanager
    def make(tmp_path: Path) -> Iterator[Dispatcher]:
        from simdock_adapters.dispatch.broker import BrokerDispatcher

        dispatcher = BrokerDispatcher(url(), consume=True, threads=4,
                                      queue_prefix=queue_prefix(), heartbeat_seconds=0.05)
        try:
            yield dispatcher
        finally:
            dispatcher.close()
            delete_queues(dispatcher.broker, dispatcher.queues)

    return make


DISPATCHER_ADAPTERS: dict[str, DispatcherAdapter] = {
    "inline": DispatcherAdapter(inline_dispatcher, background=False, from_store=False),
    "threads": DispatcherAdapter(thread_dispatcher, background=True, from_store=True),
    "dramatiq-redis": DispatcherAdapter(broker_dispatcher(require_redis), background=True,
                                        from_store=True),
    "dramatiq-rabbitmq": DispatcherAdapter(broker_dispatcher(require_rabbitmq),
                                           background=True, from_store=True),
}

# --------------------------------------------------------------------------
# Known bugs
# --------------------------------------------------------------------------

KNOWN_BUG_MARKER = "known_bug"


def xfail_for(*adapter_ids: str, reason: str) -> pytest.MarkDecorator:
    """Decorate a test that fails, because of a bug, on these adapters only.

    The suite's fixture applies ``pytest.mark.xfail(strict=True, reason=...)``
    when the test runs against one of ``adapter_ids``: the test must keep
    failing there (so a fix is noticed) and must pass everywhere else.
    """
    return pytest.mark.known_bug(*adapter_ids, reason=reason)


def apply_known_bugs(request: pytest.FixtureRequest, adapter_id: str) -> None:
    """Turn the test's :func:`xfail_for` marks that name ``adapter_id`` into strict xfails."""
    for mark in request.node.iter_markers(KNOWN_BUG_MARKER):
        if adapter_id in mark.args:
            reason = f"{adapter_id}: {mark.kwargs['reason']}"
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
