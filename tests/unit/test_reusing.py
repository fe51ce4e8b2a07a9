"""Never computing the same run twice, through the core on fakes: a run's identity, reuse
at submission, what is never reused, and deleting a run that others reuse."""

from __future__ import annotations

from typing import Any

import pytest

from simdock.domain import RunStatus, SweepSpec
from simdock.domain.run_identity import Declared, canonical_json, run_identity
from simdock.limits import Limits
from simdock.ports import RunContext
from simdock.usecases.submit import SubmitRun, SubmitSweep
from tests.unit.fakes import FakeExecutor, QueueDispatcher, make_platform

V1 = Declared(version="1")


def square(parameters: Any, context: RunContext) -> dict[str, Any]:
    context.artifact("out.txt", f"{parameters['x']}".encode())
    return {"y": parameters["x"] ** 2}


def platform_of(version: str | None = "1", seed: str | None = None) -> Any:
    executor = FakeExecutor({"square": square})
    if version is not None:
        executor.versions["square"] = version
    if seed is not None:
        executor.seeds["square"] = seed
    return make_platform(executor, limits=Limits(payload_threshold=10_000,
                                                 progress_interval_seconds=0))


def sweep(platform: Any, xs: list[Any], owner: str = "usr-a", **options: Any) -> list[Any]:
    """Submit ``square`` over ``xs``, run what was queued; the job's runs."""
    job = platform.submitting.submit_sweep(SubmitSweep(
        owner, "square", SweepSpec(grid={"x": xs}), **options)).job
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    return runs_of(platform, job.id, owner)


def runs_of(platform: Any, job_id: str, owner: str = "usr-a") -> list[Any]:
    return platform.queries.job_with_runs(job_id, owner)[1]


def executed(platform: Any) -> int:
    return len(platform.executor.executed)


# -- identity --------------------------------------------------------------------


def test_canonical_parameters_sort_keys_and_normalise_numbers() -> None:
    assert canonical_json({"b": 1.0, "a": [2.50, -0.0, True, None], "c": {"z": 1, "y": 1e20}}) \
        == '{"a":[2.5,0,true,null],"b":1,"c":{"y":100000000000000000000,"z":1}}'
    same = run_identity("t", V1, {"x": 1, "y": 2.0})
    assert same == run_identity("t", V1, {"y": 2, "x": 1.0})
    assert same is not None and len(same) == 64


@pytest.mark.parametrize("other", [
    ("u", V1, {"x": 1, "y": 2}),                       # another type
    ("t", Declared(version="2"), {"x": 1, "y": 2}),    # another version
    ("t", V1, {"x": 1, "y": 3}),                       # another value
    ("t", V1, {"x": 1, "y": "2"}),                     # a string is not a number
    ("t", V1, {"x": True, "y": 2}),                    # nor is a boolean
])
def test_anything_else_that_differs_makes_another_identity(other: Any) -> None:
    assert run_identity(*other) != run_identity("t", V1, {"x": 1, "y": 2})


def test_input_files_digests_are_part_of_the_identity_when_a_run_has_any() -> None:
    plain = run_identity("t", V1, {"x": 1})
    assert run_identity("t", V1, {"x": 1}, {}) == plain  # no inputs: as before they counted
    on_a = run_identity("t", V1, {"x": 1}, {"inputs.zip": "a" * 64})
    assert on_a not in (plain, run_identity("t", V1, {"x": 1}, {"inputs.zip": "b" * 64}))
    assert on_a != run_identity("t", V1, {"x": 1}, {"other.zip": "a" * 64})


def test_no_identity_without_a_version_or_for_a_seeded_handler_given_no_seed() -> None:
    assert run_identity("t", Declared(), {"x": 1}) is None
    seeded = Declared(seed_parameter="seed", version="1")
    assert run_identity("t", seeded, {"x": 1}) is None
    assert run_identity("t", seeded, {"x": 1, "seed": 7}) \
        != run_identity("t", seeded, {"x": 1, "seed": 8})


# -- reuse at submission ---------------------------------------------------------


def test_a_resubmitted_sweep_reuses_every_run_and_executes_none() -> None:
    platform = platform_of()
    first = sweep(platform, [1, 2, 3])
    assert executed(platform) == 3

    again = sweep(platform, [1, 2, 3])

    assert executed(platform) == 3
    assert [(r.status, r.attempts, r.reused_from) for r in again] == [
        (RunStatus.SUCCEEDED, 0, r.id) for r in first]
    assert [r.result.inline for r in again] == [{"y": 1}, {"y": 4}, {"y": 9}]
    assert platform.queries.get_job(again[0].job_id, "usr-a").status is RunStatus.SUCCEEDED


def test_changing_one_axis_value_reruns_only_the_runs_it_touches() -> None:
    platform = platform_of()
    sweep(platform, [1, 2, 3])
    again = sweep(platform, [1, 2, 4])
    assert executed(platform) == 4
    assert [r.reused_from is not None for r in again] == [True, True, False]
    assert again[2].attempts == 1 and again[2].result.inline == {"y": 16}


def test_a_reused_run_refers_to_the_run_that_executed_and_its_artifacts() -> None:
    platform = platform_of()
    (first,) = sweep(platform, [5])
    (second,) = sweep(platform, [5])
    (third,) = sweep(platform, [5.0])  # the same number
    assert second.reused_from == third.reused_from == first.id
    with platform.store() as uow:
        original = uow.artifacts.list(first.id)
        assert [(a.name, a.blob_key) for a in uow.artifacts.list(third.id)] == [
            (a.name, a.blob_key) for a in original] != []
    assert platform.blobs.get(original[0].blob_key) == b"5"


@pytest.mark.parametrize("case", ["reuse false", "no version", "no seed", "other user",
                                  "failed"])
def test_what_is_never_reused(case: str) -> None:
    platform = platform_of(version=None if case == "no version" else "1",
                           seed="seed" if case == "no seed" else None)
    sweep(platform, [1, 2] if case != "failed" else [1, "two"])
    again = sweep(platform, [1, 2] if case != "failed" else [1, "two"],
                  owner="usr-b" if case == "other user" else "usr-a",
                  reuse=case != "reuse false")
    reused = [r.reused_from is not None for r in again]
    assert reused == ([True, False] if case == "failed" else [False, False])


def test_a_single_run_is_reused_too() -> None:
    platform = platform_of()
    jobs = []
    for _ in range(2):
        jobs.append(platform.submitting.submit_run(SubmitRun("usr-a", "square", {"x": 3})))
        platform.dispatcher.drain()
    second = runs_of(platform, jobs[1].job.id)[0]
    assert second.reused_from == jobs[0].run_ids[0] and executed(platform) == 1


# -- deleting --------------------------------------------------------------------


def test_deleting_the_earlier_job_keeps_what_the_reusing_runs_refer_to() -> None:
    platform = platform_of()
    (first,) = sweep(platform, [7])
    (second,) = sweep(platform, [7])
    (blob,) = platform.blobs.list(f"runs/{first.id}/artifacts/")

    platform.jobs.delete_job(first.job_id, "usr-a")

    assert platform.blobs.get(blob) == b"7"
    run = platform.queries.get_run(second.id, "usr-a")
    assert run.result.inline == {"y": 49} and run.reused_from == first.id
    (third,) = sweep(platform, [7])  # the reusing run is reused in turn
    assert third.reused_from == first.id and executed(platform) == 1

    platform.jobs.delete_job(second.job_id, "usr-a")
    assert platform.blobs.get(blob) == b"7"  # the third still refers to it
    platform.jobs.delete_job(third.job_id, "usr-a")
    assert platform.blobs.list(f"runs/{first.id}/") == []  # the last one took it along
