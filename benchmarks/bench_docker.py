"""Container runs through simdock next to plain ``docker run`` of the same image and options.

- A trivial run of ``sim:local`` (heat1d on 11 points, 10 steps): the wall time from
  submission until the run succeeded (embedded platform, SQLite) divided by that of
  ``docker run --rm`` with the same isolation options and mounts, in the same run
  (target: at most 1.15), as medians of ``--repeat``.
- A sweep of ``--sweep`` such runs on one worker with ``--workers`` slots: runs per
  second, and the engine's overhead per run (a slot's time per run, less the
  program's own time, timed inside a container).

    python -m benchmarks.bench_docker [--repeat 5] [--sweep 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import simdock
from benchmarks.measure import machine, median, repeated, spread

IMAGE = "sim:local"
PARAMS = {"length": 1.0, "time_steps": 10, "spatial_steps": 11, "diffusivity": 0.01}
FLAGS = [item for name, value in PARAMS.items() for item in (f"--{name}", str(value))]


def plain_docker_run(scratch: Path) -> float:
    """``docker run --rm`` with the options and mounts simdock gives a container."""
    out = Path(tempfile.mkdtemp(dir=scratch))
    out.chmod(0o777)
    user = "65534:65534" if os.getuid() == 0 else f"{os.getuid()}:{os.getgid()}"
    started = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", "--network", "none", "--memory", "256m",
                    "--memory-swap", "256m", "--cpus", "1", "--pids-limit", "128",
                    "--read-only", "--tmpfs", "/tmp:rw,size=64m,mode=1777", "--shm-size", "64m",
                    "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--user", user,
                    "--init", "-v", f"{out}:/output", "-e", "OUTPUT_DIR=/output", IMAGE, *FLAGS],
                   check=True, capture_output=True, timeout=120)
    return time.perf_counter() - started


def program_alone() -> float:
    """The program's own time inside the image (heat1d and its files, once its interpreter
    runs), timed from within a container, so that what is left is the engine's."""
    timer = ("import runpy, sys, time; started = time.perf_counter(); "
             f"sys.argv = ['run_sim.py', *{FLAGS!r}, '--output-dir', '/tmp/out']; "
             "code = 0\ntry:\n    runpy.run_path('/opt/sim/run_sim.py', run_name='__main__')\n"
             "except SystemExit as exit:\n    code = exit.code or 0\n"
             "print(time.perf_counter() - started)")
    inside = subprocess.run(["docker", "run", "--rm", "--network", "none", "--tmpfs", "/tmp",
                             "--entrypoint", "python3", IMAGE, "-c", timer],
                            check=True, capture_output=True, text=True, timeout=120)
    return float(inside.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sweep", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"container runs of {IMAGE}; {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        plain_docker_run(scratch)  # the image's files in the page cache, as for simdock
        settings = {"artifacts_path": str(scratch / "blobs"), "container_engine": "docker",
                    "executor_workers": args.workers, "handler_isolation": "thread"}
        with simdock.connect(f"sqlite:///{scratch / 'simdock.db'}", **settings) as dock:
            def through_simdock() -> float:
                started = time.perf_counter()
                job = dock.submit(f"container:{IMAGE}", PARAMS,  # executed, never reused
                                  reuse=False).wait(timeout=120)
                assert job.status == "succeeded", job.run.error
                return time.perf_counter() - started

            through_simdock()
            ours, plain = [], []
            for _ in range(max(3, args.repeat)):  # interleaved: both see the same machine
                ours.append(through_simdock())
                plain.append(plain_docker_run(scratch))
            ratio = median(ours) / median(plain)
            print(f"  docker run --rm (baseline)  {spread(plain, ' s')}")
            print(f"  through simdock             {spread(ours, ' s')}  x{ratio:.2f} of "
                  f"docker run (target <= 1.15: {'met' if ratio <= 1.15 else 'MISSED'})")
            alone = median(repeated(3, program_alone))

            def sweep() -> float:
                started = time.perf_counter()
                job = dock.sweep(f"container:{IMAGE}", grid={"diffusivity": [
                    0.01 + i / 100_000 for i in range(args.sweep)]},
                    base={k: v for k, v in PARAMS.items() if k != "diffusivity"}, reuse=False)
                job.wait(timeout=1800)
                assert job.status == "succeeded", job.status
                return time.perf_counter() - started

            totals = repeated(3, sweep)
            per_slot = median(totals) * args.workers / args.sweep
            print(f"  sweep of {args.sweep} on one worker with {args.workers} slots: "
                  f"{spread(totals, ' s')}, {args.sweep / median(totals):.1f} runs/s; "
                  f"{per_slot:.3f} s of a slot per run, of which the program alone takes "
                  f"{alone:.3f} s: engine overhead {per_slot - alone:.3f} s per run")
    print(f"  after: {machine()}")


if __name__ == "__main__":
    main()
