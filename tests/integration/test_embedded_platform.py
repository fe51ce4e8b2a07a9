"""The notebook API on the real embedded platform: threads, local blobs, real handlers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import simdock
from simdock.handlers import ProgressCallback, SimulationHandler
from tests.databases import migrated_postgres


class Sleeps(SimulationHandler):
    """Sleeps in small steps, reporting progress, so it can be cancelled or time out."""

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        steps = int(parameters.get("steps", 100))
        for i in range(steps):
            time.sleep(float(parameters.get("step_seconds", 0.01)))
            if progress_callback:
                progress_callback((i + 1) / steps)
        return {"slept": steps}


class EmitsNul(SimulationHandler):
    """Emits NUL characters everywhere a handler can: log, result, and (on request) error."""

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        if progress_callback is not None:
            progress_callback.log("before\x00after")  # type: ignore[attr-defined]
        if parameters.get("fail"):
            raise ValueError("bad\x00value")
        return {"text": "a\x00b", "key\x00": 1}


class Raises(SimulationHandler):
    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        raise ZeroDivisionError("division by zero in the model")


@pytest.fixture(params=["sqlite", "memory", "postgresql"])
def dock(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[simdock.Dock]:
    url = {"sqlite": lambda: f"sqlite:///{tmp_path / 'simdock.db'}",
           "memory": lambda: "memory://",
           "postgresql": lambda: migrated_postgres("embedded")}[request.param]()
    dock = simdock.connect(url, artifacts_path=str(tmp_path / "blobs"), executor_workers=2)
    dock.register_handler("sleeps", Sleeps())
    dock.register_handler("raises", Raises())
    dock.register_handler("emits_nul", EmitsNul())
    yield dock
    dock.close()


def test_heat1d_end_to_end(dock: simdock.Dock) -> None:
    job = dock.submit("heat1d", {"length": 1.0, "time_steps": 200, "diffusivity": 0.01})
    job.wait(timeout=60)
    assert job.status == "succeeded"
    result = job.result()
    assert isinstance(result["final"], np.ndarray) and result["final"].shape == (21,)
    assert result["max_abs_error"] < 0.5
    artifacts = {a.name: a for a in job.artifacts()}
    assert set(artifacts) == {"result.csv", "meta.json", "simulation_results.png",
                              "temperature_field.npy"}
    path = artifacts["temperature_field.npy"].path
    assert path is not None and path.is_file()
    assert np.load(path).shape[1] == 21
    assert json.loads(artifacts["meta.json"].read())["parameters"]["time_steps"] == 200
    assert job.metrics()["center_temp"].values[0] == pytest.approx(100.0)
    assert any("heat1d" in line for line in job.logs())


def test_sweep_results_table_and_report(dock: simdock.Dock) -> None:
    sweep = dock.sweep("heat1d", grid={"diffusivity": [0.005, 0.01, 0.02]},
                       base={"length": 1.0})
    sweep.wait(timeout=60, progress=True)
    table = sweep.results()
    assert len(table) == 3 and list(table["status"]) == ["succeeded"] * 3
    assert np.all(np.diff(table["final_center_temp"]) < 0)
    report = dock.report("summary", [sweep], output_format="json").wait(timeout=30)
    assert json.loads(report.content())["runs"] == 3


def test_zipped_sweep_and_monte_carlo_convergence(dock: simdock.Dock) -> None:
    sweep = dock.sweep("monte_carlo", zip={"iterations": [1000, 20000], "seed": [1, 2]})
    sweep.wait(timeout=60)
    estimates = [r["estimate"] for r in sweep.result()]
    assert all(abs(e - np.pi) < 0.2 for e in estimates)
    run_metrics = dock.job(sweep.id).metrics()
    assert run_metrics["std_error"].values.size > 0


def test_a_failing_handler_loses_no_other_run(dock: simdock.Dock) -> None:
    good = dock.sweep("heat1d", grid={"diffusivity": [0.01, 0.02]})
    bad = dock.submit("raises", {})
    good.wait(timeout=60)
    bad.wait(timeout=60)
    assert good.status == "succeeded"
    assert bad.status == "failed"
    with pytest.raises(simdock.ExecutionError, match="division by zero in the model"):
        bad.result()
    assert any("ZeroDivisionError" in line for line in bad.logs())


def test_nul_characters_a_handler_emits_never_leave_its_run_running(dock: simdock.Dock
                                                                     ) -> None:
    kept = dock.submit("emits_nul", {}).wait(timeout=30)
    assert kept.status == "succeeded"
    assert kept.result() == {"text": "a\x00b", "key\x00": 1}  # kept exactly, in a blob
    assert "before\ufffdafter" in kept.logs()
    failed = dock.submit("emits_nul", {"fail": True}).wait(timeout=30)
    assert failed.status == "failed" and "bad\ufffdvalue" in (failed.run.error or "")


def test_a_handler_over_its_time_limit_fails_and_the_platform_goes_on(
        dock: simdock.Dock) -> None:
    slow = dock.submit("sleeps", {"steps": 1000, "step_seconds": 0.01}, timeout=0.3)
    slow.wait(timeout=30)
    assert slow.status == "failed" and "time limit of 0.3 s" in (slow.run.error or "")
    after = dock.submit("sleeps", {"steps": 2}).wait(timeout=30)
    assert after.status == "succeeded"


def test_cancel_a_running_job(dock: simdock.Dock) -> None:
    job = dock.submit("sleeps", {"steps": 1000, "step_seconds": 0.01})
    deadline = time.monotonic() + 10
    while job.status != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.cancel() == [job.run.id]
    job.wait(timeout=10)
    time.sleep(0.1)
    assert job.status == "cancelled"
    with pytest.raises(simdock.ExecutionError, match="cancelled"):
        job.result()


def test_bad_input_gets_typed_errors(dock: simdock.Dock) -> None:
    with pytest.raises(simdock.UnknownSimulationType, match="heat1d"):
        dock.submit("heat2d", {})
    with pytest.raises(simdock.InvalidParameters, match="JSON object"):
        dock.submit("heat1d", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(simdock.InvalidParameters, match="time_steps"):
        dock.submit("heat1d", {"time_steps": 5, "spatial_steps": 1001})
    with pytest.raises(simdock.InvalidSweep, match="at least one"):
        dock.sweep("heat1d", [])
    with pytest.raises(simdock.LimitExceeded):
        dock.sweep("heat1d", grid={"length": [1.0] * 100_001})
    with pytest.raises(simdock.InvalidSweep, match="'diffusivity' is empty"):
        dock.sweep("heat1d", grid={"diffusivity": []})
    with pytest.raises(simdock.InvalidParameters, match="variant 1"):
        dock.sweep("heat1d", [{"length": 1.0}, {"length": -1.0}])
    assert dock.jobs() == []


def test_jobs_listing_and_statistics(dock: simdock.Dock) -> None:
    dock.submit("sleeps", {"steps": 1}, tags=["fast"]).wait(timeout=10)
    dock.submit("raises", {}).wait(timeout=10)
    assert [j.status for j in dock.jobs(tag="fast")] == ["succeeded"]
    assert len(dock.jobs(status="failed")) == 1
    stats = dock.statistics()
    assert stats["succeeded"] == 1 and stats["failed"] == 1 and stats["total"] == 2


def test_runs_left_queued_by_a_stopped_process_run_when_the_next_one_starts(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'simdock.db'}"
    with simdock.connect(url, artifacts_path=str(tmp_path), dispatch="database") as dock:
        sweep = dock.sweep("noop", grid={"i": [1, 2, 3]})
        assert sweep.status == "queued"
    with simdock.connect(url, artifacts_path=str(tmp_path)) as dock:
        assert dock.job(sweep.id).wait(timeout=30).status == "succeeded"
