"""The run and report state machines: every legal and illegal transition."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from simdock.domain import (
    Payload,
    Report,
    ReportStatus,
    Run,
    RunStatus,
    job_progress,
    job_status,
)
from simdock.domain.status import REPORT_TRANSITIONS, RUN_TRANSITIONS
from simdock.errors import InvalidTransition, ValidationError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def make_run(status: RunStatus = RunStatus.QUEUED) -> Run:
    run = Run("run-1", "job-1", "usr-1", "echo", 0, NOW)
    run.status = status
    return run


LEGAL = {(s, t) for s, targets in RUN_TRANSITIONS.items() for t in targets}
ILLEGAL = [(s, t) for s, t in itertools.product(RunStatus, RunStatus) if (s, t) not in LEGAL]


@pytest.mark.parametrize(("source", "target"), sorted(LEGAL))
def test_legal_run_transition(source: RunStatus, target: RunStatus) -> None:
    run = make_run(source)
    run.transition(target, NOW)
    assert run.status is target


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_illegal_run_transition_is_refused_and_changes_nothing(
    source: RunStatus, target: RunStatus
) -> None:
    run = make_run(source)
    with pytest.raises(InvalidTransition) as info:
        run.transition(target, NOW)
    assert run.status is source
    assert source.value in str(info.value) and target.value in str(info.value)


def test_a_cancelled_run_never_becomes_succeeded() -> None:
    run = make_run(RunStatus.RUNNING)
    run.cancel(NOW)
    with pytest.raises(InvalidTransition):
        run.succeed(Payload(inline={}), NOW)
    assert run.status is RunStatus.CANCELLED and run.result is None


def test_terminal_statuses_lead_only_back_to_the_queue_by_a_retry() -> None:
    for status in RunStatus:
        if status.terminal:
            assert RUN_TRANSITIONS[status] <= {RunStatus.QUEUED}
    assert not RUN_TRANSITIONS[RunStatus.SUCCEEDED]


@pytest.mark.parametrize("status", [RunStatus.FAILED, RunStatus.CANCELLED])
def test_a_retry_requeues_the_same_run_and_keeps_its_attempts(status: RunStatus) -> None:
    run = make_run(RunStatus.RUNNING)
    run.attempts = 1
    run.fail("boom", NOW) if status is RunStatus.FAILED else run.cancel(NOW)
    run.retry(NOW)
    assert (run.status, run.id, run.attempts) == (RunStatus.QUEUED, "run-1", 1)
    assert run.error is None and run.finished_at is None and run.progress == 0.0


@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.SUCCEEDED])
def test_only_a_failed_or_cancelled_run_is_retried(status: RunStatus) -> None:
    run = make_run(status)
    with pytest.raises(InvalidTransition):
        run.retry(NOW)
    assert run.status is status


def test_start_counts_attempts_and_requeue_resets_progress() -> None:
    run = make_run()
    run.start(NOW, "w1")
    run.report_progress(0.4, NOW)
    run.requeue(NOW)
    run.start(NOW, "w2")
    assert run.attempts == 2 and run.progress == 0.0 and run.worker == "w2"


def test_progress_never_goes_backwards_and_is_bounded() -> None:
    run = make_run(RunStatus.RUNNING)
    run.report_progress(0.6, NOW)
    run.report_progress(0.2, NOW)
    assert run.progress == 0.6
    with pytest.raises(ValidationError):
        run.report_progress(1.5, NOW)


def test_progress_of_a_run_that_is_not_running_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        make_run(RunStatus.QUEUED).report_progress(0.5, NOW)


def test_a_finished_run_cannot_be_placed_on_a_machine() -> None:
    run = make_run(RunStatus.RUNNING)
    run.fail("boom", NOW)
    with pytest.raises(InvalidTransition):
        run.place_on("mach-1", NOW)


REPORT_LEGAL = {(s, t) for s, targets in REPORT_TRANSITIONS.items() for t in targets}


@pytest.mark.parametrize(("source", "target"), list(itertools.product(ReportStatus, ReportStatus)))
def test_report_transitions(source: ReportStatus, target: ReportStatus) -> None:
    report = Report("rpt-1", "usr-1", "summary", "json", ("job-1",), NOW)
    report.status = source
    if (source, target) in REPORT_LEGAL:
        report.transition(target)
        assert report.status is target
    else:
        with pytest.raises(InvalidTransition):
            report.transition(target)
        assert report.status is source


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({}, RunStatus.QUEUED),
        ({RunStatus.QUEUED: 3}, RunStatus.QUEUED),
        ({RunStatus.QUEUED: 2, RunStatus.RUNNING: 1}, RunStatus.RUNNING),
        ({RunStatus.QUEUED: 2, RunStatus.SUCCEEDED: 1}, RunStatus.RUNNING),
        ({RunStatus.SUCCEEDED: 3}, RunStatus.SUCCEEDED),
        ({RunStatus.CANCELLED: 3}, RunStatus.CANCELLED),
        ({RunStatus.SUCCEEDED: 2, RunStatus.FAILED: 1}, RunStatus.FAILED),
        ({RunStatus.SUCCEEDED: 2, RunStatus.CANCELLED: 1}, RunStatus.CANCELLED),
        ({RunStatus.FAILED: 1, RunStatus.CANCELLED: 2}, RunStatus.FAILED),
        ({RunStatus.SUCCEEDED: 1, RunStatus.FAILED: 1, RunStatus.CANCELLED: 1},
         RunStatus.FAILED),
        ({RunStatus.CANCELLED: 1, RunStatus.QUEUED: 1}, RunStatus.RUNNING),
        ({RunStatus.SUCCEEDED: 1, RunStatus.CANCELLED: 0}, RunStatus.SUCCEEDED),
    ],
)
def test_job_status_is_derived_from_run_counts(
    counts: dict[RunStatus, int], expected: RunStatus
) -> None:
    assert job_status(counts) is expected


@pytest.mark.parametrize(
    ("counts", "progress", "expected"),
    [
        ({}, {}, 0.0),
        ({RunStatus.QUEUED: 2}, {RunStatus.QUEUED: 0.0}, 0.0),
        ({RunStatus.SUCCEEDED: 3}, {RunStatus.SUCCEEDED: 3.0}, 1.0),
        # a succeeded run counts as complete whatever progress it last reported
        ({RunStatus.SUCCEEDED: 2}, {RunStatus.SUCCEEDED: 0.5}, 1.0),
        ({RunStatus.CANCELLED: 1}, {RunStatus.CANCELLED: 0.25}, 0.25),
        ({RunStatus.SUCCEEDED: 1, RunStatus.CANCELLED: 2},
         {RunStatus.SUCCEEDED: 1.0, RunStatus.CANCELLED: 0.5}, 0.5),
        ({RunStatus.FAILED: 1, RunStatus.RUNNING: 1},
         {RunStatus.FAILED: 0.4, RunStatus.RUNNING: 0.2}, 0.3),
    ],
)
def test_job_progress_is_the_mean_progress_of_its_runs(
    counts: dict[RunStatus, int], progress: dict[RunStatus, float], expected: float
) -> None:
    assert job_progress(counts, progress) == pytest.approx(expected)
