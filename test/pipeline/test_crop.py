# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Crops: box -> square transform, crop <-> image pixel maps, sampling, crop cameras."""

from __future__ import annotations

import numpy as np
import pytest

from hggt_core.geometry.distortion import (
    LensDistortion,
    distort_pixels,
    pixels_to_normalized,
    undistort_pixels,
    valid_radius,
)
from hggt_core.pipeline.crop import (
    crop_image,
    crop_to_image_affine,
    crop_to_image_points,
    crop_view,
    image_to_crop_points,
    intrinsics_for_crop_camera,
    square_crop_transform,
    undistort_box,
    warp_crop,
)
from hggt_core.pipeline.types import Box, CropTransform, View

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


# A wide-angle VGA camera and two lenses that bend its edges by tens of pixels.
K_VGA = np.array([[400.0, 0.0, 321.0], [0.0, 400.0, 239.0], [0.0, 0.0, 1.0]])
BARREL = LensDistortion("plumb_bob", (-0.3, 0.1, 0.001, -0.001, 0.0))
FISHEYE = LensDistortion("equidistant", (-0.013, 0.021, -0.012, 0.002))


def _crop_centres(size: int) -> np.ndarray:
    centres = np.arange(size, dtype=np.float64) + 0.5
    return np.stack(np.meshgrid(centres, centres), axis=-1)


@pytest.mark.parametrize("mirrored", [False, True])
@pytest.mark.parametrize("lens", [BARREL, FISHEYE], ids=["plumb_bob", "equidistant"])
def test_a_distorted_view_is_sampled_through_the_lens(
    mirrored: bool, lens: LensDistortion
) -> None:
    image = _coordinate_image(480, 640)
    crop = CropTransform(x0=30.0, y0=20.0, scale=2.3, size=112, mirrored=mirrored)
    warped = warp_crop(image, crop, K_VGA, lens)
    expected = distort_pixels(crop_to_image_points(_crop_centres(112), crop), K_VGA, lens)
    inside = np.all((expected > 1.0) & (expected < [639.0, 479.0]), axis=-1)
    assert inside.mean() > 0.9
    np.testing.assert_allclose(warped[..., :2][inside], expected[inside], atol=WARP_TOL_PX)
    identity = LensDistortion("plumb_bob", (0.0,) * 5)
    np.testing.assert_array_equal(warp_crop(image, crop, None, identity), warp_crop(image, crop))
    with pytest.raises(ValueError, match="needs the view's intrinsics"):
        warp_crop(image, crop, None, lens)


def _line_image(lens: LensDistortion, ideal_u: float) -> np.ndarray:
    """A raw VGA image of one bright vertical line at ideal (pinhole) u = ``ideal_u``."""
    v, u = np.mgrid[0:480, 0:640] + 0.5
    ideal = undistort_pixels(np.stack([u, v], axis=-1), K_VGA, lens)
    brightness = 255.0 * np.exp(-(((ideal[..., 0] - ideal_u) / 2.0) ** 2))
    return np.repeat(np.round(brightness).astype(np.uint8)[..., None], 3, axis=2)


def _line_columns(crop: np.ndarray) -> np.ndarray:
    """Per crop row that shows the line: the brightness-weighted column, crop pixels."""
    brightness = crop[0].astype(np.float64)
    rows = brightness.sum(axis=1) > 1.0
    columns = np.arange(crop.shape[2]) + 0.5
    return (brightness[rows] @ columns) / brightness[rows].sum(axis=1)


def test_an_undistorting_crop_shows_straight_lines_straight() -> None:
    image = _line_image(BARREL, ideal_u=100.0)
    box = Box(20.0, 20.0, 300.0, 460.0)  # raw pixels, over the bent left part of the image
    distorted = View("cam", 0, image, K_VGA, BARREL)
    transform, crop = crop_view(distorted, box, 224, 1.0)
    columns = _line_columns(crop)
    assert len(columns) > 150
    expected = image_to_crop_points(np.array([100.0, 240.0]), transform)[0]
    np.testing.assert_allclose(columns, expected, atol=0.1)
    # Ignoring the lens, the same line bows by pixels across the crop.
    _, bent = crop_view(View("cam", 0, image, K_VGA), box, 224, 1.0)
    bent_columns = _line_columns(bent)
    assert np.ptp(bent_columns) > 5.0 and np.ptp(columns) < 0.2


def test_boxes_are_undistorted_around_their_outline() -> None:
    box = Box(20.0, 30.0, 200.0, 160.0, score=0.7)
    ideal = undistort_box(box, K_VGA, BARREL)
    assert ideal.score == 0.7
    # Barrel distortion squeezes the edges: the ideal box is larger and holds the outline.
    assert ideal.x_min < box.x_min - 10.0 and ideal.y_min < box.y_min - 10.0
    t = np.linspace(0.0, 1.0, 101)[:, None]
    outline = np.concatenate(
        [
            [box.x_min, box.y_min] + t * [box.x_max - box.x_min, 0.0],
            [box.x_min, box.y_max] + t * [box.x_max - box.x_min, 0.0],
            [box.x_min, box.y_min] + t * [0.0, box.y_max - box.y_min],
            [box.x_max, box.y_min] + t * [0.0, box.y_max - box.y_min],
        ]
    )
    on_outline = undistort_pixels(outline, K_VGA, BARREL)
    assert np.all(on_outline >= [ideal.x_min - 0.5, ideal.y_min - 0.5])
    assert np.all(on_outline <= [ideal.x_max + 0.5, ideal.y_max + 0.5])


def test_crop_view_without_distortion_is_the_plain_crop() -> None:
    image = np.random.default_rng(5).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    box = Box(10.0, 12.0, 30.0, 40.0)
    transform, crop = crop_view(View("cam", 0, image, K_VGA), box, 28, 1.3, mirrored=True)
    assert transform == square_crop_transform(box, 28, 1.3, mirrored=True)
    np.testing.assert_array_equal(crop, crop_image(image, transform))


def test_crop_pixels_beyond_the_fold_of_the_lens_are_black() -> None:
    folding = LensDistortion("plumb_bob", (-0.3, 0.0, 0.0, 0.0, 0.0))
    image = np.full((480, 640, 3), 255, dtype=np.uint8)
    crop = CropTransform(x0=-500.0, y0=-100.0, scale=6.0, size=112)
    warped = warp_crop(image, crop, K_VGA, folding)[..., 0]
    ideal = crop_to_image_points(_crop_centres(112), crop)
    radius = np.linalg.norm(pixels_to_normalized(ideal, K_VGA), axis=-1)
    beyond = radius > valid_radius(folding) + 0.01
    raw = distort_pixels(ideal, K_VGA, folding)
    folds_back_inside = beyond & np.all((raw > 1.0) & (raw < [639.0, 479.0]), axis=-1)
    assert folds_back_inside.sum() > 100  # without the check these would show the image
    assert np.all(warped[beyond] == 0)
    inside = (radius < valid_radius(folding) - 0.01) & np.all((raw > 1) & (raw < [639, 479]), -1)
    assert inside.sum() > 100 and np.all(warped[inside] == 255)
