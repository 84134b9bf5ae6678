# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Open, fist and pinch hands of a MANO model, for tests, benchmarks and demonstrations.

Poses are built in each finger joint's anatomical frame (:func:`~hggt_core.mano.fit_kinematics.
hand_axes`), so they mean the same for right and left (mirrored) models. Each function returns
``theta`` [48]: global orientation (axis-angle, zero here) then the 15 finger rotations as
offsets from the model's mean pose, as ``/hand/mano`` carries them.
"""

from __future__ import annotations

import numpy as np

from hggt_core.base.hand_skeleton import MANO_JOINT_NAMES, NUM_BETAS
from hggt_core.mano.fit_kinematics import FloatArray, ManoJointModel, hand_axes

_FINGER_PARAMS = 45
_THUMB_TIP, _INDEX_TIP = 4, 8
_PINCH_JOINTS = ("index1", "index2", "index3", "thumb1", "thumb2", "thumb3")


def _theta(model: ManoJointModel, local: FloatArray) -> FloatArray:
    """Absolute local finger rotations [15, 3] -> theta [48] (offsets from the mean pose)."""
    return np.concatenate([np.zeros(3), (local - model.hand_mean).reshape(_FINGER_PARAMS)])


def open_hand(model: ManoJointModel) -> FloatArray:
    """The flat hand: every finger joint at zero rotation (thumb in the palm's plane)."""
    return _theta(model, np.zeros_like(model.hand_mean))


def fist(model: ManoJointModel, flexion_rad: float = 1.3) -> FloatArray:
    """Every finger joint flexed by ``flexion_rad``; the thumb flexed by half of it."""
    axes = hand_axes(model)
    local = flexion_rad * axes.flexion
    thumb = axes.is_thumb
    local[thumb] = model.hand_mean[thumb] + 0.5 * flexion_rad * axes.flexion[thumb]
    return _theta(model, local)


def pinch(model: ManoJointModel, iterations: int = 50) -> FloatArray:
    """Thumb tip on index tip (within 0.1 mm), other fingers slightly curled.

    Gauss-Newton on the index and thumb joints, from a half-curled index and the mean thumb.
    """
    axes = hand_axes(model)
    local = 0.4 * axes.flexion
    local[axes.is_thumb] = model.hand_mean[axes.is_thumb]
    params = np.concatenate([_theta(model, local), np.zeros(NUM_BETAS + 3)])
    free = np.array(
        [3 * MANO_JOINT_NAMES.index(name) + axis for name in _PINCH_JOINTS for axis in range(3)]
    )
    for _ in range(iterations):
        posed = model.pose(params)
        gap = posed.points[_THUMB_TIP] - posed.points[_INDEX_TIP]
        if np.linalg.norm(gap) < 1e-4:
            break
        jacobian = model.jacobian(posed)
        gap_jacobian = (jacobian[_THUMB_TIP] - jacobian[_INDEX_TIP])[:, free]
        normal = gap_jacobian.T @ gap_jacobian + 1e-3 * np.eye(free.size)
        params[free] -= np.linalg.solve(normal, gap_jacobian.T @ gap)
    return np.asarray(params[:48])
