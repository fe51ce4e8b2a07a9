"""The summary report of a FRED job (the stand-in model): the runs the epx client makes of
one configuration's ``n_reps`` (the same request but for ``-s``) are one point, and the
epidemic curves of each point are drawn as the mean of its runs with their interval."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import simdock
from simdock.usecases.inputs import UploadKind
from simdock.usecases.open_jobs import AddRuns, RegisterJob
from tests.pdfs import coloured_pixels, pages, pdf_text

REPS = 4
RATES = ("0.4", "0.9")


def fred_job(dock: simdock.Dock, tmp_path: Path) -> str:
    """Two configurations (transmissibility), each with REPS seeds, run to their end."""
    platform, owner = dock.platform, dock.user.id
    job = platform.open_jobs.register_job(RegisterJob(owner_id=owner, simulation_type="fred"))
    archive = tmp_path / "inputs.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("main.fred", "initial_infections = 5\n")
    platform.inputs.receive_upload(
        platform.inputs.upload_target(job.id, owner, UploadKind.INPUT), archive)
    requests = [{"fredArgs": [{"flag": "-p", "value": "main.fred"},
                              {"flag": "-o", "value": f"transmissibility={rate}"},
                              {"flag": "-s", "value": str(100 + rep)},
                              {"flag": "--start-date", "value": "2024-01-01"},
                              {"flag": "--end-date", "value": "2024-02-29"}]}
                for rate in RATES for rep in range(REPS)]
    runs = platform.open_jobs.add_runs(AddRuns(job=job.number, owner_id=owner,
                                                parameters=requests))
    deadline = time.monotonic() + 120
    while not all(platform.queries.get_run(run.id, owner).terminal for run in runs):
        assert time.monotonic() < deadline, "the FRED runs did not finish"
        time.sleep(0.1)
    return job.id


def test_a_fred_jobs_replicates_are_summarised_per_point_with_their_curves(
        tmp_path: Path) -> None:
    with simdock.connect("memory://", artifacts_path=str(tmp_path / "blobs")) as dock:
        job_id = fred_job(dock, tmp_path)
        summary = json.loads(dock.report("summary", [job_id], "json").wait(120).content())
        document = dock.report("summary", [job_id], "pdf").wait(120).content()

    assert summary["status_counts"] == {"succeeded": len(RATES) * REPS}
    found = summary["points"]
    assert [point["runs"] for point in found] == [REPS, REPS]
    assert [[a["value"] for a in point["parameters"]["fredArgs"] if a["flag"] == "-o"]
            for point in found] == [[f"transmissibility={rate}"] for rate in RATES]
    infectious = [point["curves"]["INF.I"] for point in found]
    assert len(infectious[0]) == 60 and {day["n"] for day in infectious[0]} == {REPS}
    assert all(day["low"] <= day["mean"] <= day["high"] for day in infectious[0][1:])
    peaks = [max(day["mean"] for day in curve) for curve in infectious]
    assert peaks[1] > peaks[0]  # more transmissible, a higher peak

    text = pdf_text(document, tmp_path)
    assert "INF.I by day: the mean of each point's runs, its 95% interval shaded" in text
    assert coloured_pixels(pages(document, "fred", tmp_path)) > 2000  # curves and bands
