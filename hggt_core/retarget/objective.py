# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""dex-retargeting 0.5.0's vector and DexPilot objectives in numpy, for speed.

dex-retargeting evaluates its objectives with torch autograd on a handful of 3-vectors; on a
2-core CPU each evaluation costs ~0.5 ms, almost all of it torch's per-call overhead, and
SLSQP evaluates 10-20 times per solve. These ports compute the same value and gradient in
numpy (float64 where dex-retargeting uses float32 for DexPilot's weights and reference):

* the Huber loss (``SmoothL1Loss(beta=huber_delta)``) of the distances between the robot's
  link vectors (task link - origin link, from pinocchio's forward kinematics) and the
  reference vectors, averaged (vector) or weighted and averaged (DexPilot);
* the gradient through each link's Jacobian (rotated from pinocchio's LOCAL frame), plus
  dex-retargeting's ``2 norm_delta (q - q_last)`` term, which it adds to the gradient only;
* DexPilot's pinch projection: thumb-finger vectors shorter than ``project_dist`` are pulled
  to ``eta1`` (weight 200), finger-finger ones of two projected fingers to ``eta2`` (weight
  400), released beyond ``escape_dist``; the projection state persists between frames.

:func:`install` puts them on a built optimiser (``test/retarget/test_objective.py`` checks them
against dex-retargeting's own to 1e-6).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from hggt_core.retarget.hand_frame import FloatArray

Objective = Callable[[FloatArray, FloatArray], float]


def huber(distance: FloatArray, delta: float) -> tuple[FloatArray, FloatArray]:
    """Huber loss of non-negative distances and its derivative (torch's SmoothL1, beta=delta)."""
    small = distance < delta
    value = np.where(small, 0.5 * distance * distance / delta, distance - 0.5 * delta)
    slope = np.where(small, distance / delta, 1.0)
    return value, slope


def _objective(
    optimizer: Any, reference: FloatArray, weights: FloatArray, fixed_qpos: FloatArray,
    last_qpos: FloatArray,
) -> Objective:  # fmt: skip
    robot, adaptor = optimizer.robot, optimizer.adaptor
    origin = np.asarray(optimizer.origin_link_indices, dtype=np.int64)
    task = np.asarray(optimizer.task_link_indices, dtype=np.int64)
    links = list(optimizer.computed_link_indices)
    delta = float(optimizer.huber_loss.beta)
    regulariser = 2.0 * float(optimizer.norm_delta)
    qpos = np.zeros(optimizer.num_joints)
    qpos[optimizer.idx_pin2fixed] = fixed_qpos

    def objective(x: FloatArray, grad: FloatArray) -> float:
        qpos[optimizer.idx_pin2target] = x
        if adaptor is not None:
            qpos[:] = adaptor.forward_qpos(qpos)[:]
        robot.compute_forward_kinematics(qpos)
        poses = [robot.get_link_pose(index) for index in links]
        body = np.array([pose[:3, 3] for pose in poses])
        difference = body[task] - body[origin] - reference
        distance = np.sqrt(np.sum(difference * difference, axis=1))
        value, slope = huber(distance, delta)
        if grad.size > 0:
            scale = np.divide(
                weights * slope, distance, out=np.zeros_like(distance), where=distance > 0
            )
            d_vector = scale[:, None] * difference
            d_body = np.zeros_like(body)
            np.add.at(d_body, task, d_vector)
            np.subtract.at(d_body, origin, d_vector)
            jacobians = np.stack(
                [
                    pose[:3, :3] @ robot.compute_single_link_local_jacobian(qpos, index)[:3]
                    for pose, index in zip(poses, links, strict=True)
                ]
            )
            if adaptor is not None:
                jacobians = adaptor.backward_jacobian(jacobians)
            else:
                jacobians = jacobians[..., optimizer.idx_pin2target]
            grad[:] = np.einsum("li,lin->n", d_body, jacobians) + regulariser * (x - last_qpos)
        return float(np.sum(weights * value))

    return objective


def vector_objective(
    optimizer: Any, target_vector: FloatArray, fixed_qpos: FloatArray, last_qpos: FloatArray
) -> Objective:
    """The objective of a ``VectorOptimizer`` for unscaled reference vectors [N, 3]."""
    reference = np.asarray(target_vector, dtype=np.float64) * optimizer.scaling
    weights = np.full(len(reference), 1.0 / len(reference))
    return _objective(optimizer, reference, weights, fixed_qpos, last_qpos)


def dexpilot_objective(
    optimizer: Any, target_vector: FloatArray, fixed_qpos: FloatArray, last_qpos: FloatArray
) -> Objective:
    """The objective of a ``DexPilotOptimizer`` for unscaled reference vectors [N, 3]."""
    target = np.asarray(target_vector, dtype=np.float64)
    projected = optimizer.projected
    pairs = len(projected)
    finger_finger = len(optimizer.s2_project_index_task)
    thumb_finger = pairs - finger_finger
    length = np.linalg.norm(target[:pairs], axis=1)
    thumb = projected[:thumb_finger]
    thumb[length[:thumb_finger] < optimizer.project_dist] = True
    thumb[length[:thumb_finger] > optimizer.escape_dist] = False
    both = thumb[optimizer.s2_project_index_origin] & thumb[optimizer.s2_project_index_task]
    projected[thumb_finger:pairs] = both & (length[thumb_finger:pairs] <= 0.03)
    high = np.array([200.0] * thumb_finger + [400.0] * finger_finger)
    pair_weights = np.where(projected, high, 1.0)
    wrist_weights = np.full(optimizer.num_fingers, float(pairs + optimizer.num_fingers))
    weights = np.concatenate([pair_weights, wrist_weights]) / len(target)
    reference = target * optimizer.scaling
    direction = target[:pairs] / (length[:, None] + 1e-6)
    pulled = direction * np.asarray(optimizer.projected_dist)[:, None]
    reference[:pairs] = np.where(projected[:, None], pulled, reference[:pairs])
    return _objective(optimizer, reference, weights, fixed_qpos, last_qpos)


def install(optimizer: Any, kind: str) -> bool:
    """Replace a built optimiser's objective by its numpy port; False for other types."""
    ports = {"vector": vector_objective, "dexpilot": dexpilot_objective}
    port = ports.get(kind)
    if port is None:
        return False
    optimizer.get_objective_function = functools.partial(port, optimizer)
    return True
