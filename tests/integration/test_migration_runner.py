"""The Pants-built migration runner PEX migrates real databases and fails in one line.

The PEX is what an operator copies to a bastion host, so it is tested as built, run as a
program from a directory outside the repository. It is built once per session with
``build-support/install-pants.sh`` and ``build-support/pants package //:migration-runner``,
unless ``dist/migration-runner.pex`` is newer than every file it is built from (sources,
migrations, BUILD files, pants.toml, 3rdparty/python), in which case that one is tested.
When Pants cannot be installed (no Python 3.9 on the machine, no PyPI) the tests skip,
or fail under SIMDOCK_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from simdock_adapters.sql import make_engine
from simdock_adapters.sql.migrate import head_revision
from tests.conftest import services_required
from tests.databases import create_postgres_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
PEX = ROOT / "dist" / "migration-runner.pex"
# Everything the PEX is built from; a change to any of these makes dist/ stale.
BUILD_INPUTS = ["pants.toml", "BUILD", "3rdparty/python", "src", "adapters", "migrations"]
UNREACHABLE_URL = "postgresql://postgres@127.0.0.1:1/simdock"
FAKE_REVISION = "ffffffffffff"


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Runner:
    """Runs the PEX as an operator would: from elsewhere, with only DATABASE_URL set."""

    pex: Path
    pex_root: Path
    workdir: Path

    def __call__(self, url: str | None, *args: str) -> Outcome:
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "PYTHONPATH", "VIRTUAL_ENV")
               and not k.startswith("PEX_")}
        env["PEX_ROOT"] = str(self.pex_root)
        if url is not None:
            env["DATABASE_URL"] = url
        # The PEX's shebang asks for python3.11 on the PATH, as it will on a bastion host;
        # run it with this interpreter where there is none.
        command = [str(self.pex), *args]
        if shutil.which("python3.11", path=env.get("PATH")) is None:
            command.insert(0, sys.executable)
        result = subprocess.run(command, cwd=self.workdir, env=env, capture_output=True,
                                text=True, timeout=120, check=False)
        return Outcome(result.returncode, result.stdout, result.stderr)

    def ok(self, url: str, *args: str) -> str:
        outcome = self(url, *args)
        assert outcome.returncode == 0, f"{' '.join(args)} failed:\n{outcome.stderr}"
        return outcome.stdout


@pytest.fixture(scope="session")
def migration_runner_pex() -> Path:
    """dist/migration-runner.pex, built by Pants unless it is newer than all its inputs."""
    if PEX.exists() and PEX.stat().st_mtime > _newest_input_mtime():
        return PEX
    _install_pants()
    result = _run_build_step(["build-support/pants", "package", "//:migration-runner"],
                             timeout=480)
    if result.returncode != 0:
        pytest.fail(f"pants package //:migration-runner failed:\n{_tail(result)}")
    assert PEX.exists(), "pants package did not write dist/migration-runner.pex"
    return PEX


@pytest.fixture()
def runner(migration_runner_pex: Path, tmp_path_factory: pytest.TempPathFactory,
           tmp_path: Path) -> Runner:
    return Runner(migration_runner_pex, _session_pex_root(tmp_path_factory), tmp_path)


def test_help_and_a_missing_database_url(runner: Runner) -> None:
    assert "DATABASE_URL" in runner.ok("unused", "--help")
    missing = runner(None, "upgrade", "head")
    assert missing.returncode == 2
    assert _one_line(missing.stderr)
    assert "DATABASE_URL" in missing.stderr


def test_migrates_a_fresh_sqlite_file_up_down_and_up(runner: Runner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    head = head_revision()
    runner.ok(url, "upgrade", "head")
    assert f"{head} (head)" in runner.ok(url, "current")
    assert "jobs" in _tables(url)
    runner.ok(url, "downgrade", "-1")
    assert head not in runner.ok(url, "current")
    runner.ok(url, "upgrade", "head")
    assert f"{head} (head)" in runner.ok(url, "current")
    assert head in runner.ok(url, "heads")
    assert head in runner.ok(url, "history")


def test_migrates_a_fresh_postgres_database(runner: Runner) -> None:
    url = create_postgres_database("simdock_runner")
    head = head_revision()
    runner.ok(url, "upgrade", "head")
    assert f"{head} (head)" in runner.ok(url, "current")
    assert {"jobs", "runs", "run_status_counts"} <= _tables(url)
    runner.ok(url, "downgrade", "-1")
    assert head not in runner.ok(url, "current")
    runner.ok(url, "upgrade", "head")
    assert f"{head} (head)" in runner.ok(url, "current")


def test_an_unreachable_database_is_one_line_naming_the_host(runner: Runner) -> None:
    for args in (("upgrade", "head"), ("current",)):
        outcome = runner(UNREACHABLE_URL, *args)
        assert outcome.returncode != 0
        assert "Traceback" not in outcome.stderr + outcome.stdout
        assert _one_line(outcome.stderr)
        assert "127.0.0.1" in outcome.stderr


def test_a_database_ahead_of_the_code_is_refused(runner: Runner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ahead.db'}"
    runner.ok(url, "upgrade", "head")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :rev"),
                           {"rev": FAKE_REVISION})
    engine.dispose()
    for args in (("upgrade", "head"), ("downgrade", "-1"), ("stamp", "head")):
        outcome = runner(url, *args)
        assert outcome.returncode == 1, outcome.stderr
        assert "Traceback" not in outcome.stderr
        assert _one_line(outcome.stderr)
        assert FAKE_REVISION in outcome.stderr
        assert "ahead of the code" in outcome.stderr
    engine = make_engine(url)
    with engine.connect() as connection:
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        assert version.scalar_one() == FAKE_REVISION
    engine.dispose()


def _install_pants() -> None:
    """Run build-support/install-pants.sh; skip (or fail in CI) when it cannot."""
    try:
        result = _run_build_step(["build-support/install-pants.sh"], timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        reason = f"Pants could not be installed: {exc}"
    else:
        if result.returncode == 0:
            return
        reason = (f"Pants could not be installed (build-support/install-pants.sh exited "
                  f"{result.returncode}): {_tail(result, lines=1)}")
    if services_required():
        pytest.fail(reason)
    pytest.skip(reason)


def _run_build_step(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _newest_input_mtime() -> float:
    newest = 0.0
    for name in BUILD_INPUTS:
        path = ROOT / name
        files = [path] if path.is_file() else [p for p in path.rglob("*")
                                                if p.is_file() and "__pycache__" not in p.parts]
        newest = max([newest, *(f.stat().st_mtime for f in files)])
    return newest


def _session_pex_root(factory: pytest.TempPathFactory) -> Path:
    # One PEX_ROOT per session: the PEX unpacks its virtualenv once, into a clean place.
    root = factory.getbasetemp() / "pex-root"
    root.mkdir(exist_ok=True)
    return root


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _one_line(text: str) -> bool:
    return len([line for line in text.splitlines() if line.strip()]) == 1


def _tail(result: subprocess.CompletedProcess[str], lines: int = 30) -> str:
    output = (result.stdout + result.stderr).strip().splitlines()
    return "\n".join(output[-lines:]) if output else "(no output)"
