"""PDF documents read back by poppler (Debian's ``poppler-utils``): their text, and their
pages drawn to PNG files under ``build/reports/`` (kept, to be looked at)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import services_required

#: Where the rendered pages are kept, to be looked at.
PAGES = Path(__file__).resolve().parents[1] / "build" / "reports"


def poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        reason = f"no {tool}: apt-get install poppler-utils"
        if services_required():
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def pdf_text(document: bytes, folder: Path) -> str:
    """The text of a PDF document, as pdftotext reads it."""
    path = folder / "document.pdf"
    path.write_bytes(document)
    return subprocess.run([poppler("pdftotext"), str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def pages(document: bytes, name: str, folder: Path, dpi: int = 50) -> list[Path]:
    """The pages of a PDF document drawn by pdftoppm, as ``build/reports/<name>-<n>.png``."""
    path = folder / f"{name}.pdf"
    path.write_bytes(document)
    PAGES.mkdir(parents=True, exist_ok=True)
    for old in PAGES.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run([poppler("pdftoppm"), "-png", "-r", str(dpi), str(path), str(PAGES / name)],
                   check=True)
    return sorted(PAGES.glob(f"{name}-*.png"))


def coloured_pixels(drawn: list[Path], spread: int = 40) -> int:
    """How many pixels of these pages are coloured (text is black on white; plots are not)."""
    from PIL import Image

    count = 0
    for page in drawn:
        with Image.open(page) as image:
            rgb = np.asarray(image.convert("RGB")).astype(int)
        count += int(((rgb.max(axis=2) - rgb.min(axis=2)) > spread).sum())
    return count
