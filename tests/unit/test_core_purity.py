"""The core imports no framework, driver or adapter (ARCHITECTURE.md rule 1)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import simdock

FORBIDDEN = {"flask", "flask_cors", "sqlalchemy", "alembic", "boto3", "botocore", "docker",
             "dramatiq", "redis", "jwt", "simdock_adapters", "simdock_sim"}
CORE = Path(simdock.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" \
                and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value).split(".")[0])
    return names


def test_no_core_module_imports_infrastructure() -> None:
    offenders = {
        str(path.relative_to(CORE)): sorted(imported_modules(path) & FORBIDDEN)
        for path in CORE.rglob("*.py")
        if imported_modules(path) & FORBIDDEN
    }
    assert offenders == {}


def test_importing_every_core_module_loads_no_infrastructure() -> None:
    modules = [
        "simdock." + ".".join(p.relative_to(CORE).with_suffix("").parts)
        for p in CORE.rglob("*.py") if p.name != "__init__.py"
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted({{n.split('.')[0] for n in sys.modules}} & {FORBIDDEN!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
