# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Cameras of synthetic scenes: anywhere around the hand, or a palm-side rig.

Camera axes follow OpenCV (x right, y down, z forward); lengths in metres. All randomness
comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hggt_core.pipeline.types import FloatArray
from hggt_core.render.scene_config import SceneConfig


@dataclass(frozen=True)
class PinholeCamera:
    """A camera of a scene.

    Attributes:
        intrinsics: [3, 3] K in pixels of the full image (pixel centres at +0.5).
        cam_from_world: [4, 4] rigid transform, world -> camera (OpenCV axes, metres).
        image_size_hw: (H, W) of the full image in pixels.
    """

    intrinsics: FloatArray
    cam_from_world: FloatArray
    image_size_hw: tuple[int, int]


def _look_at(centre: FloatArray, target: FloatArray, up: FloatArray) -> FloatArray:
    """[4, 4] cam_from_world of a camera at ``centre`` whose +z axis points at ``target``."""
    forward = (target - centre) / np.linalg.norm(target - centre)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])
    cam_from_world = np.eye(4)
    cam_from_world[:3, :3] = rotation
    cam_from_world[:3, 3] = -rotation @ centre
    return cam_from_world


@dataclass(frozen=True)
class HandAxes:
    """Directions of a posed hand (unit vectors, the joints' frame).

    Attributes:
        palm_normal: [3] out of the palm (the side the fingers flex towards).
        fingers: [3] from the wrist to the middle finger's knuckle.
    """

    palm_normal: FloatArray
    fingers: FloatArray


def hand_axes(joints: FloatArray) -> HandAxes:
    """The palm normal and finger direction of 21 OpenPose-order right-hand joints [21, 3].

    For a right palm facing a camera with the fingers up, the thumb is on the image's right:
    fingers = -y and wrist-side pinky -> index = +x in camera axes, so the palm normal (towards
    the camera, -z) is -(fingers x across).
    """
    fingers = joints[9] - joints[0]
    across = joints[5] - joints[17]
    palm_normal = -np.cross(fingers, across)
    return HandAxes(palm_normal / np.linalg.norm(palm_normal), fingers / np.linalg.norm(fingers))


def _direction_in_cone(
    axis: FloatArray, max_angle_deg: float, rng: np.random.Generator
) -> FloatArray:
    """A unit vector drawn uniformly (by solid angle) within ``max_angle_deg`` of ``axis``."""
    cos_angle = rng.uniform(np.cos(np.deg2rad(max_angle_deg)), 1.0)
    azimuth = rng.uniform(0.0, 2.0 * np.pi)
    helper = np.eye(3)[int(np.argmin(np.abs(axis)))]
    first = np.cross(axis, helper)
    first /= np.linalg.norm(first)
    second = np.cross(axis, first)
    sin_angle = np.sqrt(1.0 - cos_angle**2)
    return np.asarray(
        cos_angle * axis + sin_angle * (np.cos(azimuth) * first + np.sin(azimuth) * second)
    )


def _rolled(cam_from_world: FloatArray, roll_rad: float) -> FloatArray:
    """The camera turned by ``roll_rad`` about its optical axis."""
    cos_roll, sin_roll = np.cos(roll_rad), np.sin(roll_rad)
    roll = np.eye(4)
    roll[:2, :2] = [[cos_roll, -sin_roll], [sin_roll, cos_roll]]
    return roll @ cam_from_world


def cameras_looking_at(
    target: FloatArray,
    num_views: int,
    rng: np.random.Generator,
    config: SceneConfig,
    axes: HandAxes | None = None,
) -> list[PinholeCamera]:
    """Cameras around ``target``, each aimed near it.

    Without ``config.view_cone_deg`` the directions are uniform over the sphere and the roll
    is random; with it, the directions lie within the cone around ``axes.palm_normal`` and
    each camera sees ``axes.fingers`` pointing up, rolled by at most ``roll_range_deg``.

    Args:
        target: [3] world point to look at (metres).
        num_views: number of cameras.
        rng: the random source.
        config: distance, field-of-view, aim jitter, image size and rig.
        axes: the hand's directions in the world frame (needed for a palm-side rig).

    Returns:
        ``num_views`` cameras in the world frame (the caller re-expresses them in camera 0's).

    Raises:
        ValueError: for a palm-side rig without ``axes``.
    """
    if config.view_cone_deg is not None and axes is None:
        raise ValueError("a palm-side rig (view_cone_deg) needs the hand's axes")
    height, width = config.image_size_hw
    cameras: list[PinholeCamera] = []
    for _ in range(num_views):
        if axes is None or config.view_cone_deg is None:
            direction = rng.normal(size=3)
            direction /= np.linalg.norm(direction)
        else:
            direction = _direction_in_cone(axes.palm_normal, config.view_cone_deg, rng)
        centre = target + rng.uniform(*config.distance_range_m) * direction
        aim = target + rng.normal(0.0, config.aim_jitter_m, size=3)
        if axes is None or config.view_cone_deg is None:
            cam_from_world = _look_at(centre, aim, np.cross(direction, rng.normal(size=3)))
        else:
            roll = np.deg2rad(rng.uniform(-config.roll_range_deg, config.roll_range_deg))
            cam_from_world = _rolled(_look_at(centre, aim, axes.fingers), roll)
        fov = np.deg2rad(rng.uniform(*config.fov_range_deg))
        focal_px = (width / 2.0) / np.tan(fov / 2.0)
        intrinsics = np.array([[focal_px, 0, width / 2.0], [0, focal_px, height / 2.0], [0, 0, 1]])
        cameras.append(PinholeCamera(intrinsics, cam_from_world, (height, width)))
    return cameras
