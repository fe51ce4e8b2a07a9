"""Jobs made before their runs: register a job, then add runs to it (the Epistemix way).

A registered job is open: it starts with no run, may be given input files (see
:mod:`simdock.usecases.inputs`), and runs are added to it, each with its own
parameters, as many times as its owner asks. Its status follows its runs as any
job's does.

A run added is reused (:mod:`simdock.usecases.reusing`) where its owner already has a
succeeded run of its identity: the same request, on input files of the same bytes, of a
handler of the same version (the epx client sends a seed with every run; running the same
model with the same seed again would give the same answer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simdock import blob_keys
from simdock.domain import Job, JobKind, Payload, Run
from simdock.domain.parameters import validate_parameters
from simdock.domain.run_identity import run_identity
from simdock.errors import Conflict, InvalidParameters, ValidationError
from simdock.limits import Limits
from simdock.payloads import PayloadStore
from simdock.ports import Clock, Executor, IdGenerator
from simdock.repositories import UnitOfWork
from simdock.scope import UnitsOfWork
from simdock.usecases.access import load_job
from simdock.usecases.inputs import Inputs
from simdock.usecases.reusing import reuse_runs, reused_artifacts
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
    #: False: every run executes, even where an earlier run of its identity succeeded.
    reuse: bool = True


@dataclass(frozen=True)
class OpenJobs:
    """Epistemix jobs, registered first and given runs later: each addition one transaction."""

    uow: UnitsOfWork
    clock: Clock
    executor: Executor
    ids: IdGenerator
    inputs: Inputs
    limits: Limits
    payloads: PayloadStore

    def register_job(self, cmd: RegisterJob) -> Job:
        """Store an open job; its type is checked now, so that no run of it is refused later
        for being of an unknown type."""
        simulation_type = check_type(cmd.simulation_type)
        self.executor.checker(simulation_type)  # raises for a type that cannot run here
        tags = check_tags(cmd.tags)
        if cmd.name is not None:
            validate_parameters({"name": cmd.name}, "name")
        metadata = validate_parameters(cmd.metadata, "metadata")
        job = Job(id=self.ids.new("job"), owner_id=cmd.owner_id,
                  simulation_type=simulation_type, kind=JobKind.OPEN, run_count=0,
                  created_at=self.clock.now(), name=cmd.name, tags=tags, metadata=metadata)
        with self.uow() as uow:
            uow.jobs.add(job)
            uow.commit()
        return job

    def add_runs(self, cmd: AddRuns) -> list[Run]:
        """Queue one run per parameter set, all or none; returns them in the order asked.

        Every parameter set is checked first (a refusal names its position), and so are
        the job's input files, so that a refused call adds nothing. The runs take the
        next indexes of the job, whoever else is adding runs to it at the same time.
        """
        return self.add_runs_to_jobs([cmd])[0]

    def add_runs_to_jobs(self, commands: Sequence[AddRuns]) -> list[list[Run]]:
        """:meth:`add_runs` for several jobs at once, all or none: every job, its input files
        and every parameter set are checked before anything is stored, and the runs of all
        the jobs are added in one transaction. Returns each command's runs, in order."""
        total = sum(len(cmd.parameters) for cmd in commands)
        if not commands or any(not cmd.parameters for cmd in commands):
            raise ValidationError("at least one run is needed")
        if total > MAX_RUNS_PER_CALL:
            raise ValidationError(f"at most {MAX_RUNS_PER_CALL} runs are added at once, "
                                  f"got {total}")
        with self.uow() as uow:
            jobs = [load_job(uow, cmd.job, cmd.owner_id) for cmd in commands]
        prepared = [self._prepared(job, cmd) for job, cmd in zip(jobs, commands, strict=True)]
        now = self.clock.now()
        stored: list[Payload] = []
        try:
            for batch in prepared:
                batch.store(self.ids, self.payloads)
                stored.extend(batch.payloads)
            with self.uow() as uow:
                added = [batch.add(uow, now) for batch in prepared]
                uow.dispatch_runs([run.id for runs in added for run in runs
                                   if run.reused_from is None])
                uow.commit()
        except BaseException:
            for payload in stored:
                self.payloads.discard(payload)
            raise
        return added

    def _prepared(self, job: Job, cmd: AddRuns) -> _Batch:
        """The runs ``cmd`` asks for, checked against their open job and its input files."""
        if job.kind is not JobKind.OPEN:
            raise Conflict(f"job '{job.id}' was submitted with its runs; runs are added only "
                           "to jobs registered without them")
        parameter_sets = self._checked(job.simulation_type, cmd.parameters)
        metadata = validate_parameters(cmd.metadata, "metadata")
        timeout = check_timeout(cmd.timeout_seconds, self.limits.default_timeout_seconds)
        digests = self.inputs.check_inputs(job)
        declared = self.executor.declared(job.simulation_type)
        identities = [run_identity(job.simulation_type, declared, parameters, digests)
                      if cmd.reuse else None for parameters in parameter_sets]
        return _Batch(job, parameter_sets, metadata, timeout, identities)

    def _checked(self, simulation_type: str, parameter_sets: Sequence[Mapping[str, Any]]
                 ) -> list[dict[str, Any]]:
        """Each parameter set, validated and checked by the executor; a refusal names which."""
        check = self.executor.checker(simulation_type)
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


@dataclass
class _Batch:
    """The checked runs to add to one open job, and where their parameters are stored."""

    job: Job
    parameter_sets: list[dict[str, Any]]
    metadata: dict[str, Any]
    timeout: float | None
    #: Each run's identity (None: never reused), in order.
    identities: list[str | None]
    run_ids: list[str] = field(default_factory=list)
    payloads: list[Payload] = field(default_factory=list)

    def store(self, ids: IdGenerator, payloads: PayloadStore) -> None:
        self.run_ids = ids.new_many("run", len(self.parameter_sets))
        for run_id, parameters in zip(self.run_ids, self.parameter_sets, strict=True):
            self.payloads.append(payloads.store(blob_keys.run_parameters(run_id), parameters))

    def add(self, uow: UnitOfWork, now: datetime) -> list[Run]:
        first = uow.jobs.reserve_runs(self.job.id, len(self.parameter_sets))
        runs = [Run(id=run_id, job_id=self.job.id, owner_id=self.job.owner_id,
                    simulation_type=self.job.simulation_type, index=first + offset,
                    created_at=now, updated_at=now, parameters=payload,
                    timeout_seconds=self.timeout, metadata=dict(self.metadata),
                    identity=identity)
                for offset, (run_id, payload, identity) in enumerate(zip(
                    self.run_ids, self.payloads, self.identities, strict=True))]
        reused = reuse_runs(uow, self.job.owner_id, runs, now)
        uow.runs.add_many(runs)
        uow.artifacts.add_many(reused_artifacts(uow, reused))
        return runs
