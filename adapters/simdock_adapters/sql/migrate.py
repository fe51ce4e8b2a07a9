"""Running and checking the Alembic migrations from code.

The embedded platform upgrades its own SQLite file; production refuses to
start unless the database is exactly at the code's head revision, and never
touches the schema itself.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from simdock.errors import ServiceUnavailable
from simdock_adapters.sql.engine import describe
from simdock_adapters.sql.schema_changes import foreign_keys_off


class SchemaMismatch(ServiceUnavailable):
    """The database schema is not the one this code was written for."""


def migrations_path() -> Path:
    return Path(str(files("simdock_migrations")))


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for the packaged migrations, without needing alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations have no head revision"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` (refusing one that is ahead of the code)."""
    refuse_if_ahead(engine)
    with engine.connect() as connection, foreign_keys_off(connection), connection.begin():
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.connect() as connection, foreign_keys_off(connection), connection.begin():
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def refuse_if_ahead(engine: Engine) -> None:
    """Raise SchemaMismatch if the database is at a revision these migrations don't know."""
    current = current_revision(engine)
    if current is None:
        return
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        raise SchemaMismatch(
            f"the database at {describe(engine)} is at revision {current}, which this code "
            f"does not know (its head is {script.get_current_head()}): the database is ahead "
            "of the code; refusing to migrate it"
        )


def require_head(engine: Engine) -> None:
    """Raise SchemaMismatch unless the database is exactly at the code's head."""
    refuse_if_ahead(engine)
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaMismatch(
            f"the database at {describe(engine)} is at revision {current or 'none (empty)'}, "
            f"the code needs {head}: run `alembic upgrade head` or "
            "`migration-runner.pex upgrade head` first"
        )
