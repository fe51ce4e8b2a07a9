"""A real Chromium for the dashboard's tests: Debian's ``chromium``, driven by Playwright.

Playwright's own browser downloads are not reachable here, so it starts the system's
browser (``executable_path``); as root, Chromium needs ``--no-sandbox``. Tests skip
without it, and fail instead under SIMDOCK_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import services_required

CHROMIUM = os.environ.get("SIMDOCK_CHROMIUM", "/usr/bin/chromium")
#: Where the tests keep their screenshots of each page.
SCREENSHOTS = Path(os.environ.get("SIMDOCK_SCREENSHOTS",
                                  Path(__file__).resolve().parents[2] / "build" / "screenshots"))
#: A laptop's width and a phone's.
VIEWPORTS = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def unavailable(reason: str) -> None:
    if services_required():
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Any]:
    """A started Chromium (a Playwright ``Browser``)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (make setup installs it)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    arguments = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=arguments)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> Path:
    """Keep a screenshot of ``page`` (the whole page) as ``name``.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
