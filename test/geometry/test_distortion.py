# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Lens distortion against OpenCV's implementation of the same models, and round trips."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hggt_core.geometry.distortion import (
    LensDistortion,
    distort_normalized,
    distort_pixels,
    normalized_to_pixels,
    pixels_to_normalized,
    undistort_normalized,
    undistort_pixels,
    valid_radius,
)

SIZE = (1280, 720)
# A wide-angle camera (about 100 degrees across) in this project's pixel convention.
K_WIDE = np.array([[540.0, 0.0, 641.3], [0.0, 545.0, 359.1], [0.0, 0.0, 1.0]])
LENSES = {
    "wide plumb_bob": LensDistortion("plumb_bob", (-0.3, 0.1, 0.001, -0.0015, 0.0)),
    # Azure-Kinect-like rational coefficients (of that order, from its factory calibration).
    "rational": LensDistortion(
        "rational_polynomial", (0.52, -2.6, 0.0007, -0.0003, 1.6, 0.4, -2.43, 1.53)
    ),
    "fisheye": LensDistortion("equidistant", (-0.013, 0.021, -0.012, 0.002)),
}


def _pixel_grid() -> np.ndarray:
    """[N, 2] pixels covering the whole image, edges and corners included."""
    u, v = np.meshgrid(np.linspace(0.0, SIZE[0], 41), np.linspace(0.0, SIZE[1], 31))
    return np.stack([u, v], axis=-1).reshape(-1, 2)


def _opencv_distort(uv_ideal: np.ndarray, lens: LensDistortion) -> np.ndarray:
    """OpenCV's projection of the rays through ideal pixels (K's pixel convention cancels)."""
    xy = pixels_to_normalized(uv_ideal, K_WIDE)
    rays = np.concatenate([xy, np.ones((len(xy), 1))], axis=1)[:, None]
    coefficients = np.array(lens.coefficients)
    project = cv2.fisheye.projectPoints if lens.model == "equidistant" else cv2.projectPoints
    pixels, _ = project(rays, np.zeros(3), np.zeros(3), K_WIDE, coefficients)
    return pixels.reshape(-1, 2)


def _opencv_undistort(uv_raw: np.ndarray, lens: LensDistortion) -> np.ndarray:
    coefficients = np.array(lens.coefficients)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 200, 1e-15)
    points = uv_raw[:, None]
    if lens.model == "equidistant":
        out = cv2.fisheye.undistortPoints(
            points, K_WIDE, coefficients, R=np.eye(3), P=K_WIDE, criteria=criteria
        )
    else:
        out = cv2.undistortPoints(points, K_WIDE, coefficients, None, np.eye(3), K_WIDE, criteria)
    return out.reshape(-1, 2)


@pytest.mark.parametrize("name", list(LENSES))
def test_distortion_matches_opencv_over_the_image(name: str) -> None:
    lens = LENSES[name]
    uv = _pixel_grid()
    np.testing.assert_allclose(
        distort_pixels(uv, K_WIDE, lens), _opencv_distort(uv, lens), atol=1e-6
    )


@pytest.mark.parametrize("name", list(LENSES))
def test_undistortion_matches_opencv_and_round_trips(name: str) -> None:
    lens = LENSES[name]
    uv_raw = _pixel_grid()
    ideal = undistort_pixels(uv_raw, K_WIDE, lens)
    assert np.all(np.isfinite(ideal))
    np.testing.assert_allclose(distort_pixels(ideal, K_WIDE, lens), uv_raw, atol=1e-6)
    # OpenCV iterates a fixed point, which at a few far corner points is still 1e-4 px off
    # after 200 steps; compare where its own answer distorts back onto the input.
    opencv = _opencv_undistort(uv_raw, lens)
    converged = np.abs(_opencv_distort(opencv, lens) - uv_raw).max(axis=1) < 1e-7
    assert converged.mean() > 0.99
    np.testing.assert_allclose(ideal[converged], opencv[converged], atol=1e-6)
    # The lens really bends: the corners move by tens of pixels.
    assert np.abs(ideal - uv_raw).max() > 20.0


def test_normalized_round_trip_keeps_leading_axes_and_the_centre() -> None:
    lens = LENSES["rational"]
    xy = np.random.default_rng(0).uniform(-0.8, 0.8, (4, 5, 2))
    distorted = distort_normalized(xy, lens)
    assert distorted.shape == (4, 5, 2) and distorted.dtype == np.float64
    np.testing.assert_allclose(undistort_normalized(distorted, lens), xy, atol=1e-12)
    for other in LENSES.values():
        np.testing.assert_allclose(distort_normalized(np.zeros(2), other), np.zeros(2))


def test_skewed_intrinsics_invert_exactly() -> None:
    skewed = K_WIDE.copy()
    skewed[0, 1] = 3.0
    uv = _pixel_grid()
    np.testing.assert_allclose(
        normalized_to_pixels(pixels_to_normalized(uv, skewed), skewed), uv, atol=1e-9
    )
    lens = LENSES["wide plumb_bob"]
    back = distort_pixels(undistort_pixels(uv, skewed, lens), skewed, lens)
    np.testing.assert_allclose(back, uv, atol=1e-6)


def test_beyond_the_fold_is_nan_not_a_wrong_point() -> None:
    # r (1 - 0.3 r^2) peaks at r = 1 / sqrt(0.9), where it reaches about 0.703.
    lens = LensDistortion("plumb_bob", (-0.3, 0.0, 0.0, 0.0, 0.0))
    assert valid_radius(lens) == pytest.approx(1.0 / np.sqrt(0.9), rel=2e-3)
    # (1.1, 0.53) is also where the ray through (-2.04, -0.99) lands, flipped through the
    # centre by the negative radial factor: not the pinhole point of a real image point.
    distorted = np.array([[0.5, 0.0], [0.69, 0.0], [0.75, 0.0], [1.1, 0.53]])
    result = undistort_normalized(distorted, lens)
    assert np.all(np.isfinite(result[:2])) and np.all(np.isnan(result[2:]))
    assert result[1, 0] < 1.0 / np.sqrt(0.9)  # the root inside the fold, not the outer one
    assert valid_radius(LENSES["wide plumb_bob"]) == np.inf
    fisheye_beyond_90_degrees = undistort_normalized(np.array([[2.0, 0.0]]), LENSES["fisheye"])
    assert np.all(np.isnan(fisheye_beyond_90_degrees))


def test_identity_and_validation() -> None:
    identity = LensDistortion("plumb_bob", (0, 0, 0, 0, 0))
    assert identity.is_identity and not LENSES["fisheye"].is_identity
    assert identity.coefficients == (0.0,) * 5
    uv = _pixel_grid()
    out = undistort_pixels(uv, K_WIDE, identity)
    np.testing.assert_array_equal(out, uv)
    assert out is not uv
    with pytest.raises(ValueError, match="unknown distortion model 'kannala'"):
        LensDistortion("kannala", (0.1, 0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="equidistant distortion needs 4 coefficients, got 5"):
        LensDistortion("equidistant", (0.1, 0.0, 0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="must be finite"):
        LensDistortion("plumb_bob", (np.nan, 0.0, 0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match=r"intrinsics must be \[3, 3\]"):
        distort_pixels(uv, np.eye(4), LENSES["fisheye"])
    with pytest.raises(ValueError, match=r"xy must be \[..., 2\]"):
        distort_normalized(np.zeros((3, 3)), LENSES["fisheye"])
    with pytest.raises(ValueError, match="iterations must be at least 1"):
        undistort_normalized(np.zeros((1, 2)), LENSES["fisheye"], iterations=0)
