# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""One set of cameras per frameset: every hand expressed in the best-seen hand's cameras.

Both engines estimate each hand's cameras from that hand alone, so with two hands a frameset
would carry two estimates of the same cameras, and /tf, overlays, markers and ``/hand/mano``
would disagree. :func:`share_cameras` keeps the cameras of the *best* hand (seen in the most
views, then the higher score) and moves every other hand into them:

* the rigid transform from the other hand's reference frame to the best hand's is averaged
  over the views both see (rotations: the chordal mean, projected onto SO(3); translations:
  the mean);
* its joints, vertices, joint rotations and MANO global orientation and translation are
  transformed (MANO rotates about the wrist: ``transl' = R wrist + t - wrist_rest``);
* each view it shares with the best hand takes the best hand's camera (intrinsics included);
  a view only it sees keeps its own camera, re-expressed in the new frame; its 2-D joints are
  projected again.

A hand that shares no view with the best hand, or does not see the best hand's reference view
(its results would then lie in a frame it was not reconstructed from), is left as it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from hggt_core.pipeline.types import FloatArray, HandResult, ViewCamera


def share_cameras(results: Sequence[HandResult]) -> list[HandResult]:
    """The results with one set of cameras (see the module docstring); order is kept."""
    if len(results) < 2:
        return list(results)
    best = max(results, key=lambda result: (len(result.views_used), result.score))
    return [result if result is best else _moved_into(result, best) for result in results]


def _moved_into(result: HandResult, best: HandResult) -> HandResult:
    reference = best.views_used[0]
    best_cameras = {camera.name: camera for camera in best.cameras}
    shared = [camera for camera in result.cameras if camera.name in best_cameras]
    if not shared or reference not in result.views_used:
        return result
    best_from_own = _mean_rigid(
        [invert_rigid(best_cameras[c.name].cam_from_ref) @ c.cam_from_ref for c in shared]
    )
    rotation, shift = best_from_own[:3, :3], best_from_own[:3, 3]
    joints = result.joints @ rotation.T + shift
    cameras = [
        _camera(camera, best_cameras.get(camera.name), best_from_own, joints)
        for camera in result.cameras
    ]
    order = sorted(range(len(cameras)), key=lambda index: cameras[index].name != reference)
    wrist_rest = result.joints[0] - result.transl
    hand_pose = result.hand_pose.copy()
    hand_pose[:3] = _rotate_axis_angle(rotation, hand_pose[:3])
    return dataclasses.replace(
        result,
        hand_pose=hand_pose,
        transl=joints[0] - wrist_rest,
        vertices=result.vertices @ rotation.T + shift,
        joints=joints,
        joint_rotations=rotation @ result.joint_rotations,
        cameras=tuple(cameras[index] for index in order),
        views_used=tuple(result.views_used[index] for index in order),
    )


def _camera(
    own: ViewCamera, best: ViewCamera | None, best_from_own: FloatArray, joints: FloatArray
) -> ViewCamera:
    """The view's camera in the best hand's frame, with ``joints`` projected into it."""
    if best is not None:
        intrinsics, cam_from_ref = best.intrinsics, best.cam_from_ref
    else:
        intrinsics, cam_from_ref = own.intrinsics, own.cam_from_ref @ invert_rigid(best_from_own)
    in_camera = joints @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
    homogeneous = in_camera @ intrinsics.T
    joints_2d = homogeneous[:, :2] / np.maximum(homogeneous[:, 2:], 1e-9)
    return dataclasses.replace(
        own, intrinsics=intrinsics, cam_from_ref=cam_from_ref, joints_2d=joints_2d
    )


def _mean_rigid(transforms: Sequence[FloatArray]) -> FloatArray:
    """[4, 4] mean of rigid transforms: chordal rotation mean, mean translation."""
    stacked = np.stack(transforms)
    u, _, vh = np.linalg.svd(stacked[:, :3, :3].sum(axis=0))
    fix = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vh))])
    mean = np.eye(4)
    mean[:3, :3] = u @ fix @ vh
    mean[:3, 3] = stacked[:, :3, 3].mean(axis=0)
    return mean


def _rotate_axis_angle(rotation: FloatArray, axis_angle: FloatArray) -> FloatArray:
    """Axis-angle of ``rotation @ R(axis_angle)``."""
    matrix = rotation @ axis_angle_to_matrix(torch.from_numpy(axis_angle)).numpy()
    return np.asarray(matrix_to_axis_angle(torch.from_numpy(matrix)).numpy(), dtype=np.float64)
