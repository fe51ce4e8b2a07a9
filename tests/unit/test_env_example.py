""".env.example lists every setting, and what it sets is valid."""

from __future__ import annotations

from pathlib import Path

from simdock_adapters.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_every_setting_is_listed_and_the_listed_values_load() -> None:
    text = EXAMPLE.read_text()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.lower()] = value
    listed = {line.lstrip("# ").split("=")[0].lower() for line in text.splitlines()
              if "=" in line and line.lstrip("# ").split("=")[0].isupper()}
    assert set(Settings.model_fields) <= listed, set(Settings.model_fields) - listed
    settings = Settings(**values)  # type: ignore[arg-type]
    assert settings.database_url == "sqlite:///./simdock.db"
