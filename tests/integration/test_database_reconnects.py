"""After the database was away, pooled connections are tested before use, not failed on.

A real PostgreSQL reached through a TCP proxy the test cuts: every connection the
pool holds dies with it, as in a database restart or a network drop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from simdock.errors import ServiceUnavailable
from simdock_adapters.sql import SqlUnitOfWork, make_engine
from simdock_adapters.sql import engine as engine_module
from tests.databases import PG_HOST, PG_PORT, migrated_postgres
from tests.proxy import TcpProxy


@pytest.fixture
def proxied_url() -> Iterator[tuple[TcpProxy, str]]:
    url = migrated_postgres("reconnects")
    with TcpProxy((PG_HOST, PG_PORT)) as proxy:
        yield proxy, url.replace(f"@{PG_HOST}:{PG_PORT}/", f"@127.0.0.1:{proxy.port}/")


def test_the_first_use_after_an_outage_works(proxied_url: tuple[TcpProxy, str]) -> None:
    proxy, url = proxied_url
    engine = make_engine(url, pool_size=4)
    try:
        with ExitStack() as stack:  # four pooled connections, used at once
            for uow in [stack.enter_context(SqlUnitOfWork(engine)) for _ in range(4)]:
                assert uow.users.get("usr-nobody") is None
        assert engine.pool.checkedin() == 4

        with proxy.down():
            time.sleep(0.5)

        for _ in range(8):
            with SqlUnitOfWork(engine) as uow:
                assert uow.users.get("usr-nobody") is None
    finally:
        engine.dispose()


def test_while_it_is_away_it_is_unavailable_and_then_back(
        proxied_url: tuple[TcpProxy, str]) -> None:
    proxy, url = proxied_url
    engine = make_engine(url)
    try:
        with SqlUnitOfWork(engine) as uow:
            uow.users.get("usr-nobody")
        with proxy.down(), pytest.raises(ServiceUnavailable) as caught, \
                SqlUnitOfWork(engine) as uow:
            uow.users.get("usr-nobody")
        assert caught.value.message == "the database is unavailable"
        assert f"127.0.0.1:{proxy.port}" in str(caught.value)
        with SqlUnitOfWork(engine, autocommit=True) as uow:
            assert uow.users.get("usr-nobody") is None
    finally:
        engine.dispose()


def _backend_pid(uow: SqlUnitOfWork) -> int:
    assert uow.connection is not None
    return int(uow.connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def test_a_session_the_server_ended_is_replaced_before_use() -> None:
    engine = make_engine(migrated_postgres("reconnects"), pool_size=1)
    admin = make_engine(migrated_postgres("reconnects"), pool_size=1)
    try:
        with SqlUnitOfWork(engine) as uow:
            ended = _backend_pid(uow)
        with admin.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_terminate_backend({ended})")
        time.sleep(0.2)  # the server's goodbye reaches the pooled connection's socket
        with SqlUnitOfWork(engine) as uow:
            assert uow.users.get("usr-nobody") is None
            assert _backend_pid(uow) != ended
    finally:
        engine.dispose()
        admin.dispose()


def test_only_a_connection_left_unused_for_a_while_is_pinged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(migrated_postgres("reconnects"), pool_size=1)
    pings: list[Any] = []
    ping = engine.dialect.do_ping

    def counted(connection: Any) -> bool:
        pings.append(connection)
        return ping(connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    try:
        for _ in range(3):
            with SqlUnitOfWork(engine) as uow:
                uow.users.get("usr-nobody")
        assert len(pings) == 1  # the new connection only
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
        with SqlUnitOfWork(engine) as uow:
            uow.users.get("usr-nobody")
        assert len(pings) == 2
    finally:
        engine.dispose()
