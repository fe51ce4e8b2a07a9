"""Migration 0008 on SQLite and PostgreSQL: accounts whose addresses collide under identity
keys are all kept, and each owner still logs in with the spelling they registered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

import simdock
from simdock.domain.identity import skeleton_digest
from simdock.errors import Conflict
from simdock.passwords import hash_password
from simdock.usecases import auth
from simdock_adapters.sql import make_engine, migrate
from tests.databases import create_postgres_database

#: Users as revision 0007 stored them (key: the address lower-cased), oldest first.
BEFORE = [
    ("usr-1", "Owner@example.com"),
    ("usr-2", "\uff4f\uff57\uff4e\uff45\uff52@example.com"),  # fullwidth: owner's identity
    ("usr-3", "\u043ewner@example.com"),  # Cyrillic o: looks like owner's
    ("usr-4", "jose\u0301@example.com"),  # decomposed, older than the composed one
    ("usr-5", "jos\u00e9@example.com"),
    ("usr-6", "\u017fam@example.com"),  # long s, older than plain s
    ("usr-7", "sam@example.com"),
    ("usr-8", "alone@example.com"),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'simdock.db'}"
    else:
        yield create_postgres_database("identity_migration")


def store_users_as_0007_did(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine, "0007")
    with engine.begin() as connection:
        for number, (user_id, email) in enumerate(BEFORE, start=1):
            connection.execute(sa.text(
                "INSERT INTO users (id, email, email_key, password_hash, is_active, "
                "created_at, is_admin) VALUES (:id, :email, :key, :hash, true, :at, false)"),
                {"id": user_id, "email": email, "key": email.lower(),
                 "hash": hash_password(f"password-of-{user_id}"),
                 "at": datetime(2026, 1, 1, 0, 0, number, tzinfo=UTC)})
    engine.dispose()


def stored(url: str) -> dict[str, tuple[str, str | None]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, email_key, email_skeleton FROM users"))
        keys = {row.id: (row.email_key, row.email_skeleton) for row in rows}
    engine.dispose()
    return keys


def test_colliding_accounts_are_kept_and_each_logs_in_with_its_own_spelling(
        url: str, tmp_path: Path) -> None:
    store_users_as_0007_did(url)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()

    keys = stored(url)
    assert set(keys) == {user_id for user_id, _ in BEFORE}  # nobody deleted
    assert keys["usr-1"] == ("owner@example.com", skeleton_digest("owner@example.com"))
    assert keys["usr-2"] == ("\uff4f\uff57\uff4e\uff45\uff52@example.com", None)  # as before
    assert keys["usr-3"] == ("\u043ewner@example.com", None)  # its own key, no skeleton
    assert keys["usr-4"] == ("jose\u0301@example.com", None)
    assert keys["usr-5"] == ("jos\u00e9@example.com", skeleton_digest("jos\u00e9@example.com"))
    assert keys["usr-6"] == ("\u017fam@example.com", None)
    assert keys["usr-7"] == ("sam@example.com", skeleton_digest("sam@example.com"))
    assert keys["usr-8"] == ("alone@example.com", skeleton_digest("alone@example.com"))

    with simdock.connect(url, dispatch="inline", artifacts_path=str(tmp_path),
                         secret_key="k" * 40) as dock:
        platform = dock.platform
        for user_id, email in BEFORE:
            grant = platform.auth.login(email, f"password-of-{user_id}")
            assert grant.user.id == user_id, email
        # Other spellings find the account that holds the identity key.
        assert platform.auth.login("OWNER@EXAMPLE.COM", "password-of-usr-1").user.id == "usr-1"
        assert platform.auth.login("JOS\u00c9@example.com", "password-of-usr-5").user.id \
            == "usr-5"
        with pytest.raises(Conflict, match="already exists"):
            platform.auth.register_user(auth.RegisterUser("\uff2fWNER@example.com", "a-password"))
        with pytest.raises(Conflict, match="looks like"):
            platform.auth.register_user(auth.RegisterUser("\u03bfwner@example.com", "a-password"))


def test_downgrading_puts_the_lower_cased_addresses_back(url: str) -> None:
    store_users_as_0007_did(url)
    engine = make_engine(url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0007")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("users")}
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert "email_skeleton" not in columns and "login_successes" not in tables
    engine = make_engine(url)
    with engine.connect() as connection:
        keys = dict(connection.execute(sa.text("SELECT id, email_key FROM users")).all())
    engine.dispose()
    assert keys == {user_id: email.lower() for user_id, email in BEFORE}
