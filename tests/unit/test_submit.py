"""Submitting runs and sweeps: what is stored, what is dispatched, what is refused."""

from __future__ import annotations

import pytest

from simdock.domain import RunStatus, SweepSpec
from simdock.errors import (
    InvalidParameters,
    LimitExceeded,
    NotFound,
    UnknownSimulationType,
    ValidationError,
)
from simdock.platform import Limits
from simdock.usecases import machines, queries
from simdock.usecases.submit import SubmitRun, SubmitSweep, submit_run, submit_sweep
from tests.unit.fakes import FakeExecutor, QueueDispatcher, make_platform


def test_a_run_is_stored_queued_and_dispatched_after_commit() -> None:
    platform = make_platform()
    submission = submit_run(SubmitRun("usr-1", "echo", {"x": 1}, tags=["a", "a", "b"]), platform)
    view = queries.get_job(submission.job.id, "usr-1", platform)
    assert view.status is RunStatus.QUEUED and view.job.tags == ("a", "b")
    assert isinstance(platform.dispatcher, QueueDispatcher)
    assert platform.dispatcher.runs == submission.run_ids
    run = queries.get_run(submission.run_ids[0], "usr-1", platform)
    assert queries.run_parameters(run, platform) == {"x": 1}


def test_a_sweep_creates_one_run_per_variant_in_order() -> None:
    platform = make_platform()
    submission = submit_sweep(SubmitSweep(
        "usr-1", "echo", SweepSpec(grid={"x": [1, 2, 3]}, base={"y": 0})), platform)
    runs = queries.job_runs(submission.job.id, "usr-1", platform)
    assert [r.index for r in runs] == [0, 1, 2]
    assert [queries.run_parameters(r, platform)["x"] for r in runs] == [1, 2, 3]
    assert submission.job.run_count == 3


def test_unknown_simulation_type_stores_nothing() -> None:
    platform = make_platform()
    with pytest.raises(UnknownSimulationType):
        submit_run(SubmitRun("usr-1", "nope", {}), platform)
    assert queries.statistics(None, platform).total == 0


@pytest.mark.parametrize("parameters", [[1, 2], "x", None, 5])
def test_parameters_that_are_not_an_object_are_refused(parameters: object) -> None:
    with pytest.raises(InvalidParameters, match="JSON object"):
        submit_run(SubmitRun("usr-1", "echo", parameters), make_platform())  # type: ignore[arg-type]


def test_handler_validation_names_the_variant() -> None:
    executor = FakeExecutor({"sim": lambda p, c: None})
    executor.required["sim"] = {"n"}
    platform = make_platform(executor)
    with pytest.raises(InvalidParameters, match="variant 1: missing parameter"):
        submit_sweep(SubmitSweep("usr-1", "sim", SweepSpec(variants=[{"n": 1}, {}])), platform)
    assert queries.statistics(None, platform).total == 0


def test_the_sweep_limit_comes_from_the_platform() -> None:
    platform = make_platform(limits=Limits(max_sweep_variants=10))
    with pytest.raises(LimitExceeded):
        submit_sweep(SubmitSweep("usr-1", "echo", SweepSpec(grid={"x": list(range(11))})),
                     platform)


def test_large_parameters_go_to_the_blob_store_and_read_back_identical() -> None:
    platform = make_platform(limits=Limits(payload_threshold=1000))
    big = {"values": list(range(2000)), "name": "ü" * 10}
    submission = submit_run(SubmitRun("usr-1", "echo", big), platform)
    run = queries.get_run(submission.run_ids[0], "usr-1", platform)
    assert run.parameters.in_blob and run.parameters.size > 1000
    assert platform.blobs.exists(run.parameters.blob_key or "")
    assert queries.run_parameters(run, platform) == big


def test_small_parameters_stay_inline() -> None:
    platform = make_platform()
    submission = submit_run(SubmitRun("usr-1", "echo", {"a": 1}), platform)
    assert not queries.get_run(submission.run_ids[0], None, platform).parameters.in_blob


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tags": "abc"}, "tags"),
        ({"tags": ["ok", ""]}, "tags"),
        ({"timeout_seconds": -1}, "timeout"),
        ({"metadata": [1]}, "metadata must be a JSON object"),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        submit_run(SubmitRun("usr-1", "echo", {}, **kwargs), make_platform())  # type: ignore[arg-type]


def test_placing_on_an_unknown_or_maintenance_machine_is_refused() -> None:
    platform = make_platform()
    with pytest.raises(NotFound):
        submit_run(SubmitRun("usr-1", "echo", {}, machine_id="mach-x"), platform)
    machine = machines.register_machine(machines.RegisterMachine("m", "8 cores", 16), platform)
    machines.set_machine_status(machine.id, "maintenance", platform)
    with pytest.raises(ValidationError, match="maintenance"):
        submit_run(SubmitRun("usr-1", "echo", {}, machine_id=machine.id), platform)
    machines.set_machine_status(machine.id, "available", platform)
    submission = submit_run(SubmitRun("usr-1", "echo", {}, machine_id=machine.id), platform)
    assert queries.get_run(submission.run_ids[0], None, platform).machine_id == machine.id


def test_a_run_may_not_ask_for_more_time_than_the_platform_allows() -> None:
    platform = make_platform(limits=Limits(default_timeout_seconds=60))
    with pytest.raises(ValidationError, match="at most 60 s"):
        submit_run(SubmitRun("usr-1", "echo", {}, timeout_seconds=61), platform)
    submit_run(SubmitRun("usr-1", "echo", {}, timeout_seconds=60), platform)


def test_tags_are_bounded_in_length() -> None:
    with pytest.raises(ValidationError, match="at most 200 characters"):
        submit_run(SubmitRun("usr-1", "echo", {}, tags=["t" * 201]), make_platform())
