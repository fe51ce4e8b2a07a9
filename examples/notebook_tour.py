"""A notebook-style tour of simdock's embedded platform, runnable as a script.

    python examples/notebook_tour.py [OUTPUT_DIR]

Each block is what a notebook cell would hold. Outputs (artifacts, reports)
go to OUTPUT_DIR (a temporary directory by default).
"""

from __future__ import annotations

import json
import sys
import tempfile

import numpy as np

import simdock


def main(output_dir: str) -> None:
    # -- connect: an embedded platform, no server needed ------------------
    # simdock.connect() alone keeps ./simdock.db and ./simdock-artifacts; here
    # everything goes to output_dir instead.
    dock = simdock.connect(f"sqlite:///{output_dir}/simdock.db", artifacts_path=output_dir)
    print(dock)

    # -- one heat1d run -------------------------------------------------
    job = dock.submit("heat1d", {"length": 1.0, "time_steps": 200, "diffusivity": 0.01})
    job.wait(progress=True)
    result = job.result()
    print(job.status, "final centre temperature:", round(result["final_center_temp"], 3))
    assert isinstance(result["final"], np.ndarray)
    print("artifacts:", [a.name for a in job.artifacts()])
    centre = job.metrics()["center_temp"]
    print("centre temperature from", centre.values[0], "to", round(centre.values[-1], 3))
    print("log:", job.logs()[0])

    # -- a sweep over diffusivity -----------------------------------------
    sweep = dock.sweep("heat1d", grid={"diffusivity": [0.005, 0.01, 0.02]}, base={"length": 1.0})
    sweep.wait(progress=True)
    table = sweep.results()
    for d, t in zip(table["diffusivity"], table["final_center_temp"], strict=True):
        print(f"diffusivity {d:<6} final centre temperature {t:.3f}")
    assert np.all(np.diff(table["final_center_temp"]) < 0), "faster diffusion cools faster"

    # -- a Monte Carlo run with a convergence metric ------------------------
    mc = dock.submit("monte_carlo", {"iterations": 200_000, "seed": 42}).wait()
    print("pi ~", mc.result()["estimate"], "std error series:",
          len(mc.metrics()["std_error"].values), "points")

    # -- a report over both jobs ------------------------------------------
    report = dock.report("summary", [sweep, job], output_format="json")
    summary = json.loads(report.content())
    print("report:", summary["runs"], "runs", summary["status_counts"], "at", report.path)
    dock.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(sys.argv[1] if len(sys.argv) > 1 else tmp)
