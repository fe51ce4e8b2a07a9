"""The deployment files say only what the code accepts (these machines cannot run them:
no image can be pulled, so what can be checked is checked here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from simdock_adapters.cli import _parser
from simdock_adapters.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NOT_SIMDOCKS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_simdock_services_set_known_settings_and_run_known_commands() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "minio", "migrate", "api", "worker"} <= set(services)
    fields = {name.upper() for name in Settings.model_fields}
    for name in ("migrate", "api", "worker"):
        service = services[name]
        assert set(service["environment"]) - NOT_SIMDOCKS <= fields, name
        command = service["command"]
        if command[0] == "simdock":
            _parser().parse_args(command[1:])  # exits on an unknown option
        else:
            assert command[0] == "migration-runner"
    assert "dramatiq" not in services  # workers are simdock's own command


def test_the_dockerfile_copies_what_exists_and_serves_by_default() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (.+) \S+$", text, flags=re.MULTILINE):
        for source in line.split():
            assert (ROOT / source).exists(), source
    assert 'CMD ["simdock", "serve"]' in text
