"""PDF reports read back by poppler (Debian's ``poppler-utils``): text in Greek, Cyrillic,
Chinese, Japanese and Korean comes back as written, and the pages are drawn."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

from simdock.pdf import markdown_pdf
from simdock.reporting import SummaryReportHandler
from tests.pdfs import PAGES, poppler

SAMPLES = ["Ελληνικά: η αναφορά", "Русский: отчёт готов", "中文 报告已完成",
           "日本語 レポートの完成", "한국어: 보고서 완료", "Ünïcödé ß, € and ½"]


def test_text_in_any_script_comes_back_as_written(tmp_path: Path) -> None:
    rows = [{"job_id": "job-1", "run_id": f"run-{i}", "index": i, "status": "succeeded",
             "parameters": {"label": text}, "result": {"estimate": 3.14 + i / 1000}}
            for i, text in enumerate(SAMPLES)]
    document, content_type, name = SummaryReportHandler().generate(
        "rep-scripts", "summary", "pdf", {}, rows)
    assert (content_type, name) == ("application/pdf", "report.pdf")
    path = tmp_path / "report.pdf"
    path.write_bytes(document)

    text = subprocess.run([poppler("pdftotext"), str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    for sample in SAMPLES:
        assert f"label={sample}" in text, text
    assert "result.estimate" in text and "Summary report rep-scripts" in text


def test_every_page_is_drawn_and_a_long_report_breaks_into_pages(tmp_path: Path) -> None:
    lines = ["# A long report", "", "| n | text |", "|---|---|",
             *(f"| {n} | {SAMPLES[n % len(SAMPLES)]} |" for n in range(40)), "",
             *(f"- line {n}: {SAMPLES[n % len(SAMPLES)]}" for n in range(200))]
    path = tmp_path / "long.pdf"
    path.write_bytes(markdown_pdf(lines, "a long report"))
    PAGES.mkdir(parents=True, exist_ok=True)
    subprocess.run([poppler("pdftoppm"), "-png", "-r", "40", str(path),
                    str(PAGES / "long")], check=True)
    pages = sorted(PAGES.glob("long-*.png"))
    assert len(pages) >= 3
    from PIL import Image

    for page in pages:
        with Image.open(page) as image:
            dark = int((np.asarray(image.convert("L")) < 128).sum())
        assert dark > 500, page  # text drawn, not a blank page
    info = subprocess.run([poppler("pdfinfo"), str(path)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"^Title: +a long report$", info, re.MULTILINE), info
