"""The composition root: the one place that knows every adapter.

The CLI, the notebook's ``simdock.connect()``, the HTTP app and the workers
all get their platform from :func:`build_platform`.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from simdock.clock import RandomIds, SystemClock
from simdock.credentials import CredentialCache
from simdock.domain.archives import ArchiveLimits
from simdock.domain.login_throttle import LoginLimits
from simdock.domain.resources import Resources
from simdock.errors import ValidationError
from simdock.execution import Execution
from simdock.handlers import ReportHandlerRegistry, SimulationHandlerRegistry
from simdock.limits import Limits
from simdock.platform import Platform
from simdock.ports import BlobStore, Dispatcher, Executor
from simdock.repositories import UnitOfWorkFactory
from simdock.usecases.leftovers import Attempt
from simdock_adapters.auth.jwt_tokens import JwtAccessTokens
from simdock_adapters.blobs.local import LocalBlobStore
from simdock_adapters.dispatch.database import DatabaseDispatcher
from simdock_adapters.dispatch.inline import InlineDispatcher
from simdock_adapters.dispatch.threads import ThreadDispatcher
from simdock_adapters.executors.containers import ContainerPolicy, DockerExecutor
from simdock_adapters.executors.inprocess import InProcessExecutor
from simdock_adapters.executors.processes import ProcessExecutor
from simdock_adapters.executors.routing import RoutingExecutor
from simdock_adapters.fred import FredHandler
from simdock_adapters.memory import MemoryStore, MemoryUnitOfWork
from simdock_adapters.plugins import installed_reports, installed_simulations
from simdock_adapters.settings import Settings, load_settings
from simdock_adapters.urls import masked_url

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def build_platform(settings: Settings | None = None, consume: bool = False) -> Platform:
    """A started platform wired from ``settings`` (read from the environment if None).

    With ``consume`` this process is a worker (``simdock worker``): with Dramatiq dispatch
    it takes messages from the broker, with database dispatch it polls the store for
    queued work (what WORKER_QUEUES names), with ``EXECUTOR_WORKERS`` threads either way.
    """
    settings = settings or load_settings()
    settings.check_for_production()
    simulations = SimulationHandlerRegistry(SimulationHandlerRegistry.default(),
                                            installed_simulations())
    archives = ArchiveLimits(max_bytes=settings.max_input_bytes,
                             max_unpacked_bytes=settings.max_input_unpacked_bytes)
    simulations.register("fred", FredHandler(settings.fred_binary, archives,
                                             settings.fred_max_days))
    reports = ReportHandlerRegistry(ReportHandlerRegistry.default(), installed_reports())
    uow, autocommit_uow, close_store = _unit_of_work(settings)
    worker_name = f"{socket.gethostname()}:{os.getpid()}"
    blobs = _blob_store(settings)
    containers = _container_executor(settings, worker_name, blobs)
    handlers, close_handlers = _handler_executor(settings, simulations, containers)
    clock = SystemClock()
    execution = Execution(worker_name, settings.shutdown_grace_seconds,
                          slots=settings.executor_workers,
                          queues=tuple(_consumed_queues(settings, consume)))
    executes_here = _executes_here(settings, consume)
    reaping = _reap_containers(containers, executes_here,
                               lambda attempts: platform.leftovers.dead_attempts(attempts))
    dispatcher = _dispatcher(settings, consume)
    platform = Platform(
        store=uow,
        autocommit_uow=autocommit_uow,
        blobs=blobs,
        executor=RoutingExecutor(handlers, containers),
        dispatcher=dispatcher,
        clock=clock,
        ids=RandomIds(),
        simulations=simulations,
        reports=reports,
        credentials=CredentialCache(settings.auth_cache_seconds, clock),
        access_tokens=JwtAccessTokens(settings.secret_key,
                                      timedelta(minutes=settings.access_token_expire_minutes)),
        limits=Limits(
            max_sweep_variants=settings.max_sweep_variants,
            default_image=settings.default_container_image,
            default_timeout_seconds=settings.max_job_timeout,
            payload_threshold=settings.parameters_size_threshold,
            lease_seconds=settings.lease_seconds,
            max_attempts=settings.max_attempts,
            default_resources=Resources(memory_mb=settings.container_memory_mb,
                                        cpus=settings.container_cpus,
                                        pids=settings.container_pids),
            max_resources=Resources(memory_mb=settings.container_max_memory_mb,
                                    cpus=settings.container_max_cpus,
                                    pids=settings.container_max_pids),
            archives=archives,
            login=LoginLimits(
                window_seconds=settings.login_failure_window_seconds,
                failures_before_delay=settings.login_failures_before_delay,
                failures_per_account=settings.login_failures_per_account,
                failures_per_address=settings.login_failures_per_address,
                delay_seconds=settings.login_delay_seconds,
                max_delay_seconds=settings.login_max_delay_seconds,
                known_address_days=settings.login_known_address_days,
            ),
        ),
        stops=execution,
        description=f"{masked_url(settings.database_url)} with blobs in "
                    f"{_blob_place(settings)}",
        # Runs in hand end (or are handed back) before what they need closes.
        on_close=[lambda: execution.close(dispatcher.close), *reaping, close_handlers,
                  containers.close, close_store],
        services=_services(containers, executes_here),
    )
    dispatcher.bind(platform.work(execution))
    return platform


def connect(url: str | None = None, **overrides: Any) -> Platform:
    """The ``simdock.platforms`` entry point behind :func:`simdock.connect`.

    Handlers execute in threads unless HANDLER_ISOLATION says otherwise: a notebook's own
    handler classes cannot reach a child process.
    """
    if url is not None:
        overrides["database_url"] = url
    settings = load_settings(**overrides)
    if settings.handler_isolation is None:
        settings = settings.model_copy(update={"handler_isolation": "thread"})
    return build_platform(settings)


def prepare_database(settings: Settings) -> None:
    """Migrate (or, in production, check) the database once, before processes fork."""
    if _is_memory(settings.database_url):
        return
    _sql_engine(settings).dispose()


def _is_memory(url: str) -> bool:
    return url in {"memory://", "memory"}


def _sql_engine(settings: Settings) -> Engine:
    from simdock_adapters.sql import make_engine, migrate
    from simdock_adapters.sql.engine import check_connection, sqlite_path

    path = sqlite_path(settings.database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url, settings.database_pool_size,
                         settings.database_max_overflow, settings.database_pool_timeout,
                         idle_transaction_seconds=settings.idle_transaction_seconds)
    try:
        check_connection(engine)
        if settings.migrates_on_start:
            migrate.upgrade(engine)
        else:
            migrate.require_head(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _unit_of_work(settings: Settings
                  ) -> tuple[UnitOfWorkFactory, UnitOfWorkFactory | None, Callable[[], None]]:
    """The metadata store: memory, or SQL migrated (or checked) before first use.

    Returns the unit-of-work factory, its autocommit variant (for reading) and
    how to close the store.
    """
    if _is_memory(settings.database_url):
        store = MemoryStore()
        return (lambda: MemoryUnitOfWork(store)), None, (lambda: None)
    from simdock_adapters.sql import SqlUnitOfWork

    engine = _sql_engine(settings)
    return ((lambda: SqlUnitOfWork(engine)), (lambda: SqlUnitOfWork(engine, autocommit=True)),
            engine.dispose)


def _handler_executor(settings: Settings, simulations: SimulationHandlerRegistry,
                      containers: DockerExecutor) -> tuple[Executor, Callable[[], None]]:
    """The executor of registered handlers (child processes, threads or containers, as
    HANDLER_ISOLATION says), and how to stop it."""
    max_run_memory = settings.max_run_memory_mb * 1024 * 1024 or None
    threads = InProcessExecutor(simulations, max_run_memory)
    if settings.handler_isolation == "thread":
        return threads, (lambda: None)
    handlers = [simulations.get(name) for name in simulations.names()]
    modules = sorted({type(h).__module__ for h in handlers} - {"__main__"})
    if settings.handler_isolation == "container":
        from simdock_adapters.executors.handler_containers import (
            ContainerHandlerExecutor,
            installation_mounts,
        )

        mounts, sites = installation_mounts(handlers) if settings.handler_mounts == "auto" \
            else ([], [])
        isolated = ContainerHandlerExecutor(simulations, containers, settings.handler_image,
                                            mounts, sites, max_run_memory, fallback=threads,
                                            preload=modules)
        return isolated, isolated.close
    processes = ProcessExecutor(simulations, max_run_memory, fallback=threads, preload=modules)
    return processes, processes.close


def _container_executor(settings: Settings, worker_name: str, blobs: BlobStore
                        ) -> DockerExecutor:
    """Container runs: checked against the allow-list everywhere, executed where a Docker
    engine is used."""
    policy = ContainerPolicy(
        allowed_images=settings.allowed_image_patterns, memory_mb=settings.container_memory_mb,
        cpus=settings.container_cpus, pids=settings.container_pids,
        tmpfs_mb=settings.container_tmpfs_mb, shm_mb=settings.container_shm_mb,
        user=settings.container_user)
    return DockerExecutor(policy, worker_name, enabled=settings.uses_docker, blobs=blobs,
                          deployment=deployment_name(settings))


def deployment_name(settings: Settings) -> str:
    """What this deployment's containers are labelled with: ``DEPLOYMENT_NAME``, or a name
    derived from the database (its URL without the password; a SQLite file's absolute
    path), so that the processes sharing a store are one deployment and no other is. An
    in-memory store is this platform's alone, and so is its name."""
    if settings.deployment_name:
        return settings.deployment_name
    if _is_memory(settings.database_url):
        return f"memory-{uuid.uuid4().hex[:16]}"
    from simdock_adapters.sql.engine import sqlite_path

    path = sqlite_path(settings.database_url)
    where = f"sqlite:{path.resolve()}" if path is not None else masked_url(settings.database_url)
    return f"db-{hashlib.sha256(where.encode()).hexdigest()[:16]}"


def _consumed_queues(settings: Settings, consume: bool) -> list[str]:
    """The queues this process takes work from: a worker's (WORKER_QUEUES), both for a
    server that executes in its own threads, none for one that only sends work."""
    if consume:
        return list(settings.worker_queue_names)
    return ["simulations", "reports"] if _executes_here(settings, consume) else []


def _executes_here(settings: Settings, consume: bool) -> bool:
    """Whether this process executes runs (not an API that only sends work to workers)."""
    return consume or settings.dispatch_mode not in ("dramatiq", "database")


def _reap_containers(containers: DockerExecutor, executes_here: bool,
                     dead: Callable[[Iterable[Attempt]], set[Attempt]]
                     ) -> list[Callable[[], None]]:
    """Where container runs execute, remove the containers of attempts that are over
    (:mod:`simdock_adapters.executors.container_reaper`); returns what stops that."""
    if not containers.enabled or not executes_here:
        return []
    from simdock_adapters.executors.container_reaper import ContainerReaper

    return [ContainerReaper(containers, dead).start().close]


def _services(containers: DockerExecutor, executes_here: bool
              ) -> dict[str, Callable[[], None]]:
    """What this process relies on besides the store, blobs and broker: the Docker engine
    where container runs execute."""
    return {"container_engine": containers.check} if containers.enabled and executes_here \
        else {}


def _blob_place(settings: Settings) -> str:
    if settings.s3_bucket_name:
        return f"s3://{settings.s3_bucket_name}/{settings.s3_prefix}"
    return settings.artifacts_path


def _blob_store(settings: Settings) -> BlobStore:
    if settings.s3_bucket_name:
        from simdock_adapters.blobs.s3 import S3BlobStore

        return S3BlobStore(settings.s3_bucket_name, settings.s3_prefix,
                           settings.s3_endpoint_url, settings.s3_region)
    return LocalBlobStore(settings.artifacts_path)


#: How long, past the shutdown grace, a closing process may take to stop the runs it still
#: executes and record them as handed back.
HAND_BACK_SECONDS = 15.0


def _dispatcher(settings: Settings, consume: bool) -> Dispatcher:
    mode = settings.dispatch_mode
    if mode == "inline":
        return InlineDispatcher(settings.heartbeat_seconds)
    if mode == "database" and not consume:
        return DatabaseDispatcher()  # submits only: `simdock worker` processes execute
    if mode == "dramatiq":
        if settings.broker_url is None:
            raise ValidationError("DISPATCH=dramatiq needs REDIS_URL or RABBITMQ_URL")
        from simdock_adapters.dispatch.broker import BrokerDispatcher

        return BrokerDispatcher(settings.broker_url, consume=consume,
                                threads=settings.executor_workers,
                                queue_prefix=settings.broker_queue_prefix,
                                heartbeat_seconds=settings.heartbeat_seconds,
                                consumed=settings.worker_queue_names)
    if mode == "database":  # `simdock worker`: polls the store for what its queues name
        queues = settings.worker_queue_names
        return ThreadDispatcher(settings.executor_workers if "simulations" in queues else 0,
                                1 if "reports" in queues else 0, settings.worker_poll_seconds,
                                heartbeat_seconds=settings.heartbeat_seconds,
                                close_grace_seconds=settings.shutdown_grace_seconds
                                + HAND_BACK_SECONDS)
    return ThreadDispatcher(settings.executor_workers, settings.report_workers,
                            heartbeat_seconds=settings.heartbeat_seconds,
                            close_grace_seconds=settings.shutdown_grace_seconds
                            + HAND_BACK_SECONDS)
