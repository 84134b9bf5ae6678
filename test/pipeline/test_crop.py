# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Crops: box -> square transform, crop <-> image pixel maps, sampling, crop cameras."""

from __future__ import annotations

import numpy as np
import pytest

from hggt_core.pipeline.crop import (
    crop_image,
    crop_to_image_affine,
    crop_to_image_points,
    image_to_crop_points,
    intrinsics_for_crop_camera,
    square_crop_transform,
    warp_crop,
)
from hggt_core.pipeline.types import Box, CropTransform

MIRROR = np.diag([-1.0, 1.0, 1.0])
# OpenCV's bilinear warp quantises sampling positions to 1/32 pixel.
WARP_TOL_PX = 1.0 / 32.0 + 1e-4


def _project(points: np.ndarray, intrinsics: np.ndarray) -> np.ndarray:
    homogeneous = points @ intrinsics.T
    return homogeneous[:, :2] / homogeneous[:, 2:]


def _coordinate_image(height: int, width: int) -> np.ndarray:
    """Float image whose channels hold each pixel centre's own (u, v) (0.5-centred)."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    return np.stack([u, v, np.zeros_like(u)], axis=-1)


def test_square_crop_transform_known_answer() -> None:
    box = Box(100.0, 50.0, 140.0, 130.0)  # 40 x 80, centre (120, 90)
    crop = square_crop_transform(box, size=28, scale_factor=1.25, mirrored=True)
    assert crop == CropTransform(x0=70.0, y0=40.0, scale=100.0 / 28.0, size=28, mirrored=True)


@pytest.mark.parametrize("bad", [(0, 1.3), (28, 0.0), (28, -1.0)])
def test_square_crop_transform_rejects_bad_arguments(bad: tuple[int, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        square_crop_transform(Box(0, 0, 1, 1), size=bad[0], scale_factor=bad[1])


@pytest.mark.parametrize("mirrored", [False, True])
def test_crop_image_point_maps_round_trip(mirrored: bool) -> None:
    rng = np.random.default_rng(0)
    crop = CropTransform(x0=-13.25, y0=41.5, scale=0.731, size=518, mirrored=mirrored)
    uv_crop = rng.uniform(-50.0, 600.0, size=(100, 2))
    uv_image = crop_to_image_points(uv_crop, crop)
    np.testing.assert_allclose(image_to_crop_points(uv_image, crop), uv_crop, rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        crop_to_image_points(image_to_crop_points(uv_image, crop), crop),
        uv_image,
        rtol=0,
        atol=1e-9,
    )
    homogeneous = np.concatenate([uv_crop, np.ones((100, 1))], axis=1)
    via_affine = homogeneous @ crop_to_image_affine(crop).T
    np.testing.assert_allclose(via_affine[:, :2], uv_image, rtol=0, atol=1e-9)


def test_crop_corners_map_to_the_expected_image_edges() -> None:
    plain = CropTransform(x0=10.0, y0=20.0, scale=2.0, size=100)
    mirrored = CropTransform(x0=10.0, y0=20.0, scale=2.0, size=100, mirrored=True)
    corners = np.array([[0.0, 0.0], [100.0, 100.0]])
    np.testing.assert_allclose(crop_to_image_points(corners, plain), [[10, 20], [210, 220]])
    # A mirrored crop's left edge is the image region's right edge.
    np.testing.assert_allclose(crop_to_image_points(corners, mirrored), [[210, 20], [10, 220]])


@pytest.mark.parametrize("mirrored", [False, True])
def test_crop_camera_and_image_camera_project_to_corresponding_pixels(mirrored: bool) -> None:
    rng = np.random.default_rng(1)
    crop = CropTransform(x0=215.5, y0=-30.0, scale=1.7, size=518, mirrored=mirrored)
    k_crop = np.array([[640.0, 0.0, 250.0], [0.0, 655.0, 270.0], [0.0, 0.0, 1.0]])
    points = np.column_stack(
        [rng.uniform(-0.2, 0.2, 50), rng.uniform(-0.2, 0.2, 50), rng.uniform(0.3, 1.5, 50)]
    )
    # The network looks at the crop as it is shown: the mirrored scene for a mirrored crop.
    seen_by_crop_camera = points @ MIRROR.T if mirrored else points
    uv_crop = _project(seen_by_crop_camera, k_crop)
    k_image = intrinsics_for_crop_camera(k_crop, crop)
    np.testing.assert_allclose(
        _project(points, k_image), crop_to_image_points(uv_crop, crop), rtol=0, atol=1e-9
    )
    # A proper camera either way: positive focal lengths scaled by the crop scale.
    np.testing.assert_allclose(np.diag(k_image)[:2], [640.0 * 1.7, 655.0 * 1.7])
    expected_cx = 215.5 + 1.7 * ((518 - 250.0) if mirrored else 250.0)
    np.testing.assert_allclose(k_image[:2, 2], [expected_cx, -30.0 + 1.7 * 270.0])


def test_intrinsics_for_crop_camera_broadcasts_over_leading_axes() -> None:
    crop = CropTransform(x0=5.0, y0=6.0, scale=0.5, size=28, mirrored=True)
    k_crop = np.tile(np.array([[30.0, 0, 14], [0, 30, 14], [0, 0, 1]]), (4, 1, 1))
    k_image = intrinsics_for_crop_camera(k_crop, crop)
    assert k_image.shape == (4, 3, 3)
    np.testing.assert_allclose(k_image[2], intrinsics_for_crop_camera(k_crop[2], crop))


@pytest.mark.parametrize("mirrored", [False, True])
def test_warp_samples_the_image_where_the_transform_says(mirrored: bool) -> None:
    image = _coordinate_image(120, 160)
    crop = CropTransform(x0=30.3, y0=20.7, scale=1.9, size=42, mirrored=mirrored)
    warped = warp_crop(image, crop)
    assert warped.shape == (42, 42, 3)
    v, u = np.mgrid[0:42, 0:42] + 0.5
    expected = crop_to_image_points(np.stack([u, v], axis=-1), crop)
    np.testing.assert_allclose(warped[..., :2], expected, rtol=0, atol=WARP_TOL_PX * crop.scale)


def test_crop_image_layout_range_and_exact_mirror() -> None:
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, size=(90, 130, 3), dtype=np.uint8)
    plain = CropTransform(x0=12.0, y0=8.0, scale=2.5, size=28)
    mirrored = CropTransform(x0=12.0, y0=8.0, scale=2.5, size=28, mirrored=True)
    crop = crop_image(image, plain)
    assert crop.shape == (3, 28, 28)
    assert crop.dtype == np.float32
    assert crop.min() >= 0.0 and crop.max() <= 1.0
    # Same sampling positions in reverse column order (OpenCV rounds them to 1/32 pixel, which
    # for other scales may differ by one grey level in a few pixels).
    np.testing.assert_allclose(crop_image(image, mirrored), crop[:, :, ::-1], atol=1.0 / 255.0)
    # Channels are kept in RGB order, scaled by 1/255.
    np.testing.assert_allclose(crop * 255.0, warp_crop(image, plain).transpose(2, 0, 1), atol=1e-4)


def test_crop_image_identity_and_padding() -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(1, 256, size=(28, 28, 3), dtype=np.uint8)
    identity = crop_image(image, CropTransform(x0=0.0, y0=0.0, scale=1.0, size=28))
    np.testing.assert_allclose(identity, image.transpose(2, 0, 1) / 255.0, atol=1e-7)
    shifted = crop_image(image, CropTransform(x0=-14.0, y0=0.0, scale=1.0, size=28))
    assert np.all(shifted[:, :, :14] == 0.0)  # outside the image: black
    np.testing.assert_allclose(shifted[:, :, 14:], image[:, :14].transpose(2, 0, 1) / 255.0)


def test_crop_image_writes_into_a_batch_slot() -> None:
    image = np.full((50, 60, 3), 255, dtype=np.uint8)
    batch = np.zeros((2, 3, 28, 28), dtype=np.float32)
    result = crop_image(image, CropTransform(5.0, 5.0, 1.0, 28), out=batch[1])
    assert np.shares_memory(result, batch)
    np.testing.assert_array_equal(batch[1], 1.0)
    np.testing.assert_array_equal(batch[0], 0.0)


def test_crop_image_rejects_bad_inputs() -> None:
    crop = CropTransform(0.0, 0.0, 1.0, 28)
    with pytest.raises(ValueError, match="uint8"):
        crop_image(np.zeros((28, 28, 3), dtype=np.float32), crop)
    with pytest.raises(ValueError, match="uint8"):
        crop_image(np.zeros((28, 28), dtype=np.uint8), crop)
    with pytest.raises(ValueError, match="out must be"):
        crop_image(np.zeros((28, 28, 3), np.uint8), crop, out=np.zeros((3, 14, 14), np.float32))
