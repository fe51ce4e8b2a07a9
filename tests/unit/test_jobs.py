"""Changing and deleting submissions, the status and progress a job's view shows, and
points only on runs that have not finished."""

from __future__ import annotations

from typing import Any

import pytest

from simdock.domain import MachineStatus, RunStatus, SweepSpec
from simdock.errors import Conflict, NotFound, ServiceUnavailable, ValidationError
from simdock.limits import Limits
from simdock.platform import Platform
from simdock.selection import JobQuery
from simdock.usecases import jobs, machines, metrics, reports
from simdock.usecases.submit import SubmitRun, SubmitSweep
from simdock_adapters.memory.repositories import MemoryJobRepository
from tests.unit.fakes import QueueDispatcher, make_platform


def drain(platform: Platform) -> None:
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()


def stop_at(platform: Platform, run_id: str, status: RunStatus, progress: float) -> None:
    """Start a queued run, let it reach ``progress``, then fail or cancel it."""
    with platform.uow() as uow:
        run = uow.runs.get(run_id)
        assert run is not None
        now = platform.clock.now()
        run.start(now)
        run.report_progress(progress, now)
        if status is RunStatus.FAILED:
            run.fail("boom", now)
        else:
            run.cancel(now)
        uow.runs.update(run)
        uow.commit()


def sweep(platform: Platform, size: int = 3, owner: str = "usr-a") -> tuple[str, list[str]]:
    submission = platform.submitting.submit_sweep(
        SubmitSweep(owner, "echo", SweepSpec(grid={"x": list(
        range(size))})))
    return submission.job.id, submission.run_ids


# -- status and progress of a job's view ---------------------------------------


def test_a_sweep_cancelled_part_way_is_cancelled_and_shows_how_far_it_got() -> None:
    platform = make_platform()
    job_id, run_ids = sweep(platform)
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.runs.clear()
    platform.dispatcher.runs.append(run_ids[0])
    drain(platform)
    stop_at(platform, run_ids[1], RunStatus.CANCELLED, 0.4)
    platform.cancelling.cancel_job(job_id, "usr-a")

    view = platform.queries.get_job(job_id, "usr-a")
    assert view.status is RunStatus.CANCELLED
    assert view.progress == pytest.approx((1.0 + 0.4 + 0.0) / 3)
    assert view.done
    listed = platform.queries.list_jobs(JobQuery(owner_id="usr-a")).items
    assert [(v.status, v.progress) for v in listed] == [(view.status, view.progress)]


def test_a_cancelled_single_run_keeps_the_progress_it_reached() -> None:
    platform = make_platform()
    submission = platform.submitting.submit_run(SubmitRun("usr-a", "echo", {}))
    stop_at(platform, submission.run_ids[0], RunStatus.CANCELLED, 0.3)

    view = platform.queries.get_job(submission.job.id, "usr-a")
    assert (view.status, view.progress) == (RunStatus.CANCELLED, pytest.approx(0.3))


def test_any_failed_run_makes_the_job_failed_whatever_was_cancelled() -> None:
    platform = make_platform()
    job_id, run_ids = sweep(platform)
    stop_at(platform, run_ids[0], RunStatus.FAILED, 0.5)
    platform.cancelling.cancel_job(job_id, "usr-a")

    view = platform.queries.get_job(job_id, "usr-a")
    assert (view.status, view.progress) == (RunStatus.FAILED, pytest.approx(0.5 / 3))


def test_a_succeeded_job_is_complete_and_a_queued_one_has_not_started() -> None:
    platform = make_platform()
    job_id, _ = sweep(platform)
    assert platform.queries.get_job(job_id, "usr-a").progress == 0.0
    drain(platform)
    view = platform.queries.get_job(job_id, "usr-a")
    assert (view.status, view.progress) == (RunStatus.SUCCEEDED, 1.0)


# -- deleting ------------------------------------------------------------------


def test_deleting_a_finished_job_removes_it_its_runs_and_their_blobs() -> None:
    platform = make_platform(limits=Limits(payload_threshold=10, progress_interval_seconds=0))
    kept_id, kept_runs = sweep(platform, 1)
    job_id, run_ids = sweep(platform, 2)
    drain(platform)
    for run_id in run_ids:
        platform.blobs.put(f"runs/{run_id}/artifacts/out.csv", b"a,b")
    platform.blobs.put(f"runs/{kept_runs[0]}/artifacts/out.csv", b"a,b")
    assert platform.blobs.list(f"jobs/{job_id}/") == [f"jobs/{job_id}/spec.json"]
    assert platform.blobs.list(f"runs/{run_ids[0]}/") == [
        f"runs/{run_ids[0]}/artifacts/out.csv", f"runs/{run_ids[0]}/result.json"]
    assert platform.queries.job_spec(job_id).count() == 2

    deleted = platform.jobs.delete_job(job_id, "usr-a")

    assert deleted.id == job_id and deleted.run_count == 2
    with pytest.raises(NotFound):
        platform.queries.get_job(job_id, "usr-a")
    for run_id in run_ids:
        with pytest.raises(NotFound):
            platform.queries.get_run(run_id, "usr-a")
        assert platform.blobs.list(f"runs/{run_id}/") == []
    assert platform.blobs.list(f"jobs/{job_id}/") == []
    assert platform.specs.get(job_id) is None
    with pytest.raises(NotFound):
        platform.queries.job_spec(job_id)
    assert platform.queries.get_job(kept_id, "usr-a").status is RunStatus.SUCCEEDED
    assert platform.blobs.list(f"runs/{kept_runs[0]}/") != []
    assert platform.blobs.list(f"jobs/{kept_id}/") != []


def test_a_job_with_unfinished_runs_is_not_deleted_until_cancelled() -> None:
    platform = make_platform()
    job_id, run_ids = sweep(platform)
    stop_at(platform, run_ids[0], RunStatus.CANCELLED, 0.5)

    with pytest.raises(Conflict, match=r"2 run.*queued or running: cancel it first"):
        platform.jobs.delete_job(job_id, "usr-a")
    assert platform.queries.get_job(job_id, "usr-a").job.id == job_id

    platform.cancelling.cancel_job(job_id, "usr-a")
    platform.jobs.delete_job(job_id, "usr-a")
    with pytest.raises(NotFound):
        platform.queries.get_job(job_id, "usr-a")


def test_deleting_while_cancelling_cancels_and_deletes_in_one_transaction() -> None:
    platform = make_platform()
    job_id, run_ids = sweep(platform)
    stop_at(platform, run_ids[0], RunStatus.SUCCEEDED, 1.0)

    platform.jobs.delete_job(job_id, "usr-a", cancelling=True)

    with pytest.raises(NotFound):
        platform.queries.get_job(job_id, "usr-a")


def test_a_deletion_that_fails_while_cancelling_leaves_the_runs_as_they_were(
        monkeypatch: pytest.MonkeyPatch) -> None:
    platform = make_platform()
    job_id, run_ids = sweep(platform)

    def unreachable(self: MemoryJobRepository, job_id: str) -> None:
        raise ServiceUnavailable("cannot reach the database")

    monkeypatch.setattr(MemoryJobRepository, "delete", unreachable)
    with pytest.raises(ServiceUnavailable):
        platform.jobs.delete_job(job_id, "usr-a", cancelling=True)

    assert [platform.queries.get_run(run_id, "usr-a").status for run_id in run_ids] == [
        RunStatus.QUEUED] * 3


def test_another_users_job_is_not_found_and_stays() -> None:
    platform = make_platform()
    job_id, _ = sweep(platform, owner="usr-a")
    drain(platform)

    with pytest.raises(NotFound):
        platform.jobs.delete_job(job_id, "usr-b")
    with pytest.raises(NotFound):
        platform.jobs.update_job(jobs.UpdateJob(job_id=job_id, owner_id="usr-b", name="mine"))
    assert platform.queries.get_job(job_id, "usr-a").job.name is None


def test_reports_made_from_a_deleted_job_keep_their_documents() -> None:
    platform = make_platform()
    job_id, _ = sweep(platform)
    drain(platform)
    report = platform.reporting.request_report(reports.RequestReport("usr-a", "summary", [job_id]))
    drain(platform)

    platform.jobs.delete_job(job_id, "usr-a")

    stored, content = platform.reporting.report_content(report.id, "usr-a")
    assert stored.job_ids == (job_id,) and content


# -- updating ------------------------------------------------------------------


def test_an_update_changes_the_fields_given_and_keeps_the_others() -> None:
    platform = make_platform()
    submission = platform.submitting.submit_run(
        SubmitRun("usr-a", "echo", {}, name="first", tags=["a"],
                                      metadata={"k": 1}))
    job_id = submission.job.id

    platform.jobs.update_job(jobs.UpdateJob(job_id=job_id, owner_id="usr-a", tags=["b", "c", "b"]))
    job = platform.queries.get_job(job_id, "usr-a").job
    assert (job.name, job.tags, job.metadata) == ("first", ("b", "c"), {"k": 1})

    platform.jobs.update_job(jobs.UpdateJob(job_id=job_id, owner_id="usr-a", name=None,
                                   metadata={"project": "x"}))
    job = platform.queries.get_job(job_id, "usr-a").job
    assert (job.name, job.tags, job.metadata) == (None, ("b", "c"), {"project": "x"})


@pytest.mark.parametrize("change", [
    {"tags": ["ok", ""]}, {"tags": "not-a-list"}, {"metadata": {"bad": float("nan")}},
    {"metadata": ["not", "an", "object"]}, {"name": "\ud800"},
])
def test_a_bad_update_changes_nothing(change: dict[str, Any]) -> None:
    platform = make_platform()
    job_id = platform.submitting.submit_run(SubmitRun("usr-a", "echo", {}, name="kept")).job.id

    with pytest.raises(ValidationError):
        platform.jobs.update_job(jobs.UpdateJob(job_id=job_id, owner_id="usr-a", **change))
    assert platform.queries.get_job(job_id, "usr-a").job.name == "kept"


def test_an_update_places_the_unfinished_runs_and_leaves_the_finished_ones() -> None:
    platform = make_platform()
    first = platform.machines.register_machine(machines.RegisterMachine("a", "x", 4))
    second = platform.machines.register_machine(machines.RegisterMachine("b", "x", 4))
    job_id, run_ids = sweep(platform)
    platform.jobs.update_job(jobs.UpdateJob(job_id=job_id, owner_id="usr-a", machine_id=first.id))
    stop_at(platform, run_ids[0], RunStatus.FAILED, 0.1)

    platform.jobs.update_job(jobs.UpdateJob(job_id=job_id, owner_id="usr-a", machine_id=second.id))
    placed = [r.machine_id for r in platform.queries.job_runs(job_id, "usr-a")]
    assert placed == [first.id, second.id, second.id]

    platform.jobs.update_job(jobs.UpdateJob(job_id=job_id, owner_id="usr-a", machine_id=None))
    placed = [r.machine_id for r in platform.queries.job_runs(job_id, "usr-a")]
    assert placed == [first.id, None, None]


def test_a_placement_that_cannot_be_made_changes_nothing() -> None:
    platform = make_platform()
    resting = platform.machines.register_machine(machines.RegisterMachine(
        "r", "x", 4, status=MachineStatus.MAINTENANCE))
    job_id = platform.submitting.submit_run(SubmitRun("usr-a", "echo", {}, name="kept")).job.id

    for machine_id, error in ((resting.id, Conflict), ("mach-missing", NotFound)):
        with pytest.raises(error):
            platform.jobs.update_job(jobs.UpdateJob(job_id=job_id, owner_id="usr-a", name="changed",
                                           machine_id=machine_id))
    assert platform.queries.get_job(job_id, "usr-a").job.name == "kept"

    drain(platform)
    with pytest.raises(Conflict, match="no unfinished run"):
        platform.jobs.update_job(jobs.UpdateJob(job_id=job_id, owner_id="usr-a", name="changed",
                                       machine_id=None))
    assert platform.queries.get_job(job_id, "usr-a").job.name == "kept"


# -- points on finished runs ---------------------------------------------------


@pytest.mark.parametrize("status", [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED])
def test_a_finished_run_takes_no_more_points(status: RunStatus) -> None:
    platform = make_platform()
    run_id = platform.submitting.submit_run(SubmitRun("usr-a", "echo", {})).run_ids[0]
    platform.metrics.append_metric(metrics.AppendMetric(run_id, "usr-a", "loss", 1.0))
    if status is RunStatus.SUCCEEDED:
        drain(platform)
    else:
        stop_at(platform, run_id, status, 0.5)

    with pytest.raises(Conflict, match=f"is {status.value}"):
        platform.metrics.append_metric(metrics.AppendMetric(run_id, "usr-a", "loss", 0.5))
    series = platform.metrics.metric_series(run_id, "usr-a")
    assert series.complete and [p.value for p in series.points] == [1.0]


def test_a_running_handler_still_records_its_points() -> None:
    platform = make_platform()

    def converging(parameters: object, context: Any) -> dict[str, int]:
        for step in range(3):
            context.metric("loss", 1.0 / (step + 1))
        context.log("done")
        return {"steps": 3}

    platform.executor.functions["converging"] = converging  # type: ignore[attr-defined]
    run_id = platform.submitting.submit_run(SubmitRun("usr-a", "converging", {})).run_ids[0]
    drain(platform)

    series = platform.metrics.metric_series(run_id, "usr-a", "loss")
    assert series.complete and [p.step for p in series.points] == [0, 1, 2]
    assert platform.queries.decoded_result(run_id, "usr-a") == {"steps": 3}


# -- retrying a job's failed and cancelled runs --------------------------------


def test_retrying_a_job_queues_its_failed_and_cancelled_runs_again_and_no_other() -> None:
    platform = make_platform()
    job_id, run_ids = sweep(platform)
    stop_at(platform, run_ids[0], RunStatus.FAILED, 0.5)
    stop_at(platform, run_ids[1], RunStatus.CANCELLED, 0.2)

    queued = platform.retrying.retry_job(job_id, "usr-a")

    assert sorted(queued) == sorted(run_ids[:2])
    statuses = {r: platform.queries.get_run(r, "usr-a").status for r in run_ids}
    assert statuses[run_ids[0]] is statuses[run_ids[1]] is RunStatus.QUEUED
    assert platform.queries.get_job(job_id, "usr-a").status is RunStatus.QUEUED
    assert platform.retrying.retry_job(job_id, "usr-a") == []  # nothing left to retry


def test_another_users_job_is_not_found_for_a_retry() -> None:
    platform = make_platform()
    job_id, run_ids = sweep(platform)
    stop_at(platform, run_ids[0], RunStatus.FAILED, 0.5)

    with pytest.raises(NotFound):
        platform.retrying.retry_job(job_id, "usr-b")
    assert platform.queries.get_run(run_ids[0], "usr-a").status is RunStatus.FAILED


def test_bulk_cancel_and_retry_act_on_every_job_named_or_on_none() -> None:
    platform = make_platform()
    first, first_runs = sweep(platform)
    second, second_runs = sweep(platform)

    with pytest.raises(NotFound):
        platform.cancelling.cancel_jobs([first, "job-missing"], "usr-a")
    assert platform.queries.get_job(first, "usr-a").status is RunStatus.QUEUED

    cancelled = platform.cancelling.cancel_jobs([first, second, first], "usr-a")
    assert sorted(cancelled) == sorted(first_runs + second_runs)
    assert sorted(platform.retrying.retry_jobs([first, second], "usr-a")) == sorted(
        first_runs + second_runs)


def test_the_jobs_a_filter_matches_are_read_page_by_page_up_to_a_limit() -> None:
    platform = make_platform()
    made = [sweep(platform)[0] for _ in range(3)]
    query = JobQuery(owner_id="usr-a")
    assert sorted(platform.queries.matching_job_ids(query)) == sorted(made)
    assert platform.queries.matching_job_ids(JobQuery(owner_id="usr-b")) == []
    with pytest.raises(ValidationError, match="3 jobs match: at most 2"):
        platform.queries.matching_job_ids(query, limit=2)
