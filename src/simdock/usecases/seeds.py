"""Where a job's runs take their seed, and their parameters without it: what makes runs
one parameter point (a report's, a summary's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simdock.domain import Job, JobKind
from simdock.domain.images import image_of
from simdock.errors import SimdockError
from simdock.ports import Executor
from simdock.usecases.queries import Queries


@dataclass(frozen=True)
class Seeds:
    """A job's seed parameter and its runs' parameters without their seed."""

    queries: Queries
    executor: Executor

    def parameter(self, job: Job) -> str | None:
        """The parameter a job's runs take their seed in: its replication's, else what its
        handler declares (None for a type no longer known here)."""
        if job.kind is not JobKind.OPEN:  # an open job has no specification
            replicated = self.queries.job_spec(job.id).seed_parameter
            if replicated is not None:
                return replicated
        try:
            return self.executor.declared(job.simulation_type).seed_parameter
        except SimdockError:
            return None

    def unseeded(self, job: Job, parameters: Mapping[str, Any], seed: str | None
                 ) -> dict[str, Any]:
        """A run's parameters without its seed, as its handler reads them (FRED's is among
        its flags) and without ``seed`` (the job's seed parameter). An image's seed is the
        parameter its label names, ``seed`` already: the engine is not asked again for
        every run."""
        if image_of(job.simulation_type) is not None:
            return {k: v for k, v in parameters.items() if k != seed}
        try:
            unseeded = self.executor.unseeded(job.simulation_type, parameters)
        except SimdockError:  # a type no longer known here
            unseeded = dict(parameters)
        return {k: v for k, v in unseeded.items() if k != seed}
