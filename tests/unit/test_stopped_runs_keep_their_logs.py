"""A stopped run keeps what its attempt left (its logs so far) in its results archive.

Seen before: a run stopped while it ran lost its files (the scratch directory was
discarded, and the attempt could no longer record anything), and no stopped run was
listed with the job's results, so the epx client's ``status.logs`` showed nothing.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from simdock.domain import RunStatus
from simdock.limits import Limits
from simdock.ports import RunContext
from simdock.usecases.open_jobs import AddRuns
from tests.unit.fakes import FakeExecutor, make_platform
from tests.unit.test_open_jobs import OWNER, ArchivedHandler, registered


class Seen:
    """What the model saw of the job's results while its stop was being handed in."""

    listed_while_stopping: list[Any] | None = None


def stopped_midway(platform: Any, seen: Seen) -> Any:
    """A model that logs a line, is stopped by its user, logs another and then learns of
    the stop at its next progress report (which raises RunCancelled)."""

    def model(parameters: Mapping[str, Any], context: RunContext) -> dict[str, Any]:
        logs = context.workdir / "work" / "outputs" / "logs.txt"
        logs.parent.mkdir(parents=True)
        logs.write_text("day 1\n")
        run = platform.queries.get_run(context.run_id, OWNER)
        platform.cancelling.cancel_runs([run.number], OWNER)
        with logs.open("a") as out:
            out.write("day 2\n")
        seen.listed_while_stopping = platform.archives.attempt_archives(run.job_id, OWNER)
        context.progress(0.5)
        raise AssertionError("a stopped run learns of it at its next report")

    return model


def platform_with(model: Any) -> Any:
    return make_platform(FakeExecutor({"fred": model}),
                         Limits(progress_interval_seconds=0.0, lease_seconds=10.0))


def archive_entries(platform: Any, key: str) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(platform.blobs.get(key))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_run_stopped_while_it_runs_keeps_its_logs_in_its_results_archive(
        tmp_path: Path) -> None:
    seen = Seen()
    platform = platform_with(lambda p, c: {"ok": True})
    platform.executor.functions["fred"] = stopped_midway(platform, seen)
    platform.simulations.register("fred", ArchivedHandler())
    job = registered(platform, tmp_path)
    (run,) = platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=OWNER, parameters=[{}]))
    platform.dispatcher.drain()

    stopped = platform.queries.get_run(run.id, OWNER)
    assert stopped.status is RunStatus.CANCELLED and stopped.attempts == 1
    assert seen.listed_while_stopping == []  # its attempt was still handing its files in
    ((listed, key),) = platform.archives.attempt_archives(job.number, OWNER)
    assert listed.id == run.id
    assert archive_entries(platform, key) == {"work/outputs/logs.txt": b"day 1\nday 2\n"}
    assert platform.archives.archive_links([stopped]) == {run.id: key}


def test_a_run_stopped_before_it_started_has_no_results_archive(tmp_path: Path) -> None:
    platform = platform_with(lambda p, c: {"ok": True})
    job = registered(platform, tmp_path)
    (run,) = platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=OWNER, parameters=[{}]))
    platform.cancelling.cancel_runs([run.number], OWNER)
    platform.clock.advance(3600)
    assert platform.archives.attempt_archives(job.number, OWNER) == []
    assert platform.archives.archive_links([platform.queries.get_run(run.id, OWNER)]) == {}


def test_a_stopped_run_whose_worker_is_gone_is_listed_a_lease_after_its_stop(
        tmp_path: Path) -> None:
    platform = platform_with(lambda p, c: {"ok": True})
    job = registered(platform, tmp_path)
    (run,) = platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=OWNER, parameters=[{}]))
    now = platform.clock.now()
    with platform.uow() as uow:  # claimed by a worker that then vanished
        claimed = uow.runs.get(run.id)
        claimed.start(now, "gone", now + timedelta(seconds=10))
        uow.runs.update(claimed)
        uow.commit()
    platform.cancelling.cancel_runs([run.number], OWNER)
    assert platform.archives.attempt_archives(job.number, OWNER) == []
    platform.clock.advance(9)
    assert platform.archives.attempt_archives(job.number, OWNER) == []
    platform.clock.advance(1)
    ((listed, key),) = platform.archives.attempt_archives(job.number, OWNER)
    assert listed.id == run.id and archive_entries(platform, key) == {}


def test_runs_that_ended_are_linked_without_reading_the_blob_store(tmp_path: Path) -> None:
    platform = platform_with(lambda p, c: {"ok": True})
    job = registered(platform, tmp_path)
    runs = platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=OWNER, parameters=[{}, {}]))
    platform.dispatcher.drain()
    done = [platform.queries.get_run(run.id, OWNER) for run in runs]
    assert {run.status for run in done} == {RunStatus.SUCCEEDED}
    assert platform.archives.archive_links(done) == {
        run.id: f"runs/{run.id}/results/attempt-1.zip" for run in done}
    for run in done:  # no archive was built to link to them
        assert platform.blobs.list(f"runs/{run.id}/results/") == []
