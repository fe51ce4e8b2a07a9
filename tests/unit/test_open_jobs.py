"""Jobs made before their runs: register, inputs, add runs, retry, stop, results archives."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from simdock.domain import JobKind, RunStatus
from simdock.domain.archives import ArchiveLimits
from simdock.errors import (
    Conflict,
    ExecutionError,
    InvalidParameters,
    NotFound,
    TooLarge,
    UnknownSimulationType,
    ValidationError,
)
from simdock.handlers import SimulationHandler
from simdock.limits import Limits
from simdock.ports import RunContext
from simdock.usecases.inputs import UploadKind
from simdock.usecases.open_jobs import AddRuns, RegisterJob
from simdock.usecases.submit import SubmitRun
from tests.unit.fakes import FakeExecutor, QueueDispatcher, make_platform

OWNER = "usr-1"


def model(parameters: Mapping[str, Any], context: RunContext) -> dict[str, Any]:
    """Reads its job's inputs, writes outputs; fails while ``fail`` >= its attempt."""
    with zipfile.ZipFile(context.inputs / "inputs.zip") as archive:
        program = archive.read("main.fred").decode()
    out = context.workdir / "work" / "outputs"
    out.mkdir(parents=True)
    (out / "logs.txt").write_text(f"attempt {context.attempt}\n")
    if parameters.get("fail", 0) >= context.attempt:
        raise ExecutionError("deliberate failure")
    (out / "program.txt").write_text(program)
    return {"ok": True}


def platform_with_model(**limits: Any) -> Any:
    executor = FakeExecutor({"fred": model, "echo": lambda p, c: dict(p)})
    return make_platform(executor, Limits(progress_interval_seconds=0.0, **limits))


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(platform: Any, job: int | str, data: bytes, tmp_path: Path) -> None:
    target = platform.inputs.upload_target(job, OWNER, UploadKind.INPUT)
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    platform.inputs.receive_upload(target, path)


def registered(platform: Any, tmp_path: Path) -> Any:
    job = platform.open_jobs.register_job(
        RegisterJob(owner_id=OWNER, simulation_type="fred", tags=["t"]))
    upload(platform, job.number, zipped({"main.fred": b"model"}), tmp_path)
    return job


def test_a_registered_job_is_open_with_no_run_and_a_number() -> None:
    platform = platform_with_model()
    job = platform.open_jobs.register_job(
        RegisterJob(owner_id=OWNER, simulation_type="fred", tags=["a"]))
    view = platform.queries.get_job(job.number, OWNER)
    assert view.job.kind is JobKind.OPEN and view.job.run_count == 0
    assert view.job.id == job.id and isinstance(job.number, int)
    with pytest.raises(UnknownSimulationType):
        platform.open_jobs.register_job(RegisterJob(owner_id=OWNER, simulation_type="nope"))


def test_runs_added_take_the_next_indexes_keep_their_parameters_and_run_with_the_inputs(
        tmp_path: Path) -> None:
    platform = platform_with_model()
    job = registered(platform, tmp_path)
    first = platform.open_jobs.add_runs(
        AddRuns(job=job.number, owner_id=OWNER, parameters=[{"a": 1}, {"a": 2}],
                             metadata={"client": "epx"}))
    second = platform.open_jobs.add_runs(AddRuns(job=job.id, owner_id=OWNER, parameters=[{"a": 3}]))
    assert [r.index for r in first + second] == [0, 1, 2]
    assert platform.queries.get_job(job.id, OWNER).job.run_count == 3
    assert platform.queries.runs_parameters(first + second) == [{"a": 1}, {"a": 2}, {"a": 3}]
    assert first[0].metadata == {"client": "epx"}
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    runs = platform.queries.job_runs(job.number, OWNER)
    assert {r.status for r in runs} == {RunStatus.SUCCEEDED}


def test_a_refused_call_adds_no_run(tmp_path: Path) -> None:
    platform = platform_with_model()
    assert isinstance(platform.executor, FakeExecutor)
    platform.executor.required["fred"] = {"fredArgs"}
    job = registered(platform, tmp_path)
    with pytest.raises(InvalidParameters, match="run 1: missing parameter"):
        platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=OWNER,
                         parameters=[{"fredArgs": []}, {"x": 1}]))
    with pytest.raises(ValidationError, match="at least one run"):
        platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=OWNER, parameters=[]))
    with pytest.raises(NotFound):
        platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id="usr-other", parameters=[{}]))
    assert platform.queries.job_runs(job.id, OWNER) == []
    assert platform.queries.get_job(job.id, OWNER).job.run_count == 0


def test_runs_are_added_only_to_open_jobs() -> None:
    platform = platform_with_model()
    submitted = platform.submitting.submit_run(SubmitRun(OWNER, "echo", {"x": 1}))
    with pytest.raises(Conflict, match="registered without them"):
        platform.open_jobs.add_runs(AddRuns(job=submitted.job.id, owner_id=OWNER, parameters=[{}]))


def test_runs_wait_for_an_input_archive_that_was_announced_but_never_uploaded() -> None:
    platform = platform_with_model()
    job = platform.open_jobs.register_job(RegisterJob(owner_id=OWNER, simulation_type="fred"))
    platform.inputs.upload_target(job.number, OWNER, UploadKind.INPUT)
    with pytest.raises(ValidationError, match=r"inputs\.zip of job .* was never uploaded"):
        platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=OWNER, parameters=[{}]))


@pytest.mark.parametrize(("data", "message"), [
    (b"not a zip at all", "is not a zip archive"),
    (zipped({"../escape.txt": b"x"}), "would leave its directory"),
    (zipped({"/etc/passwd": b"x"}), "would leave its directory"),
    (zipped({"a\\..\\b": b"x"}), "would leave its directory"),
])
def test_an_unsound_input_archive_is_refused_and_the_previous_one_stays(
        data: bytes, message: str, tmp_path: Path) -> None:
    platform = platform_with_model()
    job = registered(platform, tmp_path)
    key = f"jobs/{job.id}/inputs/inputs.zip"
    before = platform.blobs.get(key)
    with pytest.raises(ValidationError, match=message):
        upload(platform, job.number, data, tmp_path)
    assert platform.blobs.get(key) == before
    assert platform.blobs.list("") == [key]


def test_an_archive_over_the_limits_is_refused(tmp_path: Path) -> None:
    platform = platform_with_model(archives=ArchiveLimits(max_bytes=2_000,
                                                          max_unpacked_bytes=10_000))
    job = platform.open_jobs.register_job(RegisterJob(owner_id=OWNER, simulation_type="fred"))
    with pytest.raises(TooLarge):
        upload(platform, job.number, zipped({"big": os.urandom(3_000)}), tmp_path)
    with pytest.raises(ValidationError, match="unpacks to"):
        upload(platform, job.number, zipped({"bomb": b"\0" * 20_000}), tmp_path)


def test_uploads_go_under_the_job_whatever_the_client_asks(tmp_path: Path) -> None:
    platform = platform_with_model()
    job = registered(platform, tmp_path)
    run = platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=OWNER, parameters=[{}]))[0]
    keys = {platform.inputs.upload_target(job.number, OWNER, kind, run=run.number).key
            for kind in UploadKind}
    assert keys == {f"jobs/{job.id}/inputs/inputs.zip", f"jobs/{job.id}/config/job.json",
                    f"jobs/{job.id}/config/runs/{run.id}.json"}
    other = platform.open_jobs.register_job(RegisterJob(owner_id=OWNER, simulation_type="fred"))
    with pytest.raises(NotFound):  # a run of another job
        platform.inputs.upload_target(other.number, OWNER, UploadKind.RUN_CONFIG, run=run.number)
    with pytest.raises(NotFound):
        platform.inputs.upload_target(job.number, "usr-other", UploadKind.INPUT)


def test_a_failed_run_is_retried_under_its_own_id_and_its_archive_follows_the_attempt(
        tmp_path: Path) -> None:
    platform = platform_with_model()
    job = registered(platform, tmp_path)
    (run,) = platform.open_jobs.add_runs(
        AddRuns(job=job.number, owner_id=OWNER, parameters=[{"fail": 1}]))
    platform.dispatcher.drain()
    assert platform.queries.get_run(run.number, OWNER).status is RunStatus.FAILED
    ((_, key),) = platform.archives.attempt_archives(job.number, OWNER)
    with zipfile.ZipFile(io.BytesIO(platform.blobs.get(key))) as archive:
        assert archive.read("work/outputs/logs.txt") == b"attempt 1\n"  # kept on failure
        assert "work/outputs/program.txt" not in archive.namelist()

    assert platform.retrying.retry_runs([run.number], OWNER) == [run.id]
    assert platform.queries.get_run(run.id, OWNER).status is RunStatus.QUEUED
    assert platform.archives.attempt_archives(job.number, OWNER) == []  # not finished
    platform.dispatcher.drain()
    again = platform.queries.get_run(run.id, OWNER)
    assert again.status is RunStatus.SUCCEEDED and again.attempts == 2
    ((_, key),) = platform.archives.attempt_archives(job.number, OWNER)
    with zipfile.ZipFile(io.BytesIO(platform.blobs.get(key))) as archive:
        assert sorted(archive.namelist()) == ["work/outputs/logs.txt",
                                              "work/outputs/program.txt"]
        assert archive.read("work/outputs/logs.txt") == b"attempt 2\n"
        assert archive.read("work/outputs/program.txt") == b"model"


def test_only_failed_or_cancelled_runs_are_retried_and_then_none_is(tmp_path: Path) -> None:
    platform = platform_with_model()
    job = registered(platform, tmp_path)
    runs = platform.open_jobs.add_runs(
        AddRuns(job=job.number, owner_id=OWNER, parameters=[{"fail": 1}, {}]))
    platform.dispatcher.drain()
    with pytest.raises(Conflict, match="only failed or cancelled"):
        platform.retrying.retry_runs([r.number for r in runs], OWNER)
    assert platform.queries.get_run(runs[0].id, OWNER).status is RunStatus.FAILED
    with pytest.raises(NotFound):
        platform.retrying.retry_runs([runs[0].number], "usr-other")


def test_stopping_runs_says_which_were_stopped_and_which_had_finished(tmp_path: Path) -> None:
    platform = platform_with_model()
    job = registered(platform, tmp_path)
    done = platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=OWNER, parameters=[{}]))
    platform.dispatcher.drain()
    queued = platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=OWNER, parameters=[{}]))
    stopped, finished = platform.cancelling.cancel_runs([queued[0].number, done[0].number], OWNER)
    assert stopped == [queued[0].id] and list(finished) == [done[0].id]
    assert platform.queries.get_run(queued[0].id, OWNER).status is RunStatus.CANCELLED


class ArchivedHandler(SimulationHandler):
    """Stands for a handler whose runs' archives are built as they end (FRED's)."""

    archives_results = True

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: Any = None) -> Any:
        raise AssertionError("the fake executor runs the model function instead")


def test_a_handler_may_have_its_runs_archived_as_they_end(tmp_path: Path) -> None:
    platform = platform_with_model()
    platform.simulations.register("fred", ArchivedHandler())
    job = registered(platform, tmp_path)
    runs = platform.open_jobs.add_runs(
        AddRuns(job=job.number, owner_id=OWNER, parameters=[{}, {"fail": 1}]))
    other = platform.submitting.submit_run(SubmitRun(OWNER, "echo", {"x": 1}))
    platform.dispatcher.drain()
    for run in runs:  # finished, failed or not: ready before anyone asks
        assert platform.blobs.exists(f"runs/{run.id}/results/attempt-1.zip")
    assert platform.blobs.list(f"runs/{other.run_ids[0]}/results/") == []
