# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Read and write single RGB images, rejecting damaged files with an error naming them.

Images are [H, W, 3] uint8 RGB (see :mod:`hggt_core.pipeline.types`). Files are read as bytes
and decoded in memory with OpenCV, so paths with non-ASCII characters work on every platform.
Decoding follows OpenCV's ``imread`` defaults for colour images, including the EXIF
orientation tag of JPEGs (the array is what an image viewer shows); grayscale is replicated
to three channels, an alpha channel is dropped (not composited) and 16-bit samples are scaled
to 8 bits (``round(x * 255 / 65535)``).

OpenCV decodes some damaged files partially and only logs a warning, so JPEG and PNG files
are checked structurally first: a JPEG must reach its end-of-image marker (EOI) through its
segment structure, a PNG its ``IEND`` chunk. Other formats OpenCV reads (BMP, TIFF, WebP)
are accepted as decoded.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import cv2
import numpy as np

from hggt_core.base.atomic import atomic_write
from hggt_core.pipeline.types import ImageArray

JPEG_SUFFIXES = (".jpg", ".jpeg")
PNG_SUFFIXES = (".png",)

_JPEG_SOI = b"\xff\xd8"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Markers without a length field: SOI, EOI, RST0-7 and TEM.
_STANDALONE_MARKERS = frozenset({0xD8, 0xD9, 0x01, *range(0xD0, 0xD8)})
_SOS, _EOI = 0xDA, 0xD9
# In entropy-coded data 0xFF is followed by 0x00 (stuffing), a restart marker or fill bytes;
# anything else ends the scan.
_SCAN_END = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")


class ImageReadError(ValueError):
    """An image file is missing, empty, damaged or in a form that cannot become RGB."""


def read_rgb(path: str | os.PathLike[str]) -> ImageArray:
    """Read an image file as RGB.

    Args:
        path: image file (any format OpenCV decodes; JPEG and PNG are integrity-checked).

    Returns:
        [H, W, 3] uint8 RGB.

    Raises:
        ImageReadError: the file is missing, unreadable, empty, damaged or truncated, or
            decodes to an unsupported sample type; the message names the file.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(f"image file not found: {file}") from None
    except OSError as error:
        raise ImageReadError(f"cannot read image file {file}: {error.strerror}") from error
    if not data:
        raise ImageReadError(f"image file is empty: {file}")
    problem = _integrity_problem(data)
    if problem is not None:
        raise ImageReadError(f"damaged image file {file}: {problem}")
    flags = cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if decoded is None:
        raise ImageReadError(f"cannot decode image file {file}: unknown format or corrupt data")
    return _to_rgb8(np.asarray(decoded), file)


def write_rgb(path: str | os.PathLike[str], image: ImageArray, jpeg_quality: int = 95) -> None:
    """Write an RGB image as JPEG or PNG (chosen by the suffix), atomically.

    Args:
        path: destination ending in .jpg, .jpeg or .png (any case); its folder must exist.
        image: [H, W, 3] uint8 RGB.
        jpeg_quality: JPEG quality in [0, 100]; ignored for PNG.

    Raises:
        ValueError: an unsupported suffix or an image that is not [H, W, 3] uint8.
        OSError: the file cannot be written (nothing is left behind).
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in JPEG_SUFFIXES + PNG_SUFFIXES:
        raise ValueError(f"cannot write {file}: the suffix must be .jpg, .jpeg or .png")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"cannot write {file}: expected an [H, W, 3] uint8 image, "
            f"got shape {image.shape} dtype {image.dtype}"
        )
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if suffix in JPEG_SUFFIXES else []
    bgr = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(suffix, bgr, params)
    if not ok:
        raise ValueError(f"OpenCV could not encode {file}")
    with atomic_write(file) as stream:
        stream.write(encoded.tobytes())


def _to_rgb8(decoded: np.ndarray, file: Path) -> ImageArray:
    """Normalise OpenCV's decoded array (BGR, gray or BGRA; 8 or 16 bit) to RGB uint8."""
    if decoded.dtype == np.uint16:
        scaled = (decoded.astype(np.uint32) * 255 + 32767) // 65535
        decoded = scaled.astype(np.uint8)
    if decoded.dtype != np.uint8:
        raise ImageReadError(
            f"unsupported sample type {decoded.dtype} in {file}: expected 8 or 16 bit"
        )
    if decoded.ndim == 2:
        return np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_GRAY2RGB))
    channels = decoded.shape[2]
    if channels == 1:
        return np.ascontiguousarray(cv2.cvtColor(decoded[..., 0], cv2.COLOR_GRAY2RGB))
    if channels == 3:
        return np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))
    if channels == 4:
        return np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGB))
    raise ImageReadError(f"unsupported channel count {channels} in {file}")


def _integrity_problem(data: bytes) -> str | None:
    """Why JPEG or PNG bytes are incomplete, or None (also for other formats)."""
    if data.startswith(_JPEG_SOI):
        return _jpeg_problem(data)
    if data.startswith(_PNG_SIGNATURE):
        return _png_problem(data)
    return None


def _jpeg_problem(data: bytes) -> str | None:
    """Walk the JPEG segments from SOI to EOI; embedded thumbnails sit inside APP segments."""
    position = len(_JPEG_SOI)
    while position < len(data):
        if data[position] != 0xFF:
            # Stray bytes between segments: decoders skip them with a warning, and so do we.
            position = data.find(b"\xff", position)
            if position < 0:
                break
        while position < len(data) and data[position] == 0xFF:
            position += 1
        if position >= len(data):
            break
        marker = data[position]
        position += 1
        if marker == _EOI:
            return None
        if marker in _STANDALONE_MARKERS:
            continue
        if position + 2 > len(data):
            break
        (length,) = struct.unpack_from(">H", data, position)
        position += length
        if marker == _SOS:
            scan_end = _SCAN_END.search(data, position)
            if scan_end is None:
                break
            position = scan_end.start()
    return "truncated JPEG (no end-of-image marker)"


def _png_problem(data: bytes) -> str | None:
    """Walk the PNG chunks up to IEND (length, type, data, CRC each)."""
    position = len(_PNG_SIGNATURE)
    while position + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        position += 12 + length
        if kind == b"IEND":
            return None if position <= len(data) else "truncated PNG (incomplete IEND chunk)"
    return "truncated PNG (no IEND chunk)"
