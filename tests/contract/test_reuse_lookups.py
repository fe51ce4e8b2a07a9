"""What reusing runs asks of every store: succeeded runs by identity, the runs still
referred to, and artifacts read and written in bulk."""

from __future__ import annotations

from datetime import timedelta

from simdock.domain import Artifact, Payload, Run, RunStatus
from simdock.repositories import UnitOfWorkFactory
from tests.contract.test_repositories import T0, job, run, save, user

ID_A, ID_B, ID_C = "a" * 64, "b" * 64, "c" * 64


def stored(uow_factory: UnitOfWorkFactory) -> None:
    """usr-a's job-1: a succeeded run of identity A with an artifact, a failed one of B and
    a succeeded one without identity; usr-b's job-2: a succeeded run of identity C, and
    job-3 of usr-a: a run reusing run-1 (batched: it differs from the others in result and
    source)."""
    save(uow_factory, user())
    first, second, third = job("job-1", run_count=3), job("job-2", owner_id="usr-b"), \
        job("job-3")
    with uow_factory() as uow:
        for each in (first, second, third):
            uow.jobs.add(each, Payload(inline={"base": {}}, size=11))
        done = dict(status=RunStatus.SUCCEEDED, progress=1.0,
                    result=Payload(inline={"estimate": 3.14}, size=17), attempts=1)
        uow.runs.add_many([run("run-1", first, 0, identity=ID_A, **done),
                           run("run-2", first, 1, identity=ID_B, status=RunStatus.FAILED),
                           run("run-3", first, 2, **done)])
        uow.runs.add_many([run("run-4", second, 0, identity=ID_C, **done)])
        reusing = run("run-5", third, 0, identity=ID_A)
        source = uow.runs.get("run-1")
        assert source is not None
        reusing.reuse(source.as_reusable(), T0 + timedelta(seconds=1))
        uow.runs.add_many([reusing])
        uow.artifacts.add(Artifact("run-1", "out.csv", "runs/run-1/artifacts/out.csv", 3,
                                   "text/csv", T0))
        uow.artifacts.add_many([Artifact("run-5", "out.csv", "runs/run-1/artifacts/out.csv",
                                         3, "text/csv", T0)])
        uow.commit()


def test_a_users_succeeded_runs_are_found_by_identity_and_no_one_elses(
        uow_factory: UnitOfWorkFactory) -> None:
    stored(uow_factory)
    with uow_factory() as uow:
        found = uow.runs.reusable("usr-a", [ID_A, ID_B, ID_C, "d" * 64])
        assert sorted(found) == [ID_A]  # B failed; C is usr-b's
        assert (found[ID_A].id, found[ID_A].attempts) == ("run-1", 1)  # the first of A
        assert found[ID_A].result == Payload(inline={"estimate": 3.14}, size=17)
        assert sorted(uow.runs.reusable("usr-b", [ID_A, ID_C])) == [ID_C]
        assert uow.runs.reusable("usr-a", []) == {}


def test_a_reused_run_is_stored_with_its_source_and_result(
        uow_factory: UnitOfWorkFactory) -> None:
    stored(uow_factory)
    with uow_factory() as uow:
        reused: Run | None = uow.runs.get("run-5")
    assert reused is not None
    assert (reused.status, reused.attempts, reused.progress) == (RunStatus.SUCCEEDED, 0, 1.0)
    assert (reused.identity, reused.reused_from) == (ID_A, "run-1")
    assert reused.result == Payload(inline={"estimate": 3.14}, size=17)


def test_the_runs_still_referred_to_are_those_stored_or_reused(
        uow_factory: UnitOfWorkFactory) -> None:
    stored(uow_factory)
    with uow_factory() as uow:
        assert uow.runs.referenced(["run-1", "run-2", "run-9"]) == {"run-1", "run-2"}
        uow.jobs.delete("job-1")
        # run-1 is gone but run-5 still reuses it; run-2 and run-3 are gone for good
        assert uow.runs.referenced(["run-1", "run-2", "run-3"]) == {"run-1"}
        uow.jobs.delete("job-3")
        assert uow.runs.referenced(["run-1", "run-5"]) == set()


def test_artifacts_are_read_and_written_for_many_runs_at_once(
        uow_factory: UnitOfWorkFactory) -> None:
    stored(uow_factory)
    with uow_factory() as uow:
        found = uow.artifacts.for_runs(["run-1", "run-2", "run-5"])
    assert sorted(found) == ["run-1", "run-5"]
    assert [a.blob_key for a in found["run-5"]] == ["runs/run-1/artifacts/out.csv"]
    with uow_factory() as uow:
        uow.artifacts.add_many([])
        assert uow.artifacts.for_runs([]) == {}
