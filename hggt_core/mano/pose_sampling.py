# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Random plausible MANO hands, for tests, benchmarks and synthetic data.

Finger joints are drawn in their anatomical frame (:func:`~hggt_core.mano.fit_kinematics.
hand_axes`): mostly flexion within natural ranges, some knuckle abduction, little twist; the
thumb varies around its mean pose; the global orientation is uniform over all rotations.
"""

from __future__ import annotations

import numpy as np

from hggt_core.base.hand_skeleton import MANO_JOINT_NAMES, NUM_BETAS, NUM_JOINTS
from hggt_core.mano.fit_kinematics import FloatArray, ManoJointModel, hand_axes, so3_log

# Ranges (radians) per finger segment (knuckle, middle, distal): flexion, abduction, twist.
_FLEXION = ((-0.2, 1.2), (0.0, 1.5), (0.0, 1.0))
_ABDUCTION = (0.3, 0.05, 0.05)
_TWIST = (0.1, 0.05, 0.05)
_THUMB_SPREAD = 0.4


def sample_hand_theta(model: ManoJointModel, rng: np.random.Generator) -> FloatArray:
    """Draw one plausible pose.

    Args:
        model: the joints-only MANO of the hand (right or left).
        rng: random generator.

    Returns:
        theta [48]: global orientation (axis-angle) + 15 finger offsets from the mean pose.
    """
    axes = hand_axes(model)
    local = np.zeros((NUM_JOINTS - 1, 3))
    for k in range(NUM_JOINTS - 1):
        if axes.is_thumb[k]:
            local[k] = model.hand_mean[k] + rng.uniform(-_THUMB_SPREAD, _THUMB_SPREAD, 3)
            continue
        segment = int(MANO_JOINT_NAMES[k + 1][-1]) - 1
        local[k] = (
            rng.uniform(*_FLEXION[segment]) * axes.flexion[k]
            + rng.uniform(-_ABDUCTION[segment], _ABDUCTION[segment]) * axes.abduction[k]
            + rng.uniform(-_TWIST[segment], _TWIST[segment]) * axes.twist[k]
        )
    quat = rng.normal(size=4)
    quat /= np.linalg.norm(quat)
    return np.concatenate([so3_log(_quat_to_matrix(quat)), (local - model.hand_mean).ravel()])


def sample_betas(rng: np.random.Generator, spread: float = 1.0, limit: float = 2.5) -> FloatArray:
    """Shape coefficients ~ N(0, spread^2), clipped to [-limit, limit]: [10]."""
    return np.clip(rng.normal(0.0, spread, NUM_BETAS), -limit, limit)


def _quat_to_matrix(quat: FloatArray) -> FloatArray:
    """Unit quaternion (w, x, y, z) -> rotation matrix [3, 3]."""
    w, x, y, z = quat
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
