"""Jobs made before their runs: register a job, then add runs to it (the Epistemix way).

A registered job is open: it starts with no run, may be given input files (see
:mod:`simdock.usecases.inputs`), and runs are added to it, each with its own
parameters, as many times as its owner asks. Its status follows its runs as any
job's does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simdock.domain import Job, JobKind, Run
from simdock.domain.parameters import validate_parameters
from simdock.errors import Conflict, InvalidParameters, ValidationError
from simdock.platform import Platform
from simdock.usecases.access import load_job
from simdock.usecases.inputs import check_inputs
from simdock.usecases.submit import check_tags, check_timeout, check_type

#: The most runs one call may add.
MAX_RUNS_PER_CALL = 10_000


@dataclass(frozen=True, kw_only=True)
class RegisterJob:
    """Make an open job of ``simulation_type`` with no run yet."""

    owner_id: str
    simulation_type: str
    tags: Sequence[str] = ()
    name: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class AddRuns:
    """Add one run per parameter set to the open job ``job`` (its id or its number).

    ``metadata`` is kept with each run (who sent it, for instance).
    """

    job: str | int
    owner_id: str
    parameters: Sequence[Mapping[str, Any]]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    timeout_seconds: float | None = None


def register_job(cmd: RegisterJob, platform: Platform) -> Job:
    """Store an open job; its type is checked now, so that no run of it is refused later
    for being of an unknown type."""
    simulation_type = check_type(cmd.simulation_type)
    platform.executor.checker(simulation_type)  # raises for a type that cannot run here
    tags = check_tags(cmd.tags)
    if cmd.name is not None:
        validate_parameters({"name": cmd.name}, "name")
    metadata = validate_parameters(cmd.metadata, "metadata")
    job = Job(id=platform.ids.new("job"), owner_id=cmd.owner_id,
              simulation_type=simulation_type, kind=JobKind.OPEN, run_count=0,
              created_at=platform.clock.now(), name=cmd.name, tags=tags, metadata=metadata)
    with platform.uow() as uow:
        uow.jobs.add(job)
        uow.commit()
    return job


def add_runs(cmd: AddRuns, platform: Platform) -> list[Run]:
    """Queue one run per parameter set, all or none; returns them in the order asked.

    Every parameter set is checked first (a refusal names its position), and so are
    the job's input files, so that a refused call adds nothing. The runs take the
    next indexes of the job, whoever else is adding runs to it at the same time.
    """
    if not cmd.parameters:
        raise ValidationError("at least one run is needed")
    if len(cmd.parameters) > MAX_RUNS_PER_CALL:
        raise ValidationError(f"at most {MAX_RUNS_PER_CALL} runs are added at once, "
                              f"got {len(cmd.parameters)}")
    with platform.uow() as uow:
        job = load_job(uow, cmd.job, cmd.owner_id)
    if job.kind is not JobKind.OPEN:
        raise Conflict(f"job '{job.id}' was submitted with its runs; runs are added only "
                       "to jobs registered without them")
    parameter_sets = _checked(job.simulation_type, cmd.parameters, platform)
    metadata = validate_parameters(cmd.metadata, "metadata")
    timeout = check_timeout(cmd.timeout_seconds, platform.limits.default_timeout_seconds)
    check_inputs(job, platform)
    now = platform.clock.now()
    run_ids = platform.ids.new_many("run", len(parameter_sets))
    stored = [platform.payloads.store(f"runs/{run_id}/parameters.json", parameters)
              for run_id, parameters in zip(run_ids, parameter_sets, strict=True)]
    try:
        with platform.uow() as uow:
            first = uow.jobs.reserve_runs(job.id, len(parameter_sets))
            runs = [Run(id=run_id, job_id=job.id, owner_id=job.owner_id,
                        simulation_type=job.simulation_type, index=first + offset,
                        created_at=now, updated_at=now, parameters=payload,
                        timeout_seconds=timeout, metadata=dict(metadata))
                    for offset, (run_id, payload) in enumerate(zip(run_ids, stored,
                                                                   strict=True))]
            uow.runs.add_many(runs)
            uow.dispatch_runs([r.id for r in runs])
            uow.commit()
    except BaseException:
        for payload in stored:
            platform.payloads.discard(payload)
        raise
    return runs


def _checked(simulation_type: str, parameter_sets: Sequence[Mapping[str, Any]],
             platform: Platform) -> list[dict[str, Any]]:
    """Each parameter set, validated and checked by the executor; a refusal names which."""
    check = platform.executor.checker(simulation_type)
    checked = []
    for index, parameters in enumerate(parameter_sets):
        where = f"run {index}" if len(parameter_sets) > 1 else "the run"
        if not isinstance(parameters, Mapping):
            raise InvalidParameters(f"{where}: parameters must be an object")
        try:
            valid = validate_parameters(parameters)
            if check is not None:
                check(valid)
        except ValidationError as exc:
            raise InvalidParameters(f"{where}: {exc.message}") from exc
        checked.append(valid)
    return checked
