"""A minimal PDF writer for text reports, so PDF output needs no extra package."""

from __future__ import annotations

LINES_PER_PAGE = 60


def text_pdf(lines: list[str], title: str = "simdock report") -> bytes:
    """A valid PDF document showing ``lines`` in a monospaced font, paginated."""
    pages = [lines[i:i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    objects: list[bytes] = []
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>")
    for i, page_lines in enumerate(pages):
        stream = _page_stream(page_lines)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_ids[i] + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    info = _escape(title)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info << /Title ({info}) >> >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode("latin-1", "replace")
    return bytes(out)


def _page_stream(lines: list[str]) -> bytes:
    parts = ["BT /F1 9 Tf 11 TL 40 760 Td"]
    for line in lines:
        parts.append(f"({_escape(line[:110])}) Tj T*")
    parts.append("ET")
    return "\n".join(parts).encode("latin-1", "replace")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
