"""The operator's migration runner: the packaged Alembic migrations against DATABASE_URL.

Built by Pants into ``dist/migration-runner.pex`` so that an operator can migrate a
production database from a bastion host with nothing but Python 3.11 there::

    DATABASE_URL=postgresql://user@host/db migration-runner.pex upgrade head
    DATABASE_URL=... migration-runner.pex current      # also downgrade -1, history, heads, ...

It takes Alembic's own command line, but the migrations are always the ones shipped with
this code (``simdock_migrations``), never an ``alembic.ini`` found on disk. A database
that cannot be reached, or that is at a revision this code does not know, is reported in
one line instead of a traceback. ``python -m simdock_adapters.migration_runner`` runs the
same thing from a development virtualenv.
"""

from __future__ import annotations

import logging
import os
import sys
from argparse import Namespace, RawDescriptionHelpFormatter
from collections.abc import Sequence

from alembic.config import CommandLine
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

from simdock.errors import SimdockError, ValidationError
from simdock_adapters.settings import load_settings
from simdock_adapters.sql.engine import check_connection, make_engine
from simdock_adapters.sql.migrate import alembic_config, refuse_if_ahead

PROG = "migration-runner"

# Commands that change which revision the database is at: refused on a database ahead of
# the code, whose revision these migrations cannot downgrade from or reason about.
MOVING_COMMANDS = frozenset({"upgrade", "downgrade", "stamp"})

EPILOG = """\
The database is the one DATABASE_URL names (sqlite:///PATH or postgresql://USER@HOST/DB);
the migrations are the ones packaged with this program. Examples:
  DATABASE_URL=postgresql://simdock@db.internal/simdock migration-runner upgrade head
  DATABASE_URL=... migration-runner current
  DATABASE_URL=... migration-runner downgrade -1
Exit status: 0 done, 1 failed (database unreachable, ahead of the code, or a migration
error), 2 usage error (such as DATABASE_URL missing, or a setting such as SIMDOCK_ENV
that is not valid).
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one Alembic command on DATABASE_URL; return the exit status."""
    cli = _command_line()
    try:
        options = cli.parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help and --version (0), or a usage error argparse reported (2)
        return exc.code if isinstance(exc.code, int) else 2
    if not hasattr(options, "cmd"):
        cli.parser.print_help(sys.stderr)
        return 2
    if options.config:
        return _fail("-c/--config is not used: the migrations and their settings are "
                     "packaged with this program; DATABASE_URL names the database", status=2)
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return _fail("DATABASE_URL is not set; set it to the database to migrate, e.g. "
                     "DATABASE_URL=postgresql://USER@HOST/DB", status=2)
    try:
        load_settings()  # the deployment's settings: refuse them here too when they are bad
        if not getattr(options, "sql", False):  # --sql writes SQL offline, without a database
            _check_database(url, options.cmd[0].__name__)
        _configure_logging(quiet=options.quiet)
        return _run(cli, options, url)
    except ValidationError as exc:
        return _fail(exc.message, status=2)
    except SimdockError as exc:
        return _fail(str(exc))
    except (CommandError, SQLAlchemyError) as exc:
        if options.raiseerr:
            raise
        return _fail(f"FAILED: {_first_line(exc)}")


def _command_line() -> CommandLine:
    cli = CommandLine(prog=PROG)
    cli.parser.description = (
        "Run simdock's packaged Alembic migrations against the database named by DATABASE_URL."
    )
    cli.parser.epilog = EPILOG
    cli.parser.formatter_class = RawDescriptionHelpFormatter  # keep the epilog's lines
    return cli


def _check_database(url: str, command: str) -> None:
    """Fail fast, in one line, on a database that is unreachable or ahead of the code."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        check_connection(engine)
        if command in MOVING_COMMANDS:
            refuse_if_ahead(engine)
    finally:
        engine.dispose()


def _run(cli: CommandLine, options: Namespace, url: str) -> int:
    config = alembic_config(url)
    config.cmd_opts = options
    raiseerr = options.raiseerr
    options.raiseerr = True  # let CommandError reach main(), which reports it in one line
    try:
        cli.run_cmd(config, options)
    finally:
        options.raiseerr = raiseerr
    return 0


def _configure_logging(quiet: bool) -> None:
    """Show Alembic's progress ("Running upgrade 0001 -> 0002") as alembic.ini would."""
    if logging.getLogger().handlers:
        return
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)-5.5s [%(name)s] %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING if quiet else logging.INFO)


def _fail(message: str, status: int = 1) -> int:
    for line in message.splitlines() or [""]:
        print(f"{PROG}: {line}", file=sys.stderr)
    return status


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
