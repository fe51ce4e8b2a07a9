"""heat1d says how much memory a run needs, and an in-process platform refuses what is too big.

Seen before: heat1d accepted sizes needing ~15 GB (339 MB at a million points,
959 MB at five million; the parameter limit is a hundred million).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import simdock
from simdock.errors import InvalidParameters
from simdock.handlers import ProgressCallback, SimulationHandler, SimulationHandlerRegistry
from simdock_adapters.executors.inprocess import InProcessExecutor
from simdock_sim import heat1d

#: Runs one job in a fresh process and prints two peaks. ``resident`` is the process's own
#: high-water mark (VmHWM): ``ru_maxrss`` starts from the parent's peak at exec, so under a
#: large test process every child would report the same figure. ``allocated`` is the most
#: bytes the run held at once as tracemalloc counts them (numpy reports its buffers to it):
#: resident pages depend on the machine's state (a run measured 0 bytes more than a no-op
#: under a loaded CI run), allocations do not.
MEASURE = """
import json, sys, tempfile, tracemalloc
import simdock
kind, parameters, trace = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "trace"
with tempfile.TemporaryDirectory() as tmp:
    with simdock.connect("memory://", artifacts_path=tmp, dispatch="inline") as dock:
        if trace:
            tracemalloc.start()
        job = dock.submit(kind, parameters)
        allocated = tracemalloc.get_traced_memory()[1] if trace else 0
with open("/proc/self/status") as status:
    kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"status": job.status, "resident": kib * 1024, "allocated": allocated}))
"""


def measure(kind: str, parameters: dict[str, Any], trace: bool = False) -> dict[str, int]:
    out = subprocess.run([sys.executable, "-c", MEASURE, kind, json.dumps(parameters),
                          "trace" if trace else "plain"],
                         capture_output=True, text=True, timeout=300, check=True)
    measured = json.loads(out.stdout)
    assert measured["status"] == "succeeded", out.stdout
    return {"resident": int(measured["resident"]), "allocated": int(measured["allocated"])}


def peak(kind: str, parameters: dict[str, Any]) -> int:
    """The resident peak of a process that ran one job of ``kind``."""
    return measure(kind, parameters)["resident"]


@pytest.mark.parametrize("parameters", [
    {"spatial_steps": 1_000_000, "time_steps": 20, "end_time": 1e-9, "snapshots": 2},
    {"spatial_steps": 1_000_000, "time_steps": 20, "end_time": 1e-9, "snapshots": 11},
    {"spatial_steps": 200_001, "time_steps": 100, "end_time": 1e-8},
], ids=["a-million-points", "eleven-snapshots", "default-snapshots"])
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_the_estimate_covers_what_a_whole_run_takes(parameters: dict[str, Any]) -> None:
    # What the run takes: a process's peak with it, over the same process's with a no-op run.
    estimate = heat1d.peak_bytes(heat1d.Heat1DParameters.from_mapping(parameters))
    resident = peak("heat1d", parameters) - peak("noop", {})
    assert resident <= estimate, (resident, estimate)
    allocated = (measure("heat1d", parameters, trace=True)["allocated"]
                 - measure("noop", {}, trace=True)["allocated"])
    assert allocated <= estimate, (allocated, estimate)
    assert estimate < 3 * allocated, ("the estimate should stay close", allocated, estimate)


def test_the_measure_is_the_child_s_own_peak_not_its_parent_s() -> None:
    # Seen: under the whole suite (a test process of several hundred MB) a million-point run
    # measured 0 bytes more than a no-op, because each child reported its parent's peak.
    ballast = bytearray(300 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(ballast[::4096])
    assert peak("noop", {}) < len(ballast)


class Needs(SimulationHandler):
    def __init__(self, needed: int | None) -> None:
        self.needed = needed

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        return None

    def memory_needed(self, parameters: Mapping[str, Any]) -> int | None:
        return self.needed


@pytest.mark.parametrize(("needed", "refused"), [(2048, True), (1024, False), (None, False)])
def test_an_in_process_executor_refuses_runs_that_need_more_than_it_allows(
        needed: int | None, refused: bool) -> None:
    registry = SimulationHandlerRegistry()
    registry.register("needs", Needs(needed))
    check = InProcessExecutor(registry, max_run_memory=1024).checker("needs")
    if refused:
        with pytest.raises(InvalidParameters, match="MAX_RUN_MEMORY_MB"):
            check({})
    else:
        check({})


def test_a_heat1d_run_too_big_for_the_platform_is_refused_at_submission(tmp_path: Path
                                                                        ) -> None:
    huge = {"spatial_steps": 100_000_000, "time_steps": 200, "end_time": 1e-12, "snapshots": 2}
    with simdock.connect("memory://", artifacts_path=str(tmp_path), dispatch="database") as dock:
        with pytest.raises(InvalidParameters, match=r"need about [\d,]+ MiB, more than the "
                                                    r"1,024 MiB"):
            dock.submit("heat1d", huge)
        assert dock.jobs() == []
    with simdock.connect("memory://", artifacts_path=str(tmp_path), dispatch="database",
                         max_run_memory_mb=0) as unbounded:
        assert unbounded.submit("heat1d", huge).status == "queued"
