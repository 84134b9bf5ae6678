# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""camera_info -> K of the published image, on rosbags messages (the node's are in test/ros)."""

from __future__ import annotations

import numpy as np
import pytest
from rosbags.typesys.stores import ros2_jazzy as msgs

from hggt_core.io.camera_info import camera_info_topic_beside, published_intrinsics


def _info(
    k: list[float],
    size: tuple[int, int],
    binning: int = 0,
    roi: tuple[int, int, int, int] = (0, 0, 0, 0),
) -> msgs.sensor_msgs__msg__CameraInfo:
    """A CameraInfo; ``roi`` as (x_offset, y_offset, width, height)."""
    x_offset, y_offset, width, height = roi
    region = msgs.sensor_msgs__msg__RegionOfInterest(
        x_offset=x_offset, y_offset=y_offset, width=width, height=height, do_rectify=False
    )
    return msgs.sensor_msgs__msg__CameraInfo(
        msgs.std_msgs__msg__Header(msgs.builtin_interfaces__msg__Time(0, 0), "cam"),
        size[1], size[0], "plumb_bob", np.zeros(5), np.array(k), np.eye(3).reshape(-1),
        np.zeros(12), binning, binning, region,
    )  # fmt: skip


def test_principal_point_moves_half_a_pixel() -> None:
    info = _info([500.0, 0, 319.5, 0, 510.0, 239.5, 0, 0, 1], (640, 480))
    result = published_intrinsics(info)
    assert result is not None
    intrinsics, size = result
    np.testing.assert_allclose(intrinsics, [[500, 0, 320], [0, 510, 240], [0, 0, 1]])
    assert size == (640, 480) and intrinsics.dtype == np.float64


def test_roi_and_binning_describe_the_published_image() -> None:
    info = _info(
        [1000.0, 0, 639.5, 0, 1000.0, 479.5, 0, 0, 1], (1280, 960), 2, (100, 40, 800, 600)
    )
    result = published_intrinsics(info)
    assert result is not None
    intrinsics, size = result
    assert size == (400, 300)
    # The full sensor's centre (640, 480) lands at ((640 - 100) / 2, (480 - 40) / 2).
    np.testing.assert_allclose(intrinsics, [[500, 0, 270], [0, 500, 220], [0, 0, 1]])


@pytest.mark.parametrize("k", [[0.0] * 9, [500.0, 0, 320, 0, float("nan"), 240, 0, 0, 1]])
def test_uncalibrated_cameras_have_no_intrinsics(k: list[float]) -> None:
    assert published_intrinsics(_info(k, (640, 480))) is None


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
