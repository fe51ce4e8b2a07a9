"""Engines from a DATABASE_URL, configured for many threads and processes."""

from __future__ import annotations

import json
import re
import select
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import psycopg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from simdock.errors import ServiceUnavailable, ValidationError
from simdock_adapters.urls import masked_url

#: A PostgreSQL transaction idle this long is ended by the server (see make_engine).
IDLE_TRANSACTION_SECONDS = 30.0
#: TCP keepalive (seconds idle, between probes, probes) and user timeout (seconds data
#: may stay unacknowledged) on both ends of a PostgreSQL connection: a peer lost with its
#: host is noticed in about a minute, not hours. The server then ends the lost peer's
#: session, which idle_in_transaction_session_timeout alone does not do for a session cut
#: in the middle of a message.
KEEPALIVE = (30, 10, 3)
USER_TIMEOUT_SECONDS = 60
#: A pooled PostgreSQL connection left unused this long is pinged before it is handed out;
#: one used more recently is only looked at for news from the server (see _checkout_test).
PING_AFTER_IDLE_SECONDS = 5.0


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` and ``postgres://`` URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str, pool_size: int = 10, max_overflow: int = 20,
                pool_timeout: float = 30.0, echo: bool = False,
                idle_transaction_seconds: float = IDLE_TRANSACTION_SECONDS) -> Engine:
    """An engine for ``url``: SQLite in WAL mode with foreign keys, or pooled PostgreSQL.

    On PostgreSQL, ``idle_transaction_seconds`` (0: never) bounds how long the server
    keeps a transaction whose client sends nothing: a worker whose host is lost in the
    middle of a claim leaves its connection open (nothing tells the server), and the
    queued runs it had locked would be skipped by every other worker's claim for as
    long as that connection lives.
    """
    try:
        parsed = make_url(normalise_url(url))
    except (sa.exc.ArgumentError, ValueError):
        raise ValidationError(f"invalid DATABASE_URL {masked_url(url)!r}: use sqlite:///PATH "
                              "or postgresql://USER@HOST[:PORT]/DB") from None
    # Statement parameters hold what users sent (password hashes, token hashes, their
    # data): errors and echo logs show the statement, never the values.
    options: dict[str, Any] = {"echo": echo, "future": True, "hide_parameters": True,
                               "json_deserializer": json_loads}
    if parsed.get_backend_name() == "sqlite":
        options["connect_args"] = {"timeout": 30, "check_same_thread": False}
        engine = sa.create_engine(parsed, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # Bulk inserts go through psycopg's pipelined executemany: SQLAlchemy's
        # multi-row VALUES statements cost more to parse client-side than they save.
        options.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout,
                       pool_recycle=1800, use_insertmanyvalues=False,
                       connect_args=_postgres_connect_args(parsed.query.get("options"),
                                                           idle_transaction_seconds))
        engine = sa.create_engine(parsed, **options)
        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", _checkout_test(engine.dialect))
        return engine
    raise ValidationError(
        f"unsupported database {parsed.get_backend_name()!r} in DATABASE_URL; "
        "use sqlite:///PATH or postgresql://USER@HOST/DB"
    )


def _postgres_connect_args(url_options: str | tuple[str, ...] | None,
                           idle_transaction_seconds: float) -> dict[str, Any]:
    """libpq's connection parameters: a connect timeout, keepalives from this side, and
    session settings for the server's side (after any ``options`` the URL gives)."""
    idle, interval, count = KEEPALIVE
    user_timeout = USER_TIMEOUT_SECONDS * 1000
    settings = [f"-c tcp_keepalives_idle={idle}", f"-c tcp_keepalives_interval={interval}",
                f"-c tcp_keepalives_count={count}", f"-c tcp_user_timeout={user_timeout}"]
    if idle_transaction_seconds > 0:
        milliseconds = max(1, round(idle_transaction_seconds * 1000))
        settings.append(f"-c idle_in_transaction_session_timeout={milliseconds}")
    given = [url_options] if isinstance(url_options, str) else list(url_options or ())
    return {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": idle,
            "keepalives_interval": interval, "keepalives_count": count,
            "tcp_user_timeout": user_timeout, "options": " ".join([*settings, *given])}


_JSON = json.JSONDecoder()
#: A run of digits that may be an integer past 64 bits, which orjson would read as a float.
_LONG_DIGITS = re.compile(rb"\d{19}")


def json_loads(text: str | bytes) -> Any:
    """The JSON columns the database sends, read as ``json.loads`` reads them.

    orjson reads them (a page of fifty runs has about 250 such columns, and it reads
    each several times faster); a document it would read differently goes to the
    standard decoder instead: one with a number of 19 digits or more (an integer orjson
    would turn into a float) or one it refuses (NaN and Infinity, which SQLite may
    hold).
    """
    encoded = bytes(text) if not isinstance(text, str) else text.encode()
    if _LONG_DIGITS.search(encoded) is None:
        try:
            return orjson.loads(encoded)
        except orjson.JSONDecodeError:
            pass
    return _JSON.decode(encoded.decode())


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _checkout_test(dialect: sa.Dialect) -> Callable[[Any, Any, Any], None]:
    """Hand out only a live connection: after the database restarts or the network drops,
    every pooled connection (in every worker process) is dead, and without this test each
    would fail one request with a 503 before the pool notices.

    A ping costs a round trip, as much as a request's own statements; so it is spent only
    on a connection that sat unused for a while, or on which the server said something
    unasked (a server ends a session by sending its reason and closing the socket: it
    then reads as ready). A connection in use a moment ago, with nothing to read, is
    handed out as it is. Raising DisconnectionError makes the pool take another one.
    """
    def test(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle = time.monotonic() - record.info.get("checked_in", float("-inf"))
        if idle < PING_AFTER_IDLE_SECONDS and not _has_news(dbapi_connection):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # whatever the driver raised: not this connection
            raise sa.exc.DisconnectionError(str(error)) from error
    return test


def _has_news(dbapi_connection: Any) -> bool:
    """Whether the server sent something, or closed the socket, while nobody asked."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError, psycopg.Error):  # closed, on either side
        return True


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock up front: a transaction that reads then writes can
    # otherwise fail with "database is locked" when another writer got there first.
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL, None for other databases and in-memory SQLite."""
    try:
        parsed = make_url(normalise_url(url))
    except (sa.exc.ArgumentError, ValueError):
        return None  # not a URL at all: make_engine says so
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_connection(engine: Engine) -> None:
    """Raise ServiceUnavailable (naming the host for operators) when the database is away."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        raise unavailable(engine, exc) from exc


def unavailable(engine: Engine, error: BaseException) -> ServiceUnavailable:
    """The database cannot be reached: said plainly to callers, with where and why for
    operators (the error's detail, which logs and the command line show)."""
    return ServiceUnavailable("the database is unavailable",
                              detail=f"cannot reach the database at {describe(engine)}: "
                                     f"{_first_line(getattr(error, 'orig', None) or error)}")


def describe(engine: Engine) -> str:
    """Where the engine points, without its password."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"sqlite file {url.database or ':memory:'}"
    netloc = urlsplit(url.render_as_string(hide_password=True)).netloc
    return f"{url.get_backend_name()} {netloc.split('@')[-1]}/{url.database}"


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
