"""Every package of the tree is one the build installs.

Seen: packages moved or added under adapters/ were importable in a checkout's
editable install made before, while a fresh ``pip install`` failed (a listed
package no longer existed) or would have left the new ones out.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def packages_in_tree() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found = set()
    for name, directory in config["tool"]["setuptools"]["package-dir"].items():
        base = ROOT / directory
        for init in base.rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            relative = init.parent.relative_to(base).parts
            found.add(".".join((name, *relative)))
    return found


def test_the_build_lists_every_package_and_no_other() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    assert sorted(packages_in_tree() - listed) == []
    assert sorted(listed - packages_in_tree()) == []
