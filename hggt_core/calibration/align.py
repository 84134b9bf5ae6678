# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Expressing a hand and its estimated cameras in a calibration's world frame, at metric scale.

Both engines estimate every camera relative to the reference camera, at the scale the hand
implies. When some of those cameras are known (:class:`~hggt_core.calibration.rig.Calibration`),
:func:`align_to_world` finds the similarity that maps the reference frame onto the world:

    x_world = R (scale x_ref) + t,   world_from_ref = [R | t]

* >= 2 known cameras: a joint least squares over the camera centres (metres) and the camera
  orientations, ``sum ||scale R c_ref + t - c_world||^2 / centre_sigma_m^2 +
  sum ||R - R_world_cam R_cam_ref||_F^2 / (2 rotation_sigma^2)``, solved by alternating the
  closed-form rotation (a weighted orthogonal Procrustes) and scale. The orientations fix the
  roll about a two-camera baseline that centres alone leave free. The scale comes from the
  known baseline: it corrects the size the hand implied.
* 1 known camera: the rigid transform through it, scale 1 (the estimate's own metric scale).
* 0: None.

:func:`to_world` then moves a :class:`~hggt_core.pipeline.types.HandResult` into the world: its
3-D quantities are in the calibration's world frame and every camera's ``cam_from_ref`` becomes
``cam_from_world`` (the estimated cameras, aligned; ``joints_2d`` are unchanged, since a
similarity of the whole scene does not move projections).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from hggt_core.calibration.rig import Calibration, FloatArray
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from hggt_core.pipeline.types import HandResult, ViewCamera


@dataclass(frozen=True)
class AlignmentConfig:
    """Weights of the joint alignment (defaults measured with ``bench/calibrated_world.py``)."""

    centre_sigma_m: float = 0.02
    """Expected error of an estimated camera centre, metres."""
    rotation_sigma_deg: float = 2.0
    """Expected error of an estimated camera orientation, degrees."""
    iterations: int = 10
    """Most alternations of rotation and scale."""


@dataclass(frozen=True)
class WorldAlignment:
    """The similarity from a result's reference frame to the world: x_w = R (scale x) + t.

    Attributes:
        world_from_ref: [4, 4] rigid transform [R | t] (metres, after scaling).
        scale: factor applied to reference-frame lengths first (1 with one known camera).
        residual_m: RMS distance between the aligned estimated and the known camera
            centres, metres (0 with one known camera).
        residual_deg: RMS angle between the aligned estimated and the known camera
            orientations, degrees (0 with one known camera).
        cameras_used: names of the known cameras the alignment used, in the result's order.
    """

    world_from_ref: FloatArray
    scale: float
    residual_m: float
    residual_deg: float
    cameras_used: tuple[str, ...]


def align_to_world(
    result: HandResult, calibration: Calibration, config: AlignmentConfig | None = None
) -> WorldAlignment | None:
    """The similarity taking ``result``'s reference frame to the calibration's world frame.

    Args:
        result: a hand with its estimated cameras (``cam_from_ref``).
        calibration: the known cameras; those not among ``result.cameras`` are ignored.
        config: alignment weights (defaults: :class:`AlignmentConfig`).

    Returns:
        The alignment (see the module docstring), or None when no camera is known.
    """
    cfg = config or AlignmentConfig()
    used = [camera for camera in result.cameras if camera.name in calibration.cameras]
    if not used:
        return None
    world_from_cam = np.stack([calibration.cameras[c.name].world_from_cam for c in used])
    ref_from_cam = invert_rigid(np.stack([camera.cam_from_ref for camera in used]))
    names = tuple(camera.name for camera in used)
    if len(used) == 1:
        single = world_from_cam[0] @ invert_rigid(ref_from_cam[0])
        return WorldAlignment(single, 1.0, 0.0, 0.0, names)
    rotation, scale, shift = _similarity(
        ref_from_cam[:, :3, 3],
        world_from_cam[:, :3, 3],
        world_from_cam[:, :3, :3] @ np.swapaxes(ref_from_cam[:, :3, :3], -1, -2),
        cfg,
    )
    world_from_ref = np.eye(4)
    world_from_ref[:3, :3], world_from_ref[:3, 3] = rotation, shift
    centres = scale * ref_from_cam[:, :3, 3] @ rotation.T + shift
    residual_m = float(np.sqrt(np.mean(np.sum((centres - world_from_cam[:, :3, 3]) ** 2, -1))))
    aligned = rotation @ ref_from_cam[:, :3, :3]
    angles = _angle_rad(np.swapaxes(aligned, -1, -2) @ world_from_cam[:, :3, :3])
    residual_deg = float(np.degrees(np.sqrt(np.mean(angles**2))))
    return WorldAlignment(world_from_ref, scale, residual_m, residual_deg, names)


def _similarity(
    source: FloatArray, target: FloatArray, rotations: FloatArray, cfg: AlignmentConfig
) -> tuple[FloatArray, float, FloatArray]:
    """(R [3, 3], scale, t [3]) minimising the module docstring's joint cost.

    ``source``/``target``: [N, 3] estimated / known centres; ``rotations``: [N, 3, 3] each
    camera's own estimate of R (``R_world_cam R_cam_ref``).
    """
    source_c = source - source.mean(0)
    target_c = target - target.mean(0)
    spread = float(np.sum(source_c**2))
    if spread <= 0.0:
        raise ValueError("known cameras share one estimated centre: no scale to recover")
    centre_weight = 1.0 / cfg.centre_sigma_m**2
    rotation_weight = 1.0 / (2.0 * np.radians(cfg.rotation_sigma_deg) ** 2)
    scale = float(np.sqrt(np.sum(target_c**2) / spread))
    rotation = np.eye(3)
    for _ in range(cfg.iterations):
        cross = centre_weight * scale * target_c.T @ source_c + rotation_weight * rotations.sum(0)
        rotation = _nearest_rotation(cross)
        updated = max(float(np.sum(target_c * (source_c @ rotation.T))) / spread, 1e-9)
        converged = abs(updated - scale) <= 1e-12 * scale
        scale = updated
        if converged:
            break
    shift = target.mean(0) - scale * rotation @ source.mean(0)
    return rotation, scale, shift


def _nearest_rotation(matrix: FloatArray) -> FloatArray:
    """The rotation R maximising trace(R^T matrix) (SVD, determinant fixed to +1)."""
    u, _, vh = np.linalg.svd(matrix)
    fix = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vh))])
    return np.asarray(u @ fix @ vh, dtype=np.float64)


def _angle_rad(rotations: FloatArray) -> FloatArray:
    """[...] rotation angles of [..., 3, 3] rotation matrices, radians."""
    cosine = (np.trace(rotations, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.asarray(np.arccos(np.clip(cosine, -1.0, 1.0)), dtype=np.float64)


def to_world(result: HandResult, alignment: WorldAlignment) -> HandResult:
    """``result`` with every 3-D quantity in the world frame of ``alignment``.

    Joints and vertices are mapped by the similarity; joint rotations and the MANO global
    orientation are rotated; the MANO translation puts MANO's wrist on the world wrist
    (``transl' = wrist_world - wrist_rest``; MANO rotates about the wrist). The MANO shape is
    unchanged, so with ``scale != 1`` the MANO parameters give the hand at its estimated size
    while ``joints``/``vertices`` carry the metric one. Each camera's ``cam_from_ref`` becomes
    ``cam_from_world`` (the result's frame is then the calibration's world frame).
    """
    rotation, shift = alignment.world_from_ref[:3, :3], alignment.world_from_ref[:3, 3]
    scale = alignment.scale
    joints = scale * result.joints @ rotation.T + shift
    wrist_rest = result.joints[0] - result.transl
    hand_pose = result.hand_pose.copy()
    orient = rotation @ axis_angle_to_matrix(torch.from_numpy(hand_pose[:3].copy())).numpy()
    hand_pose[:3] = matrix_to_axis_angle(torch.from_numpy(orient)).numpy()
    ref_from_world = invert_rigid(alignment.world_from_ref)
    return dataclasses.replace(
        result,
        hand_pose=hand_pose,
        transl=joints[0] - wrist_rest,
        vertices=scale * result.vertices @ rotation.T + shift,
        joints=joints,
        joint_rotations=rotation @ result.joint_rotations,
        cameras=tuple(_camera_in_world(c, scale, ref_from_world) for c in result.cameras),
    )


def _camera_in_world(camera: ViewCamera, scale: float, ref_from_world: FloatArray) -> ViewCamera:
    """The camera's ``cam_from_world``: [R_c | scale t_c] ref_from_world."""
    cam_from_scaled_ref = camera.cam_from_ref.astype(np.float64)
    cam_from_scaled_ref[:3, 3] *= scale
    return dataclasses.replace(camera, cam_from_ref=cam_from_scaled_ref @ ref_from_world)
