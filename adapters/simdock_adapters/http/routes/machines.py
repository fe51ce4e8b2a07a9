"""Seed 002's machines: compute resources with a status runs can be placed on."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from simdock.domain import MachineStatus, User
from simdock.usecases import machines
from simdock_adapters.http.api import Api
from simdock_adapters.http.context import current_user, platform
from simdock_adapters.http.schemas import Name, PageOf, PageQuery
from simdock_adapters.http.views import MachineOut, machine_out, page_of

Status = Literal["available", "busy", "maintenance"]


class MachineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: Name
    cpu: Name = Field(examples=["AMD EPYC 7763 (64 cores)"])
    gpu: str | None = Field(None, max_length=200, examples=["NVIDIA A100"])
    memory: float = Field(gt=0, le=1_000_000, validation_alias=AliasChoices("memory", "memory_gb"),
                          description="Memory in GB")
    status: Status = "available"


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status


class MachineListQuery(PageQuery):
    status: Status | None = None


def register(api: Api) -> Blueprint:
    bp = Blueprint("machines", __name__, url_prefix="/api/v1/machines")
    tags = ["machines"]

    @api.operation(bp, "", "POST", tags=tags, authenticate=current_user, body=MachineIn,
                   responses={201: MachineOut})
    def create_machine(user: User, body: MachineIn) -> MachineOut:
        """Register a machine."""
        return machine_out(platform().machines.register_machine(machines.RegisterMachine(
            body.name, body.cpu, body.memory, body.gpu, MachineStatus(body.status),
            created_by=user.id)))

    @api.operation(bp, "", "GET", tags=tags, authenticate=current_user, query=MachineListQuery,
                   responses={200: PageOf[MachineOut]})
    def list_machines(user: User, query: MachineListQuery) -> dict[str, Any]:
        """List machines, optionally by status."""
        page = platform().machines.list_machines(
            MachineStatus(query.status) if query.status else None, query.page_request())
        return page_of(page, [machine_out(m) for m in page.items])

    @api.operation(bp, "/<machine_id>", "GET", tags=tags, authenticate=current_user,
                   responses={200: MachineOut})
    def get_machine(user: User, machine_id: str) -> MachineOut:
        """One machine."""
        return machine_out(platform().machines.get_machine(machine_id))

    @api.operation(bp, "/<machine_id>/status", "PATCH", tags=tags, authenticate=current_user,
                   body=StatusChange, responses={200: MachineOut}, errors=frozenset({403}))
    def set_machine_status(user: User, machine_id: str, body: StatusChange) -> MachineOut:
        """Change a machine's status: available, busy or maintenance.

        Only the user who registered the machine and administrators may.
        """
        return machine_out(platform().machines.set_machine_status(machine_id, body.status, user))

    return bp
