# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""camera_info -> K, size and lens distortion of the published image, on rosbags messages.

The node's rclpy messages are checked in test/ros/test_conversions.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from rosbags.typesys.stores import ros2_jazzy as msgs

from hggt_core.geometry.distortion import LensDistortion, undistort_pixels
from hggt_core.io.camera_info import (
    CameraInfoError,
    camera_info_topic_beside,
    published_calibration,
)

K_VGA = [500.0, 0, 319.5, 0, 510.0, 239.5, 0, 0, 1]


def _info(
    k: list[float],
    size: tuple[int, int],
    binning: int = 0,
    roi: tuple[int, int, int, int] = (0, 0, 0, 0),
    model: str = "plumb_bob",
    d: tuple[float, ...] = (0.0,) * 5,
) -> msgs.sensor_msgs__msg__CameraInfo:
    """A CameraInfo; ``roi`` as (x_offset, y_offset, width, height)."""
    x_offset, y_offset, width, height = roi
    region = msgs.sensor_msgs__msg__RegionOfInterest(
        x_offset=x_offset, y_offset=y_offset, width=width, height=height, do_rectify=False
    )
    return msgs.sensor_msgs__msg__CameraInfo(
        msgs.std_msgs__msg__Header(msgs.builtin_interfaces__msg__Time(0, 0), "cam"),
        size[1], size[0], model, np.array(d, dtype=np.float64), np.array(k),
        np.eye(3).reshape(-1),
        np.zeros(12), binning, binning, region,
    )  # fmt: skip


def test_principal_point_moves_half_a_pixel() -> None:
    result = published_calibration(_info(K_VGA, (640, 480)))
    assert result is not None
    np.testing.assert_allclose(result.intrinsics, [[500, 0, 320], [0, 510, 240], [0, 0, 1]])
    assert result.size == (640, 480) and result.intrinsics.dtype == np.float64
    assert result.distortion is None  # all-zero D: a pinhole


def test_roi_and_binning_describe_the_published_image() -> None:
    info = _info(
        [1000.0, 0, 639.5, 0, 1000.0, 479.5, 0, 0, 1], (1280, 960), 2, (100, 40, 800, 600)
    )
    result = published_calibration(info)
    assert result is not None
    assert result.size == (400, 300)
    # The full sensor's centre (640, 480) lands at ((640 - 100) / 2, (480 - 40) / 2).
    np.testing.assert_allclose(result.intrinsics, [[500, 0, 270], [0, 500, 220], [0, 0, 1]])


@pytest.mark.parametrize("k", [[0.0] * 9, [500.0, 0, 320, 0, float("nan"), 240, 0, 0, 1]])
def test_uncalibrated_cameras_have_no_intrinsics(k: list[float]) -> None:
    assert published_calibration(_info(k, (640, 480))) is None


@pytest.mark.parametrize(
    ("model", "d"),
    [
        ("plumb_bob", (-0.3, 0.1, 0.001, -0.002, 0.0)),
        ("rational_polynomial", (0.5, -2.6, 0.0007, -0.0003, 1.6, 0.4, -2.43, 1.53)),
        ("equidistant", (-0.013, 0.021, -0.012, 0.002)),
    ],
)
def test_each_distortion_model_is_read(model: str, d: tuple[float, ...]) -> None:
    result = published_calibration(_info(K_VGA, (640, 480), model=model, d=d))
    assert result is not None
    assert result.distortion == LensDistortion(model, d)


@pytest.mark.parametrize(("model", "d"), [("", ()), ("plumb_bob", ()), ("", (0.0,) * 5)])
def test_no_or_zero_coefficients_are_a_pinhole(model: str, d: tuple[float, ...]) -> None:
    result = published_calibration(_info(K_VGA, (640, 480), model=model, d=d))
    assert result is not None and result.distortion is None


def test_unknown_models_and_wrong_lengths_are_refused() -> None:
    with pytest.raises(CameraInfoError, match="unknown distortion_model 'fov'"):
        published_calibration(_info(K_VGA, (640, 480), model="fov", d=(0.9,)))
    with pytest.raises(CameraInfoError, match="plumb_bob distortion needs 5 coefficients, got 4"):
        published_calibration(_info(K_VGA, (640, 480), d=(0.1, 0.0, 0.0, 0.0)))
    # An uncalibrated K is None before D is looked at.
    assert published_calibration(_info([0.0] * 9, (640, 480), model="fov", d=(1.0,))) is None


def test_distortion_holds_for_a_binned_region_of_interest() -> None:
    """The same sensor point undistorts to the same ray in the full and the cropped image."""
    k_full = [1000.0, 0, 639.5, 0, 1000.0, 479.5, 0, 0, 1]
    d = (-0.3, 0.1, 0.001, -0.002, 0.0)
    full = published_calibration(_info(k_full, (1280, 960), d=d))
    part = published_calibration(_info(k_full, (1280, 960), 2, (100, 40, 800, 600), d=d))
    assert full is not None and part is not None and full.distortion == part.distortion
    assert full.distortion is not None
    # Sensor pixel edges: full-image u in [100, 900] is the region's [0, 800] / 2.
    uv_full = np.array([[120.0, 60.0], [880.0, 620.0], [500.0, 300.0]])
    uv_part = (uv_full - [100.0, 40.0]) / 2.0
    ray_full = np.linalg.solve(
        full.intrinsics,
        np.append(
            undistort_pixels(uv_full, full.intrinsics, full.distortion), np.ones((3, 1)), 1
        ).T,
    )
    ray_part = np.linalg.solve(
        part.intrinsics,
        np.append(
            undistort_pixels(uv_part, part.intrinsics, full.distortion), np.ones((3, 1)), 1
        ).T,
    )
    np.testing.assert_allclose(ray_part, ray_full, atol=1e-12)


@pytest.mark.parametrize(
    ("image_topic", "info_topic"),
    [
        ("/cam0/image_raw", "/cam0/camera_info"),
        ("/cam0/image_raw/compressed", "/cam0/camera_info"),
        ("/rig/left/image_rect/", "/rig/left/camera_info"),
        ("image", "camera_info"),
        ("/image", "/camera_info"),
    ],
)
def test_camera_info_topic_beside_an_image_topic(image_topic: str, info_topic: str) -> None:
    assert camera_info_topic_beside(image_topic) == info_topic
