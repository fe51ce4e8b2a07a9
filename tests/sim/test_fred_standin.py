"""The FRED stand-in: determinism, dates, population, parameters, failures, and epx reading."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from simdock_sim import fred_standin
from simdock_sim.fred_standin import Parameters, RunArgs

REPO_ROOT = Path(__file__).resolve().parents[2]
EPX_PYTHON = REPO_ROOT / ".venv-epx" / "bin" / "python"
LOG_LINE = re.compile(r"^\[(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}.\d{3}Z)\] ([A-Z]*): (.*)$")
LOCATIONS = ["-l", "Loving_County_TX", "-l", "Jefferson_County_PA"]
PROGRAM = "# a FRED-like program\ncondition INF {\n    transmissibility = 0.5  # per day\n}\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current directory holding main.fred, with SIMDOCK_ATTEMPT unset."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIMDOCK_ATTEMPT", raising=False)
    (tmp_path / "main.fred").write_text(PROGRAM)
    return tmp_path


def run(*args: str) -> int:
    return fred_standin.main(["-p", "main.fred", *args])


def daily(out: Path, name: str) -> list[str]:
    """The values of DAILY/<name>.txt, checking its sim days run 0, 1, 2, ..."""
    rows = [line.split(" ") for line in (out / "DAILY" / f"{name}.txt").read_text().splitlines()]
    assert [int(row[0]) for row in rows] == list(range(len(rows)))
    assert all(len(row) == 2 for row in rows)
    return [row[1] for row in rows]


def ints(out: Path, name: str) -> list[int]:
    return [int(value) for value in daily(out, name)]


def log_lines(out: Path) -> list[tuple[str, str]]:
    matches = [LOG_LINE.match(line) for line in (out / "logs.txt").read_text().splitlines()]
    assert all(matches), (out / "logs.txt").read_text()
    return [(m.group(2), m.group(3)) for m in matches if m]


def tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_run_writes_fred_11_layout(workdir: Path) -> None:
    assert run(*LOCATIONS, "-s", "3") == 0
    out = workdir / "OUT"
    expected = {"conditions.json", "logs.txt", "return_code.txt", "USER_OUTPUT/print_output.txt",
                "DAILY/Popsize.txt", "DAILY/Date.txt", "DAILY/EpiWeek.txt"}
    expected |= {f"DAILY/INF.{kind}{s}.txt" for kind in ("", "new", "tot") for s in "SEIR"}
    assert set(tree(out)) == expected
    conditions = json.loads((out / "conditions.json").read_text())
    assert conditions["conditions"] == [{"name": "INF", "states": ["S", "E", "I", "R"]}]
    assert (out / "return_code.txt").read_text() == "0\n"
    levels = [level for level, _ in log_lines(out)]
    assert set(levels) <= {"INFO"} and levels[-1] == "INFO"
    assert "summary:" in log_lines(out)[-1][1]
    assert "not FRED" in (out / "USER_OUTPUT/print_output.txt").read_text()


def test_same_seed_same_bytes_and_different_seed_differs(workdir: Path) -> None:
    assert run(*LOCATIONS, "-s", "7", "-d", "a") == 0
    assert run(*LOCATIONS, "-s", "7", "-d", "b") == 0
    assert run(*LOCATIONS, "-r", "7", "-d", "r") == 0
    assert run(*LOCATIONS, "-s", "8", "-d", "c") == 0
    first, again, by_run, other = (tree(workdir / d) for d in "abrc")
    for files in (first, again, by_run, other):
        del files["logs.txt"]  # carries wall-clock timestamps
    assert first == again == by_run
    assert first["DAILY/INF.I.txt"] != other["DAILY/INF.I.txt"]


def test_epi_weeks_follow_the_cdc_rules() -> None:
    assert fred_standin.epi_week(date(2019, 12, 28)) == "2019.52"
    assert fred_standin.epi_week(date(2019, 12, 29)) == "2020.01"
    assert fred_standin.epi_week(date(2020, 1, 1)) == "2020.01"
    assert fred_standin.epi_week(date(2020, 3, 8)) == "2020.11"
    assert fred_standin.epi_week(date(2021, 1, 2)) == "2020.53"
    assert fred_standin.epi_week(date(2021, 1, 3)) == "2021.01"
    assert fred_standin.epi_week(date(2015, 1, 1)) == "2014.53"


def test_default_dates_and_explicit_dates(workdir: Path) -> None:
    assert run("-d", "default") == 0
    dates = daily(workdir / "default", "Date")
    assert len(dates) == 31 and dates[0] == "2020-01-01" and dates[-1] == "2020-01-31"
    assert run("--start-date", "2020-12-27", "--end-date", "2021-01-04", "-d", "x") == 0
    assert daily(workdir / "x", "Date") == [f"2020-12-{d}" for d in range(27, 32)] + [
        f"2021-01-0{d}" for d in range(1, 5)]
    assert daily(workdir / "x", "EpiWeek") == ["2020.53"] * 7 + ["2021.01"] * 2
    assert run("--start-date", "2021-06-01", "-d", "y") == 0
    assert daily(workdir / "y", "Date")[-1] == "2021-07-01"


def test_population_comes_from_the_locations(workdir: Path) -> None:
    assert fred_standin.location_population("Loving_County_TX") == 2638
    assert fred_standin.location_population("Jefferson_County_PA") == 3324
    names = [f"Place_{i}" for i in range(200)]
    assert all(50 <= fred_standin.location_population(n) <= 5000 for n in names)
    assert fred_standin.population([]) == 1000
    assert fred_standin.population(["Loving_County_TX", "Loving_County_TX"]) == 2638
    assert run(*LOCATIONS, "-d", "two") == 0
    assert set(ints(workdir / "two", "Popsize")) == {2638 + 3324}
    assert run("-d", "none") == 0
    assert set(ints(workdir / "none", "Popsize")) == {1000}


def parameters(*overrides: str, program: str = PROGRAM) -> Parameters:
    Path("main.fred").write_text(program)
    args = fred_standin.parse_args(["-p", "main.fred", *overrides])
    params, _ = fred_standin.load_parameters(args)
    return params


def test_parameters_from_the_program_file_and_overrides(workdir: Path) -> None:
    assert parameters(program="") == Parameters()
    assert parameters() == Parameters(transmissibility=0.5)
    assert parameters("-o", "transmissibility=0.1") == Parameters(transmissibility=0.1)
    program = ("latent_period = 3 # comment\ninfectious_period=6\nstates = S E I R\n"
               "# initial_infections = 99\nnot understood at all\n")
    assert parameters("-o", "initial_infections=7", program=program) == Parameters(
        latent_period=3.0, infectious_period=6.0, initial_infections=7)


def test_overrides_change_the_run_and_unknown_names_warn(workdir: Path) -> None:
    assert run("-s", "1", "-d", "base") == 0
    assert run("-s", "1", "-o", "transmissibility=0.9", "-o", "masks=yes", "-d", "hot") == 0
    assert ints(workdir / "hot", "INF.totI")[-1] > ints(workdir / "base", "INF.totI")[-1]
    warnings = [m for level, m in log_lines(workdir / "hot") if level == "WARNING"]
    assert len(warnings) == 1 and "masks" in warnings[0]
    assert run("-o", "initial_infections=0", "-d", "none") == 0
    assert set(ints(workdir / "none", "INF.totI")) == {0}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compartments_are_conserved_and_totals_add_up(seed: int) -> None:
    args = RunArgs(program=Path("unused"), seed=seed, locations=("Jefferson_County_PA",),
                   end=date(2020, 4, 1))
    series = fred_standin.simulate(args, Parameters(transmissibility=0.6))
    size = series.population
    for day in range(len(series.dates)):
        assert sum(series.count[s][day] for s in "SEIR") == size
    for s in "SEIR":
        assert all(n >= 0 for n in series.count[s] + series.new[s])
        assert series.total[s] == [sum(series.new[s][: d + 1]) for d in range(len(series.dates))]
    assert series.new["S"] == [size] + [0] * (len(series.dates) - 1)
    assert series.count["R"][-1] == series.total["R"][-1] > 0


@pytest.mark.parametrize(
    "args",
    [["--no-such-flag"], ["-x", "1"], ["-s", "abc"], ["-s", "1", "-r", "2"],
     ["--start-date", "2020-13-01"], ["-o", "no_equals_sign"], ["--start", "2020-01-01"]],
)
def test_usage_errors_exit_2_and_write_nothing(
    workdir: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(*args) == 2
    assert "error:" in capsys.readouterr().err
    assert not (workdir / "OUT").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["-o", "transmissibility=high"], "transmissibility"),
     (["-o", "latent_period=0"], "latent_period"),
     (["-o", "initial_infections=2.5"], "initial_infections"),
     (["-p", "missing.fred"], "missing.fred"),
     (["--start-date", "2020-02-01", "--end-date", "2020-01-31"], "before")],
)
def test_run_errors_exit_1_with_an_error_log(
    workdir: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(*args) == 1
    assert message in capsys.readouterr().err
    out = workdir / "OUT"
    assert (out / "return_code.txt").read_text() == "1\n"
    assert log_lines(out)[-1][0] == "ERROR" and message in log_lines(out)[-1][1]
    assert not (out / "conditions.json").exists()


def test_fail_attempts_fails_until_the_attempt_is_past_it(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for attempt, status in [(1, 1), (2, 1), (3, 0)]:
        monkeypatch.setenv("SIMDOCK_ATTEMPT", str(attempt))
        assert run("-o", "fail_attempts=2", "-d", f"attempt{attempt}") == status
        out = workdir / f"attempt{attempt}"
        assert (out / "return_code.txt").read_text() == f"{status}\n"
        assert (out / "conditions.json").exists() == (status == 0)
        assert (log_lines(out)[-1][0] == "ERROR") == (status == 1)
    monkeypatch.setenv("SIMDOCK_ATTEMPT", "5")
    assert run("-o", "fail_attempts=0", "-d", "never") == 0
    monkeypatch.delenv("SIMDOCK_ATTEMPT")
    assert run("-o", "fail_attempts=1", "-d", "unset") == 0
    assert any(level == "WARNING" for level, _ in log_lines(workdir / "unset"))


def test_runs_as_a_module(workdir: Path) -> None:
    command = [sys.executable, "-m", "simdock_sim.fred_standin", "-p", "main.fred", "-s", "2"]
    completed = subprocess.run(command, cwd=workdir, capture_output=True, text=True,
                               timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert completed.stdout.splitlines()[-1].startswith("INFO: summary: days 31")
    assert (workdir / "OUT" / "return_code.txt").read_text() == "0\n"
    unknown = subprocess.run([*command, "--bogus"], cwd=workdir, capture_output=True,
                             text=True, timeout=120, check=False)
    assert unknown.returncode == 2 and "--bogus" in unknown.stderr
    failed = subprocess.run([*command, "-o", "latent_period=x"], cwd=workdir,
                            capture_output=True, text=True, timeout=120, check=False)
    assert failed.returncode == 1 and "ERROR" not in failed.stdout
    assert failed.stderr.splitlines() == ["fred_standin: error: parameter latent_period: "
                                          "'x' is not a number"]


EPX_READER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from epx.run.fs import FileFinderFactory
    from epx.run.result.fred_run_results import FREDRunResultsFactory
    from epx.run.status.fred_run_status import RunStatusF11

    finder = FileFinderFactory(Path(sys.argv[1])).build()
    logs = RunStatusF11(finder, 1).logs
    report = {"finder": type(finder).__name__,
              "logs": [[r.level, r.message] for r in logs.itertuples()]}
    if sys.argv[2] == "results":
        results = FREDRunResultsFactory(finder).build()
        report.update(
            results=type(results).__name__,
            pop_size=results.pop_size()["pop_size"].tolist(),
            count_I=results.state("INF", "I", "count")["count"].tolist(),
            new_E=results.state("INF", "E", "new")["new"].tolist(),
            cumulative_R=results.state("INF", "R", "cumulative")["cumulative"].tolist(),
            sim_days=results.state("INF", "I", "count")["sim_day"].tolist(),
            dates=results.dates()["sim_date"].dt.strftime("%Y-%m-%d").tolist(),
            epi_weeks=results.epi_weeks()["epi_week"].tolist(),
        )
    print(json.dumps(report))
""")


def read_with_epx(out: Path, what: str) -> dict[str, Any]:
    if not EPX_PYTHON.is_file():
        pytest.skip(f"the epx client's interpreter {EPX_PYTHON} does not exist")
    completed = subprocess.run([str(EPX_PYTHON), "-c", EPX_READER, str(out), what],
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    report: dict[str, Any] = json.loads(completed.stdout)
    return report


def test_the_epx_client_reads_the_outputs(workdir: Path) -> None:
    argv = [*LOCATIONS, "-s", "11", "-o", "unknown_knob=1", "--start-date", "2020-12-20",
            "--end-date", "2021-02-10"]
    assert run(*argv) == 0
    args = fred_standin.parse_args(["-p", "main.fred", *argv])
    series = fred_standin.simulate(args, fred_standin.load_parameters(args)[0])
    report = read_with_epx(workdir / "OUT", "results")
    assert report["finder"] == "FileFinderF11" and report["results"] == "RunResultsF11"
    assert report["sim_days"] == list(range(len(series.dates)))
    assert report["pop_size"] == [series.population] * len(series.dates)
    assert report["count_I"] == series.count["I"]
    assert report["new_E"] == series.new["E"]
    assert report["cumulative_R"] == series.total["R"]
    assert report["dates"] == [d.isoformat() for d in series.dates]
    assert report["epi_weeks"] == [fred_standin.epi_week(d) for d in series.dates]
    assert report["epi_weeks"][0] == "2020.52" and report["epi_weeks"][-1] == "2021.06"
    assert [level for level, _ in report["logs"]] == [level for level, _ in log_lines(
        workdir / "OUT")]
    assert "WARNING" in {level for level, _ in report["logs"]}


def test_the_epx_client_reads_the_logs_of_a_failed_run(workdir: Path) -> None:
    assert run("-o", "transmissibility=lots\nof it") == 1
    report = read_with_epx(workdir / "OUT", "logs")
    assert report["finder"] == "FileFinderF11"
    level, message = report["logs"][-1]
    assert level == "ERROR" and "transmissibility" in message and "\\n" in message
