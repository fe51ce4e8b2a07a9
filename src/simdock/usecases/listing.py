"""Parameters as lists show them: within PARAMETERS_SIZE_THRESHOLD, the rest by size.

A page of runs shows each run's parameters as :func:`simdock.domain.listing.within`
decides, with the bound the store keeps payloads inline by; the parameters' sizes
come from their job's specification (measured once per process) or, for runs that
keep their own parameters, from those.
"""

from __future__ import annotations

from typing import Any

from simdock.domain import Report, Run
from simdock.domain.listing import json_size, within
from simdock.platform import Platform
from simdock.usecases.queries import job_specs


def listed_parameters(runs: list[Run], platform: Platform) -> list[dict[str, Any]]:
    """Each run's parameters as a list shows them: a parameter left out is an
    :class:`~simdock.domain.listing.Omitted` with its size."""
    bound = platform.payloads.threshold
    specs = job_specs([r.job_id for r in runs if r.parameters is None], platform)
    listed = []
    for run in runs:
        if run.parameters is not None:  # stored before jobs kept specifications
            parameters = dict(platform.payloads.load(run.parameters))
            sizes = {name: json_size(value) for name, value in parameters.items()}
        else:
            spec = specs[run.job_id]
            parameters = spec.parameters(run.index)
            sizes = spec.parameter_sizes(run.index)
        listed.append(within(parameters, sizes, bound))
    return listed


def listed_report_parameters(reports: list[Report], platform: Platform
                             ) -> list[dict[str, Any]]:
    """Each report's parameters as a list shows them, by the same bound as runs'."""
    return [within(report.parameters, {name: json_size(value)
                                       for name, value in report.parameters.items()},
                   platform.payloads.threshold) for report in reports]
