"""A submission from either dialect's body: one run, or a sweep when variants are given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simdock.domain import SweepSpec
from simdock.platform import Platform
from simdock.usecases.submit import (
    Submission,
    SubmissionOptions,
    SubmitRun,
    SubmitSweep,
    submit_run,
    submit_sweep,
)


def submit(owner_id: str, simulation_type: str, parameters: Mapping[str, Any] | None,
           variants: Sequence[Mapping[str, Any]] | None, grid: Mapping[str, Sequence[Any]] | None,
           zipped: Mapping[str, Sequence[Any]] | None, options: SubmissionOptions,
           platform: Platform) -> Submission:
    """A sweep over ``parameters`` when variants, a grid or zipped lists are given, else a run."""
    settings = {name: getattr(options, name) for name in SubmissionOptions.__dataclass_fields__}
    if variants is not None or grid is not None or zipped is not None:
        spec = SweepSpec(variants=variants, grid=grid, zipped=zipped, base=parameters or {})
        return submit_sweep(SubmitSweep(owner_id, simulation_type, spec, **settings), platform)
    return submit_run(SubmitRun(owner_id, simulation_type, parameters or {}, **settings),
                      platform)
