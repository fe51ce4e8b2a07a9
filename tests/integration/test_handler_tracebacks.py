"""A failing handler's run log shows the handler's traceback, not the platform's frames."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import simdock
import simdock_adapters
from simdock import SimulationHandler
from simdock.handlers import ProgressCallback

PLATFORM_DIRECTORIES = (str(Path(simdock.__file__).parent),
                        str(Path(simdock_adapters.__file__).parent))


def inverse_ratio(parameters: Mapping[str, Any]) -> float:
    return 1 / float(parameters["ratio"])


def solve(parameters: Mapping[str, Any]) -> float:
    try:
        return inverse_ratio(parameters)
    except ZeroDivisionError as exc:
        raise RuntimeError(f"cannot solve for ratio {parameters['ratio']}") from exc


class FailingHandler(SimulationHandler):
    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        return {"value": solve(parameters)}


def test_the_run_log_holds_the_handlers_frames_and_none_of_the_platforms(tmp_path: Path
                                                                          ) -> None:
    with simdock.connect("memory://", dispatch="inline", artifacts_path=str(tmp_path)) as dock:
        dock.register_handler("failing", FailingHandler())
        job = dock.submit("failing", {"ratio": 0})
        job.wait()
        assert job.status == "failed"
        log = "\n".join(job.logs())

    assert "RuntimeError: cannot solve for ratio 0" in log
    assert "ZeroDivisionError: float division by zero" in log
    assert "The above exception was the direct cause of the following exception" in log
    for frame in ("in execute", "in solve", "in inverse_ratio"):
        assert frame in log, log
    assert __file__ in log
    assert not any(directory in log for directory in PLATFORM_DIRECTORIES), log
    assert "simdock_adapters" not in log and "threads.py" not in log
    assert log.startswith("Traceback (most recent call last):")
