"""FRED runs execute the configured FRED program (FRED_BINARY) with the job's inputs.

A stand-in "FRED" binary (a shell script) records what it was given: its working
directory holds the unpacked inputs.zip, its arguments are the request's fredArgs
plus ``-d <outputs>``; what it prints reaches the run's log, what it writes under
``-d`` the run's artifacts (``work/outputs/...``). A program that fails without
writing logs.txt still leaves one, with its last lines as ERROR lines.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

import simdock
from simdock.domain import RunStatus
from simdock.errors import ExecutionError, InvalidParameters
from simdock.usecases.inputs import UploadKind
from simdock.usecases.open_jobs import AddRuns, RegisterJob
from simdock_adapters.fred import FredHandler
from simdock_adapters.fred_arguments import inside_inputs
from tests.contract.test_executor import RecordingContext
from tests.databases import migrated_postgres, migrated_sqlite

FAKE_FRED = """#!/bin/sh
out=""
prev=""
for arg in "$@"; do
    if [ "$prev" = "-d" ]; then out="$arg"; fi
    prev="$arg"
done
echo "fake FRED in $(pwd) with: $*"
if [ -n "$FAIL" ] || grep -q fail main.fred; then echo "boom: model error"; exit 3; fi
mkdir -p "$out/DAILY"
cp main.fred "$out/program-seen.fred"
echo "$*" > "$out/args.txt"
echo "0 42" > "$out/DAILY/Popsize.txt"
echo '{}' > "$out/conditions.json"
"""


def run_fred(tmp_path: Path, program: bytes) -> tuple[simdock.Dock, str]:
    binary = tmp_path / "FRED"
    binary.write_text(FAKE_FRED)
    binary.chmod(0o755)
    dock = simdock.connect("memory://", artifacts_path=str(tmp_path / "blobs"),
                           fred_binary=str(binary))
    platform, owner = dock.platform, dock.user.id
    job = platform.open_jobs.register_job(RegisterJob(owner_id=owner, simulation_type="fred"))
    archive = tmp_path / "inputs.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("main.fred", program)
        out.writestr("ref/data.csv", "a,b\n")
    platform.inputs.receive_upload(
        platform.inputs.upload_target(job.id, owner, UploadKind.INPUT), archive)
    (run,) = platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=owner, parameters=[{
        "fredArgs": [{"flag": "-p", "value": "main.fred"}, {"flag": "-o", "value": "x=1"}]}]))
    deadline = time.monotonic() + 30
    while not platform.queries.get_run(run.id, owner).terminal:
        assert time.monotonic() < deadline, "the FRED run did not finish"
        time.sleep(0.05)
    return dock, run.id


def outputs(dock: simdock.Dock, run_id: str) -> dict[str, bytes]:
    run = dock.platform.queries.get_run(run_id, dock.user.id)
    key = dock.platform.archives.attempt_archive(run)
    with zipfile.ZipFile(io.BytesIO(dock.platform.blobs.get(key))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_configured_program_runs_in_the_unpacked_inputs_with_the_request_s_args(
        tmp_path: Path) -> None:
    dock, run_id = run_fred(tmp_path, b"transmissibility = 0.3\n")
    with dock:
        run = dock.platform.queries.get_run(run_id, dock.user.id)
        assert run.status is RunStatus.SUCCEEDED, run.error
        files = outputs(dock, run_id)
        assert files["work/outputs/program-seen.fred"] == b"transmissibility = 0.3\n"
        args = files["work/outputs/args.txt"].decode().split()
        assert args[:4] == ["-p", "main.fred", "-o", "x=1"] and args[4] == "-d"
        assert files["work/outputs/DAILY/Popsize.txt"] == b"0 42\n"
        logs = [line.message for line in dock.platform.queries.run_logs(run_id, dock.user.id)]
        assert any("fake FRED in" in line and "-p main.fred" in line for line in logs)


def test_a_failing_program_fails_its_run_with_its_last_lines_in_logs_txt(
        tmp_path: Path) -> None:
    dock, run_id = run_fred(tmp_path, b"fail\n")
    with dock:
        run = dock.platform.queries.get_run(run_id, dock.user.id)
        assert run.status is RunStatus.FAILED
        assert run.error is not None and "status 3" in run.error and "boom" in run.error
        files = outputs(dock, run_id)
        assert b"ERROR: boom: model error" in files["work/outputs/logs.txt"]
        assert files["work/outputs/return_code.txt"] == b"3\n"


# -- what a FRED run may reach of the server -------------------------------------------

#: Credentials a server holds in its environment; none may reach the FRED program (the
#: store's DATABASE_URL is added by the test; a broker URL would change the dispatch).
SERVER_SECRETS = {
    "SECRET_KEY": "server-secret-key-0123456789-abcdefghijkl",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-access-key-example",
    "SIMDOCK_SERVER_ONLY": "anything else the server has",
}

#: A FRED program that keeps the environment it started with and says where it runs.
ENVIRONMENT_FRED = """#!/bin/sh
out=""
prev=""
for arg in "$@"; do
    if [ "$prev" = "-d" ]; then out="$arg"; fi
    prev="$arg"
done
mkdir -p "$out"
tr '\\000' '\\n' < /proc/$$/environ > "$out/environ.txt"
touch "$HOME/home-file" "$TMPDIR/tmp-file"
echo "in $(pwd) with HOME=$HOME TMPDIR=$TMPDIR, writing to $(cd "$out" && pwd)"
"""


def store_url(store: str, tmp_path: Path) -> str:
    return (migrated_sqlite(tmp_path / "fred.db") if store == "sqlite"
            else migrated_postgres("fred_program"))


def open_job(dock: simdock.Dock, tmp_path: Path, program: bytes = b"x = 1\n") -> int:
    """A FRED job with its inputs.zip uploaded; its number."""
    platform, owner = dock.platform, dock.user.id
    job = platform.open_jobs.register_job(RegisterJob(owner_id=owner, simulation_type="fred"))
    archive = tmp_path / "inputs.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("main.fred", program)
        out.writestr("ref/data.csv", "a,b\n")
    platform.inputs.receive_upload(
        platform.inputs.upload_target(job.id, owner, UploadKind.INPUT), archive)
    return job.number


def run_to_end(dock: simdock.Dock, job: int, fred_args: list[dict[str, str]]) -> Any:
    (run,) = dock.platform.open_jobs.add_runs(AddRuns(job=job, owner_id=dock.user.id,
                              parameters=[{"fredArgs": fred_args}]))
    deadline = time.monotonic() + 60
    while not (run := dock.platform.queries.get_run(run.id, dock.user.id)).terminal:
        assert time.monotonic() < deadline, "the FRED run did not finish"
        time.sleep(0.05)
    return run


def shows_server_paths(text: str, tmp_path: Path) -> bool:
    """Whether ``text`` names a place in the server's scratch space or the test's."""
    return f"{tempfile.gettempdir()}/" in text or str(tmp_path) in text


def log_text(dock: simdock.Dock, run_id: str) -> str:
    return "\n".join(line.message
                     for line in dock.platform.queries.run_logs(run_id, dock.user.id))


@pytest.mark.parametrize("isolation", ["process", "thread"])
@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_the_program_sees_none_of_the_server_s_environment_and_none_of_its_paths(
        store: str, isolation: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SERVER_SECRETS.items():
        monkeypatch.setenv(name, value)
    binary = tmp_path / "FRED"
    binary.write_text(ENVIRONMENT_FRED)
    binary.chmod(0o755)
    url = store_url(store, tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    with simdock.connect(url, artifacts_path=str(tmp_path / "blobs"), fred_binary=str(binary),
                         handler_isolation=isolation) as dock:
        run = run_to_end(dock, open_job(dock, tmp_path), [{"flag": "-p", "value": "main.fred"}])
        assert run.status is RunStatus.SUCCEEDED, run.error
        environ = outputs(dock, run.id)["work/outputs/environ.txt"].decode()
        log = log_text(dock, run.id)
    names = {line.split("=", 1)[0] for line in environ.splitlines()}
    assert not names & {*SERVER_SECRETS, "DATABASE_URL"}, sorted(names)
    assert not any(value in environ for value in SERVER_SECRETS.values())
    assert url not in environ
    # It runs in the unpacked inputs, with HOME and TMPDIR of its own beside them, and the
    # run's log says so without the server's paths.
    assert "in . with HOME=../home TMPDIR=../tmp, writing to ./outputs" in log, log
    assert not shows_server_paths(log, tmp_path), log


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_file_arguments_outside_the_job_s_inputs_are_refused_at_submission_alike(
        store: str, tmp_path: Path) -> None:
    with simdock.connect(store_url(store, tmp_path), artifacts_path=str(tmp_path / "blobs"),
                         dispatch="database") as dock:
        job = open_job(dock, tmp_path)

        def refusal(*fred_args: tuple[str, str]) -> str:
            with pytest.raises(InvalidParameters) as raised:
                dock.platform.open_jobs.add_runs(
                    AddRuns(job=job, owner_id=dock.user.id, parameters=[{
                    "fredArgs": [{"flag": f, "value": v} for f, v in fred_args]}]))
            return raised.value.message

        # Whether something is there or not, the answer is the same.
        answers = {refusal(("-p", path)) for path in (
            "/etc/passwd", "/nonexistent/x", "../main.fred", "ref/../../../etc/passwd",
            "~root/.profile", "/dev/zero")}
        assert len(answers) == 1, answers
        (answer,) = answers
        assert "fredArgs[0] (-p)" in answer and "inside the job's inputs.zip" in answer
        assert "exist" not in answer
        assert refusal(("-p", "main.fred"), ("-o", "population_file=/etc/passwd")) == \
            answer.replace("[0] (-p)", "[1] (-o)")
        assert "not a path" in refusal(("-p", "main.fred"), ("-l", "../../etc"))
        assert "set by simdock" in refusal(("-p", "main.fred"), ("-d", "/tmp"))
        assert "must be one of" in refusal(("-p", "main.fred"), ("--config", "x"))
        assert "option" in refusal(("-p", "-d/etc"))
        assert "non-negative integer" in refusal(("-p", "main.fred"), ("-s", "1; rm"))
        assert dock.platform.queries.get_job(job, dock.user.id).job.run_count == 0


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_run_simulates_at_most_fred_max_days(store: str, tmp_path: Path) -> None:
    with simdock.connect(store_url(store, tmp_path), artifacts_path=str(tmp_path / "blobs"),
                         dispatch="database") as dock:
        job = open_job(dock, tmp_path)

        def add(start: str | None, end: str) -> Any:
            dates = ([{"flag": "--start-date", "value": start}] if start else []) + [
                {"flag": "--end-date", "value": end}]
            return dock.platform.open_jobs.add_runs(
                AddRuns(job=job, owner_id=dock.user.id, parameters=[{
                "fredArgs": [{"flag": "-p", "value": "main.fred"}, *dates]}]))

        for start, end in (("2020-01-01", "9999-12-31"), (None, "9999-12-31"),
                           ("2020-01-01", "2030-01-01")):
            with pytest.raises(InvalidParameters, match="FRED_MAX_DAYS") as raised:
                add(start, end)
            assert "at most 3653 days" in raised.value.message
        with pytest.raises(InvalidParameters, match="before --start-date"):
            add("2020-02-01", "2020-01-01")
        assert len(add("2020-01-01", "2029-12-31")) == 1  # ten years, 3653 days


def test_the_files_are_checked_again_where_the_run_executes(tmp_path: Path) -> None:
    """Parameters stored before a rule existed are checked as the run starts: nothing is
    read outside the run's own inputs, and a link leading out leads nowhere."""
    mark = tmp_path / "started"
    binary = tmp_path / "FRED"
    binary.write_text(f"#!/bin/sh\ntouch {mark}\n")
    binary.chmod(0o755)
    inputs, workdir = tmp_path / "inputs", tmp_path / "work"
    inputs.mkdir()
    workdir.mkdir()
    with zipfile.ZipFile(inputs / "inputs.zip", "w") as out:
        out.writestr("main.fred", "x = 1\n")
    context = RecordingContext("run-1", "job-1", workdir)
    context.inputs = inputs  # type: ignore[attr-defined]
    handler = FredHandler(str(binary))
    for value, error in (("/etc/passwd", "inside the job's inputs.zip"),
                         ("missing.fred", "holds no file 'missing.fred'")):
        with pytest.raises(ExecutionError, match=error):
            handler.execute("run-1", "fred", {"fredArgs": [{"flag": "-p", "value": value}]},
                            context)
    assert not mark.exists()

    unpacked = tmp_path / "unpacked"
    (unpacked / "ref").mkdir(parents=True)
    (unpacked / "ref" / "passwd").symlink_to("/etc/passwd")
    (unpacked / "etc").symlink_to("/etc")
    for value in ("ref/passwd", "etc/passwd", "etc"):
        with pytest.raises(InvalidParameters) as raised:
            inside_inputs(unpacked, value, "fredArgs[0] (-p)", must_exist=True)
        assert "inside the job's inputs.zip" in raised.value.message
    assert inside_inputs(unpacked, "ref", "fredArgs[0] (-o)", must_exist=False) == \
        (unpacked / "ref").resolve()


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_the_stand_in_s_logs_and_errors_show_paths_relative_to_the_run(
        store: str, tmp_path: Path) -> None:
    with simdock.connect(store_url(store, tmp_path), artifacts_path=str(tmp_path / "blobs"),
                         handler_isolation="process") as dock:
        job = open_job(dock, tmp_path, b"transmissibility = 0.4\n")
        done = run_to_end(dock, job, [{"flag": "-p", "value": "main.fred"},
                                      {"flag": "-s", "value": "2"}])
        failed = run_to_end(dock, job, [{"flag": "-p", "value": "ref/data.csv"},
                                        {"flag": "-o", "value": "latent_period=0"}])
        assert done.status is RunStatus.SUCCEEDED, done.error
        assert failed.status is RunStatus.FAILED
        texts = [log_text(dock, done.id), log_text(dock, failed.id), failed.error or "",
                 outputs(dock, done.id)["work/outputs/logs.txt"].decode(),
                 outputs(dock, failed.id)["work/outputs/logs.txt"].decode()]
    assert "-p main.fred -s 2 -d outputs" in texts[0], texts[0]
    assert "latent_period" in texts[2]
    for text in texts:
        assert not shows_server_paths(text, tmp_path), text


#: A FRED program that needs more memory than a run may have.
GREEDY_FRED = f"""#!{sys.executable}
import sys
print("reading the whole population", flush=True)
hoard = [bytearray(1 << 20) for _ in range(400)]
"""


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_program_that_runs_out_of_memory_fails_its_run_saying_so(store: str,
                                                                   tmp_path: Path) -> None:
    binary = tmp_path / "FRED"
    binary.write_text(GREEDY_FRED)
    binary.chmod(0o755)
    with simdock.connect(store_url(store, tmp_path), artifacts_path=str(tmp_path / "blobs"),
                         fred_binary=str(binary), handler_isolation="process",
                         max_run_memory_mb=64, executor_workers=1) as dock:
        job = open_job(dock, tmp_path)
        greedy = run_to_end(dock, job, [{"flag": "-p", "value": "main.fred"}])
        assert greedy.status is RunStatus.FAILED
        assert greedy.error == "out of memory (limit 64 MiB)"
        logs = outputs(dock, greedy.id)["work/outputs/logs.txt"].decode()
        assert "MemoryError" in logs and "reading the whole population" in logs
