# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Analytic MANO initialisation from 21 target joints (closed form, no iterations).

1. Shape: betas from the bone lengths (pose-invariant), by linearised least squares with the
   fit's shape prior.
2. Global orientation and translation: the wrist and the five joints attached to it (the four
   knuckles and the thumb's carpometacarpal joint) move rigidly with the root, so a weighted
   Kabsch fit of the shaped rest joints onto their targets gives them exactly.
3. Fingers, from the palm outwards: each joint's global rotation is the smallest rotation
   (swing, no twist) that turns its bone, posed with the parent's rotation and the mean local
   rotation, onto the target bone.

All points here are in MANO point order: the 16 skeleton joints, then the five tips in
:data:`~hggt_core.base.hand_skeleton.FINGER_NAMES` order (see
:meth:`~hggt_core.mano.fit_kinematics.ManoJointModel.rest_points`).
"""

from __future__ import annotations

import numpy as np

from hggt_core.base.hand_skeleton import NUM_BETAS, NUM_JOINTS
from hggt_core.mano.fit_kinematics import (
    BETAS,
    NUM_PARAMS,
    THETA,
    TRANSL,
    FloatArray,
    ManoJointModel,
    cross,
    skew,
    so3_exp,
    so3_log,
)

_MIN_PALM_POINTS = 3


def estimate_betas(
    model: ManoJointModel, targets: FloatArray, weights: FloatArray, prior_weight: float
) -> FloatArray:
    """Shape coefficients whose rest bone lengths match the targets' (one linearised step).

    Args:
        model: the joints-only MANO.
        targets: [21, 3] target points (MANO point order), metres.
        weights: [21] confidence per point (0 = missing).
        prior_weight: weight of ||betas||^2 against squared length residuals (m^2).

    Returns:
        betas [10].
    """
    start, end = _bones(model)
    rest = model.rest_points(np.zeros(NUM_BETAS))
    dirs = model.rest_point_dirs()
    bones = rest[end] - rest[start]
    lengths = np.linalg.norm(bones, axis=-1)
    units = bones / lengths[:, None]
    design = np.einsum("bi,bik->bk", units, dirs[end] - dirs[start])  # d length / d betas
    observed = np.linalg.norm(targets[end] - targets[start], axis=-1)
    bone_weights = np.minimum(weights[start], weights[end])
    observed = np.where(bone_weights > 0, observed, lengths)
    normal = (design * bone_weights[:, None]).T @ design + prior_weight * np.eye(NUM_BETAS)
    rhs = (design * bone_weights[:, None]).T @ (observed - lengths)
    return np.asarray(np.linalg.solve(normal, rhs))


def initial_params(
    model: ManoJointModel, targets: FloatArray, weights: FloatArray, betas: FloatArray
) -> FloatArray:
    """Pose parameters that put the shaped hand's bones along the target bones.

    Args:
        model: the joints-only MANO.
        targets: [21, 3] target points (MANO point order), metres.
        weights: [21] confidence per point (0 = missing); at least 3 must be positive.
        betas: [10] the shape to pose.

    Returns:
        params [61]: theta (global orientation + offsets from the mean pose), betas, transl.
    """
    rest = model.rest_points(betas)
    valid = weights > 0
    palm = np.array([0, *(j for j, p in enumerate(model.parents) if p == 0)])
    if np.count_nonzero(valid[palm]) < _MIN_PALM_POINTS:
        palm = np.nonzero(valid)[0]  # rough: treats the whole hand as rigid
    root = _kabsch(rest[palm], targets[palm], weights[palm])
    means, _ = so3_exp(model.hand_mean)
    rot_global = np.empty((NUM_JOINTS, 3, 3))
    rot_global[0] = root
    positions = np.empty((NUM_JOINTS, 3))
    positions[0] = targets[0] if valid[0] else root @ rest[0]
    theta = np.zeros((NUM_JOINTS, 3))
    theta[0] = so3_log(root)
    child = np.array(model.child_point)
    for idx, par in model.levels:
        positions[idx] = np.where(
            valid[idx][:, None],
            targets[idx],
            np.einsum("kij,kj->ki", rot_global[par], rest[idx] - rest[par]) + positions[par],
        )
        guess = rot_global[par] @ means[idx - 1]
        bone = np.einsum("kij,kj->ki", guess, rest[child[idx]] - rest[idx])
        target_bone = targets[child[idx]] - positions[idx]
        swing = _swing(bone, target_bone)
        swing[~valid[child[idx]]] = np.eye(3)
        rot_global[idx] = swing @ guess
        local = rot_global[par].transpose(0, 2, 1) @ rot_global[idx]
        theta[idx] = so3_log(local) - model.hand_mean[idx - 1]
    params = np.zeros(NUM_PARAMS)
    params[THETA] = theta.reshape(-1)
    params[BETAS] = betas
    # Posed root joint = rest root + transl; the palm fit maps rest points x to R x + c.
    centre = _weighted_mean(targets[palm], weights[palm]) - root @ _weighted_mean(
        rest[palm], weights[palm]
    )
    params[TRANSL] = centre + root @ rest[0] - rest[0]
    return params


def _bones(model: ManoJointModel) -> tuple[FloatArray, FloatArray]:
    """Start and end point indices of the 20 bones (MANO point order).

    Parent to joint for the 15 finger joints, then distal joint to fingertip.
    """
    joints = range(1, NUM_JOINTS)
    distal = [j for j in joints if model.child_point[j] >= NUM_JOINTS]
    start = [model.parents[j] for j in joints] + distal
    end = list(joints) + [model.child_point[j] for j in distal]
    return np.array(start), np.array(end)


def _weighted_mean(points: FloatArray, weights: FloatArray) -> FloatArray:
    return np.asarray(weights @ points / weights.sum())


def _kabsch(source: FloatArray, target: FloatArray, weights: FloatArray) -> FloatArray:
    """Rotation R [3, 3] minimising sum_n w_n ||R (x_n - mean x) - (y_n - mean y)||^2."""
    src = source - _weighted_mean(source, weights)
    dst = target - _weighted_mean(target, weights)
    u, _, vh = np.linalg.svd((dst * weights[:, None]).T @ src)
    sign = np.sign(np.linalg.det(u @ vh)) or 1.0
    return np.asarray(u @ np.diag([1.0, 1.0, sign]) @ vh)


def _swing(source: FloatArray, target: FloatArray) -> FloatArray:
    """[N, 3, 3] smallest rotations turning directions ``source`` [N, 3] onto ``target``."""
    a = source / np.linalg.norm(source, axis=-1, keepdims=True)
    b = target / np.maximum(np.linalg.norm(target, axis=-1, keepdims=True), 1e-12)
    turn = skew(cross(a, b))
    cos = np.einsum("ni,ni->n", a, b)[:, None, None]
    # R = I + [a x b]_x + [a x b]_x^2 / (1 + cos), singular only for opposite directions.
    rotation = np.eye(3) + turn + turn @ turn / np.maximum(1.0 + cos, 1e-12)
    # Opposite directions: turn by pi about an axis perpendicular to the source.
    helper = np.where(np.abs(a[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
    normal = cross(a, helper)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    half_turn = 2.0 * np.einsum("ni,nj->nij", normal, normal) - np.eye(3)
    return np.asarray(np.where(1.0 + cos < 1e-9, half_turn, rotation))
