# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``sensor_msgs/CameraInfo`` -> the K of the published image, for the node and for bags.

One function serves every reader of camera_info: the node's messages (rclpy) and the
rosbag2 source's (rosbags) have the same fields, which :class:`CameraInfoLike` names, so this
module needs neither ROS nor rosbags.

Conventions: ``CameraInfo.k`` describes the full-resolution sensor with pixel centres at
integer coordinates (ROS and OpenCV). This project puts the centre of the top-left pixel at
(0.5, 0.5) (README), so the principal point moves by +0.5 pixel; then the region of interest
and binning are applied, so K describes the image actually published. With continuous
coordinates whose pixel edges are integers, cropping shifts and binning divides exactly:
``c' = (c + 0.5 - offset) / binning``, ``f' = f / binning``. Distortion is not applied (the
model sees the raw image).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from hggt_core.pipeline.types import FloatArray


class RegionOfInterestLike(Protocol):
    """The fields of ``sensor_msgs/RegionOfInterest`` read here."""

    @property
    def x_offset(self) -> int:
        """Left edge of the region, full-sensor pixels."""

    @property
    def y_offset(self) -> int:
        """Top edge of the region, full-sensor pixels."""

    @property
    def width(self) -> int:
        """Region width, full-sensor pixels (0: the whole sensor)."""

    @property
    def height(self) -> int:
        """Region height, full-sensor pixels (0: the whole sensor)."""


class CameraInfoLike(Protocol):
    """The fields of ``sensor_msgs/CameraInfo`` read here (rclpy and rosbags messages)."""

    @property
    def k(self) -> npt.ArrayLike:
        """[9] row-major K of the full sensor, pixel centres at integers."""

    @property
    def width(self) -> int:
        """Full-sensor width, pixels."""

    @property
    def height(self) -> int:
        """Full-sensor height, pixels."""

    @property
    def binning_x(self) -> int:
        """Horizontal binning (0 or 1: none)."""

    @property
    def binning_y(self) -> int:
        """Vertical binning (0 or 1: none)."""

    @property
    def roi(self) -> RegionOfInterestLike:
        """The published region of the sensor."""


def published_intrinsics(message: CameraInfoLike) -> tuple[FloatArray, tuple[int, int]] | None:
    """K of the published image and its size, from a camera_info message (module docstring).

    Args:
        message: a ``sensor_msgs/CameraInfo`` (rclpy or rosbags), or anything with its fields.

    Returns:
        ``(K [3, 3] float64 in published-image pixels, (width, height))``, or None for an
        uncalibrated camera (non-positive or non-finite focal lengths, e.g. an all-zero K).
        The size is (0, 0) when the message leaves width and height at zero.
    """
    k = np.asarray(message.k, dtype=np.float64).reshape(3, 3)
    if not (np.all(np.isfinite(k)) and k[0, 0] > 0 and k[1, 1] > 0):
        return None
    roi = message.roi
    bin_x, bin_y = max(int(message.binning_x), 1), max(int(message.binning_y), 1)
    full_sensor = int(roi.width) == 0 or int(roi.height) == 0
    width = int(message.width if full_sensor else roi.width) // bin_x
    height = int(message.height if full_sensor else roi.height) // bin_y
    x0, y0 = (0, 0) if full_sensor else (int(roi.x_offset), int(roi.y_offset))
    intrinsics = np.array(
        [
            [k[0, 0] / bin_x, k[0, 1] / bin_x, (k[0, 2] + 0.5 - x0) / bin_x],
            [0.0, k[1, 1] / bin_y, (k[1, 2] + 0.5 - y0) / bin_y],
            [0.0, 0.0, 1.0],
        ]
    )
    return intrinsics, (width, height)


def camera_info_topic_beside(image_topic: str) -> str:
    """The camera_info topic beside an image topic, as image_transport names them.

    ``/cam0/image_raw`` and ``/cam0/image_raw/compressed`` -> ``/cam0/camera_info``;
    ``image`` -> ``camera_info``; ``/image`` -> ``/camera_info``.
    """
    topic = image_topic.rstrip("/")
    topic = topic.removesuffix("/compressed")
    namespace, _, _ = topic.rpartition("/")
    if topic.startswith("/") and not namespace:
        return "/camera_info"
    return f"{namespace}/camera_info" if namespace else "camera_info"
