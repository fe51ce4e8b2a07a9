"""The architecture holds: layers, adapters apart from each other, no import cycle.

The contracts are in pyproject.toml (``[tool.importlinter]``), checked by
import-linter over the import graph of ``simdock`` and ``simdock_adapters``
(imports inside functions and for type checking included).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_every_import_contract_is_kept() -> None:
    checked = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout[-6000:] + checked.stderr[-2000:]
    assert "0 broken" in checked.stdout
