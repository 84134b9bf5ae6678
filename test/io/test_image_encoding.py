# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the ROS image conversions (sensor_msgs/Image and CompressedImage payloads)."""

from __future__ import annotations

import array

import cv2
import numpy as np
import pytest

from hggt_core.io.image_encoding import (
    ENCODABLE_ENCODINGS,
    SUPPORTED_ENCODINGS,
    ImageEncodingError,
    decode_compressed,
    decode_image,
    encode_image,
)

RNG = np.random.default_rng(7)
RGB = RNG.integers(0, 256, size=(6, 9, 3), dtype=np.uint8)


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "rgba8", "bgra8"])
@pytest.mark.parametrize("padding", [0, 5])
@pytest.mark.parametrize("container", [bytes, bytearray, memoryview, np.frombuffer, array.array])
def test_colour_encodings_round_trip_with_padded_rows(
    encoding: str, padding: int, container: type
) -> None:
    channels = 4 if encoding.endswith("a8") else 3
    step, data = encode_image(RGB, encoding, step=9 * channels + padding)
    assert step == 9 * channels + padding and len(data) == step * 6
    buffer = (
        array.array("B", data)
        if container is array.array
        else np.frombuffer(data, np.uint8)
        if container is np.frombuffer
        else container(data)
    )
    decoded = decode_image(encoding, 6, 9, step, buffer)
    np.testing.assert_array_equal(decoded, RGB)
    assert decoded.flags.c_contiguous and decoded.flags.writeable
    assert not np.shares_memory(decoded, np.frombuffer(data, np.uint8))


def test_channel_order_of_each_encoding() -> None:
    pixel = {"rgb8": [10, 20, 30], "bgr8": [30, 20, 10], "rgba8": [10, 20, 30, 99]}
    pixel["bgra8"] = [30, 20, 10, 99]
    for encoding, raw in pixel.items():
        decoded = decode_image(encoding, 1, 1, len(raw), bytes(raw))
        assert decoded.tolist() == [[[10, 20, 30]]], encoding


def test_mono8_is_grey_and_encodes_luma() -> None:
    step, data = encode_image(RGB, "mono8", step=12)
    decoded = decode_image("mono8", 6, 9, step, data)
    luma = np.rint(RGB.astype(float) @ [0.299, 0.587, 0.114])
    np.testing.assert_allclose(decoded[..., 0], luma, atol=1)
    assert (decoded == decoded[..., :1]).all()
    np.testing.assert_array_equal(decode_image("8UC1", 6, 9, step, data), decoded)


@pytest.mark.parametrize("bigendian", [False, True])
def test_mono16_scales_the_full_range_to_8_bit(bigendian: bool) -> None:
    values = np.array([[0, 256, 32767, 65535, 1000, 128]], dtype=np.uint16)
    raw = values.astype(">u2" if bigendian else "<u2").tobytes() + b"\x00\x00"
    for encoding in ("mono16", "16UC1"):
        decoded = decode_image(encoding, 1, 6, 14, raw, is_bigendian=bigendian)
        assert decoded.shape == (1, 6, 3)
        np.testing.assert_array_equal(
            decoded[0, :, 1], np.rint(values[0].astype(float) * 255 / 65535)
        )


def _bayer_mosaic(rgb: np.ndarray, pattern: str) -> np.ndarray:
    """Sample an RGB image through a colour filter array whose top-left 2x2 is ``pattern``."""
    mosaic = np.empty(rgb.shape[:2], np.uint8)
    for position, colour in enumerate(pattern):
        row, col = divmod(position, 2)
        mosaic[row::2, col::2] = rgb[row::2, col::2, "rgb".index(colour)]
    return mosaic


@pytest.mark.parametrize("pattern", ["rggb", "bggr", "gbrg", "grbg"])
def test_bayer_patterns_recover_the_colours(pattern: str) -> None:
    # Flat colour patches: away from patch borders bilinear demosaicing is exact.
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[:8, :8] = (200, 40, 10)
    rgb[:8, 8:] = (10, 220, 60)
    rgb[8:, :8] = (30, 70, 240)
    rgb[8:, 8:] = (250, 250, 20)
    mosaic = _bayer_mosaic(rgb, pattern)
    padded = np.zeros((16, 20), np.uint8)
    padded[:, :16] = mosaic
    decoded = decode_image(f"bayer_{pattern}8", 16, 16, 20, padded.tobytes())
    for rows, cols in [(slice(2, 6), slice(2, 6)), (slice(10, 14), slice(10, 14))]:
        np.testing.assert_allclose(decoded[rows, cols], rgb[rows, cols], atol=1)
    np.testing.assert_allclose(decoded[2:6, 10:14], rgb[2:6, 10:14], atol=1)
    np.testing.assert_allclose(decoded[10:14, 2:6], rgb[10:14, 2:6], atol=1)


def test_sizes_and_encodings_are_checked() -> None:
    step, data = encode_image(RGB, "rgb8")
    with pytest.raises(ImageEncodingError, match=r"unsupported image encoding 'yuv422'.*rgb8"):
        decode_image("yuv422", 6, 9, step, data)
    with pytest.raises(ImageEncodingError, match=r"data holds 161 bytes, expected .* 162"):
        decode_image("rgb8", 6, 9, step, data[:-1])
    with pytest.raises(ImageEncodingError, match=r"step 26 is smaller than .* = 27"):
        decode_image("rgb8", 6, 9, 26, data[:156])
    with pytest.raises(ImageEncodingError, match="must be positive"):
        decode_image("rgb8", 0, 9, step, b"")
    with pytest.raises(ImageEncodingError, match="must be uint8"):
        decode_image("rgb8", 6, 9, step, np.zeros(162, np.float32))
    with pytest.raises(ImageEncodingError, match="cannot encode 'mono16'"):
        encode_image(RGB, "mono16")
    with pytest.raises(ImageEncodingError, match="smaller than a row"):
        encode_image(RGB, "rgb8", step=20)
    assert isinstance(ImageEncodingError("x"), ValueError)
    assert set(ENCODABLE_ENCODINGS) <= set(SUPPORTED_ENCODINGS)


@pytest.mark.parametrize("codec", [".png", ".jpg"])
def test_compressed_images_decode_to_rgb(codec: str) -> None:
    smooth = np.zeros((32, 48, 3), np.uint8)
    smooth[..., 0] = 220
    smooth[..., 1] = np.linspace(0, 255, 48, dtype=np.uint8)
    smooth[..., 2] = 30
    ok, encoded = cv2.imencode(codec, smooth[..., ::-1])
    assert ok
    decoded = decode_compressed(codec[1:], encoded.tobytes())
    assert decoded.shape == (32, 48, 3) and decoded.dtype == np.uint8
    np.testing.assert_allclose(decoded, smooth, atol=0 if codec == ".png" else 12)
    grey_ok, grey = cv2.imencode(codec, smooth[..., 1])
    assert grey_ok
    grey_rgb = decode_compressed("mono8; " + codec[1:], np.frombuffer(grey.tobytes(), np.uint8))
    assert grey_rgb.shape == (32, 48, 3)


def test_corrupt_or_unsupported_compressed_data_is_an_error() -> None:
    ok, encoded = cv2.imencode(".jpg", RGB)
    assert ok
    with pytest.raises(
        ImageEncodingError, match=r"cannot decode compressed image \(format 'jpeg'"
    ):
        decode_compressed("jpeg", encoded.tobytes()[:20])
    with pytest.raises(ImageEncodingError, match="cannot decode"):
        decode_compressed("png", b"not an image at all")
    with pytest.raises(ImageEncodingError, match="has no data"):
        decode_compressed("jpeg", b"")
    with pytest.raises(ImageEncodingError, match="compressed depth"):
        decode_compressed("16UC1; compressedDepth png", encoded.tobytes())
