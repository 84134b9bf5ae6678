# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""A procedural, format-correct MANO model for tests and demos (the real one is licensed).

:func:`make_synthetic_mano` returns arrays with exactly the shapes and conventions of the official
model: the hand-shaped mesh of :mod:`hggt_core.mano.synthetic_mesh` (778 vertices, 1538 faces,
fingertip vertices at the ids of every fingertip convention), the real 16-joint tree, a joint
regressor that reproduces the skeleton exactly from nearby vertices, smooth skinning weights,
meaningful shape blend shapes (scale, finger length, palm width, thickness, then small smooth
random modes), small smooth pose correctives, an orthonormal pose PCA basis and a relaxed mean
pose. Everything is deterministic. :func:`write_mano_pickle` / :func:`write_mano_npz` write the
official file layout, readable by ``smplx.MANO`` and by :func:`hggt_core.mano.io.load_mano_model`.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from hggt_core.base.hand_skeleton import MANO_PARENTS, NUM_BETAS, NUM_JOINTS, NUM_POSE_PARAMS
from hggt_core.mano.io import FloatArray, HandSide, ManoModelData
from hggt_core.mano.synthetic_mesh import FINGERS_MANO_ORDER, HandMesh, build_right_hand_mesh

_SEED = 20260101
_THUMB = FINGERS_MANO_ORDER.index("thumb")
# The official kintree_table stores the root's parent as -1 cast to uint32.
_ROOT_PARENT_AS_STORED = 4294967295


def _smoothstep(x: FloatArray) -> FloatArray:
    t = np.clip(x, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _axial(mesh: HandMesh, finger: int, points: FloatArray) -> FloatArray:
    """Signed distance (m) of points along a finger's axis, measured from its joint 1."""
    return np.asarray((points - mesh.joints[1 + 3 * finger]) @ mesh.directions[finger])


def _skinning_weights(mesh: HandMesh) -> FloatArray:
    """[778, 16] weights: each finger vertex blends smoothly between the joints of its chain."""
    half_width = 0.005
    weights = np.zeros((mesh.vertices.shape[0], NUM_JOINTS))
    for f in range(5):
        first = 1 + 3 * f
        s = _axial(mesh, f, mesh.vertices)
        bounds = [0.0] + [float(_axial(mesh, f, mesh.joints[first + k][None])[0]) for k in (1, 2)]
        steps = [_smoothstep((s - b) / (2 * half_width) + 0.5) for b in bounds]
        on_finger = mesh.finger == f
        for k in range(3):
            upper = steps[k + 1] if k < 2 else 0.0
            weights[on_finger, first + k] = (steps[k] - upper)[on_finger]
        weights[on_finger, 0] = 1.0 - steps[0][on_finger]
        if f == _THUMB:
            distance = np.linalg.norm(mesh.vertices - mesh.socket_center, axis=1)
            near = 0.6 * _smoothstep((0.02 - distance) / 0.012)
        else:
            # Palm columns 5k..5k+3 carry finger k; web columns are shared by two fingers.
            knuckle = ("index", "middle", "ring", "pinky").index(FINGERS_MANO_ORDER[f])
            column = mesh.palm_column
            member = np.where((column >= 5 * knuckle) & (column <= 5 * knuckle + 3), 1.0, 0.0)
            webs = [c for c in (5 * knuckle - 1, 5 * knuckle + 4) if c in (4, 9, 14)]
            member += 0.5 * np.isin(column, webs)
            near = member * _smoothstep(s / (2 * 0.008) + 0.5)
        weights[mesh.finger < 0, first] = near[mesh.finger < 0]
    palm = mesh.finger < 0
    weights[palm, 0] = 1.0 - weights[palm, 1:].sum(axis=1)
    return weights


def _joint_regressor(mesh: HandMesh, weights: FloatArray) -> FloatArray:
    """[16, 778] rows summing to 1 that regress each skeleton joint exactly from nearby vertices.

    Start from Gaussian weights on the vertices influenced by the joint or its parent, then add
    the minimum-norm correction (relative to those weights) that hits the joint exactly.
    """
    regressor = np.zeros((NUM_JOINTS, mesh.vertices.shape[0]))
    for joint in range(NUM_JOINTS):
        parent = MANO_PARENTS[joint]
        related = weights[:, joint] + (weights[:, parent] if parent >= 0 else 0.0)
        sigma = 0.02 if joint == 0 else 0.01
        distance = np.linalg.norm(mesh.vertices - mesh.joints[joint], axis=1)
        prior = np.exp(-0.5 * (distance / sigma) ** 2) * (related > 0.05) * (distance < 3 * sigma)
        prior /= prior.sum()
        chosen = np.flatnonzero(prior > 1e-4)
        row = _exact_weights(mesh.vertices[chosen], prior[chosen], mesh.joints[joint])
        while row.min() < 0.0:  # drop vertices pushed negative and solve again
            keep = row > 0.0
            chosen = chosen[keep]
            row = _exact_weights(mesh.vertices[chosen], prior[chosen], mesh.joints[joint])
        regressor[joint, chosen] = row
    return regressor


def _exact_weights(points: FloatArray, prior: FloatArray, target: FloatArray) -> FloatArray:
    """Weights closest to ``prior`` (relative change) with sum 1 and weighted mean ``target``."""
    w0 = prior / prior.sum()
    constraints = np.vstack([points.T, np.ones(len(points))])
    residual = np.append(target - points.T @ w0, 0.0)
    multipliers = np.linalg.solve((constraints * w0) @ constraints.T, residual)
    return np.asarray(w0 * (1.0 + constraints.T @ multipliers), dtype=np.float64)


def _shape_blend_shapes(mesh: HandMesh, rng: np.random.Generator) -> FloatArray:
    """[778, 3, 10] displacement per unit beta (metres)."""
    vertices, wrist = mesh.vertices, mesh.joints[0]
    lateral, dorsal = np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])
    dirs = np.zeros((vertices.shape[0], 3, NUM_BETAS))
    dirs[:, :, 0] = 0.03 * (vertices - wrist)
    thickness_centre = np.full(vertices.shape[0], wrist @ dorsal)
    for f in range(5):
        on_finger = mesh.finger == f
        s = np.maximum(_axial(mesh, f, vertices[on_finger]), 0.0)
        dirs[on_finger, :, 1] = 0.04 * s[:, None] * mesh.directions[f]
        axis_points = mesh.joints[1 + 3 * f] + s[:, None] * mesh.directions[f]
        thickness_centre[on_finger] = axis_points @ dorsal
    dirs[:, :, 2] = 0.04 * ((vertices - mesh.joints[4]) @ lateral)[:, None] * lateral
    dirs[:, :, 3] = 0.05 * (vertices @ dorsal - thickness_centre)[:, None] * dorsal
    for mode in range(4, NUM_BETAS):
        for _ in range(2):
            wave = rng.normal(size=3) / rng.uniform(0.06, 0.15)
            phase = rng.uniform(0.0, 2 * np.pi)
            amplitude = 0.001 * rng.normal(size=3)
            dirs[:, :, mode] += np.sin(2 * np.pi * vertices @ wave + phase)[:, None] * amplitude
    return dirs


def _pose_blend_shapes(
    mesh: HandMesh, weights: FloatArray, rng: np.random.Generator
) -> FloatArray:
    """[778, 3, 135] small correctives localised around each joint (metres per unit feature)."""
    dirs = np.zeros((mesh.vertices.shape[0], 3, (NUM_JOINTS - 1) * 9))
    for joint in range(1, NUM_JOINTS):
        related = np.minimum(weights[:, joint] + weights[:, MANO_PARENTS[joint]], 1.0)
        distance = np.linalg.norm(mesh.vertices - mesh.joints[joint], axis=1)
        falloff = related * np.exp(-0.5 * (distance / 0.008) ** 2)
        directions = 0.002 * rng.normal(size=(9, 3))
        dirs[:, :, 9 * (joint - 1) : 9 * joint] = falloff[:, None, None] * directions.T[None]
    return dirs


def _pose_space(rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Orthonormal [45, 45] PCA basis (rows) and a relaxed mean pose [45] (slightly flexed)."""
    q, r = np.linalg.qr(rng.normal(size=(NUM_POSE_PARAMS, NUM_POSE_PARAMS)))
    components = (q * np.sign(np.diag(r))).T
    flexion = np.tile([0.15, 0.25, 0.12], 5)
    mean = np.zeros((NUM_JOINTS - 1, 3))
    # Flexion is a rotation about +z for the right hand (fingers along -x, palm facing -y).
    mean[:, 2] = flexion
    mean[12:, :] = [[0.1, 0.05, 0.05], [0.0, 0.05, 0.1], [0.0, 0.0, 0.1]]
    mean += 0.02 * rng.normal(size=mean.shape)
    return components, mean.reshape(-1)


def _mirror_to_left(right: ManoModelData, left_shapedirs_bug: bool) -> ManoModelData:
    """Mirror a right hand in x; pose parameters mirror by negating their y and z parts."""
    point_sign = np.array([-1.0, 1.0, 1.0])
    axis_sign = np.tile([1.0, -1.0, -1.0], NUM_JOINTS - 1)
    # (R - I) of a mirrored rotation is S (R - I) S with S = diag(-1, 1, 1).
    feature_sign = np.tile(np.outer(point_sign, point_sign).reshape(-1), NUM_JOINTS - 1)
    shapedirs = right.shapedirs if left_shapedirs_bug else right.shapedirs * point_sign[:, None]
    return ManoModelData(
        v_template=right.v_template * point_sign,
        shapedirs=shapedirs.copy(),
        posedirs=right.posedirs * point_sign[:, None] * feature_sign,
        J_regressor=right.J_regressor.copy(),
        weights=right.weights.copy(),
        faces=right.faces[:, ::-1].copy(),
        hands_components=right.hands_components * axis_sign,
        hands_mean=right.hands_mean * axis_sign,
        kintree_table=right.kintree_table.copy(),
        side="left",
    )


def make_synthetic_mano(
    side: HandSide = "right", left_shapedirs_bug: bool = False
) -> ManoModelData:
    """Build the procedural MANO model of one hand.

    Args:
        side: "right", or "left" for the mirror image in x (faces reversed to keep normals
            outward; blend shapes, pose basis and mean pose mirrored accordingly).
        left_shapedirs_bug: for the left hand, ship the right hand's shapedirs unmirrored, as
            the official ``MANO_LEFT.pkl`` does; loading with ``fix_left_shapedirs=True`` then
            restores the mirror symmetry.

    Returns:
        The model arrays (float64, metres).
    """
    rng = np.random.default_rng(_SEED)
    mesh = build_right_hand_mesh()
    weights = _skinning_weights(mesh)
    components, mean = _pose_space(rng)
    kintree = np.array([MANO_PARENTS, range(NUM_JOINTS)], dtype=np.int64)
    kintree[0, 0] = _ROOT_PARENT_AS_STORED
    right = ManoModelData(
        v_template=mesh.vertices,
        shapedirs=_shape_blend_shapes(mesh, rng),
        posedirs=_pose_blend_shapes(mesh, weights, rng),
        J_regressor=_joint_regressor(mesh, weights),
        weights=weights,
        faces=mesh.faces,
        hands_components=components,
        hands_mean=mean,
        kintree_table=kintree,
        side="right",
    )
    return right if side == "right" else _mirror_to_left(right, left_shapedirs_bug)


def _official_dict(data: ManoModelData) -> dict[str, Any]:
    """The key layout of the official MANO pickles (plain numpy arrays, dense regressor)."""
    return {
        "v_template": data.v_template,
        "shapedirs": data.shapedirs,
        "posedirs": data.posedirs,
        "J_regressor": data.J_regressor,
        "J": data.J_regressor @ data.v_template,
        "weights": data.weights,
        "f": data.faces.astype(np.uint32),
        "kintree_table": data.kintree_table,
        "hands_components": data.hands_components,
        "hands_mean": data.hands_mean,
        "bs_style": "lbs",
        "bs_type": "lrotmin",
    }


def write_mano_pickle(data: ManoModelData, path: str | Path) -> Path:
    """Write a model in the official pickle layout (protocol 2, plain numpy arrays).

    The official files hold a chumpy ``shapedirs`` and a scipy-sparse ``J_regressor``; this
    writer stores plain arrays (a dense regressor), which smplx and our loader both accept.

    Args:
        data: the model to write.
        path: destination file (conventionally ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl``).

    Returns:
        The written path.
    """
    target = Path(path)
    with target.open("wb") as stream:
        pickle.dump(_official_dict(data), stream, protocol=2)
    return target


def write_mano_npz(data: ManoModelData, path: str | Path) -> Path:
    """Write a model as an ``.npz`` with the official key names (no pickled objects).

    Args:
        data: the model to write.
        path: destination file (conventionally ``MANO_RIGHT.npz`` / ``MANO_LEFT.npz``).

    Returns:
        The written path.
    """
    target = Path(path)
    with target.open("wb") as stream:
        np.savez(stream, **_official_dict(data))
    return target
