"""Dependency-free PNG output, for plotting a temperature field when matplotlib is unavailable.

Only the standard library (zlib, struct) and numpy are used, so the module can be copied
into a minimal container image together with the simulations that use it.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Colour stops (position, red, green, blue) of the heat-map palette, cold to hot.
_PALETTE: tuple[tuple[float, int, int, int], ...] = (
    (0.00, 13, 8, 135),
    (0.25, 84, 2, 163),
    (0.50, 185, 50, 137),
    (0.75, 249, 142, 9),
    (1.00, 240, 249, 33),
)


def _chunk(tag: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, payload and CRC."""
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def encode_png(rgb: NDArray[np.uint8]) -> bytes:
    """Encode an (height, width, 3) uint8 RGB image as PNG bytes."""
    image = np.asarray(rgb)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            f"expected a (height, width, 3) uint8 array, got {image.dtype} {image.shape}"
        )
    height, width = int(image.shape[0]), int(image.shape[1])
    if height < 1 or width < 1:
        raise ValueError(f"image must not be empty, got shape {image.shape}")
    raw = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # filter byte 0 (None) per row
    raw[:, 1:] = image.reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (
            PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
            _chunk(b"IEND", b""),
        )
    )


def write_png(path: str | Path, rgb: NDArray[np.uint8]) -> Path:
    """Write an RGB image to ``path`` as a PNG file and return the path."""
    target = Path(path)
    target.write_bytes(encode_png(rgb))
    return target


def colorize(values: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Map a 2-D array of values to RGB colours, scaled between its minimum and maximum."""
    data = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(data)
    if not finite.any():
        scaled = np.zeros(data.shape)
    else:
        low = float(data[finite].min())
        high = float(data[finite].max())
        span = high - low
        scaled = (data - low) / span if span > 0 else np.zeros(data.shape)
        scaled = np.where(finite, np.clip(scaled, 0.0, 1.0), 0.0)
    stops = np.array([stop[0] for stop in _PALETTE])
    rgb = np.empty((*data.shape, 3), dtype=np.uint8)
    for channel in range(3):
        levels = np.array([stop[channel + 1] for stop in _PALETTE], dtype=np.float64)
        rgb[..., channel] = np.rint(np.interp(scaled, stops, levels)).astype(np.uint8)
    return rgb


def heatmap(values: NDArray[np.float64], width: int = 512, height: int = 256) -> NDArray[np.uint8]:
    """An RGB heat-map image of a 2-D array (rows top to bottom), resampled to width x height."""
    data = np.asarray(values, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] < 1 or data.shape[1] < 1:
        raise ValueError(f"expected a non-empty 2-D array, got shape {data.shape}")
    if width < 1 or height < 1:
        raise ValueError(f"width and height must be >= 1, got {width}x{height}")
    rows = np.rint(np.linspace(0, data.shape[0] - 1, height)).astype(np.intp)
    cols = np.rint(np.linspace(0, data.shape[1] - 1, width)).astype(np.intp)
    return colorize(data[np.ix_(rows, cols)])


def write_heatmap(
    path: str | Path, values: NDArray[np.float64], width: int = 512, height: int = 256
) -> Path:
    """Write a heat map of a 2-D array to ``path`` as a PNG file and return the path."""
    return write_png(path, heatmap(values, width, height))
