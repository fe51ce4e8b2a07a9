"""What a container run may use: asked by its job, within the platform's maximum, recorded
with the job and handed to the executor in the run's task."""

from __future__ import annotations

import pytest

from simdock.domain import SweepSpec
from simdock.domain.images import container_type
from simdock.domain.resources import Resources
from simdock.errors import LimitExceeded, ValidationError
from simdock.limits import Limits
from simdock.usecases.submit import SubmitRun, SubmitSweep
from tests.unit.fakes import FakeExecutor, make_platform, work_of

IMAGE = container_type("sim:local")
LIMITS = Limits(progress_interval_seconds=0.0,
                default_resources=Resources(memory_mb=256, cpus=1.0, pids=128),
                max_resources=Resources(memory_mb=1024, cpus=2.0, pids=512))


def platform_and_executor() -> tuple[object, FakeExecutor]:
    executor = FakeExecutor({IMAGE: lambda p, c: {"ok": True}, "echo": lambda p, c: {}})
    return make_platform(executor, LIMITS), executor


def test_a_container_run_gets_what_its_job_asked_and_the_defaults_for_the_rest() -> None:
    platform, executor = platform_and_executor()
    submission = platform.submitting.submit_run(SubmitRun("usr-1", IMAGE, {"n": 1},
                                      resources=Resources(memory_mb=512)))
    granted = Resources(memory_mb=512, cpus=1.0, pids=128)
    assert platform.queries.job_spec(submission.job.id).resources == granted

    work_of(platform).executing.execute_run(submission.run_ids[0])
    (task,) = executor.tasks
    assert (task.image, task.resources) == ("sim:local", granted)


def test_the_grant_is_kept_with_the_job_s_specification() -> None:
    spec = SweepSpec(grid={"a": [1, 2]}, resources=Resources(memory_mb=64, cpus=0.5, pids=16))
    assert SweepSpec.from_record(spec.to_record()).resources == spec.resources
    assert SweepSpec.from_record(SweepSpec(base={"a": 1}).to_record()).resources is None


def test_without_a_request_a_container_run_gets_the_defaults() -> None:
    platform, _ = platform_and_executor()
    submission = platform.submitting.submit_sweep(
        SubmitSweep("usr-1", IMAGE, SweepSpec(grid={"n": [1, 2]})))
    with platform.uow() as uow:
        runs = uow.runs.for_job(submission.job.id)
    assert {platform.queries.run_resources(run) for run in runs} == {LIMITS.default_resources}


@pytest.mark.parametrize(("asked", "refusal", "words"), [
    (Resources(memory_mb=2048), LimitExceeded, "memory_mb may be at most 1024"),
    (Resources(cpus=4.0), LimitExceeded, "cpus may be at most 2"),
    (Resources(pids=4), ValidationError, "pids must be at least 8"),
    (Resources(memory_mb=1.5), ValidationError, "memory_mb must be a whole number"),  # type: ignore[arg-type]
])
def test_a_request_beyond_the_maximum_is_refused_before_anything_is_stored(
        asked: Resources, refusal: type[Exception], words: str) -> None:
    platform, _ = platform_and_executor()
    with pytest.raises(refusal, match=words):
        platform.submitting.submit_run(SubmitRun("usr-1", IMAGE, {}, resources=asked))
    with platform.uow() as uow:  # type: ignore[attr-defined]
        assert uow.runs.counts() == {}


def test_resources_for_a_handler_s_run_are_refused_not_ignored() -> None:
    platform, _ = platform_and_executor()
    with pytest.raises(ValidationError, match="resources apply to container runs"):
        platform.submitting.submit_run(
            SubmitRun("usr-1", "echo", {}, resources=Resources(memory_mb=64)))
    submission = platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}))
    assert platform.queries.job_spec(submission.job.id).resources is None
