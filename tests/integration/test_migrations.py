"""Alembic migrations on SQLite and PostgreSQL, and how the platform treats the schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import simdock
from simdock import SimulationHandler
from simdock.domain import RunStatus
from simdock.errors import ServiceUnavailable
from simdock.handlers import ProgressCallback
from simdock_adapters.sql import make_engine, migrate
from simdock_adapters.sql.migrate import SchemaMismatch
from simdock_adapters.sql.tables import metadata
from tests.databases import create_postgres_database

REPO = Path(__file__).resolve().parents[2]
ALEMBIC = Path(sys.executable).parent / "alembic"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'simdock.db'}"
    return create_postgres_database("migrations")


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def alembic(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ALEMBIC), *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url}, timeout=120)


def test_upgrade_downgrade_upgrade_with_the_alembic_command(empty_url: str) -> None:
    for args in (["upgrade", "head"], ["downgrade", "base"], ["upgrade", "head"]):
        out = alembic(empty_url, *args)
        assert out.returncode == 0, out.stderr
    assert {"jobs", "runs", "run_status_counts", "alembic_version"} <= tables(empty_url)
    current = alembic(empty_url, "current")
    assert migrate.head_revision() in current.stdout


def test_downgrade_to_base_removes_everything_but_the_version_table(empty_url: str) -> None:
    engine = make_engine(empty_url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    engine.dispose()
    assert tables(empty_url) <= {"alembic_version"}


def test_the_tables_and_the_migrations_do_not_drift(empty_url: str) -> None:
    engine = make_engine(empty_url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(
            connection, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert differences == []


def test_the_counting_triggers_survive_a_round_trip(empty_url: str) -> None:
    engine = make_engine(empty_url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    migrate.upgrade(engine)
    engine.dispose()
    with simdock.connect(empty_url, dispatch="inline", artifacts_path="/tmp/unused") as dock:
        dock.sweep("noop", grid={"i": [1, 2, 3]})
        assert dock.statistics()["succeeded"] == 3


def points(job: simdock.JobHandle) -> dict[str, tuple[list[int], list[float]]]:
    return {name: (series.steps.tolist(), series.values.tolist())
            for name, series in job.metrics().items()}


def stamp(engine: sa.Engine, revision: str) -> None:
    """Say the database is at ``revision`` without migrating it."""
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :revision"),
                           {"revision": revision})


def add_what_later_revisions_add(engine: sa.Engine) -> None:
    """What revisions after 0007 add and the code reads (0008's skeleton column and
    login_successes, 0011's job_run_counts, 0014's identity and reused_from of runs), added
    to earlier tables so that the code can write data there;
    :func:`remove_what_later_revisions_add` takes it away before those tables are upgraded."""
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE users ADD COLUMN email_skeleton VARCHAR(64)"))
        metadata.tables["login_successes"].create(connection)
        metadata.tables["job_run_counts"].create(connection)
        for column in ("identity", "reused_from"):
            connection.execute(sa.text(f"ALTER TABLE runs ADD COLUMN {column} VARCHAR(64)"))


def remove_what_later_revisions_add(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        metadata.tables["login_successes"].drop(connection)
        metadata.tables["job_run_counts"].drop(connection)
        connection.execute(sa.text("ALTER TABLE users DROP COLUMN email_skeleton"))
        for column in ("identity", "reused_from"):
            connection.execute(sa.text(f"ALTER TABLE runs DROP COLUMN {column}"))


def stamp_ahead(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    engine.dispose()


def test_a_database_ahead_of_the_code_is_refused(empty_url: str) -> None:
    stamp_ahead(empty_url)
    engine = make_engine(empty_url)
    with pytest.raises(SchemaMismatch, match=r"f00dfeed.*ahead of the code"):
        migrate.upgrade(engine)
    engine.dispose()
    with pytest.raises(SchemaMismatch, match="ahead"):
        simdock.connect(empty_url)


def test_production_never_creates_tables_and_names_the_fix(empty_url: str) -> None:
    production = {"simdock_env": "production", "secret_key": "a-private-key-of-more-than-32-chars"}
    with pytest.raises(SchemaMismatch, match="alembic upgrade head"):
        simdock.connect(empty_url, **production)
    assert tables(empty_url) <= {"alembic_version"}
    engine = make_engine(empty_url)
    migrate.upgrade(engine)
    engine.dispose()
    with simdock.connect(empty_url, dispatch="inline", artifacts_path="/tmp/unused",
                         **production) as dock:
        assert dock.submit("noop", {"x": 1}).status == "succeeded"


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:1/simdock",
                                 "postgresql://postgres@db.invalid:5432/simdock"])
def test_an_unreachable_database_is_a_clear_error_naming_the_host(url: str) -> None:
    host = url.split("@")[1].split("/")[0]
    with pytest.raises(ServiceUnavailable, match=f"cannot reach the database at postgresql "
                                                 f"{host}/simdock"):
        simdock.connect(url)


def test_the_cli_reports_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    out = subprocess.run([str(Path(sys.executable).parent / "simdock"), "--database-url",
                          "postgresql://postgres@127.0.0.1:1/simdock", "types"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 1
    assert "127.0.0.1:1" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_data_written_by_one_process_is_seen_by_the_next(tmp_path: Path) -> None:
    def python(code: str) -> str:
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    job_id = python("import simdock\n"
                    "d = simdock.connect()\n"
                    "j = d.submit('heat1d', {'time_steps': 200}, tags=['kept']).wait()\n"
                    "print(j.id)\n"
                    "d.close()")
    seen = python("import simdock\n"
                  "d = simdock.connect()\n"
                  "[j] = d.jobs(tag='kept')\n"
                  "print(j.id, j.status, round(j.result()['final_center_temp'], 3))\n"
                  "d.close()")
    assert seen.split()[:2] == [job_id, "succeeded"]
    assert (tmp_path / "simdock.db").is_file() and (tmp_path / "simdock-artifacts").is_dir()


def test_long_unicode_and_deeply_nested_parameters_round_trip(empty_url: str,
                                                              tmp_path: Path) -> None:
    nested: dict[str, object] = {"leaf": "🌡️ température 温度 שלום"}
    for depth in range(40):
        nested = {f"level{depth}": nested, "values": [depth, depth / 3, None, True]}
    parameters = {"text": "x" * 200_000 + "✓", "nested": nested}
    with simdock.connect(empty_url, dispatch="inline", artifacts_path=str(tmp_path)) as dock:
        job = dock.submit("noop", parameters)
        assert job.parameters() == parameters
        assert job.result() == {"parameters": parameters}




def store_a_job_as_revision_0002_did(url: str) -> None:
    """A two-run sweep whose runs keep their own parameters, as runs were stored before 0003."""
    engine = make_engine(url)
    migrate.upgrade(engine, "0002")
    now = "2026-01-01 00:00:00+00:00"
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO users (id, email, email_key, is_active, created_at) "
            "VALUES ('usr-old', 'local@simdock', 'local@simdock', true, :now)"), {"now": now})
        connection.execute(sa.text(
            "INSERT INTO jobs (id, owner_id, simulation_type, kind, run_count, metadata, "
            "created_at) VALUES ('job-old', 'usr-old', 'noop', 'sweep', 2, '{}', :now)"),
            {"now": now})
        for index in range(2):
            connection.execute(sa.text(
                "INSERT INTO runs (id, job_id, owner_id, simulation_type, run_index, parameters,"
                " status, progress, attempts, created_at, version, metadata) VALUES "
                "(:id, 'job-old', 'usr-old', 'noop', :index, :parameters, 'queued', 0, 0, :now,"
                " 0, '{}')"),
                {"id": f"run-old-{index}", "index": index, "now": now,
                 "parameters": f'{{"$inline": {{"x": {index}}}, "size": 7}}'})
    engine.dispose()


def test_runs_stored_before_specs_keep_their_parameters_after_the_upgrade(
        empty_url: str, tmp_path: Path) -> None:
    store_a_job_as_revision_0002_did(empty_url)
    with simdock.connect(empty_url, dispatch="inline", artifacts_path=str(tmp_path)) as dock:
        sweep = dock.job("job-old")
        assert [dock.platform.queries.run_parameters(run) for run in sweep.runs()] == [
            {"x": 0}, {"x": 1}]


def test_a_downgrade_gives_derived_runs_their_parameters_back(empty_url: str,
                                                             tmp_path: Path) -> None:
    with simdock.connect(empty_url, dispatch="database", artifacts_path=str(tmp_path)) as dock:
        sweep = dock.sweep("noop", grid={"a": [1, 2], "b": ["x", "y"]}, base={"k": 0})
    engine = make_engine(empty_url)
    migrate.downgrade(engine, "0002")
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT run_index, parameters FROM runs WHERE job_id = :job ORDER BY run_index"),
            {"job": sweep.id}).all()
    engine.dispose()
    own = [row[1] if isinstance(row[1], dict) else json.loads(row[1]) for row in rows]
    assert [p["$inline"] for p in own] == [{"k": 0, "a": 1, "b": "x"}, {"k": 0, "a": 1, "b": "y"},
                                           {"k": 0, "a": 2, "b": "x"}, {"k": 0, "a": 2, "b": "y"}]


def test_a_downgrade_that_would_lose_parameters_kept_in_blobs_is_refused(
        empty_url: str, tmp_path: Path) -> None:
    with simdock.connect(empty_url, dispatch="database", artifacts_path=str(tmp_path),
                         parameters_size_threshold=10) as dock:
        dock.sweep("noop", grid={"a": [1, 2]}, base={"pad": "p" * 100})
    engine = make_engine(empty_url)
    with pytest.raises(RuntimeError, match="blob store"):
        migrate.downgrade(engine, "0002")
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_numbers_freed_after_the_upgrade_are_never_handed_out_again_and_nothing_is_lost(
        empty_url: str, tmp_path: Path) -> None:
    """Revision 0007 rebuilds every numbered table on SQLite: the rows of tables that refer
    to them (logs, points, artifacts, tags) must survive, the counting triggers must go on
    counting, foreign keys must hold afterwards, and a deleted job's numbers must not come
    back."""
    engine = make_engine(empty_url)
    migrate.upgrade(engine, "0006")
    add_what_later_revisions_add(engine)
    stamp(engine, migrate.head_revision())  # 0006's tables, but numbered as they were
    with simdock.connect(empty_url, dispatch="inline", artifacts_path=str(tmp_path),
                         auto_migrate=False) as dock:
        kept = dock.submit("monte_carlo", {"iterations": 2000, "seed": 1}, tags=["kept"])
        doomed = dock.submit("noop", {"x": 1})
        before = (points(kept), kept.logs(), [a.read() for a in kept.artifacts()],
                  kept.result())
        numbers = {handle.id: (dock.platform.queries.get_job(handle.id, None).job.number,
                               handle.run.number) for handle in (kept, doomed)}
    remove_what_later_revisions_add(engine)
    stamp(engine, "0006")
    migrate.upgrade(engine)
    engine.dispose()

    with simdock.connect(empty_url, dispatch="inline", artifacts_path=str(tmp_path)) as dock:
        again = dock.job(kept.id)
        assert (dock.platform.queries.get_job(kept.id, None).job.number, again.run.number) \
            == numbers[kept.id]
        assert [job.id for job in dock.jobs(tag="kept")] == [kept.id]
        assert (points(again), again.logs(), [a.read() for a in again.artifacts()],
                again.result()) == before
        dock.platform.jobs.delete_job(doomed.id, None)
        fresh = dock.submit("noop", {"x": 2})
        job_number, run_number = numbers[doomed.id]
        assert (dock.platform.queries.get_job(fresh.id, None).job.number or 0) > (job_number or 0)
        assert (fresh.run.number or 0) > (run_number or 0)
        assert dock.statistics()["succeeded"] == 2  # the triggers still count
        dock.platform.jobs.delete_job(kept.id, None)  # its runs and their records go with it
        assert dock.statistics()["succeeded"] == 1
    engine = make_engine(empty_url)
    with engine.connect() as connection:
        for table, column, parent in (("runs", "job_id", "jobs"), ("job_tags", "job_id", "jobs"),
                                      ("run_logs", "run_id", "runs"),
                                      ("metric_points", "run_id", "runs"),
                                      ("artifacts", "run_id", "runs")):
            orphans = connection.execute(sa.text(
                f"SELECT count(*) FROM {table} WHERE {column} NOT IN (SELECT id FROM {parent})"
            )).scalar()
            assert orphans == 0, table
        assert connection.execute(sa.text("SELECT count(*) FROM metric_points")).scalar() == 0
    engine.dispose()


class FailingOnce(SimulationHandler):
    """Fails until told it has failed before."""

    def __init__(self, failed: bool = False) -> None:
        self.failed = failed

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        if not self.failed:
            raise RuntimeError("the first attempt fails")
        return {"value": 1}


def test_jobs_counted_before_the_upgrade_keep_their_tallies(empty_url: str,
                                                           tmp_path: Path) -> None:
    """Revision 0011 fills the job counts from the runs there are: a job's summary after
    the upgrade counts the runs stored before it, and its triggers count what follows."""
    with simdock.connect(empty_url, dispatch="inline", artifacts_path=str(tmp_path)) as dock:
        dock.register_handler("failing", FailingOnce())
        sweep = dock.sweep("noop", grid={"x": [1, 2, 3]})
        failing = dock.submit("failing", {"x": 1})
        expected = {sweep.id: {RunStatus.SUCCEEDED: 3}, failing.id: {RunStatus.FAILED: 1}}
    engine = make_engine(empty_url)
    migrate.downgrade(engine, "0010")
    migrate.upgrade(engine)
    engine.dispose()
    with simdock.connect(empty_url, dispatch="inline", artifacts_path=str(tmp_path)) as dock:
        dock.register_handler("failing", FailingOnce(failed=True))
        with dock.platform.uow() as uow:
            tallies = uow.runs.tally_by_job(list(expected))
        assert {job_id: dict(tally.counts) for job_id, tally in tallies.items()} == expected
        assert tallies[sweep.id].progress == {RunStatus.SUCCEEDED: 3.0}
        dock.job(failing.id).retry()
        assert dock.job(failing.id).wait(timeout=30).status == "succeeded"
        with dock.platform.uow() as uow:
            assert uow.runs.tally_by_job([failing.id])[failing.id].counts == {
                RunStatus.SUCCEEDED: 1}
