"""Fair claiming: turns go round owners with queued runs, then round each owner's jobs."""

from __future__ import annotations

from simdock.domain import SweepSpec
from simdock.fair_queue import MAX_BATCH, FairQueue
from simdock.platform import Platform
from simdock.usecases.submit import SubmitRun, SubmitSweep
from tests.unit.fakes import execution_of, make_platform


def claim(platform: Platform, limit: int = 1) -> list[str]:
    with platform.uow() as uow:
        runs = execution_of(platform).queue.claim(uow, "w-1", platform.clock.now(), limit)
        uow.commit()
    return [f"{r.owner_id}/{r.job_id}/{r.index}" for r in runs]


def sweep(platform: Platform, owner: str, size: int) -> str:
    return platform.submitting.submit_sweep(
        SubmitSweep(owner, "echo", SweepSpec(grid={"i": list(range(size))}))).job.id


def test_another_users_single_run_is_claimed_at_the_next_turn() -> None:
    platform = make_platform()
    big = sweep(platform, "usr-a", 300)
    claim(platform)
    single = platform.submitting.submit_run(SubmitRun("usr-b", "echo", {})).job.id
    assert claim(platform) == [f"usr-b/{single}/0"]
    assert claim(platform) == [f"usr-a/{big}/1"]


def test_each_users_turn_comes_round_in_a_batch() -> None:
    platform = make_platform()
    a, b, c = (sweep(platform, owner, 5) for owner in ("usr-a", "usr-b", "usr-c"))
    assert claim(platform, limit=6) == [f"usr-a/{a}/0", f"usr-b/{b}/0", f"usr-c/{c}/0",
                                        f"usr-a/{a}/1", f"usr-b/{b}/1", f"usr-c/{c}/1"]


def test_a_users_other_job_is_not_kept_behind_their_sweep() -> None:
    platform = make_platform()
    big = sweep(platform, "usr-a", 100)
    claim(platform)
    other = platform.submitting.submit_run(SubmitRun("usr-a", "echo", {})).job.id
    assert set(claim(platform, limit=2)) == {f"usr-a/{other}/0", f"usr-a/{big}/1"}


def test_with_one_job_queued_a_batch_is_taken_from_it_in_order() -> None:
    platform = make_platform()
    job = sweep(platform, "usr-a", 10)
    assert claim(platform, limit=4) == [f"usr-a/{job}/{i}" for i in range(4)]
    assert claim(platform, limit=10) == [f"usr-a/{job}/{i}" for i in range(4, 10)]
    assert claim(platform) == []


def test_batches_grow_for_short_runs_and_shrink_to_one_for_long_ones() -> None:
    queue = FairQueue()
    assert queue.batch_size() == 1
    for _ in range(20):
        queue.observe(0.001, 10)
    assert queue.batch_size() == MAX_BATCH
    for _ in range(20):
        queue.observe(2.0, 1)
    assert queue.batch_size() == 1
