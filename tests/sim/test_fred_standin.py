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

import numpy as np
import pytest

from simdock_sim import fred_people, fred_program, fred_standin
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


#: A model declaring what FRED 11 writes besides its state counts (see fred_program).
MODEL = textwrap.dedent("""\
    transmissibility = 0.6
    variables {
        shared numeric n_infectious
        n_infectious = INF.I
        shared numeric n_recovered, n_days
        n_recovered = INF.totR
        n_recovered.output_interval = 7
        n_days = sim_day()
        n_days.output = 0
        shared list compartments
        compartments = list(INF.S, INF.E, INF.I, INF.R)
        shared table cases_by_age
        cases_by_age = INF.totE
        shared list_table daily_by_age
        daily_by_age = list(INF.newE, INF.newI)
        global_list constants
        constants = list(1, 2.5, n_infectious)
        shared numeric counter
        counter = 0
        counter = counter + 1
        shared table unbound
    }
    startup {
        open_csv(daily.csv, "day", "date", "infectious", "recovered")
    }
    state INF.I {
        print_csv(daily.csv, sim_day(), date(), INF.I, \\
                  INF.totR)
        print_file(notes.txt, epi_week(), INF.newE)  # a comment
        print_csv(other.csv, id())
    }
    network Transmission {
        is_directed = 1
        output_interval = 10
    }
    network Contacts {
        is_directed = 0
    }
    """)


def test_the_program_s_variables_files_and_networks_are_read() -> None:
    program = fred_program.parse_program(MODEL)
    kinds = {name: v.kind for name, v in program.variables.items()}
    assert kinds == {"n_infectious": "numeric", "n_recovered": "numeric", "n_days": "numeric",
                     "compartments": "list", "cases_by_age": "table",
                     "daily_by_age": "list_table", "constants": "list", "counter": "numeric",
                     "unbound": "table"}
    variables = program.variables
    assert variables["n_infectious"].value == fred_program.Measure("count", "I")
    assert variables["n_recovered"].value == fred_program.Measure("total", "R")
    assert variables["n_recovered"].interval == 7 and not variables["n_days"].written
    assert variables["daily_by_age"].value == fred_program.ListOf(
        (fred_program.Measure("new", "E"), fred_program.Measure("new", "I")))
    assert variables["constants"].value == fred_program.ListOf(
        (fred_program.Number(1.0), fred_program.Number(2.5),
         fred_program.VariableRef("n_infectious")))
    assert variables["counter"].value is None and variables["unbound"].value is None
    assert program.csv_columns == {"daily.csv": ("day", "date", "infectious", "recovered")}
    assert [p.file for p in program.csv_rows] == ["daily.csv"]
    assert program.csv_rows[0].values[:2] == (fred_program.Call("sim_day"),
                                              fred_program.Call("date"))
    assert [p.file for p in program.text_lines] == ["notes.txt"]
    assert program.networks == {
        "Transmission": fred_program.Network("Transmission", directed=True, interval=10),
        "Contacts": fred_program.Network("Contacts", directed=False)}
    warned = " | ".join(program.warnings)
    assert "counter + 1" in warned and "unbound is given no value" in warned
    assert "print_csv(other.csv, ...)" in warned and len(program.warnings) == 3


def test_a_program_without_declarations_declares_nothing() -> None:
    program = fred_program.parse_program(PROGRAM)
    assert program == fred_program.Program()


@pytest.mark.parametrize("seed", [1, 7])
def test_the_agents_add_up_to_the_model_s_counts_every_day(seed: int) -> None:
    args = RunArgs(program=Path("unused"), seed=seed, locations=("Loving_County_TX",),
                   end=date(2020, 3, 1))
    series = fred_standin.simulate(args, Parameters(transmissibility=0.6))
    people = fred_people.follow(series.population, series.new, seed)
    sizes = np.bincount(people.age_group, minlength=5)
    assert sizes.sum() == series.population
    shares = [share for _, share in fred_people.AGE_GROUPS]
    assert np.all(np.abs(sizes - np.array(shares) * series.population) < 1)
    for state in "SEIR":
        assert people.count[state].sum(axis=1).tolist() == series.count[state]
        assert people.new[state].sum(axis=1).tolist() == series.new[state]
        assert people.total[state].sum(axis=1).tolist() == series.total[state]
    initial = [e for e in people.exposures if e.infector is None]
    assert len(initial) == series.count["I"][0]
    assert len(people.exposures) - len(initial) == series.total["E"][-1]
    seeded = {e.agent for e in initial}
    exposed_on = {e.agent: e.day for e in people.exposures}
    assert len(exposed_on) == len(people.exposures)  # nobody is exposed twice
    for exposure in people.exposures:  # an infector was infectious at the start of the day:
        if exposure.infector is not None:  # exposed two days before at the latest
            assert exposure.infector in seeded or \
                exposed_on[exposure.infector] <= exposure.day - 2
    again = fred_people.follow(series.population, series.new, seed)
    assert again.exposures == people.exposures
    assert np.array_equal(again.age_group, people.age_group)


def test_declaring_outputs_leaves_the_model_s_counts_as_they_were(workdir: Path) -> None:
    assert run(*LOCATIONS, "-s", "5", "-d", "plain") == 0
    Path("model.fred").write_text(MODEL.replace("0.6", "0.5"))  # as PROGRAM says
    assert fred_standin.main(["-p", "model.fred", *LOCATIONS, "-s", "5", "-d", "model"]) == 0
    plain, model = tree(workdir / "plain"), tree(workdir / "model")
    assert {n: b for n, b in model.items() if n.startswith("DAILY/")} == {
        n: b for n, b in plain.items() if n.startswith("DAILY/")}
    assert fred_standin.main(["-p", "model.fred", *LOCATIONS, "-s", "5", "-d", "again"]) == 0
    again = tree(workdir / "again")
    del model["logs.txt"], again["logs.txt"]
    assert model == again  # the same seed, the same bytes


def test_a_model_s_declarations_are_written_in_fred_11_s_layout(workdir: Path) -> None:
    Path("model.fred").write_text(MODEL)
    assert fred_standin.main(["-p", "model.fred", "-s", "3", "--end-date", "2020-01-20",
                              "-d", "OUT"]) == 0
    out = workdir / "OUT"
    files = set(tree(out))
    days = range(20)
    assert {"VARIABLES/numeric.n_infectious.csv", "VARIABLES/numeric.n_recovered.csv",
            "VARIABLES/list.compartments.csv", "VARIABLES/list.constants.csv",
            "USER_OUTPUT/daily.csv", "USER_OUTPUT/notes.txt"} <= files
    assert {f"VARIABLES/table.cases_by_age-{d}.csv" for d in days} <= files
    assert {f"VARIABLES/list_table.daily_by_age-{d}.csv" for d in days} <= files
    assert {n for n in files if n.startswith("NETWORKS/")} == {
        "NETWORKS/Transmission-0.gv", "NETWORKS/Transmission-10.gv",
        "NETWORKS/Transmission-19.gv", "NETWORKS/Contacts-19.gv"}
    assert not any("n_days" in n or "counter" in n or "unbound" in n for n in files)
    recovered = (out / "VARIABLES/numeric.n_recovered.csv").read_text().splitlines()
    assert [line.split()[0] for line in recovered] == ["0", "7", "14"]
    assert (out / "VARIABLES/list.constants.csv").read_text().splitlines()[:2] == [
        "Day,constants", '0,"[1.000000,2.500000,5.000000]"']
    assert (out / "USER_OUTPUT/daily.csv").read_text().splitlines()[:2] == [
        "day,date,infectious,recovered", "0,2020-01-01,5,0"]
    warnings = [m for level, m in log_lines(out) if level == "WARNING"]
    assert len(warnings) == 3 and "counter + 1" in warnings[0]


EPX_MODEL_READER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from epx.run.fs import FileFinderFactory
    from epx.run.result.fred_run_results import FREDRunResultsFactory

    results = FREDRunResultsFactory(FileFinderFactory(Path(sys.argv[1])).build()).build()

    def rows(frame):
        return json.loads(frame.to_json(orient="records"))

    def graph(network):
        return [type(network).__name__, sorted(network.nodes),
                sorted([a, b, int(d["exposures"])] for a, b, d in network.edges(data=True))]

    print(json.dumps({
        "numeric": rows(results.numeric_var("n_infectious")),
        "weekly": rows(results.numeric_var("n_recovered")),
        "list": rows(results.list_var("compartments")),
        "list_wide": rows(results.list_var("compartments", wide=True)),
        "table": rows(results.table_var("cases_by_age")),
        "list_table": rows(results.list_table_var("daily_by_age")),
        "list_table_wide": rows(results.list_table_var("daily_by_age", wide=True)),
        "csv": rows(results.csv_output("daily.csv")),
        "file": results.file_output("notes.txt").tolist(),
        "network": graph(results.network("Transmission")),
        "network_10": graph(results.network("Transmission", sim_day=10)),
        "undirected": graph(results.network("Contacts", is_directed=False)),
    }))
""")


def test_the_epx_client_reads_every_output_of_a_model(workdir: Path) -> None:
    Path("model.fred").write_text(MODEL)
    argv = ["-p", "model.fred", *LOCATIONS, "-s", "9", "--end-date", "2020-02-09"]
    assert fred_standin.main([*argv, "-d", "OUT"]) == 0
    args = fred_standin.parse_args(argv)
    series = fred_standin.simulate(args, fred_standin.load_parameters(args)[0])
    people = fred_people.follow(series.population, series.new, 9)
    days = len(series.dates)
    if not EPX_PYTHON.is_file():
        pytest.skip(f"the epx client's interpreter {EPX_PYTHON} does not exist")
    completed = subprocess.run([str(EPX_PYTHON), "-c", EPX_MODEL_READER, "OUT"], cwd=workdir,
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout)

    assert seen["numeric"] == [{"sim_day": d, "value": series.count["I"][d]}
                               for d in range(days)]
    assert [r["sim_day"] for r in seen["weekly"]] == list(range(0, days, 7))
    assert [r["value"] for r in seen["weekly"]] == series.total["R"][::7]
    assert [r["value"] for r in seen["list"]] == [
        series.count[s][d] for d in range(days) for s in "SEIR"]
    assert seen["list_wide"][-1] == {"sim_day": days - 1, **{
        f"item_{i}": series.count[s][-1] for i, s in enumerate("SEIR")}}
    assert [(r["sim_day"], r["key"], r["value"]) for r in seen["table"]] == [
        (d, age, people.total["E"][d][g]) for d in range(days)
        for g, age in enumerate(people.first_ages)]
    assert [(r["sim_day"], r["key"], r["list_index"], r["value"])
            for r in seen["list_table"]] == [
        (d, age, i, people.new[s][d][g]) for d in range(days)
        for g, age in enumerate(people.first_ages) for i, s in enumerate("EI")]
    assert len(seen["list_table_wide"]) == days * 5
    assert [(r["day"], r["date"], r["infectious"], r["recovered"]) for r in seen["csv"]] == [
        (d, series.dates[d].isoformat(), series.count["I"][d], series.total["R"][d])
        for d in range(days)]
    assert seen["file"] == [f"{fred_standin.epi_week(series.dates[d])} {series.new['E'][d]}"
                            for d in range(days)]
    kind, nodes, edges = seen["network"]
    assert kind == "DiGraph" and nodes == ["0", "18", "5", "50", "65"]
    assert sum(n for _, _, n in edges) == series.total["E"][-1]
    assert sum(n for _, _, n in seen["network_10"][2]) == series.total["E"][10]
    assert seen["undirected"][0] == "Graph"
    assert sum(n for _, _, n in seen["undirected"][2]) == series.total["E"][-1]


def test_run_by_its_file_by_an_interpreter_without_simdock(tmp_path: Path) -> None:
    """How simdock runs it (in handler containers too): its sibling modules are found
    beside it."""
    if not EPX_PYTHON.is_file():
        pytest.skip(f"the epx client's interpreter {EPX_PYTHON} does not exist")
    (tmp_path / "model.fred").write_text(MODEL)
    standin = Path(fred_standin.__file__)
    done = subprocess.run([str(EPX_PYTHON), "-I", str(standin), "-p", "model.fred", "-s", "2",
                           "-d", "OUT"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "OUT/VARIABLES/numeric.n_infectious.csv").is_file()
    assert (tmp_path / "OUT/NETWORKS/Contacts-30.gv").is_file()
