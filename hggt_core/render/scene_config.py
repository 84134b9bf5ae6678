# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""How synthetic scenes are drawn: the one settings object shared by the rig and the scenes.

Its own module so that :mod:`hggt_core.render.rig` and :mod:`hggt_core.render.scene` both use
it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SceneConfig:
    """How scenes are drawn at random (lengths in metres, angles in degrees).

    Attributes:
        image_size_hw: (H, W) of each camera's full virtual image, pixels.
        distance_range_m: camera distance to the hand centre.
        fov_range_deg: horizontal field of view of the full image.
        aim_jitter_m: std of the offset of each camera's aim point from the hand centre.
        crop_size: side of the saved square crops, pixels.
        crop_margin: crop side / longer side of the hand's projected bounding box.
        crop_jitter: relative random shift (of the box size) and scale change of the crop.
        supersample: render at this factor and area-downsample (anti-aliasing).
        ambient: shading floor in [0, 1] (see :func:`render_mesh`).
        betas_std: std of each shape coefficient.
        flexion_range: finger flexion offset (radians at the middle joint) drawn per finger.
        pose_noise_std: std (radians) of independent noise on every finger-pose value.
        view_cone_deg: ``None``: the hand's orientation is uniformly random and the cameras sit
            anywhere around it with a random roll. A value: a palm-side rig (like cameras in
            front of a teleoperator): the hand keeps MANO's rest orientation, every camera
            sits within this angle of the palm's normal and sees the fingers pointing up,
            rolled by at most ``roll_range_deg``.
        roll_range_deg: largest roll of a palm-side camera about its optical axis.
    """

    image_size_hw: tuple[int, int] = (480, 640)
    distance_range_m: tuple[float, float] = (0.35, 0.6)
    fov_range_deg: tuple[float, float] = (45.0, 75.0)
    aim_jitter_m: float = 0.01
    crop_size: int = 518
    crop_margin: float = 1.25
    crop_jitter: float = 0.05
    supersample: int = 2
    ambient: float = 0.45
    betas_std: float = 0.5
    flexion_range: tuple[float, float] = (-0.2, 0.8)
    pose_noise_std: float = 0.08
    view_cone_deg: float | None = None
    roll_range_deg: float = 30.0
