"""Settings read from the environment, once, by the composition root."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

import pydantic
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from simdock.errors import ValidationError
from simdock_adapters.urls import masked_url

DEVELOPMENT_SECRET_KEY = "simdock-development-key-not-for-production"
#: The work a worker can take, by the names of seed 000's queues.
WORKER_QUEUES = ("simulations", "reports")
MIN_SECRET_KEY_LENGTH = 32
#: The shortest default bound on a PostgreSQL transaction left idle, seconds.
MIN_IDLE_TRANSACTION_SECONDS = 5.0
MIN_METRICS_TOKEN_LENGTH = 16
HOST_NAME = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*")


class Settings(BaseSettings):
    """Every knob of a simdock deployment; names follow the seeds where they exist."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    simdock_env: Literal["development", "testing", "production"] = Field(
        "development", description="production: never migrate, refuse a schema not at head")
    database_url: str = Field("sqlite:///./simdock.db",
                              description="Metadata store: sqlite:///PATH, postgresql://..., "
                                          "or memory://")
    database_pool_size: int = Field(10, ge=1, le=1000)
    database_max_overflow: int = Field(20, ge=0, le=1000)
    database_pool_timeout: float = Field(30.0, gt=0)
    database_idle_transaction_seconds: float | None = Field(
        None, ge=0, le=24 * 3600, description="PostgreSQL ends a transaction left idle this "
        "long (its client lost with its host, or stuck), releasing the runs it had locked "
        "for other workers; default: half of LEASE_SECONDS, at least 5 (0: never)")
    auto_migrate: bool | None = Field(
        None, description="Upgrade the schema on start (default: yes unless production)")
    artifacts_path: str = Field("./simdock-artifacts",
                                description="Directory of the local blob store")
    parameters_size_threshold: int = Field(100 * 1024, ge=0,
                                           description="Payloads above this go to the blob store")
    max_job_timeout: float = Field(3600.0, gt=0, description="Default run time limit, seconds")
    max_sweep_variants: int = Field(100_000, ge=1, le=10_000_000)
    max_run_memory_mb: int = Field(
        1024, ge=0, le=1024 * 1024, description="Memory one run executed in a server or "
        "worker process may need, MiB, by its handler's estimate (heat1d's grid and snapshots); "
        "larger parameters are refused at submission, and a handler in a child process "
        "(HANDLER_ISOLATION=process) that allocates more fails its run (0: no bound)")
    executor_workers: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1, le=256,
                                  description="Runs executed at once in this process")
    report_workers: int = Field(1, ge=1, le=64)
    worker_processes: int = Field(1, ge=1, le=64, description="Processes of `simdock worker`, "
                                  "each with EXECUTOR_WORKERS threads; one that dies is "
                                  "started again")
    worker_queues: str = Field("simulations,reports", description="What `simdock worker` "
                               "takes: simulations (runs), reports, or both (comma-separated)")
    worker_poll_seconds: float = Field(0.5, gt=0, le=60, description="How often an idle "
                                       "`simdock worker` without a broker looks for work")
    handler_isolation: Literal["process", "thread", "container"] | None = Field(
        None, description="process: each run's handler executes in a pooled child process, "
        "which a cancel or time limit stops at once even when the handler is silent; thread: "
        "in a thread of this process, stopped at its next progress report (handlers defined "
        "in a notebook); container: in a pooled container of HANDLER_IMAGE, isolated as "
        "container runs are. Default: process, but thread for simdock.connect()")
    handler_image: str = Field("sim:local", description="Image of the containers handlers "
                               "execute in with HANDLER_ISOLATION=container (Python 3.11)")
    handler_mounts: Literal["auto", "none"] = Field(
        "auto", description="auto: mount this installation's site-packages and simdock's and "
        "the handlers' directories read-only into handler containers; none: the image has "
        "them installed")
    lease_seconds: float = Field(
        10.0, ge=1, le=3600, description="How long a worker holds a run it executes without "
        "renewing its lease; a run whose worker was lost is taken back after this")
    heartbeat_seconds: float = Field(
        1.0, gt=0, le=1200, description="How often a process renews its leases and takes "
        "back lost runs; at most a third of LEASE_SECONDS")
    max_attempts: int = Field(3, ge=1, le=100, description="Attempts at a run before losing "
                                                            "its worker once more fails it")
    shutdown_grace_seconds: float = Field(
        10.0, ge=0, le=3600, description="On SIGTERM, how long runs executing in `simdock "
        "serve` or `simdock worker` may go on to finish; those still executing then are "
        "stopped and queued again at once, their attempt not counted")
    dispatch: Literal["threads", "inline", "database", "dramatiq"] | None = Field(
        None, description="threads: run here in the background; inline: run at once in the "
        "caller; database: leave queued for `simdock worker`; dramatiq: send to Dramatiq "
        "workers (`simdock worker`) through REDIS_URL or RABBITMQ_URL. Default: dramatiq "
        "when a broker URL is set, else threads")
    s3_bucket_name: str | None = Field(
        None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        description="S3 bucket of the blob store: selects S3 over ARTIFACTS_PATH")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible service (MinIO...), "
                                                          "http(s)://HOST:PORT; AWS if unset")
    s3_prefix: str = Field("", pattern=r"^[A-Za-z0-9._/-]{0,200}$",
                           description="Key prefix of every blob in the bucket")
    s3_region: str | None = Field(None, description="Region of the bucket")
    redis_url: str | None = Field(None, description="Redis broker (redis://HOST:PORT/DB): "
                                                    "selects Dramatiq dispatch")
    rabbitmq_url: str | None = Field(None, description="RabbitMQ broker "
                                                       "(amqp://USER:PASSWORD@HOST:PORT/VHOST): "
                                                       "selects Dramatiq dispatch")
    broker_queue_prefix: str = Field("", pattern=r"^[A-Za-z0-9_.-]{0,40}$",
                                     description="Prefix of the broker's queue names, to keep "
                                                 "deployments sharing a broker apart")
    simdock_user: str = Field("local@simdock", description="Owner of work submitted locally")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Level of the JSON logs of simdock serve and simdock worker")

    secret_key: str = Field(DEVELOPMENT_SECRET_KEY, repr=False,
                            description="Signs access tokens and download links; required "
                                        "(32+ characters) in production")
    access_token_expire_minutes: int = Field(60, ge=1, le=60 * 24 * 30)
    auth_cache_seconds: float = Field(
        5.0, ge=0, le=300, description="How long a server process remembers who presented a "
        "credential (0: look it up on every request); a token revoked on one process stops "
        "working on the others within this time")
    download_url_expire_seconds: int = Field(900, ge=10, le=7 * 24 * 3600)
    login_failure_window_seconds: float = Field(
        7200.0, ge=1, le=30 * 24 * 3600, description="How long a failed login is counted")
    login_failures_before_delay: int = Field(
        5, ge=0, le=10_000, description="Failed logins for one account from one client "
        "address before each next attempt for it from there waits")
    login_failures_per_account: int = Field(
        10, ge=0, le=1_000_000, description="Failed logins for one account from addresses "
        "it has not logged in from before each next attempt from any such address waits")
    login_failures_per_address: int = Field(
        100, ge=1, le=1_000_000, description="Failed logins from one client address, over "
        "all accounts, after which its next attempt for an account it failed for waits at "
        "once (accounts it has not failed for are never refused there)")
    login_delay_seconds: float = Field(
        1.0, gt=0, le=3600, description="The first wait between login attempts; it doubles "
        "with each further failure")
    login_max_delay_seconds: float = Field(
        300.0, gt=0, le=24 * 3600, description="The longest wait between login attempts")
    login_known_address_days: float = Field(
        30.0, ge=0, le=3650, description="How long a successful login makes its client "
        "address known to the account: others' failures never delay the account there")
    max_content_length: int = Field(16 * 1024 * 1024, ge=1024,
                                    description="Largest request body accepted, bytes")
    public_base_url: str | None = Field(
        None, description="Where clients reach the API (https://HOST[/PREFIX]): links in "
                          "answers start with it")
    trusted_hosts: str = Field(
        "", description="Comma-separated host names whose Host header links may start with "
                        "when PUBLIC_BASE_URL is not set")
    proxy_hops: int = Field(
        0, ge=0, le=5,
        description="How many proxies in front of the server append to X-Forwarded-For and "
                    "set X-Forwarded-Proto: the client address (login throttling, logs) and "
                    "scheme are taken from them; 0 trusts no such header")
    cors_origins: str = Field("*", description="Comma-separated origins allowed by CORS")
    fred_binary: str | None = Field(
        None, description="The FRED program FRED runs execute (the Epistemix dialect); "
                          "unset: the stand-in model shipped in sim/ (not FRED)")
    fred_max_days: int = Field(
        3653, ge=1, le=366_000, description="The most days a FRED run may simulate: an "
        "--end-date further from its --start-date (from today without one) is refused")
    max_input_bytes: int = Field(
        512 * 1024 * 1024, ge=1024,
        description="Largest upload through a file link (a job's inputs.zip), bytes")
    max_input_unpacked_bytes: int = Field(
        2 * 1024 * 1024 * 1024, ge=1024,
        description="Most bytes a job's inputs.zip may unpack to")
    enable_metrics: bool = False
    metrics_token: str | None = Field(
        None, repr=False, description="The bearer token /metrics answers to "
        "(Authorization: Bearer ...); unset: /metrics is open, and production refuses "
        "ENABLE_METRICS")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    web_workers: int = Field(2, ge=1, le=64, description="WSGI server worker processes")
    web_threads: int = Field(8, ge=1, le=256, description="Threads per WSGI worker")
    request_read_timeout: float = Field(
        30.0, gt=0, le=3600,
        description="Seconds a client has to send a request's head, and may pause while "
                    "sending its body, before the server answers 408 and closes the "
                    "connection")
    max_open_streams: int | None = Field(
        None, ge=1, le=10_000, description="Live streams (SSE, WebSocket) per worker process "
                                           "(default: half its threads)")
    max_streams_per_user: int | None = Field(
        None, ge=1, le=10_000, description="Live streams one user may hold open per worker "
                                           "process (default: half of MAX_OPEN_STREAMS)")
    default_container_image: str = "sim:local"
    allowed_images: str = Field(
        "sim:local", description="Comma-separated patterns (fnmatch: sim:*, ghcr.io/lab/*) of "
                                 "the container images runs may use; others are refused at "
                                 "submission")
    container_engine: Literal["docker", "none"] | None = Field(
        None, description="docker: container runs execute on the Docker engine of DOCKER_HOST "
        "(or /var/run/docker.sock), which /health then reports where runs execute; none: "
        "they fail saying so. Default: docker when DOCKER_HOST is set or the socket exists")
    deployment_name: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.-]{1,63}$", description="Name this deployment's "
        "containers are labelled with: workers remove only their own deployment's leftover "
        "containers on a shared Docker engine. Default: derived from DATABASE_URL (without "
        "its password), so every process sharing a database is one deployment")
    container_memory_mb: int = Field(256, ge=16, le=1024 * 1024,
                                     description="Memory of a container run, MiB (no swap)")
    container_cpus: float = Field(1.0, gt=0, le=512, description="CPUs of a container run")
    container_pids: int = Field(128, ge=8, le=1_000_000,
                                description="Processes and threads of a container run")
    container_max_memory_mb: int = Field(4096, ge=16, le=1024 * 1024,
                                         description="Most memory a job may ask for per "
                                                     "container run, MiB")
    container_max_cpus: float = Field(default_factory=lambda: float(os.cpu_count() or 1),
                                      gt=0, le=512, description="Most CPUs a job may ask for "
                                                                "per container run")
    container_max_pids: int = Field(4096, ge=8, le=1_000_000,
                                    description="Most processes a job may ask for per "
                                                "container run")
    container_tmpfs_mb: int = Field(64, ge=1, le=1024 * 1024,
                                    description="Size of a container run's /tmp, MiB")
    container_shm_mb: int = Field(64, ge=1, le=1024 * 1024,
                                  description="Size of a container run's /dev/shm, MiB")
    container_user: str | None = Field(
        None, pattern=r"^[0-9]{1,10}(:[0-9]{1,10})?$",
        description="uid[:gid] container programs run as (default: 65534, nobody, when the "
                    "worker is root, else the worker's own user); never root")

    @field_validator("simdock_env", mode="before")
    @classmethod
    def _environment_name(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_name(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL naming a host, such as "
                             "https://simdock.example.com")
        if "?" in value or "#" in value:
            raise ValueError("must have no query or fragment, only an optional path prefix")
        if "@" in parts.netloc:
            raise ValueError("must not hold credentials")
        try:
            parts.port  # noqa: B018  (raises on a port that is not a number)
        except ValueError:
            raise ValueError("has a port that is not a number") from None
        return value.rstrip("/")

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("starts with redis://, rediss:// or unix://")
        return value or None

    @field_validator("rabbitmq_url")
    @classmethod
    def _rabbitmq_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("amqp://", "amqps://")):
            raise ValueError("starts with amqp:// or amqps://")
        return value or None

    @property
    def broker_url(self) -> str | None:
        """The broker work is sent through, if one is set (Redis first)."""
        return self.redis_url or self.rabbitmq_url

    @property
    def dispatch_mode(self) -> str:
        """How work gets to whoever executes it: DISPATCH, or what the broker URLs imply."""
        if self.dispatch is not None:
            return self.dispatch
        return "dramatiq" if self.broker_url else "threads"

    @property
    def idle_transaction_seconds(self) -> float:
        """DATABASE_IDLE_TRANSACTION_SECONDS, or its default: well within a lease, so that
        a lost host's locks go before its runs are due to be taken back."""
        if self.database_idle_transaction_seconds is not None:
            return self.database_idle_transaction_seconds
        return max(MIN_IDLE_TRANSACTION_SECONDS, self.lease_seconds / 2)

    @field_validator("heartbeat_seconds")
    @classmethod
    def _heartbeat_within_lease(cls, value: float, info: pydantic.ValidationInfo) -> float:
        lease = info.data.get("lease_seconds")
        if lease is not None and value * 3 > lease:
            raise ValueError(f"must be at most a third of LEASE_SECONDS ({lease:g} s), so "
                             f"that a few missed beats do not lose a run")
        return value

    @field_validator("allowed_images")
    @classmethod
    def _allowed_images(cls, value: str) -> str:
        patterns = [p.strip() for p in value.split(",") if p.strip()]
        for pattern in patterns:
            if not re.fullmatch(r"[A-Za-z0-9._/:@*?\[\]-]{1,255}", pattern):
                raise ValueError(f"lists image patterns such as sim:* , not {pattern!r}")
        return ",".join(patterns)

    @field_validator("container_user")
    @classmethod
    def _container_user(cls, value: str | None) -> str | None:
        if value is not None and value.split(":")[0] == "0":
            raise ValueError("container programs never run as root (uid 0)")
        return value

    @pydantic.model_validator(mode="after")
    def _login_delays_in_order(self) -> Settings:
        if self.login_delay_seconds > self.login_max_delay_seconds:
            raise ValueError("LOGIN_DELAY_SECONDS is above LOGIN_MAX_DELAY_SECONDS")
        return self

    @pydantic.model_validator(mode="after")
    def _container_defaults_within_maximum(self) -> Settings:
        for name in ("memory_mb", "cpus", "pids"):
            if getattr(self, f"container_{name}") > getattr(self, f"container_max_{name}"):
                raise ValueError(f"CONTAINER_{name.upper()} is above CONTAINER_MAX_"
                                 f"{name.upper()}")
        return self

    @property
    def allowed_image_patterns(self) -> tuple[str, ...]:
        return tuple(p for p in self.allowed_images.split(",") if p)

    @property
    def uses_docker(self) -> bool:
        """Whether container runs execute on a Docker engine here."""
        if self.container_engine is not None:
            return self.container_engine == "docker"
        return bool(os.environ.get("DOCKER_HOST")) or os.path.exists("/var/run/docker.sock")

    @field_validator("worker_queues")
    @classmethod
    def _worker_queues(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = set(names) - set(WORKER_QUEUES)
        if not names or unknown:
            raise ValueError(f"names one or both of {', '.join(WORKER_QUEUES)}"
                             + (f", not {', '.join(sorted(unknown))}" if unknown else ""))
        return ",".join(name for name in WORKER_QUEUES if name in names)

    @property
    def worker_queue_names(self) -> tuple[str, ...]:
        return tuple(self.worker_queues.split(","))

    @field_validator("trusted_hosts")
    @classmethod
    def _trusted_hosts(cls, value: str) -> str:
        for name in (n.strip() for n in value.split(",")):
            if name and not HOST_NAME.fullmatch(name):
                raise ValueError(f"lists host names (api.example.com), not {name!r}")
        return value

    @property
    def trusted_host_names(self) -> frozenset[str]:
        return frozenset(n.strip().lower().strip("[]") for n in self.trusted_hosts.split(",")
                         if n.strip())

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, masked_url(value) if name == "database_url" else value

    def check_for_production(self) -> None:
        """Refuse settings that are unsafe in production (a default or weak SECRET_KEY,
        metrics without METRICS_TOKEN).

        A key with surrounding whitespace is refused outright: it is almost always a
        quoting mistake, and tools that read it (shells, env files, orchestrators)
        disagree on whether to keep the spaces, so processes of one deployment could
        end up signing with different keys.
        """
        if self.simdock_env != "production":
            return
        if self.enable_metrics and len((self.metrics_token or "").strip()) < \
                MIN_METRICS_TOKEN_LENGTH:
            raise ValidationError(
                f"ENABLE_METRICS needs METRICS_TOKEN in production, a private value of at "
                f"least {MIN_METRICS_TOKEN_LENGTH} characters that Prometheus sends as a "
                "bearer token: /metrics is not for anyone to read")
        key = self.secret_key
        if key != key.strip():
            raise ValidationError("SECRET_KEY has leading or trailing whitespace; set it "
                                  "without (spaces, tabs or newlines around it)")
        if (key == DEVELOPMENT_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH
                or len(set(key)) < 8):
            raise ValidationError(
                f"SECRET_KEY must be set to a private value of at least {MIN_SECRET_KEY_LENGTH} "
                "characters (not the development key, not blank, not one character repeated) "
                "in production")

    @property
    def migrates_on_start(self) -> bool:
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.simdock_env != "production"


class InvalidSettings(ValidationError):
    """Settings that cannot be used: one line per problem, each naming its variable."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and ``overrides``; InvalidSettings if any is bad.

    The problems name the environment variables and never repeat the values given
    (one of them may be a secret).
    """
    try:
        return Settings(**overrides)
    except pydantic.ValidationError as exc:
        raise InvalidSettings([_problem(error) for error in exc.errors()]) from None


def _problem(error: Any) -> str:
    variable = str(error["loc"][0]).upper() if error.get("loc") else "settings"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{variable}: {message}"
