"""FRED runs execute the configured FRED program (FRED_BINARY) with the job's inputs.

A stand-in "FRED" binary (a shell script) records what it was given: its working
directory holds the unpacked inputs.zip, its arguments are the request's fredArgs
plus ``-d <outputs>``; what it prints reaches the run's log, what it writes under
``-d`` the run's artifacts (``work/outputs/...``). A program that fails without
writing logs.txt still leaves one, with its last lines as ERROR lines.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import simdock
from simdock.domain import RunStatus
from simdock.usecases import archives, queries
from simdock.usecases.inputs import UploadKind, receive_upload, upload_target
from simdock.usecases.open_jobs import AddRuns, RegisterJob, add_runs, register_job

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
    job = register_job(RegisterJob(owner_id=owner, simulation_type="fred"), platform)
    archive = tmp_path / "inputs.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("main.fred", program)
        out.writestr("ref/data.csv", "a,b\n")
    receive_upload(upload_target(job.id, owner, UploadKind.INPUT, platform), archive, platform)
    (run,) = add_runs(AddRuns(job=job.number, owner_id=owner, parameters=[{
        "fredArgs": [{"flag": "-p", "value": "main.fred"}, {"flag": "-o", "value": "x=1"}]}]),
        platform)
    deadline = time.monotonic() + 30
    while not queries.get_run(run.id, owner, platform).terminal:
        assert time.monotonic() < deadline, "the FRED run did not finish"
        time.sleep(0.05)
    return dock, run.id


def outputs(dock: simdock.Dock, run_id: str) -> dict[str, bytes]:
    run = queries.get_run(run_id, dock.user.id, dock.platform)
    key = archives.results_archive(run, dock.platform)
    with zipfile.ZipFile(io.BytesIO(dock.platform.blobs.get(key))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_configured_program_runs_in_the_unpacked_inputs_with_the_request_s_args(
        tmp_path: Path) -> None:
    dock, run_id = run_fred(tmp_path, b"transmissibility = 0.3\n")
    with dock:
        run = queries.get_run(run_id, dock.user.id, dock.platform)
        assert run.status is RunStatus.SUCCEEDED, run.error
        files = outputs(dock, run_id)
        assert files["work/outputs/program-seen.fred"] == b"transmissibility = 0.3\n"
        args = files["work/outputs/args.txt"].decode().split()
        assert args[:4] == ["-p", "main.fred", "-o", "x=1"] and args[4] == "-d"
        assert files["work/outputs/DAILY/Popsize.txt"] == b"0 42\n"
        logs = [line.message for line in queries.run_logs(run_id, dock.user.id, dock.platform)]
        assert any("fake FRED in" in line and "-p main.fred" in line for line in logs)


def test_a_failing_program_fails_its_run_with_its_last_lines_in_logs_txt(
        tmp_path: Path) -> None:
    dock, run_id = run_fred(tmp_path, b"fail\n")
    with dock:
        run = queries.get_run(run_id, dock.user.id, dock.platform)
        assert run.status is RunStatus.FAILED
        assert run.error is not None and "status 3" in run.error and "boom" in run.error
        files = outputs(dock, run_id)
        assert b"ERROR: boom: model error" in files["work/outputs/logs.txt"]
        assert files["work/outputs/return_code.txt"] == b"3\n"
