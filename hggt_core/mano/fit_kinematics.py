# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Joints-only MANO in float64 numpy, with its analytic Jacobian, for fitting.

:class:`ManoJointModel` poses only what a joint fit needs: the 16 skeleton joints (joint
regressor on the shaped template, then the kinematic chain) and the five fingertip vertices
(shape and pose blend shapes plus linear blend skinning of those five vertices only). Its
joints equal :meth:`hggt_core.mano.layer.ManoLayer.forward`'s to float32 precision.

Parameters are one vector ``x`` [61]: theta [48] (global orientation, then the 15 finger joint
rotations as offsets from the layer's ``hand_mean``; axis-angle, radians), betas [10] and
transl [3] (metres). The Jacobian is analytic and exact, pose blend shapes of the tips included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from hggt_core.base.hand_skeleton import (
    FINGER_NAMES,
    MANO_JOINT_NAMES,
    MANO_PARENTS,
    NUM_BETAS,
    NUM_JOINTS,
    NUM_JOINTS_WITH_TIPS,
)
from hggt_core.mano.layer import ManoLayer

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NUM_PARAMS = 61
"""Length of the parameter vector: theta 48, betas 10, transl 3."""
THETA = slice(0, 48)
"""Theta (global orientation + finger offsets) inside the parameter vector."""
BETAS = slice(48, 48 + NUM_BETAS)
"""Betas inside the parameter vector."""
TRANSL = slice(58, 61)
"""Translation (metres) inside the parameter vector."""
_NUM_TIPS = NUM_JOINTS_WITH_TIPS - NUM_JOINTS
_SMALL_ANGLE = 1e-4


def skew(vectors: FloatArray) -> FloatArray:
    """[..., 3] vectors -> [..., 3, 3] cross-product matrices ([v]_x w = v x w)."""
    matrix = np.zeros((*vectors.shape[:-1], 3, 3))
    x, y, z = vectors[..., 0], vectors[..., 1], vectors[..., 2]
    matrix[..., 0, 1], matrix[..., 0, 2], matrix[..., 1, 2] = -z, y, -x
    matrix[..., 1, 0], matrix[..., 2, 0], matrix[..., 2, 1] = z, -y, x
    return matrix


def cross(a: FloatArray, b: FloatArray) -> FloatArray:
    """Cross products of [..., 3] vectors (np.cross without its per-call overhead)."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    out[..., 1] = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    out[..., 2] = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def so3_exp(rotvec: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Rotation matrices and right Jacobians of rotation vectors.

    Args:
        rotvec: [..., 3] axis-angle (radians).

    Returns:
        R [..., 3, 3] and the right Jacobian Jr [..., 3, 3], with
        exp(r + d) = exp(r) exp(Jr d) to first order in d.
    """
    angle = np.linalg.norm(rotvec, axis=-1)[..., None, None]
    small = angle < _SMALL_ANGLE
    safe = np.where(small, 1.0, angle)
    sq = angle * angle
    a = np.where(small, 1.0 - sq / 6.0, np.sin(safe) / safe)
    b = np.where(small, 0.5 - sq / 24.0, (1.0 - np.cos(safe)) / (safe * safe))
    c = np.where(small, 1.0 / 6.0 - sq / 120.0, (safe - np.sin(safe)) / (safe * safe * safe))
    k = skew(rotvec)
    k2 = k @ k
    eye = np.eye(3)
    return eye + a * k + b * k2, eye - b * k + c * k2


def so3_log(matrix: FloatArray) -> FloatArray:
    """Rotation matrices [..., 3, 3] -> rotation vectors [..., 3] (angle in [0, pi])."""
    m = matrix.reshape(-1, 3, 3)
    v = 0.5 * np.stack([m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0],
                        m[..., 1, 0] - m[..., 0, 1]], axis=-1)  # fmt: skip
    sin = np.linalg.norm(v, axis=-1)
    cos = 0.5 * (np.trace(m, axis1=-2, axis2=-1) - 1.0)
    angle = np.arctan2(sin, cos)
    factor = np.where(sin > 1e-12, angle / np.maximum(sin, 1e-12), 1.0)
    rotvec = factor[..., None] * v
    # Near pi the antisymmetric part vanishes: read the axis from (R + R^T) / 2 - cos I.
    for index in np.nonzero(cos < -0.99)[0]:
        outer = 0.5 * (m[index] + m[index].T) - cos[index] * np.eye(3)
        column = outer[:, int(np.argmax(np.diag(outer)))]
        axis = column / np.linalg.norm(column)
        rotvec[index] = angle[index] * axis * (1.0 if axis @ v[index] >= 0 else -1.0)
    return rotvec.reshape(*matrix.shape[:-2], 3)


@dataclass(frozen=True)
class PosedJoints:
    """One evaluation of :class:`ManoJointModel` (model frame plus transl, metres)."""

    points: FloatArray
    """[21, 3] joints in OpenPose order, transl included."""
    rest_joints: FloatArray
    """[16, 3] shaped rest-pose joints (MANO order)."""
    local_rotations: FloatArray
    """[16, 3, 3] each joint's rotation relative to its parent (the root's: to the model)."""
    global_rotations: FloatArray
    """[16, 3, 3] each joint's rotation relative to the model frame."""
    right_jacobians: FloatArray
    """[16, 3, 3] right Jacobian of each local rotation's exponential map."""
    joints16: FloatArray
    """[16, 3] posed skeleton joints without transl."""
    tip_points: FloatArray
    """[5, 16, 3] each fingertip vertex as moved by each joint's transform (before blending)."""


class ManoJointModel:
    """The 21 joints of a :class:`ManoLayer`, with an analytic Jacobian (float64, CPU).

    Args:
        layer: the MANO layer (``use_pca=False``); its buffers are copied once.

    Raises:
        ValueError: if the layer uses PCA pose coefficients.
    """

    def __init__(self, layer: ManoLayer) -> None:
        """Copy the arrays needed for the joints and precompute the tree (see the class)."""
        if layer.use_pca:
            raise ValueError("layer: the MANO fit needs a layer with use_pca=False")
        buf = {name: _array(value) for name, value in layer.named_buffers()}
        num_vertices = buf["v_template"].shape[0]
        tips = buf["tip_ids"].astype(np.int64)
        shapedirs = buf["shapedirs"].reshape(NUM_BETAS, num_vertices, 3)
        posedirs = buf["posedirs"].reshape(-1, num_vertices, 3)
        regressor = buf["J_regressor"]
        self.hand_mean: FloatArray = buf["hand_mean"].reshape(NUM_JOINTS - 1, 3)
        self.joints_template: FloatArray = regressor @ buf["v_template"]
        self.joints_dirs: FloatArray = np.einsum("jv,bvi->jib", regressor, shapedirs)
        self.tips_template: FloatArray = buf["v_template"][tips]
        self.tips_dirs: FloatArray = shapedirs[:, tips].transpose(1, 2, 0)
        self.tips_posedirs: FloatArray = posedirs[:, tips].reshape(posedirs.shape[0], -1)
        self.tips_weights: FloatArray = buf["lbs_weights"][tips]
        self.parents: tuple[int, ...] = MANO_PARENTS
        self.openpose_order = buf["openpose_order"].astype(np.int64)
        self.levels = _levels(self.parents)
        self.ancestor_or_self = _ancestor_mask(self.parents)
        self.child_point = _child_points(self.parents)

    def pose(self, params: FloatArray) -> PosedJoints:
        """Pose the joints.

        Args:
            params: [61] theta (48), betas (10), transl (3, metres).

        Returns:
            The posed joints and what :meth:`jacobian` reuses.
        """
        local = params[THETA].reshape(NUM_JOINTS, 3).copy()
        local[1:] += self.hand_mean
        rotations, right_jac = so3_exp(local)
        betas = params[BETAS]
        rest = self.joints_template + self.joints_dirs @ betas
        rot_global = np.empty_like(rotations)
        joints = np.empty_like(rest)
        rot_global[0], joints[0] = rotations[0], rest[0]
        for idx, par in self.levels:
            rot_global[idx] = rot_global[par] @ rotations[idx]
            bone = rest[idx] - rest[par]
            joints[idx] = np.einsum("kij,kj->ki", rot_global[par], bone) + joints[par]
        feature = (rotations[1:] - np.eye(3)).reshape(-1)
        tips_rest = (
            self.tips_template
            + self.tips_dirs @ betas
            + (feature @ self.tips_posedirs).reshape(_NUM_TIPS, 3)
        )
        offsets = tips_rest[:, None, :] - rest[None]
        tip_points = np.einsum("kij,tkj->tki", rot_global, offsets) + joints[None]
        tips = np.einsum("tk,tki->ti", self.tips_weights, tip_points)
        points = np.concatenate([joints, tips])[self.openpose_order] + params[TRANSL]
        return PosedJoints(points, rest, rotations, rot_global, right_jac, joints, tip_points)

    def jacobian(self, posed: PosedJoints) -> FloatArray:
        """Jacobian d points / d params, [21, 3, 61] (OpenPose order), at a posed hand."""
        # Changing r_m by d turns everything below joint m about p_m by w = G_m Jr(r_m) d, so a
        # point x attached there moves by w x (x - p_m) = -[x - p_m]_x G_m Jr(r_m) d.
        frames = posed.global_rotations @ posed.right_jacobians  # [16, 3, 3]
        joints = posed.joints16
        mask = self.ancestor_or_self  # [m, j]: m is j or one of its ancestors
        lever_joints = mask.T[:, :, None] * (joints[:, None, :] - joints[None, :, :])
        blend = self.tips_weights[:, None, :] * mask[None]  # [t, m, k]
        lever_tips = np.einsum("tmk,tki->tmi", blend, posed.tip_points)
        lever_tips -= blend.sum(axis=-1)[..., None] * joints[None]
        lever = np.concatenate([lever_joints, lever_tips])  # [21, 16, 3]
        d_rot = -skew(lever) @ frames[None]  # [21, 16, 3, 3]
        jac = np.empty((NUM_JOINTS_WITH_TIPS, 3, NUM_PARAMS))
        jac[:, :, THETA] = d_rot.transpose(0, 2, 1, 3).reshape(NUM_JOINTS_WITH_TIPS, 3, -1)
        jac[NUM_JOINTS:, :, 3:48] += self._corrective_jacobian(posed)
        jac[:, :, BETAS] = self._shape_jacobian(posed)
        jac[:, :, TRANSL] = np.eye(3)
        return jac[self.openpose_order]

    def _corrective_jacobian(self, posed: PosedJoints) -> FloatArray:
        """Jacobian d tips / d finger rotations through the pose blend shapes, [5, 3, 45]."""
        rot = posed.local_rotations[1:]
        # d R_m / d r_m[c] = R_m [Jr_m e_c]_x, for the 15 finger joints m and components c.
        d_rot = rot[:, None] @ skew(posed.right_jacobians[1:].transpose(0, 2, 1))
        dirs = self.tips_posedirs.reshape(NUM_JOINTS - 1, 3, 3, _NUM_TIPS, 3)
        d_rest = np.einsum("mcij,mijtd->tmcd", d_rot, dirs)
        blended = np.einsum("tk,kde->tde", self.tips_weights, posed.global_rotations)
        d_tips: FloatArray = np.einsum("tde,tmce->tdmc", blended, d_rest)
        return d_tips.reshape(_NUM_TIPS, 3, -1)

    def _shape_jacobian(self, posed: PosedJoints) -> FloatArray:
        """Jacobian d points / d betas, [21, 3, 10] in MANO order (16 joints, then the 5 tips)."""
        rot = posed.global_rotations
        dirs = self.joints_dirs
        d_joints = np.empty_like(dirs)
        d_joints[0] = dirs[0]
        for idx, par in self.levels:
            bone = dirs[idx] - dirs[par]
            d_joints[idx] = np.einsum("kij,kjb->kib", rot[par], bone) + d_joints[par]
        # Skinned tip t: sum_k w_tk (G_k (v_t - j_k) + p_k), differentiated term by term.
        weights = self.tips_weights
        blended = np.einsum("tk,kij->tij", weights, rot)
        d_tips = np.einsum("tij,tjb->tib", blended, self.tips_dirs)
        moved = d_joints - np.einsum("kij,kjb->kib", rot, dirs)
        d_tips += (weights @ moved.reshape(NUM_JOINTS, -1)).reshape(d_tips.shape)
        return np.concatenate([d_joints, d_tips])

    def rest_points(self, betas: FloatArray) -> FloatArray:
        """[21, 3] shaped rest-pose joints and tip vertices, MANO order (16 joints, 5 tips)."""
        joints = self.joints_template + self.joints_dirs @ betas
        return np.concatenate([joints, self.tips_template + self.tips_dirs @ betas])

    def rest_point_dirs(self) -> FloatArray:
        """[21, 3, 10] d :meth:`rest_points` / d betas."""
        return np.concatenate([self.joints_dirs, self.tips_dirs])


def _array(tensor: torch.Tensor) -> FloatArray:
    return np.asarray(tensor.detach().cpu().numpy(), dtype=np.float64)


def _levels(parents: tuple[int, ...]) -> list[tuple[IntArray, IntArray]]:
    """(joints, their parents) per tree depth below the root, as index arrays."""
    depth = [0] * len(parents)
    for joint, parent in enumerate(parents):
        depth[joint] = 0 if parent < 0 else depth[parent] + 1
    levels = []
    for level in range(1, max(depth) + 1):
        idx = [j for j, d in enumerate(depth) if d == level]
        levels.append((np.array(idx, dtype=np.int64), np.array([parents[j] for j in idx])))
    return levels


def _ancestor_mask(parents: tuple[int, ...]) -> FloatArray:
    """[16, 16] mask[m, j] = 1 if joint m is joint j or one of its ancestors."""
    mask = np.zeros((len(parents), len(parents)))
    for joint in range(len(parents)):
        node = joint
        while node >= 0:
            mask[node, joint] = 1.0
            node = parents[node]
    return mask


def _child_points(parents: tuple[int, ...]) -> tuple[int, ...]:
    """Per MANO joint, the point its bone ends at: its only child, or its finger's tip.

    Points are numbered as in :meth:`ManoJointModel.rest_points` (16 joints, then the tips in
    :data:`~hggt_core.base.hand_skeleton.FINGER_NAMES` order); the root (several children) gets -1.
    """
    children: list[int] = []
    for joint, name in enumerate(MANO_JOINT_NAMES):
        kids = [j for j, p in enumerate(parents) if p == joint]
        if len(kids) == 1:
            children.append(kids[0])
        elif not kids:
            children.append(NUM_JOINTS + FINGER_NAMES.index(name.rstrip("0123456789")))
        else:
            children.append(-1)
    return tuple(children)


@dataclass(frozen=True)
class HandAxes:
    """Anatomical axes of the 15 finger joints in the rest pose (model frame, unit vectors).

    A finger joint's local axis-angle ``r`` (mean pose plus offset) splits into flexion
    ``r . flexion``, abduction ``r . abduction`` and twist ``r . twist``.
    """

    twist: FloatArray
    """[15, 3] direction of each joint's bone (towards its child or fingertip)."""
    flexion: FloatArray
    """[15, 3] axis about which a positive rotation curls the finger towards the palm."""
    abduction: FloatArray
    """[15, 3] twist x flexion, completing the frame."""
    is_thumb: npt.NDArray[np.bool_]
    """[15] True for the three thumb joints (whose flexion axis is only approximate)."""


def hand_axes(model: ManoJointModel) -> HandAxes:
    """Derive the joints' anatomical axes from the rest skeleton and the mean pose.

    The palm normal comes from the wrist and the index and pinky knuckles; flexion is about
    twist x normal, its sign chosen so that the model's mean pose (a relaxed, slightly curled
    hand) flexes positively. This holds for right and left (mirrored) models alike.
    """
    rest = model.rest_points(np.zeros(NUM_BETAS))
    names = MANO_JOINT_NAMES
    wrist = rest[0]
    normal = cross(rest[names.index("index1")] - wrist, rest[names.index("pinky1")] - wrist)
    joints = np.arange(1, NUM_JOINTS)
    bones = rest[np.array(model.child_point)[joints]] - rest[joints]
    twist = bones / np.linalg.norm(bones, axis=-1, keepdims=True)
    flexion = cross(normal, twist)
    flexion /= np.linalg.norm(flexion, axis=-1, keepdims=True)
    is_thumb = np.array([names[j].startswith("thumb") for j in joints])
    curl = np.einsum("ki,ki->k", flexion, model.hand_mean)[~is_thumb].sum()
    flexion *= 1.0 if curl >= 0 else -1.0
    return HandAxes(twist, flexion, cross(twist, flexion), is_thumb)
