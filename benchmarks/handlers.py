"""Handlers the benchmarks register: importable by name, so that a child process finds them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simdock.handlers import ProgressCallback, SimulationHandler


class MarkingSleep(SimulationHandler):
    """Sleeps without reporting, then leaves a file: a mark means it ran to its end."""

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        time.sleep(parameters["seconds"])
        Path(parameters["mark"]).write_text("ran to its end")
        return None


class Square(SimulationHandler):
    """Returns the square of ``x`` and leaves it in a file: a versioned handler, so that its
    runs are reused."""

    version = "1"

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        square = parameters["x"] ** 2
        artifact = getattr(progress_callback, "artifact", None)
        if artifact is not None:
            artifact("square.txt", str(square).encode())
        return {"square": square, "y": parameters.get("y")}
