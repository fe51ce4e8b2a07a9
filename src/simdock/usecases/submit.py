"""Submitting work: one run, or a sweep of many."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simdock.domain import Job, JobKind, Run, SweepSpec, expand
from simdock.domain.parameters import validate_parameters
from simdock.errors import InvalidParameters, NotFound, ValidationError
from simdock.platform import Platform

MAX_TAGS = 32
MAX_TAG_LENGTH = 200


@dataclass(frozen=True, kw_only=True)
class SubmissionOptions:
    """What any submission may say besides what to run."""

    name: str | None = None
    tags: Sequence[str] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    machine_id: str | None = None
    timeout_seconds: float | None = None


@dataclass(frozen=True)
class SubmitRun(SubmissionOptions):
    """Run ``simulation_type`` once with ``parameters``."""

    owner_id: str
    simulation_type: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class SubmitSweep(SubmissionOptions):
    """Run ``simulation_type`` once per variant of ``sweep``."""

    owner_id: str
    simulation_type: str
    sweep: SweepSpec


@dataclass(frozen=True)
class Submission:
    """What was created: the job and its run ids in variant order."""

    job: Job
    run_ids: list[str]
    parameters: list[dict[str, Any]]


def submit_run(cmd: SubmitRun, platform: Platform) -> Submission:
    """Queue one run; it is dispatched once the job is committed."""
    parameters = validate_parameters(cmd.parameters)
    return _submit(cmd, [parameters], JobKind.SINGLE, platform)


def submit_sweep(cmd: SubmitSweep, platform: Platform) -> Submission:
    """Queue one run per variant, all in one transaction, then dispatch them."""
    variants = expand(cmd.sweep, platform.limits.max_sweep_variants)
    return _submit(cmd, variants, JobKind.SWEEP, platform)


def _submit(
    cmd: SubmitRun | SubmitSweep,
    variants: list[dict[str, Any]],
    kind: JobKind,
    platform: Platform,
) -> Submission:
    simulation_type = _check_type(cmd.simulation_type)
    _check_variants(simulation_type, variants, platform)
    tags = _check_tags(cmd.tags)
    if cmd.name is not None:
        validate_parameters({"name": cmd.name}, "name")
    metadata = validate_parameters(cmd.metadata, "metadata")
    timeout = _check_timeout(cmd.timeout_seconds, platform.limits.default_timeout_seconds)
    now = platform.clock.now()
    job = Job(
        id=platform.ids.new("job"),
        owner_id=cmd.owner_id,
        simulation_type=simulation_type,
        kind=kind,
        run_count=len(variants),
        created_at=now,
        name=cmd.name,
        tags=tags,
        metadata=metadata,
    )
    payloads = platform.payloads
    runs = []
    for index, parameters in enumerate(variants):
        run_id = platform.ids.new("run")
        runs.append(
            Run(
                id=run_id,
                job_id=job.id,
                owner_id=cmd.owner_id,
                simulation_type=simulation_type,
                index=index,
                parameters=payloads.store(f"runs/{run_id}/parameters.json", parameters),
                created_at=now,
                updated_at=now,
                machine_id=cmd.machine_id,
                timeout_seconds=timeout,
            )
        )
    with platform.uow() as uow:
        if cmd.machine_id is not None:
            machine = uow.machines.get(cmd.machine_id)
            if machine is None:
                raise NotFound("machine", cmd.machine_id)
            if not machine.accepts_runs:
                raise ValidationError(f"machine '{machine.id}' is in maintenance")
        uow.jobs.add(job)
        uow.runs.add_many(runs)
        uow.commit()
    run_ids = [r.id for r in runs]
    platform.dispatcher.dispatch_runs(run_ids)
    return Submission(job, run_ids, variants)


def _check_type(simulation_type: object) -> str:
    if not isinstance(simulation_type, str) or not simulation_type.strip():
        raise ValidationError("simulation_type must be a non-empty string")
    return simulation_type.strip()


def _check_variants(
    simulation_type: str, variants: list[dict[str, Any]], platform: Platform
) -> None:
    for index, parameters in enumerate(variants):
        try:
            platform.executor.check(simulation_type, parameters)
        except InvalidParameters as exc:
            where = f"variant {index}: " if len(variants) > 1 else ""
            raise InvalidParameters(f"{where}{exc.message}") from exc


def _check_tags(tags: Sequence[str]) -> tuple[str, ...]:
    if isinstance(tags, str) or not all(isinstance(t, str) and t for t in tags):
        raise ValidationError("tags must be a list of non-empty strings")
    validate_parameters({"tags": list(tags)}, "tags")
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"at most {MAX_TAGS} tags, got {len(tags)}")
    if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise ValidationError(f"a tag has at most {MAX_TAG_LENGTH} characters")
    return tuple(dict.fromkeys(tags))


def _check_timeout(timeout: float | None, maximum: float | None) -> float | None:
    """A run's own time limit: positive, and no longer than the platform's (MAX_JOB_TIMEOUT)."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ValidationError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if maximum is not None and timeout > maximum:
        raise ValidationError(f"timeout may be at most {maximum:g} s (MAX_JOB_TIMEOUT), "
                              f"got {timeout:g}")
    return float(timeout)
