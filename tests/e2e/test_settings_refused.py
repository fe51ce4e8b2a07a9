"""Bad settings stop every command with one line per problem and exit code 2.

``simdock serve``, ``run``, ``worker`` and the migration runner read the same
settings; none of them prints a traceback or signs with a key it should refuse.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.servers import SIMDOCK

MIGRATION_RUNNER = Path(sys.executable).parent / "migration-runner"
PRODUCTION_KEY = "a-private-production-key-0123456789-abcdef"
COMMANDS = {
    "serve": [str(SIMDOCK), "serve", "--port", "0"],
    "run": [str(SIMDOCK), "run", "noop", "--no-progress"],
    "worker": [str(SIMDOCK), "worker", "--exit-when-idle"],
    "migration-runner": [str(MIGRATION_RUNNER), "current"],
}


def run(command: str, tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"SIMDOCK_ENV", "SECRET_KEY", "LOG_LEVEL"}}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'simdock.db'}",
               ARTIFACTS_PATH=str(tmp_path / "artifacts"), **settings)
    return subprocess.run(COMMANDS[command], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)


def assert_refused(out: subprocess.CompletedProcess[str], *lines: str) -> None:
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr, out.stderr
    printed = out.stderr.strip().splitlines()
    assert len(printed) == len(lines), printed
    for expected, line in zip(lines, printed, strict=True):
        assert expected in line, printed


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unknown_environment_is_refused_naming_the_allowed_ones(command: str,
                                                                   tmp_path: Path) -> None:
    out = run(command, tmp_path, SIMDOCK_ENV="prod")
    assert_refused(out, "SIMDOCK_ENV")
    assert all(name in out.stderr for name in ("development", "testing", "production"))


@pytest.mark.parametrize("command", ["run", "worker", "serve"])
def test_environment_names_ignore_case(command: str, tmp_path: Path) -> None:
    weak = run(command, tmp_path, SIMDOCK_ENV="Production", SECRET_KEY="short")
    assert_refused(weak, "SECRET_KEY")  # production's rules apply to "Production"


def test_production_in_any_case_runs_with_a_good_key(tmp_path: Path) -> None:
    assert run("run", tmp_path, SIMDOCK_ENV="development").returncode == 0
    out = run("run", tmp_path, SIMDOCK_ENV="PRODUCTION", SECRET_KEY=PRODUCTION_KEY)
    assert out.returncode == 0, out.stderr
    assert run("migration-runner", tmp_path, SIMDOCK_ENV="Production").returncode == 0


@pytest.mark.parametrize("key", [" simdock-development-key-not-for-production",
                                 "simdock-development-key-not-for-production\n",
                                 f" {PRODUCTION_KEY}", f"{PRODUCTION_KEY}\t"])
@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_production_key_with_surrounding_whitespace_is_refused(command: str, key: str,
                                                                 tmp_path: Path) -> None:
    out = run(command, tmp_path, SIMDOCK_ENV="production", SECRET_KEY=key)
    assert_refused(out, "SECRET_KEY has leading or trailing whitespace")
    assert key.strip() not in out.stderr


def test_every_bad_setting_is_one_line_naming_its_variable(tmp_path: Path) -> None:
    out = run("run", tmp_path, WEB_WORKERS="many", LOG_LEVEL="chatty",
              PUBLIC_BASE_URL="ftp://files.example.com", SECRET_KEY="not-shown-in-errors")
    assert_refused(out, "LOG_LEVEL", "PUBLIC_BASE_URL", "WEB_WORKERS")
    assert "many" not in out.stderr and "chatty" not in out.stderr
    served = run("serve", tmp_path, PUBLIC_BASE_URL="https://api.example.com/simdock?x=1")
    assert_refused(served, "PUBLIC_BASE_URL")
