"""Steps that lose races with other writers are tried again, then given up with a typed error.

Seen before: six retry loops with three ways of giving up; two of them, where a
run's reports are written, looped for as long as the run kept changing.
"""

from __future__ import annotations

import pytest

from simdock.conflicts import CONFLICT_ATTEMPTS, retry_on_conflict
from simdock.domain import Run, RunStatus
from simdock.errors import ConcurrencyConflict, NotFound
from simdock.usecases.submit import SubmitRun
from simdock_adapters.memory.repositories import MemoryRunRepository
from tests.unit.fakes import FakeExecutor, make_platform, work_of
from tests.unit.test_outages import claimed, reporting


class Racing:
    """A step that loses ``losses`` races, then does its work."""

    def __init__(self, losses: int) -> None:
        self.losses = losses
        self.tries = 0

    def __call__(self) -> str:
        self.tries += 1
        if self.tries <= self.losses:
            raise ConcurrencyConflict("changed meanwhile")
        return "done"


def test_a_step_that_loses_a_few_races_is_done() -> None:
    step = Racing(CONFLICT_ATTEMPTS - 1)
    assert retry_on_conflict(step, "run 'r1'") == "done"
    assert step.tries == CONFLICT_ATTEMPTS


def test_a_step_that_keeps_losing_is_given_up_with_a_conflict_naming_it() -> None:
    step = Racing(1000)
    with pytest.raises(ConcurrencyConflict, match=r"run 'r1' kept changing .*5 tries"):
        retry_on_conflict(step, "run 'r1'")
    assert step.tries == CONFLICT_ATTEMPTS


def test_other_errors_are_not_tried_again() -> None:
    tries = []

    def step() -> None:
        tries.append(1)
        raise NotFound("run", "r1")

    with pytest.raises(NotFound):
        retry_on_conflict(step, "run 'r1'")
    assert len(tries) == 1


def test_reports_that_keep_losing_races_are_kept_and_written_once_the_race_ends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    racing = False
    update = MemoryRunRepository.update

    def losing(self: MemoryRunRepository, run: Run) -> None:
        if racing:
            raise ConcurrencyConflict(f"run '{run.id}' changed meanwhile")
        update(self, run)

    def start_racing() -> None:
        nonlocal racing
        racing = True

    monkeypatch.setattr(MemoryRunRepository, "update", losing)
    platform = make_platform(FakeExecutor({"ticks": reporting(start_racing)}))
    run_id = platform.submitting.submit_run(SubmitRun("usr-1", "ticks", {})).run_ids[0]
    run = claimed(platform, run_id)

    # every write loses from the second tick on
    outcome = work_of(platform).executing.execute_claimed(run)
    assert outcome.error is None
    assert len(outcome.unwritten.logs) == 3

    racing = False
    assert work_of(platform).executing.record_outcomes([outcome]) == [RunStatus.SUCCEEDED]
    with platform.uow() as uow:
        assert [line.message for line in uow.logs.list(run_id)] == [
            f"tick {tick}" for tick in range(5)]
