"""The standalone run_sim.py command, as a subprocess and in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simdock_sim import heat1d, run_sim

REPO_ROOT = Path(__file__).resolve().parents[2]
SIM_DIR = REPO_ROOT / "sim"
SCRIPT = SIM_DIR / "run_sim.py"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SIM_PARAMS", "OUTPUT_DIR")}
    env.update(extra)
    return env


def run_command(
    args: list[str], cwd: Path = REPO_ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=clean_env() if env is None else env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check_success(completed: subprocess.CompletedProcess[str], directory: Path) -> list[str]:
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    progress = [line for line in lines if line.startswith("progress ")]
    fractions = [float(line.split()[1]) for line in progress]
    assert fractions and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    paths = [Path(line) for line in lines[len(progress) :]]
    assert [path.name for path in paths] == list(heat1d.OUTPUT_NAMES)
    for path in paths:
        resolved = path if path.is_absolute() else directory / path
        assert resolved.is_file()
    assert sorted(p.name for p in directory.iterdir()) == sorted(heat1d.OUTPUT_NAMES)
    return lines


def meta_parameters(directory: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((directory / heat1d.META_NAME).read_text())
    parameters: dict[str, Any] = meta["parameters"]
    return parameters


def test_script_from_the_repository_root(tmp_path: Path) -> None:
    out = tmp_path / "out"
    completed = run_command(
        [
            "sim/run_sim.py",
            "--length",
            "1.0",
            "--time_steps",
            "100",
            "--diffusivity",
            "0.01",
            "--output-dir",
            str(out),
        ]
    )
    check_success(completed, out)
    assert completed.stderr == ""
    parameters = meta_parameters(out)
    assert parameters["time_steps"] == 100 and parameters["diffusivity"] == 0.01


def test_script_from_inside_sim_uses_output_dir_from_the_environment(tmp_path: Path) -> None:
    completed = run_command(
        ["run_sim.py", "--time_steps", "5"], cwd=SIM_DIR, env=clean_env(OUTPUT_DIR=str(tmp_path))
    )
    check_success(completed, tmp_path)
    assert meta_parameters(tmp_path)["time_steps"] == 5


def test_as_a_module_of_the_package(tmp_path: Path) -> None:
    if not (SIM_DIR / "__init__.py").is_file():
        pytest.skip("sim/ is not a package")
    args = ["-m", "sim.run_sim", "--time_steps", "20", "--output-dir", str(tmp_path)]
    completed = run_command(args)
    check_success(completed, tmp_path)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--time_steps", "abc"], "--time_steps"),
        (["--diffusivity", "nan"], "diffusivity"),
        (["--spatial_steps", "2"], "spatial_steps"),
        (["--time_steps", "1"], "time_steps >= 4"),
        (["--no-such-flag", "1"], "--no-such-flag"),
    ],
)
def test_bad_values_exit_2_with_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    completed = run_command([str(SCRIPT), *args, "--output-dir", str(tmp_path / "out")])
    assert completed.returncode == 2
    assert completed.stdout == ""
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert expected in lines[0]
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "out").exists()


def test_parameter_sources_in_order_of_precedence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps({"time_steps": 80, "length": 2.0}))
    environ = {
        "SIM_PARAMS": json.dumps({"time_steps": 50, "diffusivity": 0.02, "length": 3.0}),
        "OUTPUT_DIR": str(tmp_path / "ignored"),
    }
    out = tmp_path / "out"
    argv = ["--params-json", str(params_file), "--length", "1.5", "--snapshots", "11"]
    assert run_sim.main([*argv, "--output-dir", str(out)], environ) == 0
    assert meta_parameters(out) == {
        **heat1d.Heat1DParameters().to_dict(),
        "time_steps": 80,
        "diffusivity": 0.02,
        "length": 1.5,
        "snapshots": 11,
    }
    lines = capsys.readouterr().out.splitlines()
    assert lines[-4:] == [str(out / name) for name in heat1d.OUTPUT_NAMES]
    assert not (tmp_path / "ignored").exists()


def test_output_dir_defaults_to_the_environment_then_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_sim.main(["--time_steps", "5"], {"OUTPUT_DIR": str(tmp_path / "env")}) == 0
    assert (tmp_path / "env" / heat1d.CSV_NAME).is_file()
    monkeypatch.chdir(tmp_path)
    assert run_sim.main(["--time-steps", "5", "--method", "blocked"], {}) == 0
    assert (tmp_path / "output" / heat1d.CSV_NAME).is_file()


@pytest.mark.parametrize(
    ("environ", "file_text", "expected"),
    [
        ({"SIM_PARAMS": "{not json"}, None, "SIM_PARAMS"),
        ({"SIM_PARAMS": "[1, 2]"}, None, "JSON object"),
        ({"SIM_PARAMS": '{"colour": "red"}'}, None, "'colour'"),
        ({}, "{broken", "--params-json"),
        ({}, '"just a string"', "JSON object"),
        ({}, '{"time_steps": true}', "'time_steps'"),
    ],
)
def test_bad_parameter_sources_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    environ: dict[str, str],
    file_text: str | None,
    expected: str,
) -> None:
    argv = ["--output-dir", str(tmp_path / "out")]
    if file_text is not None:
        params_file = tmp_path / "params.json"
        params_file.write_text(file_text)
        argv += ["--params-json", str(params_file)]
    assert run_sim.main(argv, environ) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert expected in err


def test_a_missing_params_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_sim.main(["--params-json", str(tmp_path / "missing.json")], {}) == 2
    assert "missing.json" in capsys.readouterr().err
