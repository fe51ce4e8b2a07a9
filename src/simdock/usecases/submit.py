"""Submitting work: one run, or a sweep of many."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from simdock import blob_keys
from simdock.domain import Job, JobKind, Run, SweepSpec, check_sweep
from simdock.domain.images import container_type, image_of
from simdock.domain.parameters import validate_parameters
from simdock.domain.replication import ReplicatePoint, Replication
from simdock.domain.resources import Resources
from simdock.domain.run_identity import Declared, run_identity
from simdock.domain.text import check_text
from simdock.errors import Conflict, InvalidParameters, LimitExceeded, NotFound, ValidationError
from simdock.limits import Limits
from simdock.payloads import PayloadStore
from simdock.ports import Clock, Executor, IdGenerator
from simdock.repositories import UnitOfWork
from simdock.scope import UnitsOfWork
from simdock.specs import SpecCache
from simdock.usecases.access import named
from simdock.usecases.reusing import reuse_runs, reused_artifacts

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
    #: What each run may use, where runs execute in isolation (container images).
    resources: Resources | None = None
    #: Adaptive replication of each parameter point (:mod:`simdock.domain.replication`),
    #: and the job's seed its replicates' seeds derive from (drawn from the job's id when
    #: not given).
    replicate: Replication | None = None
    seed: int | None = None
    #: Whether a run may be completed at once by an earlier succeeded run of the same user
    #: with its identity (:mod:`simdock.domain.run_identity`), rather than executed again.
    reuse: bool = True


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


@dataclass(frozen=True, kw_only=True)
class Submit(SubmissionOptions):
    """A submission as any entry point receives it, deciding what it is here.

    What runs: ``simulation_type`` (a registered handler), or the container ``image``;
    neither means the platform's default image (``Limits.default_image``). How many: one
    run of ``parameters``, or a sweep over them (as the sweep's base) when ``variants``,
    a ``grid`` or ``zipped`` lists are given, or when ``sweep`` says the caller asked for
    one (then it is refused without them, saying what a sweep needs).
    """

    owner_id: str
    simulation_type: str | None = None
    image: str | None = None
    parameters: Mapping[str, Any] | None = None
    variants: Sequence[Mapping[str, Any]] | None = None
    grid: Mapping[str, Sequence[Any]] | None = None
    zipped: Mapping[str, Sequence[Any]] | None = None
    sweep: bool = False

    @property
    def is_sweep(self) -> bool:
        return self.sweep or any(part is not None
                                 for part in (self.variants, self.grid, self.zipped))


@dataclass(frozen=True)
class Submission:
    """What was created: the job, its run ids in variant order, and its specification."""

    job: Job
    run_ids: list[str]
    spec: SweepSpec

    def varied(self, index: int) -> dict[str, Any]:
        """What run ``index`` sets over the base (a sweep's list item as given, or its axis
        values), so that answers about a sweep grow with its request, not variants x base."""
        return self.spec.varied(index)


@dataclass(frozen=True)
class Submitting:
    """Submitting work: one run or a sweep, checked, stored and queued in one transaction."""

    uow: UnitsOfWork
    clock: Clock
    executor: Executor
    ids: IdGenerator
    limits: Limits
    payloads: PayloadStore
    specs: SpecCache

    def submit(self, cmd: Submit) -> Submission:
        """Queue what ``cmd`` asks for: one run, or a sweep (see :class:`Submit`)."""
        if cmd.simulation_type is not None and cmd.image is not None:
            raise ValidationError("give a simulation type or a container image, not both")
        simulation_type = cmd.simulation_type if cmd.simulation_type is not None \
            else container_type(cmd.image or self.limits.default_image)
        options = {name: getattr(cmd, name) for name in SubmissionOptions.__dataclass_fields__}
        if cmd.is_sweep:
            spec = SweepSpec(variants=cmd.variants, grid=cmd.grid, zipped=cmd.zipped,
                             base=cmd.parameters or {})
            return self.submit_sweep(SubmitSweep(cmd.owner_id, simulation_type, spec, **options))
        return self.submit_run(SubmitRun(cmd.owner_id, simulation_type, cmd.parameters or {},
                                    **options))

    def submit_run(self, cmd: SubmitRun) -> Submission:
        """Queue one run; it is dispatched once the job is committed."""
        spec = SweepSpec.single(validate_parameters(cmd.parameters))
        return self._submit(cmd, spec, JobKind.SINGLE)

    def submit_sweep(self, cmd: SubmitSweep) -> Submission:
        """Queue one run per variant, all in one transaction, then dispatch them."""
        spec = check_sweep(cmd.sweep, self.limits.max_sweep_variants)
        return self._submit(cmd, spec, JobKind.SWEEP)

    def _submit(self, cmd: SubmitRun | SubmitSweep, spec: SweepSpec, kind: JobKind
                ) -> Submission:
        """Check everything, then store the spec once and the runs by index, atomically.

        Every check that can refuse the submission runs before anything is written;
        a spec large enough for the blob store is removed again if the transaction
        that would have referred to it fails, so a refused submission leaves nothing.
        """
        simulation_type = check_type(cmd.simulation_type)
        spec = replace(spec, resources=self._granted(simulation_type, cmd.resources))
        job_id = self.ids.new("job")
        declared = self.executor.declared(simulation_type)
        spec = self._replicated(simulation_type, declared, spec, cmd, job_id)
        kind = JobKind.SWEEP if spec.replication is not None else kind
        self._check_variants(simulation_type, spec)
        tags = check_tags(cmd.tags)
        if cmd.name is not None:
            validate_parameters({"name": cmd.name}, "name")
        metadata = validate_parameters(cmd.metadata, "metadata")
        timeout = check_timeout(cmd.timeout_seconds, self.limits.default_timeout_seconds)
        if cmd.machine_id is not None:
            with self.uow() as uow:
                check_machine(uow, cmd.machine_id)
        now = self.clock.now()
        job = Job(id=job_id, owner_id=cmd.owner_id,
                  simulation_type=simulation_type, kind=kind, run_count=spec.count(),
                  created_at=now, name=cmd.name, tags=tags, metadata=metadata)
        identities = self._identities(simulation_type, declared, spec, cmd)
        runs = [Run(id=run_id, job_id=job.id, owner_id=cmd.owner_id,
                    simulation_type=simulation_type, index=index, created_at=now, updated_at=now,
                    machine_id=cmd.machine_id, timeout_seconds=timeout,
                    identity=identities[index])
                for index, run_id in enumerate(self.ids.new_many("run", job.run_count))]
        stored = self.payloads.store(blob_keys.sweep_spec(job.id), spec.to_record())
        try:
            with self.uow() as uow:
                if cmd.machine_id is not None:
                    check_machine(uow, cmd.machine_id)
                uow.jobs.add(job, stored)
                reused = reuse_runs(uow, cmd.owner_id, runs, now)
                fresh = [run for run in runs if run.reused_from is None]
                uow.runs.add_many(fresh)
                uow.runs.add_many([run for run, _ in reused])
                uow.artifacts.add_many(reused_artifacts(uow, reused))
                if spec.replication is not None:
                    uow.points.add_many([ReplicatePoint(job.id, point, spec.replication.min)
                                         for point in range(spec.points)])
                uow.dispatch_runs([r.id for r in fresh])
                uow.commit()
        except BaseException:
            self.payloads.discard(stored)
            raise
        self.specs.put(job.id, spec, stored.size)
        return Submission(job, [r.id for r in runs], spec)

    def _identities(self, simulation_type: str, declared: Declared, spec: SweepSpec,
                    cmd: SubmitRun | SubmitSweep) -> list[str | None]:
        """Each run's identity, by index; None for runs that are never reused: all of a job
        that says ``reuse: false`` or is replicated (its replicates are decided as they
        end), or of a type that declares no version."""
        if not cmd.reuse or spec.replication is not None or declared.version is None:
            return [None] * spec.count()
        return [run_identity(simulation_type, declared, parameters)
                for parameters in spec.all_parameters()]

    def _replicated(self, simulation_type: str, declared: Declared, spec: SweepSpec,
                    cmd: SubmitRun | SubmitSweep, job_id: str) -> SweepSpec:
        """``spec`` with the replication ``cmd`` asks for, its seeds' origin and the handler's
        seed parameter; refused for a simulation type that declares no seed parameter."""
        if cmd.replicate is None:
            if cmd.seed is not None:
                raise ValidationError("seed: a job's seed is the origin of its replicates' "
                                      "seeds; give replicate with it")
            return spec
        seed_parameter = declared.seed_parameter
        if seed_parameter is None:
            raise ValidationError(f"replicate: '{simulation_type}' declares no seed parameter, "
                                  "so its runs cannot be replicated with new seeds")
        seed = job_seed(job_id) if cmd.seed is None else check_seed(cmd.seed)
        replicated = replace(spec, replication=cmd.replicate, seed=seed,
                             seed_parameter=seed_parameter)
        if replicated.count() > self.limits.max_sweep_variants:
            raise LimitExceeded(f"replicate: {replicated.points} points of at least "
                                f"{cmd.replicate.min} replicates make {replicated.count()} "
                                f"runs; at most {self.limits.max_sweep_variants} at once")
        return replicated

    def _check_variants(self, simulation_type: str, spec: SweepSpec) -> None:
        """Ask the executor about every run's parameters, naming the variant it refuses."""
        check = self.executor.checker(simulation_type)
        if check is None:
            return
        for index, parameters in enumerate(spec.all_parameters()):
            try:
                check(parameters)
            except InvalidParameters as exc:
                where = f"variant {index}: " if spec.is_sweep else ""
                raise InvalidParameters(f"{where}{exc.message}") from exc

    def _granted(self, simulation_type: str, asked: Resources | None
                 ) -> Resources | None:
        """What each run of a container image may use: what the job asked for, within the
        platform's maximum, the platform's default for the rest. Other runs have no such limits,
        and asking for them is refused rather than silently ignored."""
        if image_of(simulation_type) is None:
            if asked is not None and asked.to_record():
                raise ValidationError("resources apply to container runs (container_image); "
                                      f"'{simulation_type}' runs in the platform's own processes")
            return None
        limits = self.limits
        return (asked or Resources()).within(limits.max_resources).over(limits.default_resources)


def check_machine(uow: UnitOfWork, machine_id: str) -> None:
    """Refuse a machine that does not exist (NotFound) or is in maintenance (Conflict: a
    request that would be accepted another time): runs cannot go there."""
    machine = uow.machines.get(named(machine_id, "machine"))
    if machine is None:
        raise NotFound("machine", machine_id)
    if not machine.accepts_runs:
        raise Conflict(f"machine '{machine.id}' is in maintenance")


def check_type(simulation_type: object) -> str:
    if not isinstance(simulation_type, str) or not simulation_type.strip():
        raise ValidationError("simulation_type must be a non-empty string")
    return check_text(simulation_type.strip(), "simulation_type")


def check_seed(seed: object) -> int:
    """A job's seed: a non-negative integer below 2**63."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValidationError(f"seed must be an integer from 0 to 2**63 - 1, got {seed!r}")
    return seed


def job_seed(job_id: str) -> int:
    """The seed of a job that was given none: drawn from its (random) id, 53 bits."""
    return int.from_bytes(hashlib.sha256(job_id.encode()).digest()[:8]) >> 11


def check_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """A submission's tags, checked and without repeats, in the order given."""
    if isinstance(tags, str) or not all(isinstance(t, str) and t for t in tags):
        raise ValidationError("tags must be a list of non-empty strings")
    validate_parameters({"tags": list(tags)}, "tags")
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"at most {MAX_TAGS} tags, got {len(tags)}")
    if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise ValidationError(f"a tag has at most {MAX_TAG_LENGTH} characters")
    return tuple(dict.fromkeys(tags))


def check_timeout(timeout: float | None, maximum: float | None) -> float | None:
    """A run's own time limit: positive, and no longer than the platform's (MAX_JOB_TIMEOUT)."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ValidationError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if maximum is not None and timeout > maximum:
        raise ValidationError(f"timeout may be at most {maximum:g} s (MAX_JOB_TIMEOUT), "
                              f"got {timeout:g}")
    return float(timeout)
