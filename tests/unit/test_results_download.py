"""A succeeded run's results download: its last attempt's files, its record, one rule."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from simdock.domain import RunStatus
from simdock.errors import Conflict, NotFound
from simdock.notebook import Dock
from simdock.ports import RunContext
from simdock.usecases.submit import SubmitRun
from tests.unit.fakes import FakeExecutor, QueueDispatcher, make_platform

attempts: list[int] = []


def flaky(parameters: Mapping[str, Any], context: RunContext) -> Any:
    """Leaves a file on each attempt; the first fails."""
    attempts.append(1)
    context.log(f"attempt {len(attempts)}")
    context.artifact(f"attempt-{len(attempts)}.txt", b"x")
    context.artifact("out/data.csv", f"a,{len(attempts)}\n".encode())
    if len(attempts) == 1:
        raise RuntimeError("the first attempt fails")
    return {"attempts": len(attempts)}


def entries(bundle: io.BufferedIOBase | Any) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_download_holds_the_last_attempts_files_and_the_runs_record() -> None:
    attempts.clear()
    platform = make_platform(FakeExecutor({"flaky": flaky}))
    assert isinstance(platform.dispatcher, QueueDispatcher)
    run_id = platform.submitting.submit_run(SubmitRun("usr-1", "flaky", {"x": 1})).run_ids[0]
    platform.dispatcher.drain()
    with pytest.raises(Conflict, match="failed"):
        platform.archives.download(run_id, "usr-1")
    platform.retrying.retry_runs([run_id], "usr-1")
    platform.dispatcher.drain()
    assert platform.queries.get_run(run_id, "usr-1").status is RunStatus.SUCCEEDED

    files = entries(platform.archives.download(run_id, "usr-1"))

    assert set(files) == {"artifacts/attempt-2.txt", "artifacts/out/data.csv", "result.json",
                          "parameters.json", "logs.txt"}
    assert files["artifacts/out/data.csv"] == b"a,2\n"
    assert json.loads(files["result.json"]) == {"attempts": 2}
    assert json.loads(files["parameters.json"]) == {"x": 1}
    assert "attempt 2" in files["logs.txt"].decode()
    # The attempt archive holds the same files, under their own names.
    run = platform.queries.get_run(run_id, "usr-1")
    key = platform.archives.attempt_archive(run)
    archived = entries(io.BytesIO(platform.blobs.get(key)))
    assert archived == {name.removeprefix("artifacts/"): content
                        for name, content in files.items() if name.startswith("artifacts/")}


def test_another_users_run_is_not_found_and_an_unfinished_one_is_a_conflict() -> None:
    platform = make_platform()
    run_id = platform.submitting.submit_run(SubmitRun("usr-1", "echo", {})).run_ids[0]
    with pytest.raises(Conflict):
        platform.archives.download(run_id, "usr-1")
    with pytest.raises(NotFound):
        platform.archives.download(run_id, "usr-2")


def test_the_notebook_writes_the_same_download(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    platform = make_platform()
    dock = Dock(platform, "a@example.com")
    job = dock.submit("echo", {"x": 2})
    assert isinstance(platform.dispatcher, QueueDispatcher)
    platform.dispatcher.drain()
    written = job.download(tmp_path / "out.zip")
    with written.open("rb") as handle:
        assert json.loads(entries(handle)["result.json"]) == {"echo": {"x": 2}}
    monkeypatch.chdir(tmp_path)
    assert job.download() == Path(f"{job.run.id}.zip")
