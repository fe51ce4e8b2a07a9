"""The UnitOfWork and repository contract, for every repository adapter.

Adapters come from ``UNIT_OF_WORK_ADAPTERS`` in ``tests/contract/adapters.py``.
Each test gets an empty store through ``uow_factory`` and works the way the
use cases do: open a unit of work, act, commit (or not), and look again in a
new unit of work. Parents are always stored before children (user, machine,
job, run, then logs/metrics/artifacts/reports), so adapters with foreign keys
pass too.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from simdock.codec import JsonText
from simdock.domain import (
    Artifact,
    Job,
    JobKind,
    LogLine,
    Machine,
    MachineStatus,
    MetricPoint,
    Payload,
    Report,
    ReportStatus,
    Run,
    RunStatus,
    User,
    job_status,
)
from simdock.domain.identity import skeleton_digest
from simdock.domain.records import QUEUED_AGAIN, RunAttempt
from simdock.domain.replication import Moments, Outcome, ReplicatePoint
from simdock.domain.worker import WorkerBeat
from simdock.errors import ConcurrencyConflict, Conflict, NotFound, ValidationError
from simdock.paging import JOB_ORDER_FIELDS, RUN_ORDER_FIELDS, Ordering, Page, PageRequest
from simdock.repositories import REPOSITORY_NAMES, UnitOfWork, UnitOfWorkFactory
from simdock.selection import JobQuery, RunQuery
from simdock.tallies import RunOutline, RunTally
from simdock_adapters.sql.counts import COMPACT_AFTER_ROWS, COMPACT_JOB_AFTER_ROWS
from simdock_adapters.sql.tables import job_run_counts, run_status_counts

# ==========================================================================
# Builders and helpers
# ==========================================================================

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def user(user_id: str = "usr-a", email: str | None = None, **fields: Any) -> User:
    return User(id=user_id, email=email or f"{user_id}@example.com", created_at=T0, **fields)


def job(job_id: str = "job-1", owner_id: str = "usr-a", simulation_type: str = "heat1d",
        run_count: int = 1, created_at: datetime = T0, **fields: Any) -> Job:
    kind = JobKind.SWEEP if run_count > 1 else JobKind.SINGLE
    return Job(id=job_id, owner_id=owner_id, simulation_type=simulation_type, kind=kind,
               run_count=run_count, created_at=created_at, **fields)


def run(run_id: str, parent: Job, index: int = 0, created_at: datetime | None = None,
        **fields: Any) -> Run:
    fields.setdefault("parameters", Payload(inline={"index": index}, size=12))
    return Run(id=run_id, job_id=parent.id, owner_id=parent.owner_id,
               simulation_type=parent.simulation_type, index=index,
               created_at=created_at or parent.created_at, **fields)


def machine(machine_id: str = "mch-1", created_at: datetime = T0, **fields: Any) -> Machine:
    fields.setdefault("gpu", None)
    return Machine(id=machine_id, name=f"node {machine_id}", cpu="8 cores", memory_gb=32.0,
                   created_at=created_at, **fields)


def report(report_id: str, owner_id: str, job_ids: Sequence[str], created_at: datetime = T0,
           **fields: Any) -> Report:
    return Report(id=report_id, owner_id=owner_id, report_type="summary", output_format="pdf",
                  job_ids=tuple(job_ids), created_at=created_at, **fields)


Entity = User | Machine | Job | Run | Report
STORE_ORDER: tuple[type, ...] = (User, Machine, Job, Run, Report)


def save(uow_factory: UnitOfWorkFactory, *entities: Entity) -> None:
    """Add entities in one committed unit of work, parents first; runs in one add_many."""
    with uow_factory() as uow:
        for kind in STORE_ORDER:
            chosen = [e for e in entities if type(e) is kind]
            if kind is Run and chosen:
                uow.runs.add_many([e for e in chosen if isinstance(e, Run)])
                continue
            for entity in chosen:
                if isinstance(entity, User):
                    uow.users.add(entity)
                elif isinstance(entity, Machine):
                    uow.machines.add(entity)
                elif isinstance(entity, Job):
                    uow.jobs.add(entity)
                elif isinstance(entity, Report):
                    uow.reports.add(entity)
        uow.commit()


def state(entity: object) -> dict[str, Any]:
    """Every field of an entity (entities compare by identity, so compare this)."""
    assert dataclasses.is_dataclass(entity) and not isinstance(entity, type)
    return {f.name: getattr(entity, f.name) for f in dataclasses.fields(entity)}


def get_run(uow_factory: UnitOfWorkFactory, run_id: str) -> Run:
    with uow_factory() as uow:
        found = uow.runs.get(run_id)
    assert found is not None, f"run {run_id} is not stored"
    return found


def get_job(uow_factory: UnitOfWorkFactory, job_id: str) -> Job:
    with uow_factory() as uow:
        found = uow.jobs.get(job_id)
    assert found is not None, f"job {job_id} is not stored"
    return found


def run_ids(runs: Sequence[Run]) -> list[str]:
    return [r.id for r in runs]


def nonzero(counts: dict[RunStatus, int]) -> dict[RunStatus, int]:
    return {status: n for status, n in counts.items() if n}


def single_run(uow_factory: UnitOfWorkFactory, **fields: Any) -> Run:
    """A stored user, job and one queued run; returns the run as stored."""
    parent = job()
    save(uow_factory, user(), parent, run("run-1", parent, **fields))
    return get_run(uow_factory, "run-1")


# ==========================================================================
# A small world for filters, ordering, counts and statistics
#
#   job    owner  type         tags               runs (status, machine)
#   job-1  usr-a  heat1d       alpha, shared      run-01 succeeded mch-1
#                                                 run-02 failed    mch-2
#                                                 run-03 queued    -
#   job-2  usr-a  monte_carlo  beta               run-04 running   mch-1
#   job-3  usr-b  heat1d       shared             run-05 cancelled -
#                                                 run-06 cancelled mch-2
#   job-4  usr-b  heat1d       -                  run-07 queued    -
# ==========================================================================

WORLD_JOBS = {
    "job-1": job("job-1", "usr-a", "heat1d", 3, at(0), name="sweep", tags=("alpha", "shared")),
    "job-2": job("job-2", "usr-a", "monte_carlo", 1, at(1), tags=("beta",)),
    "job-3": job("job-3", "usr-b", "heat1d", 2, at(2), name="alpha", tags=("shared",)),
    "job-4": job("job-4", "usr-b", "heat1d", 1, at(2), name="alpha"),
}


def world_runs() -> list[Run]:
    j = WORLD_JOBS
    return [
        run("run-01", j["job-1"], 0, status=RunStatus.SUCCEEDED, machine_id="mch-1",
            progress=1.0, attempts=1, started_at=at(10), finished_at=at(20), updated_at=at(20),
            result=Payload(inline={"value": 1.5}, size=14)),
        run("run-02", j["job-1"], 1, status=RunStatus.FAILED, machine_id="mch-2",
            progress=0.5, attempts=1, started_at=at(10), finished_at=at(40), updated_at=at(40),
            error="RuntimeError: boom"),
        run("run-03", j["job-1"], 2),
        run("run-04", j["job-2"], 0, status=RunStatus.RUNNING, machine_id="mch-1",
            progress=0.25, attempts=1, started_at=at(5), updated_at=at(20), worker="w-1"),
        run("run-05", j["job-3"], 0, status=RunStatus.CANCELLED, finished_at=at(50),
            updated_at=at(50), error="cancelled by request"),
        run("run-06", j["job-3"], 1, status=RunStatus.CANCELLED, machine_id="mch-2",
            progress=0.5, finished_at=at(50), updated_at=at(50), error="cancelled by request"),
        run("run-07", j["job-4"], 0, created_at=at(3)),
    ]


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    save(uow_factory, user("usr-a"), user("usr-b"), machine("mch-1"), machine("mch-2", at(1)),
         *WORLD_JOBS.values(), *world_runs())
    return uow_factory


def list_runs(uow_factory: UnitOfWorkFactory, query: RunQuery) -> list[str]:
    with uow_factory() as uow:
        return run_ids(uow.runs.list(query).items)


def list_jobs(uow_factory: UnitOfWorkFactory, query: JobQuery) -> list[str]:
    with uow_factory() as uow:
        return [j.id for j in uow.jobs.list(query).items]


def expected_order(items: Sequence[Any], field: str, descending: bool) -> list[str]:
    """The contract's order: values ascending, missing values last, ties by id;
    descending is exactly the reverse (missing values first, ties by id descending)."""
    present = sorted((i for i in items if getattr(i, field) is not None),
                     key=lambda i: (getattr(i, field), i.id))
    missing = sorted((i for i in items if getattr(i, field) is None), key=lambda i: i.id)
    ascending = [i.id for i in (*present, *missing)]
    return ascending[::-1] if descending else ascending


# ==========================================================================
# Jobs
# ==========================================================================


def test_a_unit_of_work_holds_every_repository(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert isinstance(uow, UnitOfWork)
        assert [name for name in REPOSITORY_NAMES if getattr(uow, name, None) is None] == []


def test_a_job_round_trips_unchanged(uow_factory: UnitOfWorkFactory) -> None:
    stored = job("job-1", name="heat study", tags=("b", "a", "c"),
                 metadata={"project": "x", "n": 3, "ok": True, "ratio": 0.1, "none": None,
                           "big": 12345678901234567890123, "text": "é ☃ 𝄞 \"q\"",
                           "nested": [{"a": [1, 2.5, -0.0]}, []]})
    save(uow_factory, user(), stored)

    assert state(get_job(uow_factory, "job-1")) == state(stored)


def test_get_of_an_unknown_job_is_none(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.jobs.get("job-missing") is None
        assert uow.jobs.get_by_number(987654) is None


def test_add_assigns_unique_increasing_job_numbers(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user())
    jobs = [job(f"job-{i}") for i in range(5)]
    save(uow_factory, jobs[0], jobs[1])
    save(uow_factory, jobs[2])
    save(uow_factory, jobs[3], jobs[4])

    numbers = [j.number for j in jobs]
    assert all(isinstance(n, int) for n in numbers)
    assert numbers == sorted(set(n for n in numbers if n is not None))
    assert [get_job(uow_factory, j.id).number for j in jobs] == numbers


def test_get_by_number_finds_the_job(uow_factory: UnitOfWorkFactory) -> None:
    first, second = job("job-1"), job("job-2")
    save(uow_factory, user(), first, second)
    assert second.number is not None

    with uow_factory() as uow:
        found = uow.jobs.get_by_number(second.number)

    assert found is not None and found.id == "job-2"


def test_adding_a_job_with_an_existing_id_raises_conflict(uow_factory: UnitOfWorkFactory
                                                          ) -> None:
    save(uow_factory, user(), job("job-1", name="original", tags=("kept",)))

    with pytest.raises(Conflict), uow_factory() as uow:
        uow.jobs.add(job("job-1", name="impostor", tags=("theirs", "kept")))

    stored = get_job(uow_factory, "job-1")
    assert (stored.name, stored.tags) == ("original", ("kept",))


def test_update_stores_changed_tags_name_and_metadata(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user(), job("job-1", name="old", tags=("a",), metadata={"k": 1}))
    with uow_factory() as uow:
        changed = uow.jobs.get("job-1")
        assert changed is not None
        changed.name = "new"
        changed.tags = ("b", "c")
        changed.metadata = {"k": 2, "more": ["x"]}
        uow.jobs.update(changed)
        uow.commit()

    stored = get_job(uow_factory, "job-1")
    assert (stored.name, stored.tags, stored.metadata) == ("new", ("b", "c"),
                                                           {"k": 2, "more": ["x"]})
    assert stored.number == changed.number


def test_an_open_job_keeps_its_input_files_and_an_update_never_changes_its_run_count(
        uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user(), Job(id="job-1", owner_id="usr-a", simulation_type="fred",
                                  kind=JobKind.OPEN, run_count=0, created_at=T0))
    assert get_job(uow_factory, "job-1").input_files == {}
    with uow_factory() as uow:
        stale = uow.jobs.get("job-1")
        assert stale is not None
        assert uow.jobs.reserve_runs("job-1", 3) == 0
        stale.input_files = {"inputs.zip": "jobs/job-1/inputs/inputs.zip"}
        uow.jobs.update(stale)  # read before the reservation: its run count is stale
        uow.commit()
    stored = get_job(uow_factory, "job-1")
    assert stored.kind is JobKind.OPEN and stored.run_count == 3
    assert stored.input_files == {"inputs.zip": "jobs/job-1/inputs/inputs.zip"}
    with uow_factory() as uow:
        found = uow.jobs.get_by_number(stored.number or 0)
        assert found is not None and found.input_files == stored.input_files


def test_reservations_of_runs_follow_each_other_and_an_unknown_job_is_not_found(
        uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user(), job("job-1", run_count=2))
    with uow_factory() as uow:
        assert uow.jobs.reserve_runs("job-1", 5) == 2
        assert uow.jobs.reserve_runs("job-1", 1) == 7
        with pytest.raises(NotFound):
            uow.jobs.reserve_runs("job-404", 1)
        uow.commit()
    assert get_job(uow_factory, "job-1").run_count == 8
    with uow_factory() as uow:
        uow.jobs.reserve_runs("job-1", 10)  # not committed: rolled back
    assert get_job(uow_factory, "job-1").run_count == 8


def test_jobs_are_listed_by_every_tag_and_a_creation_window(
        uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user(),
         job("job-1", tags=("a", "b"), created_at=at(0)),
         job("job-2", tags=("a",), created_at=at(10)),
         job("job-3", tags=("a", "b", "c"), created_at=at(20)))
    with uow_factory() as uow:
        def ids(**filters: Any) -> list[str]:
            return sorted(j.id for j in uow.jobs.list(JobQuery(**filters)).items)

        assert ids(tags=("a", "b")) == ["job-1", "job-3"]
        assert ids(tag="c", tags=("a",)) == ["job-3"]
        assert ids(created_from=at(10)) == ["job-2", "job-3"]
        assert ids(created_before=at(10)) == ["job-1"]
        assert ids(tags=("b",), created_from=at(5), created_before=at(25)) == ["job-3"]


@pytest.mark.parametrize("spec", [
    Payload(inline={"base": {"a": 1}, "grid": [["z", [1, 2]], ["b", ["x", "y"]]]}, size=60),
    Payload(blob_key="jobs/job-1/spec.json", size=250_000),
], ids=["inline", "blob"])
def test_a_jobs_spec_is_stored_with_it_and_read_on_its_own(uow_factory: UnitOfWorkFactory,
                                                            spec: Payload) -> None:
    with uow_factory() as uow:
        uow.users.add(user())
        uow.jobs.add(job("job-1", run_count=4), spec)
        uow.jobs.add(job("job-2"))
        uow.commit()
    with uow_factory() as uow:
        assert uow.jobs.spec("job-1") == spec
        assert uow.jobs.spec("job-2") is None
        assert uow.jobs.spec("job-missing") is None
        assert uow.jobs.specs(["job-1", "job-2", "job-missing", "job-1"]) == {"job-1": spec}
        assert uow.jobs.specs([]) == {}


def test_jobs_are_read_many_at_once(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.users.add(user())
        uow.jobs.add(job("job-1", tags=("a", "b")))
        uow.jobs.add(job("job-2"))
        uow.commit()
    with uow_factory() as uow:
        found = uow.jobs.get_many(["job-2", "job-missing", "job-1", "job-2"])
        assert {job_id: (j.id, j.tags, j.number) for job_id, j in found.items()} == {
            "job-1": ("job-1", ("a", "b"), uow.jobs.get("job-1").number),  # type: ignore[union-attr]
            "job-2": ("job-2", (), uow.jobs.get("job-2").number)}  # type: ignore[union-attr]
        assert uow.jobs.get_many([]) == {}


def test_a_spec_added_without_commit_is_gone(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user())
    with uow_factory() as uow:
        uow.jobs.add(job("job-1"), Payload(inline={"base": {}}, size=11))
    with uow_factory() as uow:
        assert uow.jobs.spec("job-1") is None and uow.jobs.get("job-1") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (JobQuery(), ["job-1", "job-2", "job-3", "job-4"]),
        (JobQuery(owner_id="usr-b"), ["job-3", "job-4"]),
        (JobQuery(statuses=frozenset({RunStatus.RUNNING})), ["job-1", "job-2"]),
        (JobQuery(statuses=frozenset({RunStatus.CANCELLED})), ["job-3"]),
        (JobQuery(statuses=frozenset({RunStatus.QUEUED, RunStatus.CANCELLED})),
         ["job-3", "job-4"]),
        (JobQuery(statuses=frozenset({RunStatus.SUCCEEDED})), []),
        (JobQuery(simulation_type="heat1d"), ["job-1", "job-3", "job-4"]),
        (JobQuery(tag="shared"), ["job-1", "job-3"]),
        (JobQuery(tag="alp"), []),
        (JobQuery(machine_id="mch-2"), ["job-1", "job-3"]),
        (JobQuery(owner_id="usr-a", tag="beta"), ["job-2"]),
    ],
    ids=["all", "owner", "running", "cancelled", "queued-or-cancelled", "none-succeeded",
         "simulation-type", "tag", "tag-is-exact", "machine", "owner-and-tag"],
)
def test_job_list_filters(world: UnitOfWorkFactory, query: JobQuery, expected: list[str]
                          ) -> None:
    assert sorted(list_jobs(world, query)) == expected


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("field", sorted(JOB_ORDER_FIELDS))
def test_job_list_orders_by_each_field_with_ties_broken_by_id(
    world: UnitOfWorkFactory, field: str, descending: bool
) -> None:
    query = JobQuery(order=Ordering(field, descending))

    assert list_jobs(world, query) == expected_order(list(WORLD_JOBS.values()), field,
                                                     descending)


def test_job_list_pages(world: UnitOfWorkFactory) -> None:
    with world() as uow:
        first = uow.jobs.list(JobQuery(order=Ordering("created_at", False),
                                       page=PageRequest(1, 3)))
        last = uow.jobs.list(JobQuery(order=Ordering("created_at", False),
                                      page=PageRequest(2, 3)))

    assert [j.id for j in first.items] == ["job-1", "job-2", "job-3"]
    assert [j.id for j in last.items] == ["job-4"]
    assert (first.total, first.total_pages, last.total) == (4, 2, 4)


#: Every mix of up to three runs' statuses: jobs made of each, to filter by job status.
STATUS_MIXES = [mix for size in (1, 2, 3)
                for mix in itertools.combinations_with_replacement(list(RunStatus), size)]


def test_the_job_status_filter_agrees_with_the_job_status_rule(uow_factory: UnitOfWorkFactory
                                                                ) -> None:
    """The listing's status filter (compiled to SQL where there is SQL) and
    ``simdock.domain.job_status`` are one rule: a sweep cancelled part way is cancelled,
    one with a failed run failed, whatever else its runs did."""
    mixes = {f"job-{n:03d}": mix for n, mix in enumerate(STATUS_MIXES)}
    parents = [job(job_id, run_count=len(mix), created_at=at(n))
               for n, (job_id, mix) in enumerate(mixes.items())]
    runs = [run(f"run-{parent.id}-{i}", parent, i, status=status)
            for parent in parents for i, status in enumerate(mixes[parent.id])]
    save(uow_factory, user(), *parents, *runs)

    for status in RunStatus:
        expected = sorted(j for j, mix in mixes.items() if job_status(Counter(mix)) is status)
        listed = list_jobs(uow_factory, JobQuery(statuses=frozenset({status}),
                                                 page=PageRequest(1, 1000)))
        assert sorted(listed) == expected, status
    assert job_status(Counter((RunStatus.SUCCEEDED, RunStatus.CANCELLED))) \
        is RunStatus.CANCELLED


def job_with_records(uow_factory: UnitOfWorkFactory) -> tuple[Job, Job]:
    """job-1 (two finished runs with a log line, points and an artifact each, tags and a
    spec) and job-2 (one queued run with the same records), stored and committed."""
    doomed = job("job-1", run_count=2, tags=("doomed", "shared"), metadata={"k": 1})
    kept = job("job-2", tags=("shared",))
    save(uow_factory, user())
    with uow_factory() as uow:
        uow.jobs.add(doomed, Payload(blob_key="jobs/job-1/spec.json", size=200_000))
        uow.jobs.add(kept, Payload(inline={"base": {}}, size=11))
        uow.runs.add_many([
            run("run-1", doomed, 0, status=RunStatus.SUCCEEDED, progress=1.0),
            run("run-2", doomed, 1, status=RunStatus.CANCELLED, progress=0.25),
            run("run-3", kept, 0)])
        for run_id in ("run-1", "run-2", "run-3"):
            uow.logs.append(run_id, [(at(1), "stdout", f"{run_id} says hello")])
            uow.metrics.append([MetricPoint(run_id, "loss", step, 1.0 / (step + 1), at(step))
                                for step in range(3)])
            uow.artifacts.add(Artifact(run_id, "out.csv", f"runs/{run_id}/artifacts/out.csv",
                                       3, "text/csv", at(1)))
        uow.commit()
    return doomed, kept


def test_delete_removes_the_job_with_its_runs_and_their_records(uow_factory: UnitOfWorkFactory
                                                                ) -> None:
    doomed, kept = job_with_records(uow_factory)
    run_numbers = [get_run(uow_factory, r).number for r in ("run-1", "run-2")]

    with uow_factory() as uow:
        uow.jobs.delete("job-1")
        uow.commit()

    with uow_factory() as uow:
        assert uow.jobs.get("job-1") is None and uow.jobs.spec("job-1") is None
        assert doomed.number is not None and uow.jobs.get_by_number(doomed.number) is None
        assert uow.runs.for_job("job-1") == []
        for run_id, number in zip(("run-1", "run-2"), run_numbers, strict=True):
            assert uow.runs.get(run_id) is None and uow.runs.get_by_number(number or 0) is None
            assert uow.runs.get_with_job(run_id) is None
            assert uow.logs.list(run_id) == [] and uow.metrics.list(run_id) == []
            assert uow.artifacts.list(run_id) == [] and uow.artifacts.get(run_id, "out.csv") \
                is None
        assert [j.id for j in uow.jobs.list(JobQuery()).items] == ["job-2"]
        assert uow.jobs.list(JobQuery(tag="doomed")).total == 0
        assert run_ids(uow.runs.list(RunQuery()).items) == ["run-3"]
        assert uow.runs.list(RunQuery(tag="shared")).total == 1
        assert uow.runs.tally_by_job(["job-1"]) == {"job-1": RunTally({}, {})}
        assert state(uow.jobs.get("job-2")) == state(kept)
        assert len(uow.logs.list("run-3")) == 1 and len(uow.metrics.list("run-3")) == 3
        assert uow.artifacts.get("run-3", "out.csv") is not None


def test_run_counts_follow_a_deleted_job(uow_factory: UnitOfWorkFactory) -> None:
    job_with_records(uow_factory)

    with uow_factory() as uow:
        uow.jobs.delete("job-1")
        uow.commit()

    with uow_factory() as uow:
        assert nonzero(uow.runs.counts()) == {RunStatus.QUEUED: 1}
        assert nonzero(uow.runs.counts(owner_id="usr-a")) == {RunStatus.QUEUED: 1}
        assert nonzero(uow.runs.counts(job_id="job-1")) == {}
        stats = uow.runs.statistics("usr-a")
        assert stats.total == 1 and nonzero(dict(stats.counts)) == {RunStatus.QUEUED: 1}
        assert uow.runs.list(RunQuery(owner_id="usr-a")).total == 1
        assert uow.runs.list(RunQuery(owner_id="usr-a", statuses=frozenset(
            {RunStatus.SUCCEEDED, RunStatus.CANCELLED}))).total == 0


def test_a_delete_is_rolled_back_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    doomed, _ = job_with_records(uow_factory)
    before = state(get_job(uow_factory, "job-1"))

    with uow_factory() as uow:
        uow.jobs.delete("job-1")
        assert uow.jobs.get("job-1") is None

    with uow_factory() as uow:
        assert state(uow.jobs.get("job-1")) == before
        assert uow.jobs.spec("job-1") == Payload(blob_key="jobs/job-1/spec.json", size=200_000)
        assert doomed.number is not None and uow.jobs.get_by_number(doomed.number) is not None
        assert run_ids(uow.runs.for_job("job-1")) == ["run-1", "run-2"]
        assert [line.message for line in uow.logs.list("run-2")] == ["run-2 says hello"]
        assert len(uow.metrics.list("run-1")) == 3
        assert uow.artifacts.get("run-2", "out.csv") is not None
        assert uow.jobs.list(JobQuery(tag="doomed")).total == 1
        assert nonzero(uow.runs.counts()) == {RunStatus.SUCCEEDED: 1, RunStatus.CANCELLED: 1,
                                              RunStatus.QUEUED: 1}


def test_the_numbers_of_a_deleted_job_and_its_runs_are_never_handed_out_again(
        uow_factory: UnitOfWorkFactory) -> None:
    """The Epistemix dialect's ids are these numbers, and its client caches results by them:
    a number handed out twice would show one job's results for another's."""
    save(uow_factory, user())
    with uow_factory() as uow:
        first = job("job-1")
        uow.jobs.add(first)
        uow.runs.add_many([run("run-1", first, 0)])
        uow.commit()
    old_job, old_run = get_job(uow_factory, "job-1").number, get_run(uow_factory, "run-1").number
    with uow_factory() as uow:  # the newest job and run: the highest numbers are freed
        uow.jobs.delete("job-1")
        uow.commit()

    with uow_factory() as uow:
        second = job("job-2")
        uow.jobs.add(second)
        uow.runs.add_many([run("run-2", second, 0)])
        uow.commit()

    assert old_job is not None and old_run is not None
    assert (get_job(uow_factory, "job-2").number or 0) > old_job
    assert (get_run(uow_factory, "run-2").number or 0) > old_run
    with uow_factory() as uow:
        assert uow.jobs.get_by_number(old_job) is None
        assert uow.runs.get_by_number(old_run) is None


def test_deleting_an_unknown_job_raises_not_found(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user(), job("job-1"))

    with pytest.raises(NotFound), uow_factory() as uow:
        uow.jobs.delete("job-missing")

    assert get_job(uow_factory, "job-1").id == "job-1"


# ==========================================================================
# Runs: adding, reading, updating
# ==========================================================================


def test_a_run_round_trips_unchanged(uow_factory: UnitOfWorkFactory) -> None:
    parent = job()
    stored = run("run-1", parent, 0, status=RunStatus.SUCCEEDED, progress=1.0, attempts=2,
                 machine_id="mch-1", timeout_seconds=90.5, started_at=at(1), finished_at=at(2),
                 updated_at=at(2), result=Payload(blob_key="runs/run-1/result.json", size=10_000),
                 error=None, worker="host:123", metadata={"seed": 42, "labels": ["a", "b"]})
    save(uow_factory, user(), machine("mch-1"), parent, stored)

    assert state(get_run(uow_factory, "run-1")) == state(stored)


def test_a_run_without_parameters_of_its_own_round_trips(uow_factory: UnitOfWorkFactory
                                                          ) -> None:
    parent = job(run_count=2)
    derived = [run(f"run-{i}", parent, i, parameters=None) for i in range(2)]
    save(uow_factory, user(), parent, *derived)

    assert [get_run(uow_factory, f"run-{i}").parameters for i in range(2)] == [None, None]


def test_get_of_an_unknown_run_is_none(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.runs.get("run-missing") is None
        assert uow.runs.get_by_number(987654) is None
        assert uow.runs.for_job("job-missing") == []


def test_add_many_assigns_unique_increasing_run_numbers(uow_factory: UnitOfWorkFactory
                                                        ) -> None:
    first, second = job("job-1", run_count=3), job("job-2", run_count=2)
    runs = [run(f"run-1{i}", first, i) for i in range(3)]
    later = [run(f"run-2{i}", second, i) for i in range(2)]
    save(uow_factory, user(), first, *runs)
    save(uow_factory, second, *later)

    numbers = [r.number for r in (*runs, *later)]
    assert all(isinstance(n, int) for n in numbers)
    assert numbers == sorted(set(n for n in numbers if n is not None))
    assert [get_run(uow_factory, r.id).number for r in (*runs, *later)] == numbers


def test_get_by_number_finds_the_run(uow_factory: UnitOfWorkFactory) -> None:
    parent = job(run_count=2)
    runs = [run("run-a", parent, 0), run("run-b", parent, 1)]
    save(uow_factory, user(), parent, *runs)
    assert runs[1].number is not None

    with uow_factory() as uow:
        found = uow.runs.get_by_number(runs[1].number)

    assert found is not None and found.id == "run-b"


def test_for_job_returns_the_jobs_runs_in_index_order(uow_factory: UnitOfWorkFactory) -> None:
    parent, other = job("job-1", run_count=4), job("job-2")
    shuffled = [run(f"run-{i}", parent, i) for i in (2, 0, 3, 1)]
    save(uow_factory, user(), parent, other, *shuffled, run("run-x", other, 0))

    with uow_factory() as uow:
        runs = uow.runs.for_job("job-1")

    assert [r.index for r in runs] == [0, 1, 2, 3]
    assert run_ids(runs) == ["run-0", "run-1", "run-2", "run-3"]


def test_adding_a_run_with_an_existing_id_raises_conflict_and_stores_none_of_the_batch(
    uow_factory: UnitOfWorkFactory,
) -> None:
    parent = job(run_count=3)
    save(uow_factory, user(), parent, run("run-1", parent, 0))

    with pytest.raises(Conflict), uow_factory() as uow:
        uow.runs.add_many([run("run-2", parent, 1), run("run-1", parent, 2)])

    with uow_factory() as uow:
        assert uow.runs.get("run-2") is None
        assert run_ids(uow.runs.for_job(parent.id)) == ["run-1"]


@pytest.mark.parametrize("shared", [True, False], ids=["a-sweeps-runs", "mixed-runs"])
def test_a_batch_with_a_taken_id_stores_none_of_it_and_the_transaction_goes_on(
        uow_factory: UnitOfWorkFactory, shared: bool) -> None:
    parent = job(run_count=4)
    save(uow_factory, user(), parent, run("run-1", parent, 0, parameters=None))
    fields: dict[str, Any] = {"parameters": None} if shared else {}

    with uow_factory() as uow:
        with pytest.raises(Conflict, match="run-1"):
            uow.runs.add_many([run("run-2", parent, 1, **fields),
                               run("run-1", parent, 2, **fields)])
        uow.runs.add_many([run("run-3", parent, 3, **fields)])
        uow.commit()

    with uow_factory() as uow:
        assert run_ids(uow.runs.for_job(parent.id)) == ["run-1", "run-3"]
        assert uow.runs.counts(job_id=parent.id) == {RunStatus.QUEUED: 2}


def test_adding_the_same_run_id_twice_in_one_batch_raises_conflict(
    uow_factory: UnitOfWorkFactory,
) -> None:
    parent = job(run_count=2)
    save(uow_factory, user(), parent)

    with pytest.raises(Conflict), uow_factory() as uow:
        uow.runs.add_many([run("run-1", parent, 0), run("run-1", parent, 1)])
        uow.commit()

    with uow_factory() as uow:
        assert uow.runs.for_job(parent.id) == []


def test_update_stores_the_change_and_bumps_the_version(uow_factory: UnitOfWorkFactory) -> None:
    before = single_run(uow_factory)
    with uow_factory() as uow:
        changed = uow.runs.get("run-1")
        assert changed is not None
        changed.start(at(5), "w-1")
        changed.report_progress(0.4, at(6))
        changed.place_on("mch-9", at(6))
        changed.metadata = {"note": "placed"}
        uow.runs.update(changed)
        uow.commit()

    stored = get_run(uow_factory, "run-1")
    assert changed.version == before.version + 1
    assert state(stored) == state(changed)


def test_update_with_a_stale_version_raises_and_leaves_the_run_unchanged(
    uow_factory: UnitOfWorkFactory,
) -> None:
    single_run(uow_factory)
    first, second = get_run(uow_factory, "run-1"), get_run(uow_factory, "run-1")
    with uow_factory() as uow:
        first.start(at(5), "w-first")
        uow.runs.update(first)
        uow.commit()

    second.cancel(at(6))
    with pytest.raises(ConcurrencyConflict), uow_factory() as uow:
        uow.runs.update(second)
        uow.commit()

    assert state(get_run(uow_factory, "run-1")) == state(first)


def test_a_run_can_be_updated_again_with_the_entity_update_returned(
    uow_factory: UnitOfWorkFactory,
) -> None:
    current = single_run(uow_factory)
    with uow_factory() as uow:
        current.start(at(1), "w-1")
        uow.runs.update(current)
        current.report_progress(0.5, at(2))
        uow.runs.update(current)
        uow.commit()
    with uow_factory() as uow:
        current.succeed(Payload(inline=[1, 2]), at(3))
        uow.runs.update(current)
        uow.commit()

    stored = get_run(uow_factory, "run-1")
    assert stored.status is RunStatus.SUCCEEDED
    assert stored.version == current.version


# ==========================================================================
# Runs: claiming
# ==========================================================================


def test_claim_moves_a_queued_run_to_running_for_the_worker(uow_factory: UnitOfWorkFactory
                                                            ) -> None:
    before = single_run(uow_factory)
    with uow_factory() as uow:
        claimed = uow.runs.claim("run-1", "host:1", at(7))
        uow.commit()

    assert claimed is not None
    stored = get_run(uow_factory, "run-1")
    assert state(stored) == state(claimed)
    assert stored.status is RunStatus.RUNNING
    assert (stored.worker, stored.started_at, stored.attempts) == ("host:1", at(7), 1)
    assert stored.version > before.version


def test_claim_succeeds_exactly_once(uow_factory: UnitOfWorkFactory) -> None:
    single_run(uow_factory)
    with uow_factory() as uow:
        first = uow.runs.claim("run-1", "w-1", at(1))
        uow.commit()
    with uow_factory() as uow:
        second = uow.runs.claim("run-1", "w-2", at(2))
        uow.commit()

    assert first is not None
    assert second is None
    assert get_run(uow_factory, "run-1").worker == "w-1"


def test_counts_stay_right_when_the_rows_they_sum_are_folded(
        uow_factory: UnitOfWorkFactory) -> None:
    """Counts kept as delta rows (the SQL adapters) are folded once a read sums too many
    of them: the counts read before and after are the same."""
    parent = job("job-1", run_count=COMPACT_AFTER_ROWS + 10)
    save(uow_factory, user(), parent)
    for index in range(COMPACT_AFTER_ROWS + 10):  # one statement each: one delta row each
        with uow_factory() as uow:
            uow.runs.add_many([run(f"run-{index:05d}", parent, index)])
            uow.commit()
    with uow_factory() as uow:
        before = uow.runs.counts(owner_id="usr-a")
        uow.commit()
    with uow_factory() as uow:
        assert uow.runs.counts(owner_id="usr-a") == before == {
            RunStatus.QUEUED: COMPACT_AFTER_ROWS + 10}
        connection = getattr(uow, "connection", None)
        if connection is not None:  # the SQL adapters: the rows were folded
            rows = connection.execute(sa.select(sa.func.count()).select_from(
                run_status_counts)).scalar_one()
            assert rows < 10


def test_cancel_unfinished_cancels_a_jobs_queued_and_running_runs_in_one_go(
        world: UnitOfWorkFactory) -> None:
    running = get_run(world, "run-04")
    now = at(100)
    with world() as uow:
        assert sorted(uow.runs.cancel_unfinished(now, "stopped", job_id="job-1")) == ["run-03"]
        assert uow.runs.cancel_unfinished(now, "stopped", job_id="job-2") == ["run-04"]
        assert uow.runs.cancel_unfinished(now, "stopped", job_id="job-3") == []
        uow.commit()

    for run_id in ("run-03", "run-04"):
        cancelled = get_run(world, run_id)
        assert (cancelled.status, cancelled.error, cancelled.finished_at, cancelled.updated_at,
                cancelled.lease_expires_at) == (RunStatus.CANCELLED, "stopped", now, now, None)
    assert get_run(world, "run-04").version == running.version + 1
    assert [get_run(world, r).status for r in ("run-01", "run-02", "run-07")] == [
        RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.QUEUED]
    with world() as uow:  # the worker's stale write is refused: it learns at its next renewal
        with pytest.raises(ConcurrencyConflict):
            uow.runs.update(running)
        assert uow.runs.renew(running.worker or "", {"run-04": running.attempts},
                              at(200)) == set()
        assert nonzero(uow.runs.counts(job_id="job-1")) == {
            RunStatus.SUCCEEDED: 1, RunStatus.FAILED: 1, RunStatus.CANCELLED: 1}
        assert nonzero(uow.runs.counts(owner_id="usr-a"))[RunStatus.CANCELLED] == 2


def test_the_outline_of_a_job_s_runs_is_what_its_runs_read_whole_show(
        world: UnitOfWorkFactory) -> None:
    with world() as uow:
        outlines = {job_id: uow.runs.outline(job_id) for job_id in (*WORLD_JOBS, "job-none")}
        whole = {job_id: RunOutline.of(uow.runs.for_job(job_id)) for job_id in outlines}

    assert outlines == whole
    assert outlines["job-1"] == RunOutline(ids=["run-01", "run-02", "run-03"],
                                           first_started_at=at(10), last_finished_at=at(40),
                                           first_error="RuntimeError: boom")
    assert outlines["job-3"] == RunOutline(ids=["run-05", "run-06"], last_finished_at=at(50),
                                           first_error="cancelled by request")
    assert outlines["job-none"] == RunOutline(ids=[])
    with world() as uow:
        without_ids = uow.runs.outline("job-1", with_ids=False)
    assert without_ids == dataclasses.replace(outlines["job-1"], ids=[])


@pytest.mark.parametrize("query", [
    RunQuery(), RunQuery(owner_id="usr-a"), RunQuery(owner_id="usr-b", tag="shared"),
    RunQuery(page=PageRequest(2, 2)), RunQuery(job_id="job-none")])
def test_a_page_of_runs_with_their_jobs_is_the_page_and_the_jobs_read_apart(
        world: UnitOfWorkFactory, query: RunQuery) -> None:
    with world() as uow:
        page, jobs = uow.runs.list_with_jobs(query)
        alone = uow.runs.list(query)
        apart = uow.jobs.get_many([run.job_id for run in alone.items])

    assert [state(run) for run in page.items] == [state(run) for run in alone.items]
    assert (page.total, page.page, page.page_size, page.next) == (
        alone.total, alone.page, alone.page_size, alone.next)
    assert {job_id: state(found) for job_id, found in jobs.items()} == {
        job_id: state(found) for job_id, found in apart.items()}


def test_the_lines_of_runs_are_what_their_runs_read_whole_show(
        uow_factory: UnitOfWorkFactory) -> None:
    parent = job("job-1", run_count=4)
    nested = {"n": [1, {"deep": None}], "name": "é", "big": 2**70, "x": 1.25}
    stored = [run("run-1", parent, 0, parameters=Payload(inline=nested, size=60),
                  metadata={"client": "epx_1.2.2"}),
              run("run-2", parent, 1, parameters=Payload(blob_key="runs/run-2/p.json", size=9),
                  status=RunStatus.SUCCEEDED, attempts=2, finished_at=at(20)),
              run("run-3", parent, 2, parameters=None, status=RunStatus.CANCELLED),
              run("run-4", parent, 3)]
    save(uow_factory, user("usr-a"), parent, *stored)
    with uow_factory() as uow:
        lines = uow.runs.lines(job_id="job-1")
        whole = uow.runs.for_job("job-1")
        numbered = uow.runs.lines(numbers=[whole[2].number or 0, 10**6, whole[0].number or 0])

    assert [line.id for line in lines] == ["run-1", "run-2", "run-3", "run-4"]
    for line, run_read in zip(lines, whole, strict=True):
        assert (line.number, line.job_id, line.owner_id, line.index, line.status,
                line.attempts, line.created_at, line.finished_at, dict(line.metadata)) == (
            run_read.number, run_read.job_id, run_read.owner_id, run_read.index,
            run_read.status, run_read.attempts, run_read.created_at, run_read.finished_at,
            run_read.metadata)
    first = lines[0].parameters
    assert first is not None and first.size == 60
    assert isinstance(first.inline, JsonText) and json.loads(first.inline) == nested
    assert lines[1].parameters == Payload(blob_key="runs/run-2/p.json", size=9)
    assert lines[2].parameters is None
    assert [line.id for line in numbered] == ["run-3", "run-1"]
    with uow_factory() as uow:
        assert uow.runs.lines(job_id="job-none") == []
        assert uow.runs.lines(numbers=[]) == []


def test_cancel_unfinished_of_chosen_runs_leaves_the_others_and_rolls_back(
        world: UnitOfWorkFactory) -> None:
    with world() as uow:
        assert sorted(uow.runs.cancel_unfinished(at(100), "stopped",
                                                 run_ids=["run-03", "run-05", "run-07"])) == [
            "run-03", "run-07"]
    assert get_run(world, "run-03").status is RunStatus.QUEUED  # not committed
    with world() as uow:
        assert uow.runs.cancel_unfinished(at(100), "stopped", run_ids=["run-07"]) == ["run-07"]
        uow.commit()
    assert [get_run(world, r).status for r in ("run-03", "run-07")] == [
        RunStatus.QUEUED, RunStatus.CANCELLED]


def test_racing_claimers_have_exactly_one_winner(uow_factory: UnitOfWorkFactory) -> None:
    single_run(uow_factory)
    contenders = 8
    barrier = threading.Barrier(contenders)
    results: dict[str, bool] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def contend(worker: str) -> None:
        try:
            barrier.wait(5)
            with uow_factory() as uow:
                claimed = uow.runs.claim("run-1", worker, at(1))
                uow.commit()
            with lock:
                results[worker] = claimed is not None
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=contend, args=(f"w-{i}",)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert errors == []
    winners = [worker for worker, won in results.items() if won]
    assert len(results) == contenders
    assert len(winners) == 1
    stored = get_run(uow_factory, "run-1")
    assert (stored.worker, stored.attempts) == (winners[0], 1)


def test_claim_queued_takes_a_jobs_queued_runs_in_the_order_they_were_added(
        uow_factory: UnitOfWorkFactory) -> None:
    """Lowest number first, whatever their index: a replicated job's batch (one point's
    replicates, added together) is claimed together, not interleaved with other points'."""
    parent = job(run_count=5)
    save(uow_factory, user(), parent,
         run("run-1", parent, 0, status=RunStatus.CANCELLED), run("run-2", parent, 2),
         run("run-3", parent, 3), run("run-4", parent, 4))
    save(uow_factory, run("run-0", parent, 1))  # a lower index, added last
    with uow_factory() as uow:
        first = uow.runs.claim_queued("usr-a", "job-1", "w-1", at(9), limit=2)
        rest = uow.runs.claim_queued("usr-a", "job-1", "w-1", at(9), limit=5)
        uow.commit()
    assert [r.id for r in first] == ["run-2", "run-3"]
    assert [r.id for r in rest] == ["run-4", "run-0"]
    stored = get_run(uow_factory, "run-3")
    assert (stored.status, stored.worker, stored.attempts, stored.started_at) == (
        RunStatus.RUNNING, "w-1", 1, at(9))
    assert state(stored) == state(first[1])
    with uow_factory() as uow:
        assert uow.runs.claim_queued("usr-a", "job-1", "w-1", at(10), limit=3) == []


def test_a_claim_of_queued_runs_rolled_back_leaves_them_queued_and_claimable(
        uow_factory: UnitOfWorkFactory) -> None:
    parent = job(run_count=2)
    save(uow_factory, user(), parent, run("run-1", parent, 0), run("run-2", parent, 1))
    with uow_factory() as uow:
        assert len(uow.runs.claim_queued("usr-a", "job-1", "w-1", at(9), limit=2)) == 2
    assert get_run(uow_factory, "run-1").status is RunStatus.QUEUED
    with uow_factory() as uow:
        assert uow.runs.next_queued_owner() == "usr-a"
        again = uow.runs.claim_queued("usr-a", "job-1", "w-2", at(9), limit=2)
        uow.commit()
    assert [r.id for r in again] == ["run-1", "run-2"]


def test_the_queue_is_walked_by_owner_then_job_in_id_order(uow_factory: UnitOfWorkFactory
                                                           ) -> None:
    a1, a2 = job("job-a1", "usr-a"), job("job-a2", "usr-a")
    b1, c1 = job("job-b1", "usr-b"), job("job-c1", "usr-c")
    save(uow_factory, user("usr-a"), user("usr-b"), user("usr-c"), a1, a2, b1, c1,
         run("run-a1", a1), run("run-a2", a2), run("run-b1", b1, status=RunStatus.RUNNING),
         run("run-c1", c1))
    with uow_factory() as uow:
        assert uow.runs.next_queued_owner() == "usr-a"
        assert uow.runs.next_queued_owner("usr-a") == "usr-c"  # usr-b has none queued
        assert uow.runs.next_queued_owner("usr-c") is None
        assert uow.runs.next_queued_job("usr-a") == "job-a1"
        assert uow.runs.next_queued_job("usr-a", "job-a1") == "job-a2"
        assert uow.runs.next_queued_job("usr-a", "job-a2") is None
        assert uow.runs.next_queued_job("usr-b") is None
        uow.runs.claim_queued("usr-a", "job-a1", "w-1", at(9))
        assert uow.runs.next_queued_job("usr-a") == "job-a2"
        uow.runs.claim_queued("usr-a", "job-a2", "w-1", at(9))
        assert uow.runs.next_queued_owner() == "usr-c"


def test_a_run_back_in_the_queue_is_claimable_again(uow_factory: UnitOfWorkFactory) -> None:
    parent = job()
    save(uow_factory, user(), parent, run("run-1", parent, 0))
    with uow_factory() as uow:
        [claimed] = uow.runs.claim_queued("usr-a", "job-1", "w-1", at(1))
        claimed.requeue(at(2))
        uow.runs.update(claimed)
        uow.commit()
    with uow_factory() as uow:
        assert [r.id for r in uow.runs.claim_queued("usr-a", "job-1", "w-2", at(3))] == [
            "run-1"]


def test_racing_claims_of_queued_runs_hand_each_run_to_one_worker(
        uow_factory: UnitOfWorkFactory) -> None:
    parent = job(run_count=40)
    save(uow_factory, user(), parent,
         *[run(f"run-{i:02d}", parent, i, created_at=at(i)) for i in range(40)])
    claimed: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(worker: str) -> None:
        try:
            while True:
                with uow_factory() as uow:
                    got = uow.runs.claim_queued("usr-a", "job-1", worker, at(100), limit=3)
                    uow.commit()
                if not got:
                    return
                with lock:
                    claimed.extend(r.id for r in got)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(claimed) == [f"run-{i:02d}" for i in range(40)]


def test_a_cancel_racing_a_finish_has_exactly_one_winner(uow_factory: UnitOfWorkFactory
                                                         ) -> None:
    single_run(uow_factory)
    with uow_factory() as uow:
        assert uow.runs.claim("run-1", "w-1", at(1)) is not None
        uow.commit()
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def change(name: str) -> None:
        with uow_factory() as uow:  # both read the same version...
            current = uow.runs.get("run-1")
        assert current is not None
        barrier.wait(5)
        if name == "finish":
            current.succeed(Payload(inline={"ok": 1}), at(2))
        else:
            current.cancel(at(2))
        with uow_factory() as uow:  # ...and both try to write from it
            try:
                uow.runs.update(current)
                uow.commit()
                outcomes[name] = "won"
            except ConcurrencyConflict:
                outcomes[name] = "lost"

    threads = [threading.Thread(target=change, args=(n,)) for n in ("finish", "cancel")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(outcomes.values()) == ["lost", "won"]
    stored = get_run(uow_factory, "run-1")
    winner = next(name for name, outcome in outcomes.items() if outcome == "won")
    expected = RunStatus.SUCCEEDED if winner == "finish" else RunStatus.CANCELLED
    assert stored.status is expected and stored.version == 2


@pytest.mark.parametrize("status", [RunStatus.CANCELLED, RunStatus.SUCCEEDED, RunStatus.FAILED,
                                    RunStatus.RUNNING])
def test_claim_of_a_run_that_is_not_queued_returns_none_and_changes_nothing(
    uow_factory: UnitOfWorkFactory, status: RunStatus
) -> None:
    before = single_run(uow_factory, status=status, worker="w-0", started_at=at(1))
    with uow_factory() as uow:
        claimed = uow.runs.claim("run-1", "w-1", at(2))
        uow.commit()

    assert claimed is None
    assert state(get_run(uow_factory, "run-1")) == state(before)


def test_claim_of_an_unknown_run_returns_none(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.runs.claim("run-missing", "w-1", at(1)) is None


def test_claim_without_commit_leaves_the_run_queued(uow_factory: UnitOfWorkFactory) -> None:
    before = single_run(uow_factory)
    with uow_factory() as uow:
        assert uow.runs.claim("run-1", "w-1", at(1)) is not None

    assert state(get_run(uow_factory, "run-1")) == state(before)


def test_a_claimed_run_can_be_updated_with_the_entity_claim_returned(
    uow_factory: UnitOfWorkFactory,
) -> None:
    single_run(uow_factory)
    with uow_factory() as uow:
        claimed = uow.runs.claim("run-1", "w-1", at(1))
        uow.commit()
    assert claimed is not None

    with uow_factory() as uow:
        claimed.succeed(Payload(inline={"ok": True}), at(2))
        uow.runs.update(claimed)
        uow.commit()

    assert get_run(uow_factory, "run-1").status is RunStatus.SUCCEEDED


def test_a_copy_read_before_the_claim_is_stale(uow_factory: UnitOfWorkFactory) -> None:
    before = single_run(uow_factory)
    with uow_factory() as uow:
        uow.runs.claim("run-1", "w-1", at(1))
        uow.commit()

    before.cancel(at(2))
    with pytest.raises(ConcurrencyConflict), uow_factory() as uow:
        uow.runs.update(before)

    assert get_run(uow_factory, "run-1").status is RunStatus.RUNNING


# ==========================================================================
# Runs: listing
# ==========================================================================


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (RunQuery(), ["run-01", "run-02", "run-03", "run-04", "run-05", "run-06", "run-07"]),
        (RunQuery(owner_id="usr-a"), ["run-01", "run-02", "run-03", "run-04"]),
        (RunQuery(owner_id="usr-nobody"), []),
        (RunQuery(job_id="job-1"), ["run-01", "run-02", "run-03"]),
        (RunQuery(statuses=frozenset({RunStatus.QUEUED})), ["run-03", "run-07"]),
        (RunQuery(statuses=frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED})),
         ["run-01", "run-02"]),
        (RunQuery(statuses=frozenset()), []),
        (RunQuery(simulation_type="monte_carlo"), ["run-04"]),
        (RunQuery(tag="shared"), ["run-01", "run-02", "run-03", "run-05", "run-06"]),
        (RunQuery(tag="beta"), ["run-04"]),
        (RunQuery(tag="alp"), []),
        (RunQuery(machine_id="mch-1"), ["run-01", "run-04"]),
        (RunQuery(machine_id="mch-2"), ["run-02", "run-06"]),
        (RunQuery(owner_id="usr-b", statuses=frozenset({RunStatus.QUEUED})), ["run-07"]),
        (RunQuery(job_id="job-1", machine_id="mch-1"), ["run-01"]),
    ],
    ids=["all", "owner", "unknown-owner", "job", "queued", "succeeded-or-failed",
         "no-statuses", "simulation-type", "tag", "other-tag", "tag-is-exact", "machine",
         "other-machine", "owner-and-status", "job-and-machine"],
)
def test_run_list_filters(world: UnitOfWorkFactory, query: RunQuery, expected: list[str]
                          ) -> None:
    assert sorted(list_runs(world, query)) == expected


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("field", sorted(RUN_ORDER_FIELDS))
def test_run_list_orders_by_each_field_with_ties_broken_by_id(
    world: UnitOfWorkFactory, field: str, descending: bool
) -> None:
    query = RunQuery(order=Ordering(field, descending))

    assert list_runs(world, query) == expected_order(world_runs(), field, descending)


def test_run_list_orders_newest_first_by_default(world: UnitOfWorkFactory) -> None:
    assert list_runs(world, RunQuery()) == expected_order(world_runs(), "created_at", True)


def test_run_list_pages_partition_the_listing(world: UnitOfWorkFactory) -> None:
    order = Ordering("created_at", False)
    with world() as uow:
        pages = [uow.runs.list(RunQuery(order=order, page=PageRequest(n, 3))) for n in (1, 2, 3)]
        everything = uow.runs.list(RunQuery(order=order))

    assert [len(p.items) for p in pages] == [3, 3, 1]
    assert [r.id for p in pages for r in p.items] == run_ids(everything.items)
    assert all((p.total, p.total_pages, p.page_size) == (7, 3, 3) for p in pages)
    assert [p.page for p in pages] == [1, 2, 3]


def walk(world: UnitOfWorkFactory, query: RunQuery | JobQuery, size: int
         ) -> tuple[list[str], list[int]]:
    """Every item of a listing, page after page by cursor; and the pages' numbers."""
    seen: list[str] = []
    numbers: list[int] = []
    request = PageRequest(1, size)
    with world() as uow:
        while True:
            query = dataclasses.replace(query, page=request)
            page: Page[Any] = (uow.runs.list(query) if isinstance(query, RunQuery)
                               else uow.jobs.list(query))
            seen += [item.id for item in page.items]
            numbers.append(page.page)
            if page.next is None:
                return seen, numbers
            request = PageRequest.following(page.next, size)


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("field", sorted(RUN_ORDER_FIELDS))
def test_runs_paged_by_cursor_are_the_listing_in_order(world: UnitOfWorkFactory, field: str,
                                                       descending: bool) -> None:
    order = Ordering(field, descending)
    seen, numbers = walk(world, RunQuery(order=order), 2)
    with world() as uow:
        everything = run_ids(uow.runs.list(RunQuery(order=order)).items)
    assert seen == everything and numbers == [1, 2, 3, 4]


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("field", sorted(JOB_ORDER_FIELDS))
def test_jobs_paged_by_cursor_are_the_listing_in_order(world: UnitOfWorkFactory, field: str,
                                                       descending: bool) -> None:
    order = Ordering(field, descending)
    seen, _ = walk(world, JobQuery(order=order), 3)
    assert seen == list_jobs(world, JobQuery(order=order))


def test_a_cursor_follows_the_filters_it_is_used_with(world: UnitOfWorkFactory) -> None:
    seen, _ = walk(world, RunQuery(owner_id="usr-a"), 1)
    assert seen == list_runs(world, RunQuery(owner_id="usr-a"))


def test_a_cursor_of_another_order_is_refused(world: UnitOfWorkFactory) -> None:
    with world() as uow:
        first = uow.runs.list(RunQuery(page=PageRequest(1, 2)))
        assert first.next is not None
        with pytest.raises(ValidationError, match="another order"):
            uow.runs.list(RunQuery(order=Ordering("progress"),
                                   page=PageRequest.following(first.next, 2)))


def test_a_page_beyond_the_end_is_empty_but_keeps_the_total(world: UnitOfWorkFactory) -> None:
    with world() as uow:
        page = uow.runs.list(RunQuery(page=PageRequest(5, 3)))

    assert page.items == []
    assert (page.total, page.total_pages, page.page) == (7, 3, 5)


def test_a_page_of_a_filtered_listing_counts_only_the_matches(world: UnitOfWorkFactory) -> None:
    with world() as uow:
        page = uow.runs.list(RunQuery(owner_id="usr-a", page=PageRequest(2, 3)))

    assert len(page.items) == 1
    assert (page.total, page.total_pages) == (4, 2)


def test_an_empty_listing_has_no_pages(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        page = uow.runs.list(RunQuery())

    assert (page.items, page.total, page.total_pages) == ([], 0, 0)


# ==========================================================================
# Runs: counts and statistics
# ==========================================================================


def test_counts_by_status(world: UnitOfWorkFactory) -> None:
    with world() as uow:
        overall = nonzero(uow.runs.counts())
        of_owner = nonzero(uow.runs.counts(owner_id="usr-b"))
        of_job = nonzero(uow.runs.counts(job_id="job-1"))

    assert overall == {RunStatus.SUCCEEDED: 1, RunStatus.FAILED: 1, RunStatus.QUEUED: 2,
                       RunStatus.RUNNING: 1, RunStatus.CANCELLED: 2}
    assert of_owner == {RunStatus.CANCELLED: 2, RunStatus.QUEUED: 1}
    assert of_job == {RunStatus.SUCCEEDED: 1, RunStatus.FAILED: 1, RunStatus.QUEUED: 1}


def test_counts_of_nothing_are_zero(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert nonzero(uow.runs.counts()) == {}
        assert nonzero(uow.runs.counts(owner_id="usr-nobody")) == {}


def test_tally_by_job_counts_each_jobs_runs_and_sums_their_progress(world: UnitOfWorkFactory
                                                                      ) -> None:
    with world() as uow:
        tallies = uow.runs.tally_by_job(["job-1", "job-3", "job-2"])

    assert set(tallies) == {"job-1", "job-2", "job-3"}
    assert nonzero(dict(tallies["job-1"].counts)) == {
        RunStatus.SUCCEEDED: 1, RunStatus.FAILED: 1, RunStatus.QUEUED: 1}
    assert dict(tallies["job-1"].progress) == pytest.approx(
        {RunStatus.SUCCEEDED: 1.0, RunStatus.FAILED: 0.5, RunStatus.QUEUED: 0.0})
    assert nonzero(dict(tallies["job-3"].counts)) == {RunStatus.CANCELLED: 2}
    assert dict(tallies["job-3"].progress) == pytest.approx({RunStatus.CANCELLED: 0.5})
    assert dict(tallies["job-2"].progress) == pytest.approx({RunStatus.RUNNING: 0.25})


def recount(uow: UnitOfWork, job_id: str) -> tuple[dict[RunStatus, int],
                                                    dict[RunStatus, float]]:
    """A job's tally counted from its runs read whole: what a kept tally must equal."""
    counts: dict[RunStatus, int] = {}
    progress: dict[RunStatus, float] = {}
    for each in uow.runs.for_job(job_id):
        counts[each.status] = counts.get(each.status, 0) + 1
        progress[each.status] = progress.get(each.status, 0.0) + each.progress
    return counts, progress


def assert_tallied(uow_factory: UnitOfWorkFactory, *job_ids: str) -> None:
    with uow_factory() as uow:
        tallies = uow.runs.tally_by_job(list(job_ids))
        for job_id in job_ids:
            counts, progress = recount(uow, job_id)
            assert nonzero(dict(tallies[job_id].counts)) == counts, job_id
            assert dict(tallies[job_id].progress) == pytest.approx(progress), job_id
            assert nonzero(uow.runs.counts(job_id=job_id)) == counts, job_id
            assert uow.runs.list(RunQuery(job_id=job_id, owner_id="usr-a")).total \
                == sum(counts.values())
        uow.commit()


def test_a_job_s_tally_follows_every_change_of_its_runs(uow_factory: UnitOfWorkFactory
                                                        ) -> None:
    """Claims, progress, finishing, a cancel of the whole job, a retry, a lease taken back
    and a deleted job: the tally (kept by triggers in the SQL adapters) is always what
    counting the runs gives, and another job's is untouched."""
    first, other = job("job-1", run_count=6), job("job-2", run_count=2)
    save(uow_factory, user(), first, other,
         *(run(f"run-{i}", first, i) for i in range(6)),
         *(run(f"run-o{i}", other, i) for i in range(2)))
    assert_tallied(uow_factory, "job-1", "job-2")

    with uow_factory() as uow:
        claimed = uow.runs.claim_queued("usr-a", "job-1", "w-1", at(1), limit=4)
        uow.commit()
    assert len(claimed) == 4
    assert_tallied(uow_factory, "job-1", "job-2")
    for step, (run_id, fraction) in enumerate((("run-0", 0.25), ("run-1", 0.5),
                                               ("run-1", 0.75), ("run-2", 0.1))):
        changed = get_run(uow_factory, run_id)
        changed.report_progress(fraction, at(2 + step))
        with uow_factory() as uow:
            uow.runs.update(changed)
            uow.commit()
        assert_tallied(uow_factory, "job-1")
    finished = get_run(uow_factory, "run-0")
    finished.succeed(Payload(inline={"value": 1}, size=11), at(10))
    failed = get_run(uow_factory, "run-1")
    failed.fail("RuntimeError: boom", at(11))
    lost = get_run(uow_factory, "run-3")
    lost.requeue(at(12))
    with uow_factory() as uow:
        for changed in (finished, failed, lost):
            uow.runs.update(changed)
        uow.commit()
    assert_tallied(uow_factory, "job-1", "job-2")

    with uow_factory() as uow:
        assert len(uow.runs.cancel_unfinished(at(13), "stopped", job_id="job-1")) == 4
        uow.commit()
    assert_tallied(uow_factory, "job-1", "job-2")
    retried = get_run(uow_factory, "run-1")
    retried.retry(at(14))
    with uow_factory() as uow:
        uow.runs.update(retried)
        uow.commit()
    assert_tallied(uow_factory, "job-1", "job-2")

    with uow_factory() as uow:
        uow.jobs.delete("job-1")
        uow.commit()
    with uow_factory() as uow:
        assert uow.runs.tally_by_job(["job-1"]) == {"job-1": RunTally({}, {})}
        connection = getattr(uow, "connection", None)
        if connection is not None:  # the SQL adapters keep no rows of a deleted job
            assert connection.execute(sa.select(sa.func.count()).select_from(
                job_run_counts).where(job_run_counts.c.job_id == "job-1")).scalar_one() == 0
    assert_tallied(uow_factory, "job-2")


def test_a_job_s_tally_stays_right_when_its_rows_are_folded(uow_factory: UnitOfWorkFactory
                                                            ) -> None:
    """A job's counts kept as delta rows (the SQL adapters) are folded once a read sums
    too many of them: the tallies read before and after are the same, progress too."""
    runs_made = COMPACT_JOB_AFTER_ROWS + 5
    parent = job("job-1", run_count=runs_made)
    save(uow_factory, user(), parent)
    for index in range(runs_made):  # one statement each: one delta row each
        with uow_factory() as uow:
            uow.runs.add_many([run(f"run-{index:05d}", parent, index)])
            uow.commit()
    with uow_factory() as uow:
        claimed = uow.runs.claim_queued("usr-a", "job-1", "w-1", at(1), limit=3)
        uow.commit()
    claimed[0].report_progress(0.5, at(2))
    with uow_factory() as uow:
        uow.runs.update(claimed[0])
        uow.commit()
    with uow_factory() as uow:
        before = uow.runs.tally_by_job(["job-1"])
        uow.commit()
    assert_tallied(uow_factory, "job-1")
    with uow_factory() as uow:
        assert uow.runs.tally_by_job(["job-1"]) == before
        assert before["job-1"].counts == {RunStatus.QUEUED: runs_made - 3,
                                          RunStatus.RUNNING: 3}
        connection = getattr(uow, "connection", None)
        if connection is not None:  # the SQL adapters: the rows were folded
            rows = connection.execute(sa.select(sa.func.count()).select_from(
                job_run_counts)).scalar_one()
            assert rows <= 2


def test_tally_by_job_of_a_job_without_runs_is_empty(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user(), job("job-empty", run_count=0))

    with uow_factory() as uow:
        tallies = uow.runs.tally_by_job(["job-empty", "job-unknown"])
        assert uow.runs.tally_by_job([]) == {}

    assert tallies == {"job-empty": RunTally({}, {}), "job-unknown": RunTally({}, {})}


def test_statistics_count_runs_and_average_the_duration_of_finished_runs(
    world: UnitOfWorkFactory,
) -> None:
    with world() as uow:
        stats = uow.runs.statistics()

    assert stats.total == 7
    assert nonzero(dict(stats.counts)) == {RunStatus.SUCCEEDED: 1, RunStatus.FAILED: 1,
                                           RunStatus.QUEUED: 2, RunStatus.RUNNING: 1,
                                           RunStatus.CANCELLED: 2}
    # run-01 took 10 s and run-02 30 s; the running run-04 has no duration yet.
    assert stats.mean_duration_seconds == pytest.approx(20.0)


def test_statistics_of_an_owner_without_finished_runs_have_no_mean(world: UnitOfWorkFactory
                                                                    ) -> None:
    with world() as uow:
        stats = uow.runs.statistics(owner_id="usr-b")

    assert stats.total == 3
    assert nonzero(dict(stats.counts)) == {RunStatus.CANCELLED: 2, RunStatus.QUEUED: 1}
    assert stats.mean_duration_seconds is None


def test_statistics_of_an_empty_store(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        stats = uow.runs.statistics()

    assert (stats.total, nonzero(dict(stats.counts)), stats.mean_duration_seconds) == (0, {}, None)


# ==========================================================================
# Unit of work: commit and rollback
# ==========================================================================


def test_changes_are_kept_after_commit(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user(), job("job-1"))

    assert get_job(uow_factory, "job-1").id == "job-1"


def test_a_new_job_and_its_runs_are_rolled_back_without_commit(uow_factory: UnitOfWorkFactory
                                                               ) -> None:
    save(uow_factory, user())
    parent = job(run_count=2)
    with uow_factory() as uow:
        uow.jobs.add(parent)
        uow.runs.add_many([run("run-1", parent, 0), run("run-2", parent, 1)])

    with uow_factory() as uow:
        assert uow.jobs.get(parent.id) is None
        assert uow.runs.get("run-1") is None
        assert uow.runs.for_job(parent.id) == []
        assert uow.runs.list(RunQuery()).total == 0
        assert uow.jobs.list(JobQuery()).total == 0


def test_runs_added_to_an_existing_job_are_rolled_back_without_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    parent = job(run_count=2)
    save(uow_factory, user(), parent, run("run-1", parent, 0))
    with uow_factory() as uow:
        uow.runs.add_many([run("run-2", parent, 1)])

    with uow_factory() as uow:
        assert run_ids(uow.runs.for_job(parent.id)) == ["run-1"]
        assert uow.runs.get("run-2") is None


def test_a_job_update_is_rolled_back_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user(), job("job-1", name="kept"))
    with uow_factory() as uow:
        changed = uow.jobs.get("job-1")
        assert changed is not None
        changed.name = "discarded"
        uow.jobs.update(changed)

    assert get_job(uow_factory, "job-1").name == "kept"


def test_a_run_update_is_rolled_back_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    before = single_run(uow_factory)
    with uow_factory() as uow:
        changed = uow.runs.get("run-1")
        assert changed is not None
        changed.cancel(at(1))
        uow.runs.update(changed)

    assert state(get_run(uow_factory, "run-1")) == state(before)


def test_logs_metrics_and_artifacts_are_rolled_back_without_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    single_run(uow_factory)
    with uow_factory() as uow:
        uow.logs.append("run-1", [(at(1), "stdout", "hello")])
        uow.metrics.append([MetricPoint("run-1", "loss", 0, 1.0, at(1))])
        uow.artifacts.add(Artifact("run-1", "out.csv", "runs/run-1/artifacts/out.csv", 3,
                                   "text/csv", at(1)))

    with uow_factory() as uow:
        assert uow.logs.list("run-1") == []
        assert uow.metrics.list("run-1") == []
        assert uow.artifacts.list("run-1") == []
        assert uow.artifacts.get("run-1", "out.csv") is None


def test_a_new_user_is_rolled_back_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.users.add(user("usr-x", "x@example.com"))

    with uow_factory() as uow:
        assert uow.users.get("usr-x") is None
        assert uow.users.get_by_email_key("x@example.com") is None
        uow.users.add(user("usr-y", "x@example.com"))  # the email is free again
        uow.commit()


def test_reports_and_machines_are_rolled_back_without_commit(uow_factory: UnitOfWorkFactory
                                                             ) -> None:
    save(uow_factory, user(), job("job-1"))
    with uow_factory() as uow:
        uow.machines.add(machine("mch-1"))
        uow.reports.add(report("rep-1", "usr-a", ["job-1"]))

    with uow_factory() as uow:
        assert uow.machines.get("mch-1") is None
        assert uow.reports.get("rep-1") is None


def test_an_exception_inside_the_block_rolls_back_and_propagates(uow_factory: UnitOfWorkFactory
                                                                 ) -> None:
    class Boom(Exception):
        pass

    save(uow_factory, user())
    with pytest.raises(Boom), uow_factory() as uow:
        uow.jobs.add(job("job-1"))
        raise Boom

    with uow_factory() as uow:
        assert uow.jobs.get("job-1") is None


def test_rollback_discards_the_changes_made_so_far(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user())
    with uow_factory() as uow:
        uow.jobs.add(job("job-discarded"))
        uow.rollback()
        uow.jobs.add(job("job-kept"))
        uow.commit()

    with uow_factory() as uow:
        assert uow.jobs.get("job-discarded") is None
        assert uow.jobs.get("job-kept") is not None


def test_changes_after_the_last_commit_are_rolled_back(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user())
    with uow_factory() as uow:
        uow.jobs.add(job("job-committed"))
        uow.commit()
        uow.jobs.add(job("job-late"))

    with uow_factory() as uow:
        assert uow.jobs.get("job-committed") is not None
        assert uow.jobs.get("job-late") is None


def test_a_unit_of_work_sees_its_own_uncommitted_changes(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user())
    parent = job()
    with uow_factory() as uow:
        uow.jobs.add(parent)
        uow.runs.add_many([run("run-1", parent)])

        assert uow.jobs.get(parent.id) is not None
        assert run_ids(uow.runs.for_job(parent.id)) == ["run-1"]


# ==========================================================================
# Entities are copies
# ==========================================================================


def test_mutating_a_returned_run_without_update_does_not_change_the_store(
    uow_factory: UnitOfWorkFactory,
) -> None:
    before = single_run(uow_factory)
    with uow_factory() as uow:
        got = uow.runs.get("run-1")
        listed = uow.runs.list(RunQuery()).items[0]
        of_job = uow.runs.for_job("job-1")[0]
        assert got is not None
        for copy in (got, listed, of_job):
            copy.status = RunStatus.FAILED
            copy.progress = 0.9
            copy.error = "scribbled"
        uow.commit()

    assert state(get_run(uow_factory, "run-1")) == state(before)


def test_mutating_a_returned_job_without_update_does_not_change_the_store(
    uow_factory: UnitOfWorkFactory,
) -> None:
    save(uow_factory, user(), job("job-1", name="kept", tags=("a",)))
    with uow_factory() as uow:
        got = uow.jobs.get("job-1")
        listed = uow.jobs.list(JobQuery()).items[0]
        assert got is not None
        for copy in (got, listed):
            copy.name = "scribbled"
            copy.tags = ("b",)
        uow.commit()

    stored = get_job(uow_factory, "job-1")
    assert (stored.name, stored.tags) == ("kept", ("a",))


def test_mutating_an_added_run_after_add_does_not_change_the_store(
    uow_factory: UnitOfWorkFactory,
) -> None:
    parent = job()
    added = run("run-1", parent)
    save(uow_factory, user(), parent)
    with uow_factory() as uow:
        uow.runs.add_many([added])
        added.progress = 0.7
        added.error = "scribbled"
        uow.commit()

    stored = get_run(uow_factory, "run-1")
    assert (stored.progress, stored.error) == (0.0, None)


def test_mutating_nested_values_of_a_returned_entity_does_not_change_the_store(
    uow_factory: UnitOfWorkFactory,
) -> None:
    parent = job(metadata={"project": "kept"})
    save(uow_factory, user(), parent,
         run("run-1", parent, parameters=Payload(inline={"alpha": [1]}), metadata={"k": "kept"}),
         report("rep-1", "usr-a", ["job-1"], parameters={"title": "kept"}))
    with uow_factory() as uow:
        got_job, got_run = uow.jobs.get("job-1"), uow.runs.get("run-1")
        got_report = uow.reports.get("rep-1")
        assert got_job is not None and got_run is not None and got_report is not None
        got_job.metadata["project"] = "scribbled"
        got_run.metadata["k"] = "scribbled"
        got_run.parameters.inline["alpha"].append(2)
        got_report.parameters["title"] = "scribbled"
        uow.commit()

    stored_run = get_run(uow_factory, "run-1")
    assert get_job(uow_factory, "job-1").metadata == {"project": "kept"}
    assert stored_run.metadata == {"k": "kept"}
    assert stored_run.parameters.inline == {"alpha": [1]}
    with uow_factory() as uow:
        stored_report = uow.reports.get("rep-1")
    assert stored_report is not None and stored_report.parameters == {"title": "kept"}


def test_mutating_nested_values_of_an_added_entity_does_not_change_the_store(
    uow_factory: UnitOfWorkFactory,
) -> None:
    parent = job(metadata={"project": "kept"})
    added = run("run-1", parent, metadata={"k": "kept"})
    save(uow_factory, user(), parent, added)

    parent.metadata["project"] = "scribbled"
    added.metadata["k"] = "scribbled"

    assert get_job(uow_factory, "job-1").metadata == {"project": "kept"}
    assert get_run(uow_factory, "run-1").metadata == {"k": "kept"}


def test_an_uncommitted_in_place_change_to_metadata_is_rolled_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    single_run(uow_factory, metadata={"k": "kept"})
    with uow_factory() as uow:
        changed = uow.runs.get("run-1")
        assert changed is not None
        changed.metadata["k"] = "discarded"
        uow.runs.update(changed)

    assert get_run(uow_factory, "run-1").metadata == {"k": "kept"}


# ==========================================================================
# Adding never replaces; updating never creates
# ==========================================================================

def test_adding_a_user_with_an_existing_id_raises_conflict(uow_factory: UnitOfWorkFactory
                                                           ) -> None:
    save(uow_factory, user("usr-1", "first@example.com"))

    with pytest.raises(Conflict), uow_factory() as uow:
        uow.users.add(user("usr-1", "second@example.com"))
        uow.commit()

    with uow_factory() as uow:
        stored = uow.users.get("usr-1")
        by_old_email = uow.users.get_by_email_key("first@example.com")
        by_new_email = uow.users.get_by_email_key("second@example.com")
    assert stored is not None and stored.email == "first@example.com"
    assert by_old_email is not None and by_old_email.email == "first@example.com"
    assert by_new_email is None


def test_adding_a_report_with_an_existing_id_raises_conflict(uow_factory: UnitOfWorkFactory
                                                             ) -> None:
    save(uow_factory, user(), job("job-1"), report("rep-1", "usr-a", ["job-1"],
                                                   parameters={"title": "first"}))

    with pytest.raises(Conflict), uow_factory() as uow:
        uow.reports.add(report("rep-1", "usr-a", ["job-1"], parameters={"title": "second"}))
        uow.commit()

    with uow_factory() as uow:
        stored = uow.reports.get("rep-1")
    assert stored is not None and stored.parameters == {"title": "first"}


def test_adding_a_machine_with_an_existing_id_raises_conflict(uow_factory: UnitOfWorkFactory
                                                              ) -> None:
    save(uow_factory, machine("mch-1", gpu="first"))

    with pytest.raises(Conflict), uow_factory() as uow:
        uow.machines.add(machine("mch-1", gpu="second"))
        uow.commit()

    with uow_factory() as uow:
        stored = uow.machines.get("mch-1")
    assert stored is not None and stored.gpu == "first"


def test_updating_entities_that_were_never_added_raises_and_creates_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """NotFound, or ConcurrencyConflict for adapters that cannot tell missing from stale."""
    parent = job("job-ghost")
    save(uow_factory, user())
    ghosts: list[Callable[[UnitOfWork], None]] = [
        lambda uow: uow.jobs.update(parent),
        lambda uow: uow.runs.update(run("run-ghost", parent)),
        lambda uow: uow.reports.update(report("rep-ghost", "usr-a", [])),
        lambda uow: uow.machines.update(machine("mch-ghost")),
    ]
    for update in ghosts:
        with pytest.raises((NotFound, ConcurrencyConflict)), uow_factory() as uow:
            update(uow)
            uow.commit()

    with uow_factory() as uow:
        assert uow.jobs.get("job-ghost") is None
        assert uow.runs.get("run-ghost") is None
        assert uow.reports.get("rep-ghost") is None
        assert uow.machines.get("mch-ghost") is None


# ==========================================================================
# Round trips of awkward values
# ==========================================================================

LONG_TEXT = "0123456789abcdef" * 6250  # 100,000 characters
UNICODE_TEXT = (
    "rocket \U0001f680 family \U0001f468\u200d\U0001f469\u200d\U0001f467 "
    "CJK \u6a21\u62df\u8ba1\u7b97 "
    "Arabic \u0645\u0631\u062d\u0628\u0627 Hebrew \u05e9\u05dc\u05d5\u05dd "
    "combining e\u0301 accents \u00e9\u00e8\u00ea quote ' \" backslash \\ tab \t newline \n"
)


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": [1, 2.5, None, True, "x"]}
    for level in range(depth - 1):
        value = {"level": level, "child": value} if level % 2 else {"list": [value]}
    return value


def test_long_and_unicode_strings_round_trip_on_runs(uow_factory: UnitOfWorkFactory) -> None:
    parent = job()
    stored = run("run-1", parent, status=RunStatus.FAILED, error=LONG_TEXT + UNICODE_TEXT,
                 worker=UNICODE_TEXT.strip(), metadata={UNICODE_TEXT: LONG_TEXT})
    save(uow_factory, user(), parent, stored)

    assert state(get_run(uow_factory, "run-1")) == state(stored)


def test_long_and_unicode_strings_round_trip_on_jobs(uow_factory: UnitOfWorkFactory) -> None:
    stored = job(name=UNICODE_TEXT, tags=("\U0001f680", "\u6a21\u62df", "\u05e9\u05dc\u05d5\u05dd"),
                 metadata={"notes": LONG_TEXT, UNICODE_TEXT: [UNICODE_TEXT]})
    save(uow_factory, user(), stored)

    with uow_factory() as uow:
        tagged = uow.jobs.list(JobQuery(tag="\u6a21\u62df")).items

    assert state(get_job(uow_factory, "job-1")) == state(stored)
    assert [j.id for j in tagged] == ["job-1"]


def test_deeply_nested_parameters_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    parameters = {"deep": nested(50), "text": LONG_TEXT, "unicode": UNICODE_TEXT}
    parent = job()
    save(uow_factory, user(), parent,
         run("run-1", parent, parameters=Payload(inline=parameters, size=200_000),
             result=Payload(inline=[nested(50)], size=1_000)))

    stored = get_run(uow_factory, "run-1")

    assert stored.parameters == Payload(inline=parameters, size=200_000)
    assert stored.result == Payload(inline=[nested(50)], size=1_000)


def test_metadata_dicts_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    metadata: dict[str, object] = {
        "int": 7, "negative": -3, "float": 0.1, "big": 2**53, "bool": False, "none": None,
        "list": [1, "two", [3.0]], "dict": {"a": {"b": {"c": []}}}, "empty": {},
    }
    parent = job(metadata=metadata)
    save(uow_factory, user(), parent, run("run-1", parent, metadata=metadata))

    assert get_job(uow_factory, "job-1").metadata == metadata
    assert get_run(uow_factory, "run-1").metadata == metadata


def test_long_and_unicode_log_messages_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    single_run(uow_factory)
    with uow_factory() as uow:
        uow.logs.append("run-1", [(at(1), "stdout", LONG_TEXT), (at(2), "stderr", UNICODE_TEXT)])
        uow.commit()

    with uow_factory() as uow:
        lines = uow.logs.list("run-1")

    assert [(line.message, line.stream) for line in lines] == [(LONG_TEXT, "stdout"),
                                                               (UNICODE_TEXT, "stderr")]


# ==========================================================================
# Reports
# ==========================================================================


def test_a_report_round_trips_unchanged(uow_factory: UnitOfWorkFactory) -> None:
    stored = report("rep-1", "usr-a", ["job-1", "job-2"], parameters={"title": UNICODE_TEXT},
                    status=ReportStatus.SUCCEEDED, blob_key="reports/rep-1.pdf",
                    content_type="application/pdf", filename="rep-1.pdf", size=1234,
                    started_at=at(1), finished_at=at(2))
    save(uow_factory, user(), job("job-1"), job("job-2"), stored)

    with uow_factory() as uow:
        got = uow.reports.get("rep-1")
        assert uow.reports.get("rep-missing") is None

    assert got is not None
    assert state(got) == state(stored)


def test_report_list_filters_by_owner_and_status_newest_first(uow_factory: UnitOfWorkFactory
                                                              ) -> None:
    save(uow_factory, user("usr-a"), user("usr-b"), job("job-1"),
         report("rep-1", "usr-a", ["job-1"], at(1)),
         report("rep-2", "usr-a", ["job-1"], at(2), status=ReportStatus.FAILED, error="x"),
         report("rep-3", "usr-a", ["job-1"], at(3)),
         report("rep-4", "usr-b", ["job-1"], at(4)))

    with uow_factory() as uow:
        mine = uow.reports.list("usr-a", None, PageRequest())
        queued = uow.reports.list(None, frozenset({ReportStatus.QUEUED}), PageRequest())
        failed_of_b = uow.reports.list("usr-b", frozenset({ReportStatus.FAILED}), PageRequest())
        second_page = uow.reports.list("usr-a", None, PageRequest(2, 2))

    assert [r.id for r in mine.items] == ["rep-3", "rep-2", "rep-1"]
    assert [r.id for r in queued.items] == ["rep-4", "rep-3", "rep-1"]
    assert (failed_of_b.items, failed_of_b.total) == ([], 0)
    assert ([r.id for r in second_page.items], second_page.total) == (["rep-1"], 3)


def test_report_update_stores_the_change_and_refuses_a_stale_version(
    uow_factory: UnitOfWorkFactory,
) -> None:
    save(uow_factory, user(), job("job-1"), report("rep-1", "usr-a", ["job-1"]))
    with uow_factory() as uow:
        first, second = uow.reports.get("rep-1"), uow.reports.get("rep-1")
    assert first is not None and second is not None

    with uow_factory() as uow:
        first.start(at(1))
        uow.reports.update(first)
        uow.commit()
    second.fail("too late", at(2))
    with pytest.raises(ConcurrencyConflict), uow_factory() as uow:
        uow.reports.update(second)
        uow.commit()

    with uow_factory() as uow:
        stored = uow.reports.get("rep-1")
    assert stored is not None
    assert first.version == 1
    assert state(stored) == state(first)


# ==========================================================================
# Machines
# ==========================================================================


def test_a_machine_round_trips_unchanged(uow_factory: UnitOfWorkFactory) -> None:
    stored = machine("mch-1", gpu="A100 \u00d7 2", status=MachineStatus.BUSY, updated_at=at(1))
    save(uow_factory, stored)

    with uow_factory() as uow:
        got = uow.machines.get("mch-1")
        assert uow.machines.get("mch-missing") is None

    assert got is not None
    assert state(got) == state(stored)


def test_machine_list_filters_by_status_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, machine("mch-3", at(3)), machine("mch-1", at(1)),
         machine("mch-2", at(2), status=MachineStatus.MAINTENANCE), machine("mch-4", at(4)))

    with uow_factory() as uow:
        every = uow.machines.list(None, PageRequest())
        available = uow.machines.list(MachineStatus.AVAILABLE, PageRequest())
        busy = uow.machines.list(MachineStatus.BUSY, PageRequest())
        page = uow.machines.list(None, PageRequest(2, 3))

    assert [m.id for m in every.items] == ["mch-1", "mch-2", "mch-3", "mch-4"]
    assert [m.id for m in available.items] == ["mch-1", "mch-3", "mch-4"]
    assert (busy.items, busy.total) == ([], 0)
    assert ([m.id for m in page.items], page.total, page.total_pages) == (["mch-4"], 4, 2)


def test_machine_update_stores_the_change_and_refuses_a_stale_version(
    uow_factory: UnitOfWorkFactory,
) -> None:
    save(uow_factory, machine("mch-1"))
    with uow_factory() as uow:
        first, second = uow.machines.get("mch-1"), uow.machines.get("mch-1")
    assert first is not None and second is not None

    with uow_factory() as uow:
        first.set_status(MachineStatus.MAINTENANCE, at(1))
        uow.machines.update(first)
        uow.commit()
    second.set_status(MachineStatus.BUSY, at(2))
    with pytest.raises(ConcurrencyConflict), uow_factory() as uow:
        uow.machines.update(second)
        uow.commit()

    with uow_factory() as uow:
        stored = uow.machines.get("mch-1")
    assert stored is not None
    assert first.version == 1
    assert state(stored) == state(first)


# ==========================================================================
# Users
# ==========================================================================


def test_a_user_round_trips_unchanged(uow_factory: UnitOfWorkFactory) -> None:
    stored = user("usr-1", "Ada@Example.com", full_name="Ada \u0141ovelace \U0001f680",
                  password_hash="$argon2id$v=19$abc", is_active=False)
    save(uow_factory, stored)

    with uow_factory() as uow:
        got = uow.users.get("usr-1")
        assert uow.users.get("usr-missing") is None

    assert got is not None
    assert state(got) == state(stored)


def test_a_user_is_found_by_its_email_key_and_its_skeleton(uow_factory: UnitOfWorkFactory
                                                           ) -> None:
    save(uow_factory, user("usr-1", "Ada@Example.com"))

    with uow_factory() as uow:
        found = uow.users.get_by_email_key("ada@example.com")
        by_skeleton = uow.users.get_by_email_skeleton(skeleton_digest("ada@example.com"))
        as_typed = uow.users.get_by_email_key("Ada@Example.com")  # keys are matched exactly
        missing = uow.users.get_by_email_key("bob@example.com")
        unlike = uow.users.get_by_email_skeleton(skeleton_digest("bob@example.com"))

    assert found is not None and found.id == "usr-1" and found.email == "Ada@Example.com"
    assert found.email_key == "ada@example.com"
    assert by_skeleton is not None and by_skeleton.id == "usr-1"
    assert as_typed is None and missing is None and unlike is None


def test_adding_a_user_that_looks_like_another_raises_conflict(uow_factory: UnitOfWorkFactory
                                                               ) -> None:
    save(uow_factory, user("usr-1", "ada@example.com", full_name="first"))

    with pytest.raises(Conflict, match="looks like"), uow_factory() as uow:
        uow.users.add(user("usr-2", "\u0430da@example.com", full_name="Cyrillic a"))
        uow.commit()

    with uow_factory() as uow:
        assert uow.users.get("usr-2") is None
        assert uow.users.get_by_email_key("\u0430da@example.com") is None


def test_users_stored_without_a_skeleton_keep_their_own_keys(uow_factory: UnitOfWorkFactory
                                                             ) -> None:
    # As migration 0008 leaves accounts whose addresses collided before it.
    save(uow_factory, user("usr-1", "ada@example.com"),
         user("usr-2", "\uff41da@example.com", email_key="\uff41da@example.com",
              email_skeleton=None),
         user("usr-3", "A\u0064a@example.com", email_key="legacy", email_skeleton=None))

    with uow_factory() as uow:
        found = [uow.users.get_by_email_key(k) for k in
                 ("ada@example.com", "\uff41da@example.com", "legacy")]
        by_skeleton = uow.users.get_by_email_skeleton(skeleton_digest("ada@example.com"))
        second = uow.users.get("usr-2")

    assert [u.id if u else None for u in found] == ["usr-1", "usr-2", "usr-3"]
    assert by_skeleton is not None and by_skeleton.id == "usr-1"
    assert second is not None and second.email_skeleton is None


def test_adding_a_user_with_a_taken_email_raises_conflict(uow_factory: UnitOfWorkFactory
                                                          ) -> None:
    save(uow_factory, user("usr-1", "ada@example.com", full_name="first"))

    with pytest.raises(Conflict), uow_factory() as uow:
        uow.users.add(user("usr-2", "ADA@example.COM", full_name="second"))
        uow.commit()

    with uow_factory() as uow:
        assert uow.users.get("usr-2") is None
        taken = uow.users.get_by_email_key("ada@example.com")
    assert taken is not None and taken.full_name == "first"


# ==========================================================================
# Logs
# ==========================================================================


def append_logs(uow_factory: UnitOfWorkFactory, run_id: str, messages: Sequence[str],
                start: float = 0) -> list[LogLine]:
    with uow_factory() as uow:
        lines = uow.logs.append(run_id, [(at(start + i), "stdout", m)
                                         for i, m in enumerate(messages)])
        uow.commit()
    return lines


def test_log_lines_are_numbered_from_one(uow_factory: UnitOfWorkFactory) -> None:
    single_run(uow_factory)
    with uow_factory() as uow:
        lines = uow.logs.append("run-1", [(at(1), "stdout", "one"), (at(2), "stderr", "two")])
        uow.commit()

    expected = [LogLine("run-1", 1, at(1), "one", "stdout"),
                LogLine("run-1", 2, at(2), "two", "stderr")]
    assert lines == expected
    with uow_factory() as uow:
        assert uow.logs.list("run-1") == expected


def test_log_numbering_continues_across_units_of_work(uow_factory: UnitOfWorkFactory) -> None:
    single_run(uow_factory)
    append_logs(uow_factory, "run-1", ["a", "b"])
    later = append_logs(uow_factory, "run-1", ["c", "d", "e"], start=10)

    assert [line.seq for line in later] == [3, 4, 5]
    with uow_factory() as uow:
        listed = uow.logs.list("run-1")
    assert [(line.seq, line.message) for line in listed] == [
        (1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")]


def test_log_numbering_is_per_run(uow_factory: UnitOfWorkFactory) -> None:
    parent = job(run_count=2)
    save(uow_factory, user(), parent, run("run-1", parent, 0), run("run-2", parent, 1))
    append_logs(uow_factory, "run-1", ["a", "b", "c"])
    other = append_logs(uow_factory, "run-2", ["x"])

    assert [line.seq for line in other] == [1]
    with uow_factory() as uow:
        assert [line.message for line in uow.logs.list("run-2")] == ["x"]


def test_log_list_after_seq_and_limit(uow_factory: UnitOfWorkFactory) -> None:
    single_run(uow_factory)
    append_logs(uow_factory, "run-1", [f"line {i}" for i in range(1, 11)])

    with uow_factory() as uow:
        after = uow.logs.list("run-1", after_seq=7)
        limited = uow.logs.list("run-1", limit=3)
        window = uow.logs.list("run-1", after_seq=4, limit=2)
        beyond = uow.logs.list("run-1", after_seq=10)
        nothing = uow.logs.list("run-missing")

    assert [line.seq for line in after] == [8, 9, 10]
    assert [line.seq for line in limited] == [1, 2, 3]
    assert [(line.seq, line.message) for line in window] == [(5, "line 5"), (6, "line 6")]
    assert beyond == []
    assert nothing == []


def test_log_lines_containing_a_text_whatever_its_case(uow_factory: UnitOfWorkFactory) -> None:
    single_run(uow_factory)
    append_logs(uow_factory, "run-1", ["Step 1 ok", "WARNING: slow", "step 2 ok",
                                       "100% done", "a_b", "aXb", "warning again"])

    with uow_factory() as uow:
        warnings = uow.logs.list("run-1", containing="warning")
        after = uow.logs.list("run-1", after_seq=2, containing="WARNING")
        first = uow.logs.list("run-1", containing="step", limit=1)
        percent = uow.logs.list("run-1", containing="100%")
        underscore = uow.logs.list("run-1", containing="a_b")
        none = uow.logs.list("run-1", containing="absent")
        window = uow.logs.list("run-1", after_seq=1, through_seq=3, containing="o")
        unfiltered = uow.logs.list("run-1", after_seq=4, through_seq=6)

    assert [line.seq for line in warnings] == [2, 7]
    assert [line.seq for line in after] == [7]
    assert [line.seq for line in first] == [1]
    assert [line.message for line in percent] == ["100% done"]
    assert [line.message for line in underscore] == ["a_b"]  # not a wildcard
    assert none == []
    assert [line.seq for line in window] == [2, 3]
    assert [line.seq for line in unfiltered] == [5, 6]


def test_the_last_log_line_number_is_how_many_lines_a_run_has(
        uow_factory: UnitOfWorkFactory) -> None:
    single_run(uow_factory)
    with uow_factory() as uow:
        assert uow.logs.last_seq("run-1") == 0
    append_logs(uow_factory, "run-1", [f"line {i}" for i in range(1, 8)])

    with uow_factory() as uow:
        assert uow.logs.last_seq("run-1") == 7
        assert uow.logs.last_seq("run-missing") == 0


def test_log_numbers_stay_contiguous_after_a_rolled_back_append(
    uow_factory: UnitOfWorkFactory,
) -> None:
    single_run(uow_factory)
    append_logs(uow_factory, "run-1", ["kept"])
    with uow_factory() as uow:
        uow.logs.append("run-1", [(at(1), "stdout", "discarded")])

    later = append_logs(uow_factory, "run-1", ["next"])

    assert [(line.seq, line.message) for line in later] == [(2, "next")]


# ==========================================================================
# Metrics
# ==========================================================================


def point(name: str, step: int, value: float, seconds: float, run_id: str = "run-1"
          ) -> MetricPoint:
    return MetricPoint(run_id, name, step, value, at(seconds))


@pytest.fixture
def metrics(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """run-1 with loss at steps 0..3 and accuracy at steps 0..1, appended out of order."""
    parent = job(run_count=2)
    save(uow_factory, user(), parent, run("run-1", parent, 0), run("run-2", parent, 1))
    with uow_factory() as uow:
        uow.metrics.append([point("loss", 2, 0.5, 2), point("accuracy", 1, 0.8, 1),
                            point("loss", 0, 2.0, 0)])
        uow.metrics.append([point("loss", 3, 0.25, 3), point("loss", 1, 1.0, 1),
                            point("accuracy", 0, 0.4, 0), point("loss", 0, 9.9, 0, "run-2")])
        uow.commit()
    return uow_factory


def steps(points: Sequence[MetricPoint]) -> list[tuple[str, int]]:
    return [(p.name, p.step) for p in points]


def test_metrics_are_listed_by_name_then_step(metrics: UnitOfWorkFactory) -> None:
    with metrics() as uow:
        points = uow.metrics.list("run-1")

    assert steps(points) == [("accuracy", 0), ("accuracy", 1), ("loss", 0), ("loss", 1),
                             ("loss", 2), ("loss", 3)]
    assert points[2] == point("loss", 0, 2.0, 0)


def test_metric_list_by_name(metrics: UnitOfWorkFactory) -> None:
    with metrics() as uow:
        loss = uow.metrics.list("run-1", name="loss")
        unknown = uow.metrics.list("run-1", name="nope")

    assert [p.value for p in loss] == [2.0, 1.0, 0.5, 0.25]
    assert unknown == []


def test_metric_list_since_step_is_exclusive(metrics: UnitOfWorkFactory) -> None:
    with metrics() as uow:
        points = uow.metrics.list("run-1", since_step=1)
        loss = uow.metrics.list("run-1", name="loss", since_step=2)

    assert steps(points) == [("loss", 2), ("loss", 3)]
    assert steps(loss) == [("loss", 3)]


def test_metric_list_since_time_is_exclusive(metrics: UnitOfWorkFactory) -> None:
    with metrics() as uow:
        points = uow.metrics.list("run-1", since=at(1))
        everything = uow.metrics.list("run-1", since=at(-1))

    assert steps(points) == [("loss", 2), ("loss", 3)]
    assert len(everything) == 6


def test_metrics_are_kept_per_run(metrics: UnitOfWorkFactory) -> None:
    with metrics() as uow:
        other = uow.metrics.list("run-2")
        nothing = uow.metrics.list("run-missing")

    assert other == [point("loss", 0, 9.9, 0, "run-2")]
    assert nothing == []


# ==========================================================================
# Artifacts
# ==========================================================================


def artifact(name: str, size: int = 3, run_id: str = "run-1", content_type: str = "text/plain"
             ) -> Artifact:
    return Artifact(run_id, name, f"runs/{run_id}/artifacts/{name}", size, content_type, at(1))


def test_artifacts_are_listed_sorted_by_name(uow_factory: UnitOfWorkFactory) -> None:
    single_run(uow_factory)
    with uow_factory() as uow:
        for name in ("plots/b.png", "a.csv", "plots/a.png", "z.txt"):
            uow.artifacts.add(artifact(name))
        uow.commit()

    with uow_factory() as uow:
        listed = uow.artifacts.list("run-1")

    assert [a.name for a in listed] == ["a.csv", "plots/a.png", "plots/b.png", "z.txt"]
    assert listed[0] == artifact("a.csv")


def test_artifact_get_by_run_and_name(uow_factory: UnitOfWorkFactory) -> None:
    single_run(uow_factory)
    stored = artifact("field.npy", 1024, content_type="application/octet-stream")
    with uow_factory() as uow:
        uow.artifacts.add(stored)
        uow.commit()

    with uow_factory() as uow:
        assert uow.artifacts.get("run-1", "field.npy") == stored
        assert uow.artifacts.get("run-1", "other.npy") is None
        assert uow.artifacts.get("run-missing", "field.npy") is None


def test_an_artifact_with_the_same_name_replaces_the_first(uow_factory: UnitOfWorkFactory
                                                           ) -> None:
    single_run(uow_factory)
    with uow_factory() as uow:
        uow.artifacts.add(artifact("out.csv", 3))
        uow.commit()
    with uow_factory() as uow:
        uow.artifacts.add(artifact("out.csv", 99, content_type="text/csv"))
        uow.commit()

    with uow_factory() as uow:
        listed = uow.artifacts.list("run-1")

    assert listed == [artifact("out.csv", 99, content_type="text/csv")]


def test_a_rolled_back_replacement_keeps_the_first_artifact(uow_factory: UnitOfWorkFactory
                                                            ) -> None:
    single_run(uow_factory)
    with uow_factory() as uow:
        uow.artifacts.add(artifact("out.csv", 3))
        uow.commit()
    with uow_factory() as uow:
        uow.artifacts.add(artifact("out.csv", 99))

    with uow_factory() as uow:
        assert uow.artifacts.list("run-1") == [artifact("out.csv", 3)]


def test_artifacts_are_kept_per_run(uow_factory: UnitOfWorkFactory) -> None:
    parent = job(run_count=2)
    save(uow_factory, user(), parent, run("run-1", parent, 0), run("run-2", parent, 1))
    with uow_factory() as uow:
        uow.artifacts.add(artifact("out.csv", run_id="run-1"))
        uow.artifacts.add(artifact("log.txt", run_id="run-2"))
        uow.commit()

    with uow_factory() as uow:
        assert [a.name for a in uow.artifacts.list("run-1")] == ["out.csv"]
        assert [a.name for a in uow.artifacts.list("run-2")] == ["log.txt"]
        assert uow.artifacts.list("run-missing") == []


def test_a_run_is_read_with_its_job(uow_factory: UnitOfWorkFactory) -> None:
    parent = job("job-1", tags=("b", "a"), metadata={"project": "p"}, run_count=2)
    save(uow_factory, user(), parent, run("run-1", parent, 0), run("run-2", parent, 1))
    with uow_factory() as uow:
        found = uow.runs.get_with_job("run-2")
        assert uow.runs.get_with_job("run-x") is None
    assert found is not None
    found_run, found_job = found
    assert (found_run.id, found_run.index, found_run.job_id) == ("run-2", 1, "job-1")
    assert (found_job.id, found_job.tags, found_job.metadata) == ("job-1", ("b", "a"),
                                                                  {"project": "p"})
    assert found_job.number is not None and found_job.created_at == parent.created_at


def test_each_job_reports_only_its_own_tags(uow_factory: UnitOfWorkFactory) -> None:
    first = job("job-1", tags=("x", "y"))
    second = job("job-2", owner_id="usr-b", created_at=at(1))
    third = job("job-3", tags=("z",), created_at=at(2))
    save(uow_factory, user(), user("usr-b", "b@example.com"), first, second, third,
         run("run-1", first), run("run-2", second), run("run-3", third))
    with uow_factory() as uow:
        listed = {j.id: j.tags for j in uow.jobs.list(JobQuery()).items}
        single = uow.jobs.get("job-2")
        with_job = uow.runs.get_with_job("run-3")
    assert listed == {"job-1": ("x", "y"), "job-2": (), "job-3": ("z",)}
    assert single is not None and single.tags == ()
    assert with_job is not None and with_job[1].tags == ("z",)


# ==========================================================================
# Users' roles and failed logins
# ==========================================================================


def test_a_user_can_be_made_an_administrator_and_back(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, user("usr-a"))
    with uow_factory() as uow:
        stored = uow.users.get("usr-a")
        assert stored is not None and stored.is_admin is False
        stored.is_admin = True
        uow.users.update(stored)
        uow.commit()
    with uow_factory() as uow:
        again = uow.users.get_by_email_key("usr-a@example.com")
        assert again is not None and again.is_admin is True
        with pytest.raises(NotFound):
            uow.users.update(user("usr-missing"))


def test_a_machine_remembers_who_created_it(uow_factory: UnitOfWorkFactory) -> None:
    save(uow_factory, machine("mch-1", created_by="usr-a"), machine("mch-2"))
    with uow_factory() as uow:
        first, second = uow.machines.get("mch-1"), uow.machines.get("mch-2")
    assert first is not None and first.created_by == "usr-a"
    assert second is not None and second.created_by is None


def test_failed_logins_are_kept_by_key_and_forgotten_on_request(
        uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        for seconds in (1, 2, 3):
            uow.login_failures.add("account:a@example.com", at(seconds))
        uow.login_failures.add("address:10.0.0.1", at(2))
        uow.commit()
    with uow_factory() as uow:
        assert uow.login_failures.since("account:a@example.com", at(1)) == [at(2), at(3)]
        assert uow.login_failures.since("address:10.0.0.1", at(0)) == [at(2)]
        uow.login_failures.forget("account:a@example.com", before=at(3))
        uow.commit()
    with uow_factory() as uow:
        assert uow.login_failures.since("account:a@example.com", at(0)) == [at(3)]
        uow.login_failures.forget("account:a@example.com")
        uow.commit()
    with uow_factory() as uow:
        assert uow.login_failures.since("account:a@example.com", at(0)) == []
        assert uow.login_failures.since("address:10.0.0.1", at(0)) == [at(2)]


def test_a_failed_login_not_committed_is_not_counted(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.login_failures.add("account:a@example.com", at(1))
    with uow_factory() as uow:
        assert uow.login_failures.since("account:a@example.com", at(0)) == []


def test_one_failure_is_discarded_when_its_attempt_succeeds(uow_factory: UnitOfWorkFactory
                                                            ) -> None:
    with uow_factory() as uow:
        for seconds in (1, 2, 2, 3):  # two attempts in the same microsecond
            uow.login_failures.add("address:10.0.0.1", at(seconds))
        uow.commit()
    with uow_factory() as uow:
        uow.login_failures.discard("address:10.0.0.1", at(2))
        uow.login_failures.discard("address:10.0.0.1", at(9))  # none then: nothing happens
        uow.commit()
    with uow_factory() as uow:
        assert uow.login_failures.since("address:10.0.0.1", at(0)) == [at(1), at(2), at(3)]


def test_the_latest_successful_login_is_remembered(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.login_failures.last_success("known:a@example.com|10.0.0.1") is None
        uow.login_failures.remember_success("known:a@example.com|10.0.0.1", at(1))
        uow.login_failures.remember_success("known:a@example.com|10.0.0.2", at(5))
        uow.commit()
    with uow_factory() as uow:
        uow.login_failures.remember_success("known:a@example.com|10.0.0.1", at(3))
    with uow_factory() as uow:  # not committed: still the first
        assert uow.login_failures.last_success("known:a@example.com|10.0.0.1") == at(1)
        uow.login_failures.remember_success("known:a@example.com|10.0.0.1", at(4))
        uow.commit()
    with uow_factory() as uow:
        assert uow.login_failures.last_success("known:a@example.com|10.0.0.1") == at(4)
        assert uow.login_failures.last_success("known:a@example.com|10.0.0.2") == at(5)
        assert uow.login_failures.last_success("known:b@example.com|10.0.0.1") is None


# -- leases --------------------------------------------------------------------


def _claimed(uow_factory: UnitOfWorkFactory, count: int = 2, worker: str = "w1",
             lease: timedelta = timedelta(seconds=10)) -> list[Run]:
    parent = job("job-1", run_count=count)
    save(uow_factory, user(), parent, *(run(f"run-{i}", parent, i) for i in range(count)))
    with uow_factory() as uow:
        claimed = uow.runs.claim_queued("usr-a", "job-1", worker, T0, count, T0 + lease)
        uow.commit()
    return list(claimed)


def test_a_claim_holds_its_runs_until_the_lease_it_was_given(
        uow_factory: UnitOfWorkFactory) -> None:
    _claimed(uow_factory, 1)
    parent = job("job-2")
    save(uow_factory, parent, run("run-x", parent))
    with uow_factory() as uow:
        single = uow.runs.claim("run-x", "w2", T0, T0 + timedelta(seconds=5))
        uow.commit()
    assert single is not None and single.lease_expires_at == T0 + timedelta(seconds=5)
    assert get_run(uow_factory, "run-0").lease_expires_at == T0 + timedelta(seconds=10)
    assert get_run(uow_factory, "run-x").lease_expires_at == T0 + timedelta(seconds=5)


def test_renewing_extends_only_what_the_worker_holds_at_that_attempt(
        uow_factory: UnitOfWorkFactory) -> None:
    _claimed(uow_factory, 3)
    later = T0 + timedelta(seconds=30)
    with uow_factory() as uow:
        held = uow.runs.renew("w1", {"run-0": 1, "run-1": 2, "run-missing": 1}, later)
        assert uow.runs.renew("w2", {"run-2": 1}, later) == set()
        assert uow.runs.renew("w1", {}, later) == set()
        uow.commit()
    assert held == {"run-0"}
    assert get_run(uow_factory, "run-0").lease_expires_at == later
    assert get_run(uow_factory, "run-1").lease_expires_at == T0 + timedelta(seconds=10)
    assert get_run(uow_factory, "run-2").lease_expires_at == T0 + timedelta(seconds=10)


def test_renewing_changes_no_version_and_the_runs_own_writes_keep_the_lease(
        uow_factory: UnitOfWorkFactory) -> None:
    [claimed] = _claimed(uow_factory, 1)
    later = T0 + timedelta(seconds=30)
    with uow_factory() as uow:
        uow.runs.renew("w1", {"run-0": 1}, later)
        uow.commit()
    claimed.report_progress(0.5, T0)
    with uow_factory() as uow:
        uow.runs.update(claimed)  # read before the renewal: no conflict, lease kept
        uow.commit()
    stored = get_run(uow_factory, "run-0")
    assert (stored.progress, stored.lease_expires_at) == (0.5, later)
    stored.succeed(Payload(inline=1, size=1), T0)
    with uow_factory() as uow:
        uow.runs.update(stored)
        uow.commit()
    assert get_run(uow_factory, "run-0").lease_expires_at is None


def test_a_renewal_finds_nothing_once_the_run_was_cancelled(
        uow_factory: UnitOfWorkFactory) -> None:
    [claimed] = _claimed(uow_factory, 1)
    claimed.cancel(T0)
    with uow_factory() as uow:
        uow.runs.update(claimed)
        uow.commit()
    with uow_factory() as uow:
        assert uow.runs.renew("w1", {"run-0": 1}, T0 + timedelta(seconds=30)) == set()


def test_lapsed_runs_are_the_running_ones_whose_lease_ended(
        uow_factory: UnitOfWorkFactory) -> None:
    _claimed(uow_factory, 3)
    with uow_factory() as uow:
        uow.runs.renew("w1", {"run-1": 1}, T0 + timedelta(seconds=60))
        uow.commit()
    with uow_factory() as uow:
        assert uow.runs.lapsed(T0 + timedelta(seconds=5)) == []
        lapsed = uow.runs.lapsed(T0 + timedelta(seconds=11))
        assert sorted(r.id for r in lapsed) == ["run-0", "run-2"]
        assert len(uow.runs.lapsed(T0 + timedelta(seconds=11), limit=1)) == 1
        assert {r.id for r in uow.runs.lapsed(T0 + timedelta(seconds=61))} == {
            "run-0", "run-1", "run-2"}


def test_a_lapsed_run_requeued_is_claimed_again_as_its_next_attempt(
        uow_factory: UnitOfWorkFactory) -> None:
    _claimed(uow_factory, 1)
    [lapsed] = _lapsed(uow_factory, T0 + timedelta(seconds=11))
    lapsed.requeue(T0 + timedelta(seconds=11))
    with uow_factory() as uow:
        uow.runs.update(lapsed)
        uow.commit()
    with uow_factory() as uow:
        [again] = uow.runs.claim_queued("usr-a", "job-1", "w2", T0, 1,
                                        T0 + timedelta(seconds=40))
        uow.commit()
    assert (again.attempts, again.worker, again.lease_expires_at) == (
        2, "w2", T0 + timedelta(seconds=40))
    with uow_factory() as uow:
        assert uow.runs.renew("w1", {"run-0": 1}, T0 + timedelta(seconds=50)) == set()


def _lapsed(uow_factory: UnitOfWorkFactory, now: datetime) -> list[Run]:
    with uow_factory() as uow:
        return list(uow.runs.lapsed(now))


# ==========================================================================
# Workers
# ==========================================================================


def beat(name: str, seconds: float, held: int = 0) -> WorkerBeat:
    return WorkerBeat(name=name, host=name.split(":")[0], started_at=at(0),
                      last_beat=at(seconds), held=held, slots=4,
                      queues=("simulations", "reports"))


def test_a_workers_latest_beat_is_kept_and_listed_by_name(uow_factory: UnitOfWorkFactory
                                                          ) -> None:
    with uow_factory() as uow:
        uow.workers.beat(beat("host-b:2", 10))
        uow.workers.beat(beat("host-a:1", 10, held=1))
        uow.commit()
    with uow_factory() as uow:
        uow.workers.beat(beat("host-a:1", 20, held=3))
        uow.commit()

    with uow_factory() as uow:
        assert uow.workers.since(at(0)) == [beat("host-a:1", 20, held=3), beat("host-b:2", 10)]
        assert uow.workers.since(at(15)) == [beat("host-a:1", 20, held=3)]


def test_silent_workers_are_forgotten_and_a_beat_not_committed_is_not_kept(
        uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.workers.beat(beat("old:1", 5))
        uow.workers.beat(beat("new:1", 50))
        uow.commit()
    with uow_factory() as uow:
        uow.workers.beat(beat("never:1", 60))  # rolled back

    with uow_factory() as uow:
        assert uow.workers.forget(at(10)) == 1
        uow.commit()
    with uow_factory() as uow:
        assert [w.name for w in uow.workers.since(at(0))] == ["new:1"]


def test_queued_runs_by_owner_leave_out_owners_with_none(world: UnitOfWorkFactory) -> None:
    with world() as uow:
        by_owner = uow.runs.queued_by_owner()
        queued = [run for job_id in WORLD_JOBS for run in uow.runs.for_job(job_id)
                  if run.status is RunStatus.QUEUED]
    expected: dict[str, int] = {}
    for run in queued:
        expected[run.owner_id] = expected.get(run.owner_id, 0) + 1
    assert expected and by_owner == expected


def test_numeric_results_are_the_succeeded_runs_numbers_under_a_name(
        uow_factory: UnitOfWorkFactory) -> None:
    parent = job("job-1", run_count=8)
    results: list[tuple[RunStatus, Payload | None]] = [
        (RunStatus.SUCCEEDED, Payload(inline={"estimate": 3.1, "n": 10}, size=20)),
        (RunStatus.SUCCEEDED, Payload(inline={"estimate": 3, "n": 10}, size=20)),
        (RunStatus.SUCCEEDED, Payload(inline={"estimate": "3.2"}, size=20)),  # a string
        (RunStatus.SUCCEEDED, Payload(inline={"estimate": True}, size=20)),  # not a number
        (RunStatus.FAILED, Payload(inline={"estimate": 9.0}, size=20)),
        (RunStatus.SUCCEEDED, Payload(inline=[1, 2], size=5)),  # not an object
        (RunStatus.SUCCEEDED, Payload(blob_key="runs/r/result.json", size=10_000)),
        (RunStatus.SUCCEEDED, Payload(inline={"estimate": -2.5e-3}, size=20)),
    ]
    with uow_factory() as uow:
        uow.jobs.add(parent)
        uow.runs.add_many([run(f"run-{i}", parent, i, status=status, result=result)
                           for i, (status, result) in enumerate(results)])
        uow.commit()

    with uow_factory() as uow:
        assert uow.runs.numeric_results("job-1", "estimate") == [
            (0, 3.1), (1, 3.0), (7, -2.5e-3)]
        assert uow.runs.numeric_results("job-1", "estimate", every=7) == [(0, 3.1), (7, -2.5e-3)]
        assert uow.runs.numeric_results("job-1", "n") == [(0, 10.0), (1, 10.0)]
        assert uow.runs.numeric_results("job-1", 'a"b') == []
        assert uow.runs.numeric_results("job-none", "estimate") == []


# ==========================================================================
# Attempts
# ==========================================================================


def test_every_attempt_is_noted_with_its_worker_and_how_it_ended(
        uow_factory: UnitOfWorkFactory) -> None:
    single_run(uow_factory)

    def change(step: Callable[[Run], None]) -> None:
        with uow_factory() as uow:
            found = uow.runs.get("run-1")
            assert found is not None
            step(found)
            uow.runs.update(found)
            uow.commit()

    with uow_factory() as uow:  # 1: fails
        assert uow.runs.claim("run-1", "w:1", at(10), at(20)) is not None
        uow.commit()
    change(lambda r: r.fail("boom", at(11)))
    change(lambda r: r.retry(at(12)))
    with uow_factory() as uow:  # 2: its worker is lost, the run queued again
        assert uow.runs.claim_queued("usr-a", "job-1", "w:2", at(13), 1, at(20))
        uow.commit()
    change(lambda r: r.requeue(at(14)))
    with uow_factory() as uow:  # 3: handed back, not counted...
        assert uow.runs.claim("run-1", "w:3", at(15), at(20)) is not None
        uow.commit()
    change(lambda r: r.release(at(16)))
    with uow_factory() as uow:  # ...so 3 again: cancelled with its job
        assert uow.runs.claim("run-1", "w:4", at(17), at(20)) is not None
        uow.commit()
    with uow_factory() as uow:
        uow.runs.cancel_unfinished(at(18), "cancelled by request", job_id="job-1")
        uow.commit()

    with uow_factory() as uow:
        attempts = list(uow.runs.attempts("run-1"))
        assert uow.runs.attempts("run-missing") == []
    assert [(a.attempt, a.worker, a.started_at, a.ended_at, a.outcome, a.error)
            for a in attempts] == [
        (1, "w:1", at(10), at(11), "failed", "boom"),
        (2, "w:2", at(13), at(14), QUEUED_AGAIN, None),
        (3, "w:4", at(17), at(18), "cancelled", "cancelled by request")]


def test_an_attempt_under_way_has_no_end(uow_factory: UnitOfWorkFactory) -> None:
    single_run(uow_factory)
    with uow_factory() as uow:
        uow.runs.claim("run-1", "w:1", at(10), at(20))
        uow.commit()
    with uow_factory() as uow:
        assert list(uow.runs.attempts("run-1")) == [
            RunAttempt("run-1", 1, "w:1", at(10))]


# ==========================================================================
# Replicated points
# ==========================================================================


def test_points_are_kept_updated_listed_in_order_and_go_with_their_job(
        uow_factory: UnitOfWorkFactory) -> None:
    parent = job("job-1", run_count=4)
    save(uow_factory, user(), parent)
    with uow_factory() as uow:
        uow.points.add_many([ReplicatePoint("job-1", 1, 5), ReplicatePoint("job-1", 0, 5)])
        uow.commit()
    with uow_factory() as uow:
        [point] = uow.points.lock("job-1", [1, 7]).values()  # 7: none
        assert point == ReplicatePoint("job-1", 1, 5)
        point.count(True, 2.5)
        point.count(True, 3.5)
        point.count(False, None)
        point.count(True, None)
        point.outcome, point.reason = Outcome.RUNS_FAILED, "1 replicate failed"
        uow.points.update([point])
        uow.commit()
    with uow_factory() as uow:
        listed = uow.points.list("job-1")
        assert [p.point for p in listed] == [0, 1] and listed[0] == ReplicatePoint("job-1", 0, 5)
        assert listed[1] == ReplicatePoint("job-1", 1, 5, 4, 1, 1, Moments(2, 3.0, 0.5),
                                           Outcome.RUNS_FAILED, "1 replicate failed")
        assert uow.points.lock("job-1", [7]) == {} and uow.points.list("job-2") == []
        assert list(uow.points.lock("job-1", [1, 0])) == [0, 1]  # in point order
        with pytest.raises(NotFound):
            uow.points.update([ReplicatePoint("job-1", 0, 5), ReplicatePoint("job-1", 9, 1)])
    with uow_factory() as uow:  # what is not committed is not kept
        uow.points.update([ReplicatePoint("job-1", 0, 99)])
    with uow_factory() as uow:
        assert uow.points.list("job-1")[0].planned == 5
        uow.jobs.delete("job-1")
        uow.commit()
    with uow_factory() as uow:
        assert uow.points.list("job-1") == []


def test_a_locked_point_is_read_by_the_next_locker_as_the_first_committed_it(
        uow_factory: UnitOfWorkFactory) -> None:
    """Two replicates of a point ending at once: the second to lock the point waits for
    the first's commit and counts on top of it (each batch is decided once)."""
    save(uow_factory, user(), job("job-1"))
    with uow_factory() as uow:
        uow.points.add_many([ReplicatePoint("job-1", 0, 2)])
        uow.commit()
    first_locked, seen = threading.Event(), []

    def second() -> None:
        first_locked.wait(10)
        with uow_factory() as uow:
            point = uow.points.lock("job-1", [0])[0]
            seen.append(point.finished)
            point.count(True, 1.0)
            uow.points.update([point])
            uow.commit()

    other = threading.Thread(target=second)
    other.start()
    with uow_factory() as uow:
        point = uow.points.lock("job-1", [0])[0]
        first_locked.set()
        time.sleep(0.3)  # the other unit of work is waiting for the point meanwhile
        point.count(True, 3.0)
        uow.points.update([point])
        uow.commit()
    other.join(10)
    assert seen == [1]
    with uow_factory() as uow:
        assert uow.points.list("job-1")[0].moments == Moments(2, 2.0, 2.0)
