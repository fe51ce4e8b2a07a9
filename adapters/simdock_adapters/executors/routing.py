"""Sends each run to the executor for its kind: handlers here, container images to Docker.

Container images are named as simulation types ``container:<image>``. Where
no container executor is configured they are still accepted, and their runs
fail with an error that names what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simdock.domain.images import IMAGE, container_type, image_of
from simdock.domain.run_identity import Declared
from simdock.errors import ExecutorUnavailable
from simdock.ports import ExecutionTask, Executor, ParameterCheck, RunContext

__all__ = ["IMAGE", "RoutingExecutor", "container_type", "image_of"]

class RoutingExecutor:
    def __init__(self, handlers: Executor, containers: Executor | None = None) -> None:
        self.handlers = handlers
        self.containers = containers

    def checker(self, simulation_type: str) -> ParameterCheck | None:
        image = image_of(simulation_type)
        if image is None:
            return self.handlers.checker(simulation_type)
        container_type(image)
        if self.containers is not None:
            return self.containers.checker(simulation_type)
        return None  # an image's parameters are its program's business


    def simulation_types(self) -> list[str]:
        return self.handlers.simulation_types()

    def declared(self, simulation_type: str) -> Declared:
        if image_of(simulation_type) is None:
            return self.handlers.declared(simulation_type)
        return Declared() if self.containers is None \
            else self.containers.declared(simulation_type)

    def unseeded(self, simulation_type: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        if image_of(simulation_type) is None:
            return self.handlers.unseeded(simulation_type, parameters)
        return dict(parameters) if self.containers is None \
            else self.containers.unseeded(simulation_type, parameters)

    def execute(self, task: ExecutionTask, context: RunContext) -> Any:
        image = image_of(task.simulation_type)
        if image is None:
            return self.handlers.execute(task, context)
        if self.containers is None:
            raise ExecutorUnavailable(
                f"running container image '{image}' needs the Docker executor, which is not "
                "configured on this platform (it needs a reachable Docker engine)")
        return self.containers.execute(task, context)
