# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of training crops and augmentation: sizes, geometry of crops, photometric invariants."""

from __future__ import annotations

import numpy as np
import pytest

from training.data.augment import (
    AugmentConfig,
    crop_view,
    flip_image_horizontally,
    photometric,
    random_crop_hw,
)


def _dot_image(points: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Black image with a 3 x 3 white square centred on each pixel point (+0.5 convention)."""
    image = np.zeros((*size_hw, 3), dtype=np.uint8)
    for u, v in points:
        col, row = int(np.floor(u)), int(np.floor(v))
        image[row - 1 : row + 2, col - 1 : col + 2] = 255
    return image


def _blob_centre(image: np.ndarray, near: np.ndarray, radius: int = 6) -> np.ndarray:
    """Intensity-weighted centroid (+0.5 pixel convention) of the bright blob near a point."""
    grey = image.astype(np.float64).mean(axis=-1)
    col, row = int(near[0]), int(near[1])
    rows = slice(max(row - radius, 0), row + radius + 1)
    cols = slice(max(col - radius, 0), col + radius + 1)
    window = grey[rows, cols]
    v, u = np.mgrid[rows, cols]
    weight = window / window.sum()
    return np.array([(weight * (u + 0.5)).sum(), (weight * (v + 0.5)).sum()])


@pytest.mark.parametrize("crop_size", [112, 518])
def test_random_crop_hw_has_patch_multiples_and_aspect_in_range(crop_size: int) -> None:
    config = AugmentConfig(crop_size=crop_size, portrait_prob=0.3)
    rng = np.random.default_rng(0)
    sizes = [random_crop_hw(rng, config) for _ in range(300)]
    for height, width in sizes:
        assert height % 14 == 0 and width % 14 == 0
        assert max(height, width) == crop_size
        assert 0.5 - 7 / crop_size <= min(height, width) / crop_size <= 1.0
    assert any(h > w for h, w in sizes) and any(h < w for h, w in sizes)
    assert len(set(sizes)) > 3


def test_config_rejects_crop_size_not_multiple_of_patch() -> None:
    with pytest.raises(ValueError, match="multiple"):
        AugmentConfig(crop_size=100)
    with pytest.raises(ValueError, match="aspect"):
        AugmentConfig(aspect_range=(0.2, 1.5))


def test_crop_moves_image_content_and_labels_together() -> None:
    rng = np.random.default_rng(3)
    # Dots centred exactly on pixel centres, so their blobs' centroids are the points.
    points = np.floor(rng.uniform([150, 100], [250, 180], size=(6, 2))) + 0.5
    image = _dot_image(points, (300, 400))
    intrinsics = np.array([[300.0, 0, 190.0], [0, 300.0, 140.0], [0, 0, 1]])
    box = np.array([130.0, 80.0, 270.0, 200.0])
    config = AugmentConfig(crop_size=112, scale_range=(0.8, 1.2), shift_range=0.1)
    for trial in range(5):
        view = crop_view(image, intrinsics, box, (84, 112), rng, config)
        assert view.image.shape == (84, 112, 3)
        uv_crop = view.points_to_crop(points)
        for expected in uv_crop:
            if 4 < expected[0] < 108 and 4 < expected[1] < 80:
                found = _blob_centre(view.image, expected)
                assert np.linalg.norm(found - expected) < 0.2, trial
        # K_crop = A^-1 K: projecting through the crop's K equals mapping the image pixels.
        rays = np.concatenate([points, np.ones((6, 1))], axis=1) @ np.linalg.inv(intrinsics).T
        projected = rays @ view.intrinsics.T
        np.testing.assert_allclose(projected[:, :2] / projected[:, 2:], uv_crop, atol=1e-9)


def test_evaluation_crop_centres_the_box_and_fits_its_longer_side() -> None:
    image = np.zeros((200, 300, 3), dtype=np.uint8)
    box = np.array([100.0, 50.0, 180.0, 110.0])
    config = AugmentConfig.evaluation(crop_size=112)
    view = crop_view(image, np.eye(3), box, (112, 112), np.random.default_rng(0), config)
    corners = view.points_to_crop(box.reshape(2, 2))
    np.testing.assert_allclose(corners.mean(axis=0), [56.0, 56.0])
    np.testing.assert_allclose(corners[1, 0] - corners[0, 0], 112.0)


def test_photometric_keeps_shape_and_gives_grey_when_asked() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(28, 42, 3), dtype=np.uint8)
    grey = AugmentConfig(grayscale_prob=1.0, jitter_prob=1.0, blur_prob=1.0)
    out = photometric(image, rng, grey)
    assert out.shape == image.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 0], out[..., 1])
    np.testing.assert_array_equal(out[..., 1], out[..., 2])
    none = AugmentConfig.evaluation()
    np.testing.assert_array_equal(photometric(image, rng, none), image)


def test_photometric_is_reproducible_from_the_seed_and_changes_colours() -> None:
    image = np.random.default_rng(1).integers(0, 256, size=(28, 28, 3), dtype=np.uint8)
    config = AugmentConfig(jitter_prob=1.0, blur_prob=0.0, grayscale_prob=0.0)
    first = photometric(image, np.random.default_rng(5), config)
    second = photometric(image, np.random.default_rng(5), config)
    np.testing.assert_array_equal(first, second)
    assert np.abs(first.astype(int) - image.astype(int)).mean() > 1.0


def test_flipped_image_with_flipped_k_sees_the_reflected_scene() -> None:
    intrinsics = np.array([[250.0, 0, 170.0], [0, 240.0, 110.0], [0, 0, 1]])
    image = np.zeros((220, 320, 3), dtype=np.uint8)
    flipped, flipped_k = flip_image_horizontally(image, intrinsics)
    point = np.array([0.05, -0.02, 0.6])
    uv = (intrinsics @ point)[:2] / point[2]
    reflected = point * np.array([-1.0, 1.0, 1.0])
    uv_flipped = (flipped_k @ reflected)[:2] / reflected[2]
    np.testing.assert_allclose(uv_flipped, [320 - uv[0], uv[1]])
    assert flipped.flags.c_contiguous
