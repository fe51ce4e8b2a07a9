"""The ``simdock`` command and the example script, run as a user would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SIMDOCK = Path(sys.executable).parent / "simdock"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ARTIFACTS_PATH": str(cwd / "artifacts")}
    return subprocess.run([str(SIMDOCK), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_run_prints_where_the_outputs_are(tmp_path: Path) -> None:
    out = run("run", "heat1d", "--param", "length=1.0", "--param", "time_steps=200",
              "--param", "diffusivity=0.01", "--no-progress", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert ": succeeded" in out.stdout
    listed = [line.split()[0] for line in out.stdout.splitlines() if line.startswith("  /")]
    assert {Path(p).name for p in listed} == {"result.csv", "meta.json",
                                              "simulation_results.png", "temperature_field.npy"}
    assert all(Path(p).is_file() for p in listed)


def test_run_as_json(tmp_path: Path) -> None:
    out = run("run", "monte_carlo", "-p", "iterations=5000", "-p", "seed=3", "--json",
              "--no-progress", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    outcome = json.loads(out.stdout)
    assert outcome["status"] == "succeeded" and abs(outcome["result"]["estimate"] - 3.14) < 0.2


def test_sweep_grid_prints_a_table(tmp_path: Path) -> None:
    out = run("sweep", "heat1d", "--grid", "diffusivity=0.005,0.01,0.02", "-p", "length=1.0",
              "--no-progress", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "3 runs" in lines[0] and "diffusivity" in lines[1].split("\t")
    assert len(lines) == 5


def test_sweep_from_a_variants_file(tmp_path: Path) -> None:
    variants = tmp_path / "variants.json"
    variants.write_text(json.dumps([
        {"length": 1.0, "time_steps": 200, "diffusivity": 0.01},
        {"length": 1.0, "time_steps": 400, "diffusivity": 0.005},
        {"length": 0.5, "time_steps": 200, "diffusivity": 0.02},
    ]))
    out = run("sweep", "heat1d", "--variants", str(variants), "--json", "--no-progress",
              cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert [r["status"] for r in json.loads(out.stdout)["rows"]] == ["succeeded"] * 3


def test_a_replicated_sweep_prints_each_points_mean_and_interval(tmp_path: Path) -> None:
    out = run("sweep", "monte_carlo", "--grid", "iterations=200,800", "--seed", "3",
              "--replicate", '{"metric": "estimate", "half_width": 0.05}', "--no-progress",
              cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "2 points" in lines[0]
    assert lines[1].split("\t") == ["iterations", "n", "mean", "low", "high", "met", "outcome",
                                    "reason"]
    for line, iterations in zip(lines[2:], ("200", "800"), strict=True):
        cells = line.split("\t")
        assert cells[0] == iterations and cells[5:7] == ["True", "met"]
        assert float(cells[3]) < float(cells[2]) < float(cells[4])
    unmet = run("run", "monte_carlo", "-p", "iterations=100", "--json", "--no-progress",
                "--replicate", '{"metric": "estimate", "half_width": 0.001, "min": 3, "max": 3}',
                cwd=tmp_path)
    assert unmet.returncode == 1, unmet.stderr  # the target was not met: not a success
    [point] = json.loads(unmet.stdout)["points"]
    assert (point["outcome"], point["n"]) == ("max reached", 3)


def test_bad_input_is_a_one_line_error_with_exit_code_2(tmp_path: Path) -> None:
    for args, message in [
        (("run", "heat2d"), "unknown simulation type 'heat2d'"),
        (("run", "heat1d", "-p", "time_steps=5", "-p", "spatial_steps=1001"), "unstable"),
        (("run", "heat1d", "-p", "oops"), "not KEY=VALUE"),
        (("sweep", "heat1d", "--grid", "diffusivity="), "'diffusivity' is empty"),
        (("run", "heat1d", "--replicate", "{"), "--replicate is not JSON"),
        (("run", "heat1d", "--replicate", '{"metric": "x", "half_width": 1}'),
         "'heat1d' declares no seed parameter"),
    ]:
        out = run(*args, "--no-progress", cwd=tmp_path)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert message in out.stderr and "Traceback" not in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1


def test_types_lists_the_sample_simulations(tmp_path: Path) -> None:
    out = run("types", cwd=tmp_path)
    assert {"heat1d", "monte_carlo", "noop"} <= set(out.stdout.split())


def test_the_example_notebook_script_runs(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(REPO / "examples" / "notebook_tour.py"),
                          str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "report: 4 runs" in out.stdout
