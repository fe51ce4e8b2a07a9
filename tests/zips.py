"""Zip archives for tests of input archives, honest and lying.

A zip says twice how large each entry is (in its local header and in the central
directory) and what CRC-32 its bytes have; :func:`declaring` rewrites what it
says without touching the compressed bytes, as a crafted archive does.
"""

from __future__ import annotations

import io
import struct
import zipfile

LOCAL = b"PK\x03\x04"
CENTRAL = b"PK\x01\x02"


def zipped(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def declaring(data: bytes, entry: str, *, size: int | None = None, crc: int | None = None,
              flags: int | None = None) -> bytes:
    """``data`` with what its headers say of ``entry`` replaced: its unpacked ``size``, its
    ``crc`` and its general-purpose ``flags``, in both headers."""
    out = bytearray(data)
    name = entry.encode()
    # (signature, offset of flags, of the CRC, of the size, of the name length, of the name)
    for signature, at_flags, at_crc, at_size, at_length, at_name in (
            (LOCAL, 6, 14, 22, 26, 30), (CENTRAL, 8, 16, 24, 28, 46)):
        start = 0
        found = False
        while (start := out.find(signature, start)) >= 0:
            (length,) = struct.unpack_from("<H", out, start + at_length)
            if out[start + at_name:start + at_name + length] == name:
                if size is not None:
                    struct.pack_into("<I", out, start + at_size, size)
                if crc is not None:
                    struct.pack_into("<I", out, start + at_crc, crc)
                if flags is not None:
                    struct.pack_into("<H", out, start + at_flags, flags)
                found = True
            start += 4
        assert found, (signature, entry)
    return bytes(out)
