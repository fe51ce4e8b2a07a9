"""Explicit mapping between table rows and domain entities, both ways."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from simdock.domain import (
    ApiToken,
    Artifact,
    Job,
    JobKind,
    LogLine,
    Machine,
    MachineStatus,
    MetricPoint,
    Payload,
    Report,
    ReportStatus,
    Run,
    RunStatus,
    User,
)


def payload_record(payload: Payload | None) -> dict[str, Any] | None:
    return payload.to_record() if payload is not None else None


def job_row(job: Job) -> dict[str, Any]:
    return {"id": job.id, "owner_id": job.owner_id, "simulation_type": job.simulation_type,
            "kind": job.kind.value, "run_count": job.run_count, "name": job.name,
            "metadata": job.metadata, "created_at": job.created_at,
            "input_files": job.input_files or None}


def job_entity(row: sa.Row[Any], tags: tuple[str, ...], prefix: str = "") -> Job:
    """A job from a row; ``prefix`` when its columns were labelled in a join."""
    v = row._mapping
    return Job(id=v[f"{prefix}id"], owner_id=v[f"{prefix}owner_id"],
               simulation_type=v[f"{prefix}simulation_type"], kind=JobKind(v[f"{prefix}kind"]),
               run_count=v[f"{prefix}run_count"], created_at=v[f"{prefix}created_at"],
               name=v[f"{prefix}name"], tags=tags, metadata=v[f"{prefix}metadata"],
               number=v[f"{prefix}number"], input_files=v[f"{prefix}input_files"] or {})


def run_row(run: Run) -> dict[str, Any]:
    return {"id": run.id, "job_id": run.job_id, "owner_id": run.owner_id,
            "simulation_type": run.simulation_type, "run_index": run.index,
            "parameters": payload_record(run.parameters), "status": run.status.value,
            "progress": run.progress, "attempts": run.attempts, "machine_id": run.machine_id,
            "timeout_seconds": run.timeout_seconds, "created_at": run.created_at,
            "started_at": run.started_at, "finished_at": run.finished_at,
            "updated_at": run.updated_at, "result": payload_record(run.result),
            "error": run.error, "worker": run.worker, "version": run.version,
            "metadata": run.metadata, "lease_expires_at": run.lease_expires_at,
            "identity": run.identity, "reused_from": run.reused_from}


def run_entity(row: sa.Row[Any]) -> Run:
    return Run(id=row.id, job_id=row.job_id, owner_id=row.owner_id,
               simulation_type=row.simulation_type, index=row.run_index,
               parameters=Payload.from_record(row.parameters), created_at=row.created_at,
               status=RunStatus(row.status), progress=row.progress, attempts=row.attempts,
               machine_id=row.machine_id, timeout_seconds=row.timeout_seconds,
               started_at=row.started_at, finished_at=row.finished_at,
               updated_at=row.updated_at, result=Payload.from_record(row.result),
               error=row.error, worker=row.worker, number=row.number, version=row.version,
               metadata=row.metadata, lease_expires_at=row.lease_expires_at,
               identity=row.identity, reused_from=row.reused_from)


def report_row(report: Report) -> dict[str, Any]:
    return {"id": report.id, "owner_id": report.owner_id, "report_type": report.report_type,
            "output_format": report.output_format, "job_ids": list(report.job_ids),
            "parameters": report.parameters, "status": report.status.value,
            "blob_key": report.blob_key, "content_type": report.content_type,
            "filename": report.filename, "size": report.size, "error": report.error,
            "created_at": report.created_at, "started_at": report.started_at,
            "finished_at": report.finished_at, "version": report.version}


def report_entity(row: sa.Row[Any]) -> Report:
    return Report(id=row.id, owner_id=row.owner_id, report_type=row.report_type,
                  output_format=row.output_format, job_ids=tuple(row.job_ids),
                  created_at=row.created_at, parameters=row.parameters,
                  status=ReportStatus(row.status), blob_key=row.blob_key,
                  content_type=row.content_type, filename=row.filename, size=row.size,
                  error=row.error, started_at=row.started_at, finished_at=row.finished_at,
                  version=row.version)


def machine_row(machine: Machine) -> dict[str, Any]:
    return {"id": machine.id, "name": machine.name, "cpu": machine.cpu, "gpu": machine.gpu,
            "memory_gb": machine.memory_gb, "status": machine.status.value,
            "created_at": machine.created_at, "updated_at": machine.updated_at,
            "version": machine.version, "created_by": machine.created_by}


def machine_entity(row: sa.Row[Any]) -> Machine:
    return Machine(id=row.id, name=row.name, cpu=row.cpu, gpu=row.gpu,
                   memory_gb=row.memory_gb, created_at=row.created_at,
                   status=MachineStatus(row.status), updated_at=row.updated_at,
                   version=row.version, created_by=row.created_by)


def user_row(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "email_key": user.email_key,
            "email_skeleton": user.email_skeleton,
            "full_name": user.full_name, "password_hash": user.password_hash,
            "is_active": user.is_active, "created_at": user.created_at,
            "is_admin": user.is_admin}


def user_entity(row: sa.Row[Any], prefix: str = "") -> User:
    """A user from a row; ``prefix`` when its columns were labelled in a join."""
    values = row._mapping
    return User(id=values[f"{prefix}id"], email=values[f"{prefix}email"],
                created_at=values[f"{prefix}created_at"], full_name=values[f"{prefix}full_name"],
                password_hash=values[f"{prefix}password_hash"],
                is_active=values[f"{prefix}is_active"], number=values[f"{prefix}number"],
                is_admin=values[f"{prefix}is_admin"], email_key=values[f"{prefix}email_key"],
                email_skeleton=values[f"{prefix}email_skeleton"])


def token_row(token: ApiToken) -> dict[str, Any]:
    return {"id": token.id, "owner_id": token.owner_id, "name": token.name,
            "token_hash": token.token_hash, "prefix": token.prefix,
            "created_at": token.created_at, "expires_at": token.expires_at,
            "last_used_at": token.last_used_at, "revoked_at": token.revoked_at}


def token_entity(row: sa.Row[Any]) -> ApiToken:
    return ApiToken(id=row.id, owner_id=row.owner_id, name=row.name, token_hash=row.token_hash,
                    prefix=row.prefix, created_at=row.created_at, expires_at=row.expires_at,
                    last_used_at=row.last_used_at, revoked_at=row.revoked_at)


def log_entity(row: sa.Row[Any]) -> LogLine:
    return LogLine(row.run_id, row.seq, row.at, row.message, row.stream)


def metric_entity(row: sa.Row[Any]) -> MetricPoint:
    return MetricPoint(row.run_id, row.name, row.step, row.value, row.at)


def artifact_entity(row: sa.Row[Any]) -> Artifact:
    return Artifact(row.run_id, row.name, row.blob_key, row.size, row.content_type,
                    row.created_at)
