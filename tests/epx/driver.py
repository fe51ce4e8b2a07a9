"""Drives the real epx client (run with the epx virtualenv's Python, not simdock's).

    python driver.py SCENARIO API_URL TOKEN WORKDIR [JOB_ID]

prints one JSON document with what the scenario saw. Scenarios:

- ``workflow``: a two-run FREDJob (two locations, model parameter overrides, seeds)
  executed to DONE, then its results (pop_size, state) and runs;
- ``outputs``: a two-run job whose model declares shared variables of every kind, CSV
  and text files and networks, executed, then read with every reader of the job's
  results and of one run's;
- ``retry``: a job whose first attempt fails (``fail_attempts=1``), executed: the client
  retries the failed run and the job finishes;
- ``stop``: a slow job, stopped while it runs, then the logs it kept (``status.logs``);
- ``delete``: deletes job JOB_ID;
- ``peek``: what this token sees of job JOB_ID (another user's token sees nothing);
- ``pact``: every call the contract records, against pact-python's mock servers: a job
  executed and read (job 123, run 978), listed, found as the latest, its run retried
  and the job deleted; a second job (124, run 979) stopped while it runs.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import requests
from epx.core.errors.api_errors import NotFoundError
from epx.run.fred_run import FREDRun

from epx import FREDJob, FREDModelConfig, SynthPop

LOCATIONS = ["Loving_County_TX", "Jefferson_County_PA"]
MAIN_FRED = "# a FRED model (the stand-in reads these parameters)\ntransmissibility = 0.4\n"


def job(workdir: Path, tags: list[str], model_params: dict[str, Any], seeds: list[int],
        end_date: str = "2020-02-15") -> FREDJob:
    program = workdir / "model.fred"
    program.write_text(MAIN_FRED)
    config = FREDModelConfig(synth_pop=SynthPop("US_2010.v5", LOCATIONS),
                             start_date="2020-01-01", end_date=end_date,
                             model_params=model_params, seed=seeds, n_reps=len(seeds))
    return FREDJob(fred_files=[str(program)], config=[config], tags=tags, run_ids=[])


#: A model declaring what FRED 11 writes besides its state counts: shared variables of
#: every kind, a CSV and a text file printed to each day, and two networks.
OUTPUTS_FRED = """# a FRED model (the stand-in reads these declarations)
transmissibility = 0.6
variables {
    shared numeric n_infectious
    n_infectious = INF.I
    shared numeric n_recovered
    n_recovered = INF.totR
    n_recovered.output_interval = 7
    shared list compartments
    compartments = list(INF.S, INF.E, INF.I, INF.R)
    shared table cases_by_age
    cases_by_age = INF.totE
    shared list_table daily_by_age
    daily_by_age = list(INF.newE, INF.newI)
}
startup {
    open_csv(daily.csv, "day", "date", "infectious", "recovered")
}
state INF.I {
    print_csv(daily.csv, sim_day(), date(), INF.I, INF.totR)
    print_file(notes.txt, epi_week(), INF.newE)
}
network Transmission {
    is_directed = 1
    output_interval = 10
}
network Contacts {
    is_directed = 0
}
"""


def records(frame: Any) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))


def workflow(workdir: Path) -> dict[str, Any]:
    fred_job = job(workdir, ["e2e", "workflow"], {"transmissibility": 0.5}, [11, 12])
    fred_job.execute(time_out=120)
    # Each reading takes fresh results: the client's can be read once.
    return {"job_id": fred_job.job_id, "run_ids": list(fred_job.run_ids),
            "status": str(fred_job.status),
            "pop_size": records(fred_job.results.pop_size()),
            "infectious": records(fred_job.results.state("INF", "I", "count")),
            "new_exposed": records(fred_job.results.state("INF", "E", "new")),
            "runs": [run.model_dump(mode="json") for run in fred_job.list_runs().runs],
            "listed": [j.id for j in FREDJob.get_jobs_by_tags(["workflow"]).jobs],
            "latest": FREDJob.get_latest_job(["workflow"]).job_id}


def graph(network: Any) -> dict[str, Any]:
    return {"kind": type(network).__name__, "nodes": sorted(network.nodes),
            "edges": sorted([a, b, int(data["exposures"])]
                            for a, b, data in network.edges(data=True))}


def outputs(workdir: Path) -> dict[str, Any]:
    """Every reader of a job's results and of a run's, on a model that declares what they
    read."""
    program = workdir / "model.fred"
    program.write_text(OUTPUTS_FRED)
    config = FREDModelConfig(synth_pop=SynthPop("US_2010.v5", LOCATIONS),
                             start_date="2020-01-01", end_date="2020-02-15", seed=[41, 42],
                             n_reps=2)
    fred_job = FREDJob(fred_files=[str(program)], config=[config], tags=["e2e", "outputs"],
                       run_ids=[])
    fred_job.execute(time_out=120)

    def job(read: Any) -> Any:  # each reading takes fresh results: they can be read once
        return read(fred_job.results)

    seen: dict[str, Any] = {
        "job_id": fred_job.job_id, "run_ids": list(fred_job.run_ids),
        "status": str(fred_job.status),
        "infectious": records(job(lambda r: r.state("INF", "I", "count"))),
        "cumulative_E": records(job(lambda r: r.state("INF", "E", "cumulative"))),
        "new_E": records(job(lambda r: r.state("INF", "E", "new"))),
        "new_I": records(job(lambda r: r.state("INF", "I", "new"))),
        "numeric_var": records(job(lambda r: r.numeric_var("n_infectious"))),
        "numeric_weekly": records(job(lambda r: r.numeric_var("n_recovered"))),
        "list_var": records(job(lambda r: r.list_var("compartments"))),
        "list_var_wide": records(job(lambda r: r.list_var("compartments", wide=True))),
        "table_var": records(job(lambda r: r.table_var("cases_by_age"))),
        "list_table_var": records(job(lambda r: r.list_table_var("daily_by_age"))),
        "list_table_var_wide": records(job(lambda r: r.list_table_var("daily_by_age",
                                                                      wide=True))),
        "csv_output": records(job(lambda r: r.csv_output("daily.csv"))),
        "file_output": records(job(lambda r: r.file_output("notes.txt"))),
        "network": {str(run_id): graph(g) for run_id, g in
                    job(lambda r: r.network("Transmission")).items()},
        "network_day_10": {str(run_id): graph(g) for run_id, g in
                           job(lambda r: r.network("Transmission", sim_day=10)).items()},
        "undirected": {str(run_id): graph(g) for run_id, g in
                       job(lambda r: r.network("Contacts", is_directed=False)).items()},
    }
    run = FREDRun.from_job_and_run_id(fred_job.job_id, fred_job.run_ids[0]).results
    assert run is not None
    seen["run"] = {
        "numeric_var": records(run.numeric_var("n_infectious")),
        "list_var": records(run.list_var("compartments")),
        "table_var": records(run.table_var("cases_by_age")),
        "list_table_var": records(run.list_table_var("daily_by_age")),
        "csv_output": records(run.csv_output("daily.csv")),
        "file_output": json.loads(run.file_output("notes.txt").to_json(orient="values")),
        "network": graph(run.network("Transmission")),
    }
    return seen


def retry(workdir: Path) -> dict[str, Any]:
    fred_job = job(workdir, ["e2e", "retry"], {"fail_attempts": 1}, [21])
    fred_job.execute(time_out=120)
    return {"job_id": fred_job.job_id, "run_ids": list(fred_job.run_ids),
            "status": str(fred_job.status),
            "pop_size": records(fred_job.results.pop_size())}


def stop(workdir: Path, api_url: str, token: str) -> dict[str, Any]:
    fred_job = job(workdir, ["e2e", "stop"], {"seconds_per_day": 0.5}, [31],
                   end_date="2020-12-31")
    fred_job.execute()
    seen = []
    deadline = time.monotonic() + 60
    while str(fred_job.status) != "RUNNING" and time.monotonic() < deadline:
        seen.append(str(fred_job.status))
        time.sleep(0.5)
    logged(api_url, token, "day 1 of 366")
    started = time.monotonic()
    description = fred_job.stop()
    stop_seconds = time.monotonic() - started
    logs = stopped_logs(fred_job)
    return {"job_id": fred_job.job_id, "run_ids": list(fred_job.run_ids), "seen": seen,
            "stop": description, "stop_seconds": stop_seconds,
            "status": str(fred_job.status),
            "logs": [[row.level, row.message] for row in logs.itertuples()],
            "logs_seconds": time.monotonic() - started}


def logged(api_url: str, token: str, text: str, wait: float = 60) -> None:
    """Until the user's running FRED run has logged a line holding ``text``, as simdock's
    own API (``/api/v1``, which takes the same token) shows it."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        running = requests.get(f"{api_url}/api/v1/jobs", headers=headers, timeout=30, params={
            "status": "running", "simulation_type": "fred"}).json()["items"]
        for run in running:
            lines = requests.get(f"{api_url}/api/v1/jobs/{run['id']}/logs", headers=headers,
                                 timeout=30).json()["lines"]
            if any(text in line["message"] for line in lines):
                return
        time.sleep(0.2)
    raise AssertionError(f"no running run logged {text!r} within {wait} s")


def stopped_logs(fred_job: FREDJob, wait: float = 30) -> Any:
    """The stopped job's logs as the client shows them (``status.logs``), read once its
    results (a stopped run's too) are in."""
    deadline = time.monotonic() + wait
    while True:
        fred_job.results  # noqa: B018 - fetches the results of the runs that ended
        logs = fred_job.status.logs
        if len(logs) or time.monotonic() > deadline:
            return logs
        time.sleep(0.5)


def delete(job_id: int) -> dict[str, Any]:
    fred_job = FREDJob(fred_files=[], config=[], tags=["existing"])
    fred_job._set_job_id(job_id)
    try:
        fred_job.delete(interactive=False)
    except NotFoundError as exc:
        return {"deleted": False, "error": str(exc)}
    return {"deleted": True}


def peek(job_id: int) -> dict[str, Any]:
    fred_job = FREDJob(fred_files=[], config=[], tags=["existing"])
    fred_job._set_job_id(job_id)
    seen: dict[str, Any] = {"jobs": [j.id for j in FREDJob.get_jobs_by_tags().jobs]}
    try:
        seen["runs"] = [run.id for run in fred_job.list_runs().runs]
    except RuntimeError as exc:
        seen["runs_error"] = str(exc)
    return seen


def pact(workdir: Path) -> dict[str, Any]:
    program = workdir / "main.fred"
    program.write_text(MAIN_FRED)
    config = [FREDModelConfig(synth_pop=SynthPop("US_2010.v5", ["Loving_County_TX"]), seed=1)]
    fred_job = FREDJob(fred_files=[str(program)], config=config, tags=["info_job"], run_ids=[])
    fred_job.execute(time_out=30)
    seen: dict[str, Any] = {"job_id": fred_job.job_id, "run_ids": list(fred_job.run_ids),
                            "pop_size": records(fred_job.results.pop_size())}
    seen["listed"] = [j.id for j in FREDJob.get_jobs_by_tags(["info_job"]).jobs]
    seen["latest"] = FREDJob.get_latest_job(["info_job"]).job_id
    seen["retried"] = fred_job._retry_runs(list(fred_job.run_ids))
    fred_job.delete(interactive=False)
    running = FREDJob(fred_files=[str(program)], config=config, tags=["stop_job"], run_ids=[])
    running.execute()
    seen["stop"] = running.stop()
    return seen


def main() -> None:
    scenario, api_url, token, workdir = sys.argv[1:5]
    os.environ["EPX_STORAGE_DIR"] = str(Path(workdir) / "epx")
    Path(workdir, "epx").mkdir(parents=True, exist_ok=True)
    Path(workdir, "epx", "config.json").write_text(json.dumps(
        {"api-url": api_url, "bearer-token": token}))
    job_id = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    outcome = {"workflow": lambda: workflow(Path(workdir)),
               "retry": lambda: retry(Path(workdir)),
               "outputs": lambda: outputs(Path(workdir)),
               "stop": lambda: stop(Path(workdir), api_url, token),
               "delete": lambda: delete(job_id), "peek": lambda: peek(job_id),
               "pact": lambda: pact(Path(workdir))}[scenario]()
    print("EPX-RESULT " + json.dumps(outcome))


if __name__ == "__main__":
    main()
