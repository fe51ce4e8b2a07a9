"""PDF documents of reports, written by fpdf2 in fonts that cover most scripts: DejaVu
Sans (Latin, Greek, Cyrillic and more) and, for the characters it lacks, Droid Sans
Fallback (Chinese, Japanese) and NanumSquare (Korean). A document embeds only the
glyphs it uses.

A report is given as the lines of its Markdown form, which this renders: ``#``, ``##``
and ``###`` headings, ``- `` items, ``|`` tables (their ``|---|`` rule left out), images
(``![caption](name)``, ``name`` one of the PNG images given with the lines) and
paragraphs.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVuSans"
#: The fonts asked, in order, for a character the family lacks.
FALLBACKS = {"DroidSansFallback": "DroidSansFallbackFull.ttf", "NanumSquare": "NanumSquareR.ttf"}
BODY_SIZE = 9.5
IMAGE = re.compile(r"^!\[(?P<caption>[^\]]*)\]\((?P<name>[^)]+)\)$")


def markdown_pdf(lines: list[str], title: str = "simdock report",
                 images: Mapping[str, bytes] | None = None) -> bytes:
    """A PDF document (A4) of a report's Markdown lines, titled ``title``; ``images`` by
    the names its image lines give."""
    pdf = _document(title)
    table: list[list[str]] = []
    for line in [*lines, ""]:
        image = IMAGE.match(line)
        if image is not None and images and image["name"] in images:
            _image(pdf, images[image["name"]], image["caption"])
            continue
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(cell and set(cell) <= {"-", ":"} for cell in cells):
                table.append(cells)
            continue
        if table:
            _table(pdf, table)
            table = []
        _line(pdf, line)
    return bytes(pdf.output())


def _document(title: str) -> Any:
    from fpdf import FPDF  # its import reads font tables: paid by the first PDF only

    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("simdock")
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    for name, file in FALLBACKS.items():
        pdf.add_font(name, "", str(FONTS / file))
    pdf.set_fallback_fonts(list(FALLBACKS), exact_match=False)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(FAMILY, size=BODY_SIZE)
    return pdf


def _line(pdf: Any, line: str) -> None:
    if not line.strip():
        pdf.ln(2)
        return
    for marker, size in (("# ", 16.0), ("## ", 12.5), ("### ", 10.5)):
        if line.startswith(marker):
            pdf.set_font(FAMILY, "B", size)
            pdf.multi_cell(0, size * 0.55, line[len(marker):], new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(FAMILY, "", BODY_SIZE)
            pdf.ln(1)
            return
    text = "• " + line[2:] if line.startswith("- ") else line
    pdf.multi_cell(0, BODY_SIZE * 0.5, text, new_x="LMARGIN", new_y="NEXT")


def _image(pdf: Any, png: bytes, caption: str) -> None:
    """An image the page's width, its caption under it; on a new page if it does not fit."""
    width = pdf.epw
    pixels_wide, pixels_high = struct.unpack(">II", png[16:24])  # the PNG's IHDR
    if pdf.will_page_break(width * pixels_high / pixels_wide + BODY_SIZE):
        pdf.add_page()
    pdf.image(io.BytesIO(png), w=width)
    pdf.set_font(FAMILY, "", BODY_SIZE - 1)
    pdf.multi_cell(0, BODY_SIZE * 0.5, caption, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", BODY_SIZE)
    pdf.ln(3)


def _table(pdf: Any, rows: list[list[str]]) -> None:
    width = max(len(row) for row in rows)
    pdf.set_font(FAMILY, "", BODY_SIZE - 1)
    with pdf.table(text_align="LEFT", line_height=BODY_SIZE * 0.5,
                   first_row_as_headings=True) as table:
        for row in rows:
            cells = table.row()
            for cell in [*row, *[""] * (width - len(row))]:
                cells.cell(cell)
    pdf.set_font(FAMILY, "", BODY_SIZE)
    pdf.ln(2)
