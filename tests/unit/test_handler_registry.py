"""The handler plugin API: the seed's class-level registration and per-platform registries."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from simdock.errors import UnknownSimulationType
from simdock.handlers import ProgressCallback, SimulationHandler, SimulationHandlerRegistry


class Constant(SimulationHandler):
    def __init__(self, value: int) -> None:
        self.value = value

    def execute(self, job_id: str, simulation_type: str, parameters: Mapping[str, Any],
                progress_callback: ProgressCallback | None = None) -> Any:
        if progress_callback:
            progress_callback(0.5)
        return self.value


@pytest.fixture
def clean_default() -> Iterator[None]:
    yield
    SimulationHandlerRegistry.unregister("test_seed_style")


def test_seed_style_registration_reaches_every_platform(clean_default: None) -> None:
    SimulationHandlerRegistry.register("test_seed_style", Constant(1))
    platform_registry = SimulationHandlerRegistry(SimulationHandlerRegistry.default())
    assert platform_registry.get("test_seed_style").execute("r", "t", {}) == 1


def test_a_platform_registration_stays_local_and_overrides_fallbacks() -> None:
    plugins = SimulationHandlerRegistry()
    plugins.register("sim", Constant(1))
    local = SimulationHandlerRegistry(plugins)
    other = SimulationHandlerRegistry(plugins)
    local.register("sim", Constant(2))
    assert local.get("sim").execute("r", "sim", {}) == 2
    assert other.get("sim").execute("r", "sim", {}) == 1
    assert local.names() == ["sim"]


def test_unknown_type_lists_what_is_known() -> None:
    registry = SimulationHandlerRegistry()
    registry.register("heat1d", Constant(1))
    with pytest.raises(UnknownSimulationType, match="known: heat1d"):
        registry.get("heat2d")


def test_handlers_called_the_seed_way_without_a_callback() -> None:
    assert Constant(3).execute("job-1", "constant", {}) == 3
