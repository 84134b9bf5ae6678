# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""``sensor_msgs/CameraInfo`` -> K, size and lens distortion of the published image.

One function serves every reader of camera_info: the node's messages (rclpy) and the
rosbag2 source's (rosbags) have the same fields, which :class:`CameraInfoLike` names, so this
module needs neither ROS nor rosbags.

Conventions: ``CameraInfo.k`` describes the full-resolution sensor with pixel centres at
integer coordinates (ROS and OpenCV). This project puts the centre of the top-left pixel at
(0.5, 0.5) (README), so the principal point moves by +0.5 pixel; then the region of interest
and binning are applied, so K describes the image actually published. With continuous
coordinates whose pixel edges are integers, cropping shifts and binning divides exactly:
``c' = (c + 0.5 - offset) / binning``, ``f' = f / binning``.

Distortion (``distortion_model`` and ``d``: plumb_bob, rational_polynomial, equidistant) is
defined on normalized coordinates of the full sensor. The published K maps the published
pixels onto exactly those normalized coordinates (ROI shifts and binning scale the pixel grid
only), so the same coefficients hold for the published image with its K, whatever its ROI
and binning. An empty or all-zero D means no distortion, whatever the model's name; an
unknown model, or a D of the wrong length, is refused (:class:`CameraInfoError`): a camera
whose distortion cannot be undone is better treated as uncalibrated than used as a pinhole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from hggt_core.geometry.distortion import DISTORTION_MODELS, LensDistortion
from hggt_core.pipeline.types import FloatArray


class CameraInfoError(ValueError):
    """A camera_info that cannot be used: an unknown distortion model or a wrong-length D."""


@dataclass(frozen=True)
class PublishedCalibration:
    """What a camera_info says about the image published beside it.

    Attributes:
        intrinsics: [3, 3] K in published-image pixels (top-left pixel centre at (0.5, 0.5)).
        size: (width, height) of the published image, pixels; (0, 0) when the message leaves
            width and height at zero.
        distortion: the lens distortion, or None for a pinhole (empty or all-zero D).
    """

    intrinsics: FloatArray
    size: tuple[int, int]
    distortion: LensDistortion | None = None


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
    def distortion_model(self) -> str:
        """``plumb_bob``, ``rational_polynomial``, ``equidistant`` (or empty without D)."""

    @property
    def d(self) -> npt.ArrayLike:
        """Distortion coefficients in the model's order (may be empty)."""

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


def published_calibration(message: CameraInfoLike) -> PublishedCalibration | None:
    """K, size and distortion of the published image, from a camera_info (module docstring).

    Args:
        message: a ``sensor_msgs/CameraInfo`` (rclpy or rosbags), or anything with its fields.

    Returns:
        The calibration, or None for an uncalibrated camera (non-positive or non-finite focal
        lengths, e.g. an all-zero K).

    Raises:
        CameraInfoError: an unknown distortion model, or a D whose length does not fit it.
    """
    k = np.asarray(message.k, dtype=np.float64).reshape(3, 3)
    if not (np.all(np.isfinite(k)) and k[0, 0] > 0 and k[1, 1] > 0):
        return None
    distortion = lens_distortion(message.distortion_model, message.d)
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
    return PublishedCalibration(intrinsics, (width, height), distortion)


def lens_distortion(model: str, coefficients: npt.ArrayLike) -> LensDistortion | None:
    """camera_info's ``distortion_model`` and ``d`` -> the lens model (None: a pinhole).

    Raises:
        CameraInfoError: an unknown model with non-zero D, a D of the wrong length, or
            non-finite coefficients.
    """
    d = np.asarray(coefficients, dtype=np.float64).reshape(-1)
    if d.size == 0 or (np.all(np.isfinite(d)) and not np.any(d)):
        return None
    if model not in DISTORTION_MODELS:
        raise CameraInfoError(
            f"camera_info has the unknown distortion_model {model!r} (known: "
            f"{', '.join(DISTORTION_MODELS)}); its distortion cannot be undone"
        )
    try:
        return LensDistortion(model, tuple(float(value) for value in d))
    except ValueError as error:
        raise CameraInfoError(f"camera_info: {error}") from error


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
