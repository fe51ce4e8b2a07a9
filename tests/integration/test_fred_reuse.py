"""Runs added to open jobs (the epx client's way) are reused by identity, and their input
files are part of it: the same FRED request on an ``inputs.zip`` holding the same files
(zipped again or not) is the same run; on other files, or with inputs replaced after the
run was added, it is not. Run on the FRED stand-in."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import simdock
from simdock.domain import Run
from simdock.platform import Platform
from simdock.usecases.inputs import UploadKind
from simdock.usecases.open_jobs import AddRuns, RegisterJob

SEEDS = (11, 12)


def request(seed: int) -> dict[str, object]:
    return {"fredArgs": [{"flag": "-p", "value": "main.fred"},
                         {"flag": "-s", "value": str(seed)},
                         {"flag": "--start-date", "value": "2024-01-01"},
                         {"flag": "--end-date", "value": "2024-01-20"}]}


def open_job(platform: Platform, owner: str, inputs: Path) -> int:
    """A FRED job with ``inputs`` as its inputs.zip; returns its number."""
    job = platform.open_jobs.register_job(RegisterJob(owner_id=owner, simulation_type="fred"))
    upload(platform, owner, job.number, inputs)
    assert job.number is not None
    return job.number


def upload(platform: Platform, owner: str, job: int, inputs: Path) -> None:
    platform.inputs.receive_upload(
        platform.inputs.upload_target(job, owner, UploadKind.INPUT), inputs)


def model(tmp_path: Path, name: str, infections: int,
          zipped: tuple[int, int, int, int, int, int] = (2024, 1, 1, 0, 0, 0),
          compression: int = zipfile.ZIP_STORED) -> Path:
    """An inputs.zip of a model; ``zipped`` is when its entry says it was zipped."""
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w", compression) as out:
        out.writestr(zipfile.ZipInfo("main.fred", zipped),
                     f"initial_infections = {infections}\n")
    return archive


def add(platform: Platform, owner: str, job: int, seeds: tuple[int, ...] = SEEDS,
        reuse: bool = True) -> list[Run]:
    return platform.open_jobs.add_runs(AddRuns(job=job, owner_id=owner, reuse=reuse,
                                               parameters=[request(s) for s in seeds]))


def ended(platform: Platform, owner: str, runs: list[Run]) -> list[Run]:
    deadline = time.monotonic() + 120
    while True:
        found = [platform.queries.get_run(run.id, owner) for run in runs]
        if all(run.terminal for run in found):
            assert all(run.status.value == "succeeded" for run in found), found
            return found
        assert time.monotonic() < deadline, "the FRED runs did not end"
        time.sleep(0.05)


def test_the_same_request_on_the_same_inputs_is_reused_with_its_results_archive(
        tmp_path: Path) -> None:
    with simdock.connect("memory://", artifacts_path=str(tmp_path / "blobs")) as dock:
        platform, owner = dock.platform, dock.user.id
        first = ended(platform, owner,
                      add(platform, owner, open_job(platform, owner, model(tmp_path, "a", 5))))
        assert all(run.attempts == 1 and run.identity for run in first)

        # Another job, the same model zipped again (another time, compressed): nothing
        # executes.
        rezipped = model(tmp_path, "a-again", 5, (2025, 6, 7, 8, 9, 10), zipfile.ZIP_DEFLATED)
        assert rezipped.read_bytes() != (tmp_path / "a.zip").read_bytes()
        again_job = open_job(platform, owner, rezipped)
        again = add(platform, owner, again_job)
        assert [run.status.value for run in again] == ["succeeded"] * len(SEEDS)
        assert [run.reused_from for run in again] == [run.id for run in first]
        assert [run.result for run in again] == [run.result for run in first]
        listed = platform.archives.runs_with_results(again_job, [], owner)
        assert all(line.archive_key and platform.blobs.exists(line.archive_key)
                   for line in listed), "a reused run's results archive, for the epx client"
        assert all(run.attempts == 0 for run in again)

        # Other inputs, a new seed, or reuse turned off: executed.
        other = add(platform, owner, open_job(platform, owner, model(tmp_path, "b", 9)))
        fresh_seed = add(platform, owner, again_job, seeds=(13,))
        refused = add(platform, owner, again_job, reuse=False)
        for runs in (other, fresh_seed, refused):
            assert all(run.reused_from is None and run.attempts == 1
                       for run in ended(platform, owner, runs))

        # Another user's identical request is never given these runs.
        stranger = platform.users.ensure_user("someone@example.org")
        theirs = add(platform, stranger.id, open_job(platform, stranger.id,
                                                     model(tmp_path, "theirs", 5)))
        assert all(run.reused_from is None for run in ended(platform, stranger.id, theirs))


def test_a_run_whose_inputs_were_replaced_before_it_executed_is_known_by_what_it_ran(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'simdock.db'}"
    blobs = str(tmp_path / "blobs")
    old, new = model(tmp_path, "old", 5), model(tmp_path, "new", 9)
    with simdock.connect(url, artifacts_path=blobs, dispatch="database") as dock:
        platform, owner = dock.platform, dock.user.id
        job = open_job(platform, owner, old)
        queued = add(platform, owner, job, seeds=(21,))  # added with the old inputs...
        upload(platform, owner, job, new)  # ...which are replaced before it runs
    with simdock.connect(url, artifacts_path=blobs) as dock:
        platform, owner = dock.platform, dock.user.id
        executed = ended(platform, owner, queued)[0]
        assert executed.identity != queued[0].identity  # it ran on the new inputs

        on_old = add(platform, owner, open_job(platform, owner, old), seeds=(21,))
        assert ended(platform, owner, on_old)[0].reused_from is None
        on_new = add(platform, owner, open_job(platform, owner, new), seeds=(21,))
        assert on_new[0].reused_from == executed.id
