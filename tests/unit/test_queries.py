"""Listing, filtering, ordering, paging, statistics, and owners kept apart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simdock.clock import ManualClock
from simdock.domain import Job, JobKind, RunStatus, SweepSpec
from simdock.domain.listing import Omitted
from simdock.errors import NotFound, ValidationError
from simdock.limits import Limits
from simdock.paging import Ordering, PageRequest
from simdock.ports import RunContext
from simdock.selection import JobQuery, RunQuery
from simdock.tallies import RunTally
from simdock.usecases import machines, metrics, reports
from simdock.usecases.queries import JobView
from simdock.usecases.submit import SubmitRun, SubmitSweep
from tests.unit.fakes import FakeExecutor, QueueDispatcher, make_platform


def test_another_users_resources_are_not_found() -> None:
    platform = make_platform()
    submission = platform.submitting.submit_run(SubmitRun("usr-alice", "echo", {}))
    job_id, run_id = submission.job.id, submission.run_ids[0]
    for call in (
        lambda: platform.queries.get_job(job_id, "usr-bob"),
        lambda: platform.queries.get_run(run_id, "usr-bob"),
        lambda: platform.queries.run_logs(run_id, "usr-bob"),
        lambda: platform.queries.run_artifacts(run_id, "usr-bob"),
        lambda: platform.queries.run_result(run_id, "usr-bob"),
        lambda: platform.cancelling.cancel_job(job_id, "usr-bob"),
        lambda: platform.cancelling.cancel_run(run_id, "usr-bob"),
        lambda: platform.metrics.metric_series(run_id, "usr-bob"),
        lambda: platform.metrics.append_metric(
            metrics.AppendMetric(run_id, "usr-bob", "loss", 1.0)),
        lambda: platform.reporting.request_report(
            reports.RequestReport("usr-bob", "summary", [job_id])),
    ):
        with pytest.raises(NotFound):
            call()
    assert platform.queries.get_run(run_id, "usr-alice").status is RunStatus.QUEUED


def test_listing_filters_by_owner_status_type_and_tag() -> None:
    platform = make_platform()
    a = platform.submitting.submit_run(SubmitRun("usr-a", "echo", {}, tags=["x"]))
    platform.submitting.submit_run(SubmitRun("usr-a", "echo", {}, tags=["y"]))
    platform.submitting.submit_run(SubmitRun("usr-b", "echo", {}, tags=["x"]))
    platform.cancelling.cancel_job(a.job.id, "usr-a")
    mine = platform.queries.list_jobs(JobQuery(owner_id="usr-a"))
    assert mine.total == 2
    tagged = platform.queries.list_jobs(JobQuery(owner_id="usr-a", tag="x"))
    assert [v.job.id for v in tagged.items] == [a.job.id]
    cancelled = platform.queries.list_runs(
        RunQuery(owner_id="usr-a", statuses=frozenset({RunStatus.CANCELLED})))
    assert [r.job_id for r in cancelled.items] == [a.job.id]
    queued_jobs = platform.queries.list_jobs(
        JobQuery(owner_id="usr-a", statuses=frozenset({RunStatus.QUEUED})))
    assert queued_jobs.total == 1
    assert platform.queries.list_runs(RunQuery(simulation_type="other")).total == 0


def test_pages_and_ordering() -> None:
    platform = make_platform()
    clock = platform.clock
    assert isinstance(clock, ManualClock)
    ids = []
    for i in range(7):
        ids.append(platform.submitting.submit_run(SubmitRun("usr-a", "echo", {"i": i})).job.id)
        clock.advance(1)
    first = platform.queries.list_jobs(JobQuery(owner_id="usr-a", page=PageRequest(1, 3)))
    assert [v.job.id for v in first.items] == ids[::-1][:3]
    assert first.total == 7 and first.total_pages == 3
    last = platform.queries.list_jobs(JobQuery(owner_id="usr-a", page=PageRequest(3, 3)))
    assert [v.job.id for v in last.items] == [ids[0]]
    beyond = platform.queries.list_jobs(JobQuery(owner_id="usr-a", page=PageRequest(9, 3)))
    assert beyond.items == [] and beyond.total == 7
    oldest = platform.queries.list_jobs(
        JobQuery(owner_id="usr-a", order=Ordering("created_at", descending=False)))
    assert oldest.items[0].job.id == ids[0]


@pytest.mark.parametrize(("page", "size"), [(0, 10), (-1, 10), (1, 0), (1, 1001)])
def test_bad_pages_are_refused(page: int, size: int) -> None:
    with pytest.raises(ValidationError):
        PageRequest(page, size)


def test_ordering_accepts_known_fields_only() -> None:
    from simdock.paging import RUN_ORDER_FIELDS

    assert Ordering.parse("-started_at", RUN_ORDER_FIELDS) == Ordering("started_at", True)
    assert Ordering.parse("status:asc", RUN_ORDER_FIELDS) == Ordering("status", False)
    with pytest.raises(ValidationError, match="cannot order by 'password'"):
        Ordering.parse("password", RUN_ORDER_FIELDS)


def test_statistics_count_by_status_and_average_durations() -> None:
    platform = make_platform()
    clock = platform.clock
    assert isinstance(clock, ManualClock)

    def takes_two_seconds(parameters: object, context: object) -> object:
        clock.advance(2)
        return {}

    platform.executor.functions["slow"] = takes_two_seconds  # type: ignore[attr-defined]
    platform.submitting.submit_sweep(SubmitSweep("usr-a", "slow", SweepSpec(grid={"i": [1, 2]})))
    queued = platform.submitting.submit_run(SubmitRun("usr-a", "echo", {}))
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.runs.remove(queued.run_ids[0])
    platform.dispatcher.drain()
    stats = platform.queries.statistics("usr-a")
    assert stats.counts == {RunStatus.SUCCEEDED: 2, RunStatus.QUEUED: 1}
    assert stats.total == 3 and stats.mean_duration_seconds == pytest.approx(2.0)
    assert platform.queries.statistics("usr-b").total == 0


def test_results_are_read_only_once_finished() -> None:
    from simdock.errors import Conflict

    platform = make_platform()
    submission = platform.submitting.submit_run(SubmitRun("usr-a", "echo", {}))
    with pytest.raises(Conflict, match="not ready"):
        platform.queries.finished_job(submission.job.id, "usr-a")
    with pytest.raises(Conflict, match="not ready"):
        platform.queries.finished_run(submission.run_ids[0], "usr-a")
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    view, runs = platform.queries.finished_job(submission.job.id, "usr-a")
    assert view.done and [r.id for r in runs] == submission.run_ids


def test_a_log_is_read_page_by_page_until_its_run_has_ended() -> None:
    def chatty(parameters: object, context: RunContext) -> dict[str, int]:
        for line in range(5):
            context.log(f"line {line}")
        return {}

    platform = make_platform(FakeExecutor({"chatty": chatty}))
    run_id = platform.submitting.submit_run(SubmitRun("usr-1", "chatty", {})).run_ids[0]
    queued = platform.queries.log_page(run_id, "usr-1", limit=2)
    assert (queued.lines, queued.next_after, queued.complete) == ([], 0, False)

    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    pages, after = [], 0
    while True:
        page = platform.queries.log_page(run_id, "usr-1", after=after, limit=2)
        pages.append([line.message for line in page.lines])
        after = page.next_after
        if page.complete:
            break
    assert pages == [["line 0", "line 1"], ["line 2", "line 3"], ["line 4"]]
    with pytest.raises(ValidationError, match="1 to 10000 log lines"):
        platform.queries.log_page(run_id, "usr-1", limit=0)
    with pytest.raises(NotFound):
        platform.queries.log_page(run_id, "usr-2")

    found = platform.queries.log_page(run_id, "usr-1", containing="LINE 3", limit=2)
    assert ([line.seq for line in found.lines], found.next_after, found.complete, found.last
            ) == ([4], 5, True, 5)
    end = platform.queries.log_end(run_id, "usr-1", 2)
    assert ([line.message for line in end.lines], end.next_after, end.complete) == (
        ["line 3", "line 4"], 5, True)
    with pytest.raises(ValidationError, match="log search"):
        platform.queries.log_page(run_id, "usr-1", containing="")


def test_run_views_hold_what_a_page_shows_of_each_run() -> None:
    platform = make_platform(limits=Limits(payload_threshold=40, progress_interval_seconds=0))
    big = "x" * 100
    submission = platform.submitting.submit_sweep(SubmitSweep("usr-1", "echo", SweepSpec(
        grid={"n": [1, 2]}, base={"note": big}), tags=["t"]))
    machine = platform.machines.register_machine(machines.RegisterMachine(
        "rack-1", cpu="4 cores", memory_gb=8.0))
    platform.machines.place_run(submission.run_ids[0], machine.id, "usr-1")

    page = platform.listing.list_run_views(
        RunQuery(owner_id="usr-1", order=Ordering("index", False)))
    assert page.total == 2
    assert [(v.run.index, v.job.tags, v.parameters["n"]) for v in page.items] == [
        (0, ("t",), 1), (1, ("t",), 2)]
    assert all(isinstance(v.parameters["note"], Omitted) for v in page.items)

    alone = platform.listing.run_view(submission.run_ids[0], "usr-1", with_machine=True)
    assert alone.parameters == {"note": big, "n": 1}
    assert alone.machine is not None and alone.machine.id == machine.id

    detail, views = platform.listing.job_run_views(submission.job.id, "usr-1")
    assert detail.outline.ids == submission.run_ids and detail.parameters is None
    assert [v.machine.id if v.machine else None for v in views] == [machine.id, None]
    with pytest.raises(NotFound):
        platform.listing.run_view(submission.run_ids[0], "usr-2")


def test_a_job_read_before_its_runs_are_counted_is_not_done_while_runs_added_since_wait(
        ) -> None:
    """A replicate's end commits with its point's next batch: a job read before that commit
    (its run_count without the batch) and counted after it (every earlier run ended, the
    batch queued) is not done."""
    job = Job(id="job-1", owner_id="usr-a", simulation_type="monte_carlo",
              kind=JobKind.SWEEP, run_count=26, created_at=datetime.now(UTC))
    read_after_the_batch = RunTally(counts={RunStatus.SUCCEEDED: 26, RunStatus.QUEUED: 16})
    view = JobView.of(job, read_after_the_batch)
    assert (view.total, view.finished, view.done) == (42, 26, False)
    assert JobView.of(job, RunTally(counts={RunStatus.SUCCEEDED: 26})).done
