# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS image payloads <-> [H, W, 3] uint8 RGB arrays, without cv_bridge (docs/DESIGN.md, 4).

:func:`decode_image` reads the fields of a ``sensor_msgs/Image`` (encoding, height, width,
step, data, is_bigendian); :func:`decode_compressed` reads a ``sensor_msgs/CompressedImage``
(format, data). Both return a fresh, writable, C-contiguous [H, W, 3] uint8 RGB array that
never aliases the message buffer; the raw path copies the pixels once (row padding given by
``step`` is skipped by a strided view, never copied). :func:`encode_image` goes the other way
for the 8-bit encodings, for tests and for writing fixture bags.

Conventions:

* ``mono16`` / ``16UC1`` are scaled to 8 bit over the full 16-bit range
  (``round(v * 255 / 65535)``); ``mono8`` / ``8UC1`` and mono16 become grey RGB.
* ``bayer_<pattern>8`` names the colours of the top-left 2x2 block in reading order (REP
  conventions); it is demosaiced bilinearly by OpenCV (``COLOR_Bayer<PATTERN>2RGB``, the
  four-letter OpenCV names that agree with ROS's; the two-letter ones are shifted by a pixel).
* Alpha channels are dropped.
"""

from __future__ import annotations

import array
from typing import TypeAlias

import cv2
import numpy as np
import numpy.typing as npt

ImageArray = npt.NDArray[np.uint8]
ImageBuffer: TypeAlias = (
    "bytes | bytearray | memoryview | npt.NDArray[np.uint8] | array.array[int]"
)
"""Anything holding a message's ``data`` bytes (rclpy gives array.array, rosbags ndarray)."""


class ImageEncodingError(ValueError):
    """An image message cannot be decoded (unsupported encoding, bad sizes, corrupt data)."""


_BAYER_CODES: dict[str, int] = {
    "bayer_rggb8": cv2.COLOR_BayerRGGB2RGB,
    "bayer_bggr8": cv2.COLOR_BayerBGGR2RGB,
    "bayer_gbrg8": cv2.COLOR_BayerGBRG2RGB,
    "bayer_grbg8": cv2.COLOR_BayerGRBG2RGB,
}
_ALIASES: dict[str, str] = {"8UC1": "mono8", "16UC1": "mono16"}
_BYTES_PER_PIXEL: dict[str, int] = {
    "rgb8": 3,
    "bgr8": 3,
    "rgba8": 4,
    "bgra8": 4,
    "mono8": 1,
    "mono16": 2,
    **dict.fromkeys(_BAYER_CODES, 1),
}
SUPPORTED_ENCODINGS: tuple[str, ...] = (*_BYTES_PER_PIXEL, *_ALIASES)
"""Encodings :func:`decode_image` accepts."""
ENCODABLE_ENCODINGS: tuple[str, ...] = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8")
"""Encodings :func:`encode_image` writes."""


def _as_bytes_array(data: ImageBuffer) -> npt.NDArray[np.uint8]:
    """A flat uint8 view of the message buffer (no copy for contiguous inputs)."""
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise ImageEncodingError(f"image data must be uint8, got dtype {data.dtype}")
        return data.reshape(-1)
    return np.frombuffer(data, dtype=np.uint8)


def _pixel_rows(
    encoding: str, height: int, width: int, step: int, data: ImageBuffer
) -> npt.NDArray[np.uint8]:
    """Validate the sizes and return a [H, W * bytes_per_pixel] view without the row padding."""
    if height <= 0 or width <= 0:
        raise ImageEncodingError(f"image size must be positive, got {width}x{height}")
    row_bytes = width * _BYTES_PER_PIXEL[encoding]
    if step < row_bytes:
        raise ImageEncodingError(
            f"step {step} is smaller than width * bytes per pixel = {width} * "
            f"{_BYTES_PER_PIXEL[encoding]} = {row_bytes} for {encoding}"
        )
    flat = _as_bytes_array(data)
    if flat.size != step * height:
        raise ImageEncodingError(
            f"data holds {flat.size} bytes, expected step * height = {step} * {height} = "
            f"{step * height} for a {width}x{height} {encoding} image"
        )
    return flat.reshape(height, step)[:, :row_bytes]


def decode_image(
    encoding: str,
    height: int,
    width: int,
    step: int,
    data: ImageBuffer,
    is_bigendian: bool = False,
) -> ImageArray:
    """Decode a raw ``sensor_msgs/Image`` payload into RGB.

    Args:
        encoding: the message's encoding; one of :data:`SUPPORTED_ENCODINGS`.
        height: rows (pixels).
        width: columns (pixels).
        step: bytes per row including padding, >= width * bytes per pixel.
        data: exactly ``step * height`` bytes.
        is_bigendian: byte order of 16-bit encodings (ignored for 8-bit ones).

    Returns:
        [height, width, 3] uint8 RGB, a new array.

    Raises:
        ImageEncodingError: unsupported encoding, non-positive size, ``step`` too small, or a
            data size other than ``step * height``.
    """
    name = _ALIASES.get(encoding, encoding)
    if name not in _BYTES_PER_PIXEL:
        raise ImageEncodingError(
            f"unsupported image encoding {encoding!r}; supported: {', '.join(SUPPORTED_ENCODINGS)}"
        )
    rows = _pixel_rows(name, height, width, step, data)
    if name == "mono16":
        return _mono16_to_rgb(rows, height, width, is_bigendian)
    if name in _BAYER_CODES:
        mosaic = np.ascontiguousarray(rows)
        return np.asarray(cv2.cvtColor(mosaic, _BAYER_CODES[name]), dtype=np.uint8)
    channels = _BYTES_PER_PIXEL[name]
    pixels = rows.reshape(height, width, channels)
    if name == "mono8":
        return np.ascontiguousarray(np.broadcast_to(pixels, (height, width, 3)))
    if name in ("bgr8", "bgra8"):
        return np.ascontiguousarray(pixels[..., 2::-1])
    return np.array(pixels[..., :3], order="C", copy=True)


def _mono16_to_rgb(
    rows: npt.NDArray[np.uint8], height: int, width: int, is_bigendian: bool
) -> ImageArray:
    values = rows.view(np.dtype(">u2" if is_bigendian else "<u2")).reshape(height, width)
    # (v + 128) // 257 == round(v * 255 / 65535) for every 16-bit v, in integer arithmetic.
    grey = ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(grey[..., None], (height, width, 3)))


def decode_compressed(format: str, data: ImageBuffer) -> ImageArray:
    """Decode a ``sensor_msgs/CompressedImage`` payload (JPEG, PNG, ...) into RGB.

    The codec is recognised from the data itself, so ``format`` is only used to reject
    ``compressedDepth`` payloads (a depth-specific header precedes their PNG) and in errors.

    Args:
        format: the message's format string, e.g. ``"jpeg"`` or ``"rgb8; jpeg compressed bgr8"``.
        data: the compressed bytes.

    Returns:
        [H, W, 3] uint8 RGB (16-bit PNGs are reduced to 8 bit, grey ones expanded to RGB).

    Raises:
        ImageEncodingError: a compressedDepth format, empty data, or data OpenCV cannot decode.
    """
    if "compresseddepth" in format.lower():
        raise ImageEncodingError(
            f"compressed depth images are not supported (format {format!r}); use colour or "
            "mono images"
        )
    flat = _as_bytes_array(data)
    if flat.size == 0:
        raise ImageEncodingError(f"compressed image ({format!r}) has no data")
    decoded = cv2.imdecode(flat, cv2.IMREAD_COLOR_RGB)
    if decoded is None or decoded.ndim != 3:
        raise ImageEncodingError(
            f"cannot decode compressed image (format {format!r}, {flat.size} bytes): corrupt "
            "or unsupported data"
        )
    return np.ascontiguousarray(decoded, dtype=np.uint8)


def encode_image(rgb: ImageArray, encoding: str, step: int | None = None) -> tuple[int, bytes]:
    """Encode an RGB image as the ``step`` and ``data`` of a ``sensor_msgs/Image``.

    Args:
        rgb: [H, W, 3] uint8 RGB.
        encoding: one of :data:`ENCODABLE_ENCODINGS`; ``mono8`` stores the luma
            (0.299 R + 0.587 G + 0.114 B, rounded), alpha is 255.
        step: bytes per row; rows are zero-padded up to it. None: no padding.

    Returns:
        ``(step, data)`` with ``len(data) == step * H``.

    Raises:
        ImageEncodingError: an encoding not in :data:`ENCODABLE_ENCODINGS`, a non-RGB array or
            a ``step`` smaller than a row.
    """
    if encoding not in ENCODABLE_ENCODINGS:
        raise ImageEncodingError(
            f"cannot encode {encoding!r}; encodable: {', '.join(ENCODABLE_ENCODINGS)}"
        )
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ImageEncodingError(
            f"expected an [H, W, 3] uint8 RGB image, got {rgb.dtype} {rgb.shape}"
        )
    source = np.ascontiguousarray(rgb)
    if encoding == "mono8":
        pixels = cv2.cvtColor(source, cv2.COLOR_RGB2GRAY)[..., None]
    elif encoding == "bgr8":
        pixels = source[..., ::-1]
    elif encoding in ("rgba8", "bgra8"):
        colour = source if encoding == "rgba8" else source[..., ::-1]
        alpha = np.full((*rgb.shape[:2], 1), 255, dtype=np.uint8)
        pixels = np.concatenate([colour, alpha], axis=2)
    else:
        pixels = source
    height, width, channels = pixels.shape
    row_bytes = width * channels
    step = row_bytes if step is None else step
    if step < row_bytes:
        raise ImageEncodingError(f"step {step} is smaller than a row of {row_bytes} bytes")
    rows = np.zeros((height, step), dtype=np.uint8)
    rows[:, :row_bytes] = pixels.reshape(height, row_bytes)
    return step, rows.tobytes()
