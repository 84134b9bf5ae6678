# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Reading and writing RGB images: channel order, bit depths, paths, damaged files."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from hggt_core.io.images import ImageReadError, read_rgb, write_rgb


def _pattern(height: int = 24, width: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def _smooth(height: int = 48, width: int = 64) -> np.ndarray:
    """A gradient that survives JPEG compression with small errors."""
    v, u = np.mgrid[0:height, 0:width]
    return np.stack([u * 3, v * 4, 255 - u * 2], axis=-1).astype(np.uint8)


def _jpeg_bytes(image_rgb: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return encoded.tobytes()


def test_png_round_trip_is_exact_and_rgb_ordered(tmp_path: Path) -> None:
    image = _pattern()
    image[0, 0] = (255, 0, 0)  # pure red in RGB
    path = tmp_path / "view.png"
    write_rgb(path, image)
    back = read_rgb(path)
    assert back.dtype == np.uint8 and back.shape == (24, 32, 3)
    np.testing.assert_array_equal(back, image)
    # OpenCV itself sees BGR: the red pixel has its last channel set.
    np.testing.assert_array_equal(cv2.imread(str(path))[0, 0], (0, 0, 255))


@pytest.mark.parametrize("suffix", [".jpg", ".JPEG"])
def test_jpeg_round_trip_is_close(tmp_path: Path, suffix: str) -> None:
    image = _smooth()
    path = tmp_path / f"view{suffix}"
    write_rgb(path, image, jpeg_quality=98)
    back = read_rgb(path)
    assert back.shape == image.shape
    assert np.abs(back.astype(int) - image).mean() < 2.0


def test_non_ascii_path(tmp_path: Path) -> None:
    folder = tmp_path / "caméra 手"
    folder.mkdir()
    image = _pattern(seed=3)
    write_rgb(folder / "vue_ü.png", image)
    np.testing.assert_array_equal(read_rgb(folder / "vue_ü.png"), image)


def test_grayscale_alpha_and_16_bit_become_rgb8(tmp_path: Path) -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    (tmp_path / "gray.png").write_bytes(cv2.imencode(".png", gray)[1].tobytes())
    np.testing.assert_array_equal(
        read_rgb(tmp_path / "gray.png"), np.repeat(gray[..., None], 3, 2)
    )

    bgra = np.zeros((2, 3, 4), dtype=np.uint8)
    bgra[..., 0], bgra[..., 1], bgra[..., 2], bgra[..., 3] = 10, 20, 30, 0  # fully transparent
    (tmp_path / "alpha.png").write_bytes(cv2.imencode(".png", bgra)[1].tobytes())
    np.testing.assert_array_equal(
        read_rgb(tmp_path / "alpha.png"), np.full((2, 3, 3), (30, 20, 10))
    )

    deep = np.array([[0, 257, 65535], [128, 32896, 65534]], dtype=np.uint16)
    (tmp_path / "deep.png").write_bytes(cv2.imencode(".png", deep)[1].tobytes())
    expected = np.array([[0, 1, 255], [0, 128, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(read_rgb(tmp_path / "deep.png")[..., 0], expected)


def test_missing_and_empty_files_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jpg"
    with pytest.raises(ImageReadError, match=r"not found: .*nope\.jpg"):
        read_rgb(missing)
    empty = tmp_path / "empty.png"
    empty.touch()
    with pytest.raises(ImageReadError, match=r"empty: .*empty\.png"):
        read_rgb(empty)
    assert issubclass(ImageReadError, ValueError)


def test_random_bytes_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes())
    with pytest.raises(ImageReadError, match=r"cannot decode image file .*noise\.jpg"):
        read_rgb(path)


@pytest.mark.parametrize("keep", [0.5, 0.9, -2])
def test_truncated_jpeg_is_rejected(tmp_path: Path, keep: float) -> None:
    data = _jpeg_bytes(_smooth())
    cut = int(len(data) * keep) if keep > 0 else len(data) + int(keep)
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[:cut])
    with pytest.raises(ImageReadError, match=r"damaged image file .*cut\.jpg: truncated JPEG"):
        read_rgb(path)


def test_truncated_jpeg_with_embedded_thumbnail_is_rejected(tmp_path: Path) -> None:
    """A thumbnail's end marker inside an APP segment must not count as the image's end."""
    main, thumbnail = _jpeg_bytes(_smooth()), _jpeg_bytes(_smooth(8, 8))
    segment = b"\xff\xef" + struct.pack(">H", len(thumbnail) + 2) + thumbnail
    data = main[:2] + segment + main[2:]
    complete = tmp_path / "complete.jpg"
    complete.write_bytes(data + b"trailing data after the end marker")
    assert read_rgb(complete).shape == (48, 64, 3)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(main) // 2 + len(segment)])
    with pytest.raises(ImageReadError, match="truncated JPEG"):
        read_rgb(cut)


@pytest.mark.parametrize(
    "params",
    [[cv2.IMWRITE_JPEG_PROGRESSIVE, 1], [cv2.IMWRITE_JPEG_RST_INTERVAL, 2]],
    ids=["progressive", "restart_markers"],
)
def test_jpeg_variants_pass_and_fail_by_completeness(tmp_path: Path, params: list[int]) -> None:
    bgr = cv2.cvtColor(_smooth(), cv2.COLOR_RGB2BGR)
    data = cv2.imencode(".jpg", bgr, params)[1].tobytes()
    (tmp_path / "ok.jpg").write_bytes(data)
    assert np.abs(read_rgb(tmp_path / "ok.jpg").astype(int) - _smooth()).mean() < 3.0
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(ImageReadError, match="truncated JPEG"):
        read_rgb(tmp_path / "cut.jpg")


def test_truncated_png_is_rejected(tmp_path: Path) -> None:
    data = cv2.imencode(".png", _pattern())[1].tobytes()
    for name, cut in [("half.png", len(data) // 2), ("no_end.png", len(data) - 12)]:
        (tmp_path / name).write_bytes(data[:cut])
        with pytest.raises(ImageReadError, match=rf"{name.replace('.', '[.]')}: truncated PNG"):
            read_rgb(tmp_path / name)


def test_write_rejects_bad_suffix_and_shape(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.jpg, \.jpeg or \.png"):
        write_rgb(tmp_path / "x.bmp", _pattern())
    with pytest.raises(ValueError, match=r"\[H, W, 3\] uint8"):
        write_rgb(tmp_path / "x.png", _pattern().astype(np.float32))
    with pytest.raises(ValueError, match=r"\[H, W, 3\] uint8"):
        write_rgb(tmp_path / "x.png", _pattern()[..., 0])
    assert os.listdir(tmp_path) == []


def test_write_replaces_atomically_without_leftovers(tmp_path: Path) -> None:
    path = tmp_path / "view.png"
    write_rgb(path, _pattern(seed=1))
    write_rgb(path, _pattern(seed=2))
    np.testing.assert_array_equal(read_rgb(path), _pattern(seed=2))
    assert os.listdir(tmp_path) == ["view.png"]
    with pytest.raises(FileNotFoundError):
        write_rgb(tmp_path / "missing_folder" / "view.png", _pattern())
