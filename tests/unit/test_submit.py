"""Submitting runs and sweeps: what is stored, what is dispatched, what is refused."""

from __future__ import annotations

import dataclasses

import pytest

from simdock.clock import SequentialIds
from simdock.domain import RunStatus, SweepSpec
from simdock.errors import (
    Conflict,
    InvalidParameters,
    LimitExceeded,
    NotFound,
    UnknownSimulationType,
    ValidationError,
)
from simdock.limits import Limits
from simdock.usecases import machines
from simdock.usecases.submit import (
    Submit,
    SubmitRun,
    SubmitSweep,
)
from tests.unit.fakes import ADMIN, FakeExecutor, QueueDispatcher, make_platform


def test_a_run_is_stored_queued_and_dispatched_after_commit() -> None:
    platform = make_platform()
    submission = platform.submitting.submit_run(
        SubmitRun("usr-1", "echo", {"x": 1}, tags=["a", "a", "b"]))
    view = platform.queries.get_job(submission.job.id, "usr-1")
    assert view.status is RunStatus.QUEUED and view.job.tags == ("a", "b")
    assert isinstance(platform.dispatcher, QueueDispatcher)
    assert platform.dispatcher.runs == submission.run_ids
    run = platform.queries.get_run(submission.run_ids[0], "usr-1")
    assert platform.queries.run_parameters(run) == {"x": 1}


def test_a_sweep_creates_one_run_per_variant_in_order() -> None:
    platform = make_platform()
    submission = platform.submitting.submit_sweep(SubmitSweep(
        "usr-1", "echo", SweepSpec(grid={"x": [1, 2, 3]}, base={"y": 0})))
    runs = platform.queries.job_runs(submission.job.id, "usr-1")
    assert [r.index for r in runs] == [0, 1, 2]
    assert [platform.queries.run_parameters(r)["x"] for r in runs] == [1, 2, 3]
    assert submission.job.run_count == 3


def test_unknown_simulation_type_stores_nothing() -> None:
    platform = make_platform()
    with pytest.raises(UnknownSimulationType):
        platform.submitting.submit_run(SubmitRun("usr-1", "nope", {}))
    assert platform.queries.statistics(None).total == 0


@pytest.mark.parametrize("parameters", [[1, 2], "x", None, 5])
def test_parameters_that_are_not_an_object_are_refused(parameters: object) -> None:
    with pytest.raises(InvalidParameters, match="JSON object"):
        make_platform().submitting.submit_run(SubmitRun("usr-1", "echo", parameters))  # type: ignore[arg-type]


def test_handler_validation_names_the_variant() -> None:
    executor = FakeExecutor({"sim": lambda p, c: None})
    executor.required["sim"] = {"n"}
    platform = make_platform(executor)
    with pytest.raises(InvalidParameters, match="variant 1: missing parameter"):
        platform.submitting.submit_sweep(
            SubmitSweep("usr-1", "sim", SweepSpec(variants=[{"n": 1}, {}])))
    assert platform.queries.statistics(None).total == 0


def test_the_sweep_limit_comes_from_the_platform() -> None:
    platform = make_platform(limits=Limits(max_sweep_variants=10))
    with pytest.raises(LimitExceeded):
        platform.submitting.submit_sweep(
            SubmitSweep("usr-1", "echo", SweepSpec(grid={"x": list(range(11))})))


def test_large_parameters_go_to_the_blob_store_and_read_back_identical() -> None:
    platform = make_platform(limits=Limits(payload_threshold=1000))
    big = {"values": list(range(2000)), "name": "ü" * 10}
    submission = platform.submitting.submit_run(SubmitRun("usr-1", "echo", big))
    assert platform.blobs.list("") == [f"jobs/{submission.job.id}/spec.json"]
    run = platform.queries.get_run(submission.run_ids[0], "usr-1")
    assert run.parameters is None
    platform.specs.forget(submission.job.id)
    assert platform.queries.run_parameters(run) == big


def test_small_parameters_stay_inline() -> None:
    platform = make_platform()
    platform.submitting.submit_run(SubmitRun("usr-1", "echo", {"a": 1}))
    assert platform.blobs.list("") == []


def test_a_sweep_stores_its_base_once_however_many_variants() -> None:
    platform = make_platform(limits=Limits(payload_threshold=1000))
    base = {"blob": "x" * 120_000}
    submission = platform.submitting.submit_sweep(SubmitSweep(
        "usr-1", "echo", SweepSpec(grid={"i": list(range(1000))}, base=base)))
    [key] = platform.blobs.list("")
    assert len(platform.blobs.get(key)) < 130_000
    runs = platform.queries.job_runs(submission.job.id, "usr-1")
    assert all(run.parameters is None for run in runs)
    platform.specs.forget(submission.job.id)
    assert platform.queries.run_parameters(runs[7]) == {"blob": "x" * 120_000, "i": 7}


def test_what_each_run_varies_is_its_axis_values_or_its_list_item_as_given() -> None:
    platform = make_platform()
    grid = platform.submitting.submit_sweep(SubmitSweep("usr-1", "echo", SweepSpec(
        grid={"a": [1, 2], "b": ["x", "y", "z"]}, base={"big": "b" * 100})))
    assert [grid.varied(i) for i in (0, 1, 5)] == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "z"}]
    items = [{"b": 1, "a": 2}, {"c": 3}]
    listed = platform.submitting.submit_sweep(SubmitSweep("usr-1", "echo", SweepSpec(
        variants=items, base={"a": 0})))
    assert [listed.varied(i) for i in range(2)] == items
    assert list(listed.varied(0)) == ["b", "a"]


class RepeatingIds(SequentialIds):
    """Gives every run the same id, so that storing a sweep's runs fails in the database."""

    def new_many(self, prefix: str, count: int) -> list[str]:
        return ["run-again"] * count


def test_a_refused_submission_leaves_no_blob_behind() -> None:
    platform = make_platform(limits=Limits(payload_threshold=1000))
    spec = SweepSpec(grid={"i": list(range(50))}, base={"pad": "y" * 5000})
    with pytest.raises(NotFound):
        platform.submitting.submit_sweep(
            SubmitSweep("usr-1", "echo", spec, machine_id="mach-doesnotexist"))
    with pytest.raises(ValidationError, match="tags"):
        platform.submitting.submit_sweep(SubmitSweep("usr-1", "echo", spec, tags=[""]))
    platform = dataclasses.replace(platform, ids=RepeatingIds())
    with pytest.raises(Conflict):
        platform.submitting.submit_sweep(SubmitSweep("usr-1", "echo", spec))
    assert platform.blobs.list("") == []
    assert platform.queries.statistics(None).total == 0


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
        make_platform().submitting.submit_run(SubmitRun("usr-1", "echo", {}, **kwargs))  # type: ignore[arg-type]


def test_placing_on_an_unknown_or_maintenance_machine_is_refused() -> None:
    platform = make_platform()
    with pytest.raises(NotFound):
        platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}, machine_id="mach-x"))
    machine = platform.machines.register_machine(machines.RegisterMachine("m", "8 cores", 16))
    platform.machines.set_machine_status(machine.id, "maintenance", ADMIN)
    with pytest.raises(Conflict, match="maintenance"):
        platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}, machine_id=machine.id))
    platform.machines.set_machine_status(machine.id, "available", ADMIN)
    submission = platform.submitting.submit_run(
        SubmitRun("usr-1", "echo", {}, machine_id=machine.id))
    assert platform.queries.get_run(submission.run_ids[0], None).machine_id == machine.id


def test_a_run_may_not_ask_for_more_time_than_the_platform_allows() -> None:
    platform = make_platform(limits=Limits(default_timeout_seconds=60))
    with pytest.raises(ValidationError, match="at most 60 s"):
        platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}, timeout_seconds=61))
    platform.submitting.submit_run(SubmitRun("usr-1", "echo", {}, timeout_seconds=60))


def test_tags_are_bounded_in_length() -> None:
    with pytest.raises(ValidationError, match="at most 200 characters"):
        make_platform().submitting.submit_run(SubmitRun("usr-1", "echo", {}, tags=["t" * 201]))


def test_a_submission_is_a_sweep_when_it_says_how_to_vary_its_parameters() -> None:
    platform = make_platform()
    single = platform.submitting.submit(
        Submit(owner_id="usr-1", simulation_type="echo", parameters={"x": 1}))
    swept = platform.submitting.submit(
        Submit(owner_id="usr-1", simulation_type="echo", parameters={"y": 0},
                          grid={"x": [1, 2]}))
    assert (single.job.kind.value, single.job.run_count) == ("single", 1)
    assert (swept.job.kind.value, swept.job.run_count) == ("sweep", 2)
    runs = platform.queries.job_runs(swept.job.id, "usr-1")
    assert [platform.queries.run_parameters(r) for r in runs] == [{"y": 0, "x": 1},
                                                                   {"y": 0, "x": 2}]
    with pytest.raises(ValidationError, match="a sweep needs exactly one of"):
        platform.submitting.submit(Submit(owner_id="usr-1", simulation_type="echo", sweep=True))


def test_a_submission_naming_no_type_runs_the_default_image() -> None:
    platform = make_platform(FakeExecutor({"container:lab/model:2": lambda p, c: {}}),
                             limits=Limits(default_image="lab/model:2"))
    submission = platform.submitting.submit(Submit(owner_id="usr-1", parameters={"steps": 3}))
    assert submission.job.simulation_type == "container:lab/model:2"
    image = platform.submitting.submit(Submit(owner_id="usr-1", image="lab/model:2"))
    assert image.job.simulation_type == "container:lab/model:2"
    with pytest.raises(ValidationError, match="not both"):
        platform.submitting.submit(
            Submit(owner_id="usr-1", simulation_type="echo", image="lab/model:2"))
