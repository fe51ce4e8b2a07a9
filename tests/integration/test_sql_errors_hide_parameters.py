"""A failing SQL statement never shows its parameters: not in its error, not in the log.

The statements of a user or an API token carry a password hash or a token hash; a
statement that PostgreSQL refuses (a NUL byte in a text column) must not put them
in the error text that the API logs.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from simdock.domain import User
from simdock.domain.token import ApiToken
from simdock_adapters.logs import JsonFormatter
from simdock_adapters.sql import SqlUnitOfWork, make_engine
from tests.databases import migrated_postgres

PASSWORD_HASH = "pbkdf2_sha256$600000$salt-never-logged$hash-never-logged"
TOKEN_HASH = "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c-token-hash-never-logged"


def logged(error: BaseException) -> str:
    """The error as the API's JSON log writes an unhandled error."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("simdock.http.test-hidden-parameters")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise error
        except sa.exc.SQLAlchemyError:
            logger.exception("unhandled error on request %s", "req-1")
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_refused_user_row_shows_neither_its_password_hash_nor_its_values() -> None:
    engine = make_engine(migrated_postgres("hidden_parameters"))
    try:
        user = User("usr-nul", "nul@example.com", datetime.now(UTC), full_name="Nul\x00Byte",
                    password_hash=PASSWORD_HASH)
        with pytest.raises(sa.exc.StatementError) as caught, SqlUnitOfWork(engine) as uow:
            uow.users.add(user)
            uow.commit()
        text = str(caught.value)
        assert "INSERT INTO users" in text and "hidden" in text
        log = logged(caught.value)
        assert "INSERT INTO users" in log
        for value in (PASSWORD_HASH, "salt-never-logged", "nul@example.com", "usr-nul"):
            assert value not in text and value not in log
    finally:
        engine.dispose()


def test_a_refused_token_row_does_not_show_the_token_hash() -> None:
    engine = make_engine(migrated_postgres("hidden_parameters"))
    try:
        now = datetime.now(UTC)
        with SqlUnitOfWork(engine) as uow:
            uow.users.add(User("usr-owner", "owner@example.com", now,
                               password_hash=PASSWORD_HASH))
            uow.commit()
        token = ApiToken("tok-nul", "usr-owner", "a\x00b", TOKEN_HASH, "sdk_abcdef", now)
        with pytest.raises(sa.exc.StatementError) as caught, SqlUnitOfWork(engine) as uow:
            uow.tokens.add(token)
            uow.commit()
        for shown in (str(caught.value), logged(caught.value)):
            assert "INSERT INTO api_tokens" in shown
            assert TOKEN_HASH not in shown and "sdk_abcdef" not in shown
    finally:
        engine.dispose()
