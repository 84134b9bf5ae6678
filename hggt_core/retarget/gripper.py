# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Parallel grippers: the thumb-index pinch distance mapped to a gripper opening (metres).

For arms without a dexterous hand. The distance between the thumb and index fingertips
(OpenPose joints 4 and 8, metres, independent of the frame) maps linearly from
[``pinch_closed_m``, ``pinch_open_m``] onto [``closed_m``, ``open_m``] and is clipped to that
range, so the gripper never leaves its limits. Each joint of ``joint_names`` receives
``opening * joint_scale`` (e.g. 0.5 for a gripper whose two finger joints each move half of
the opening, as the Franka hand's do).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from hggt_core.retarget.hand_frame import FloatArray
from hggt_core.retarget.smoothing import LowPassFilter
from hggt_core.retarget.types import RetargetSolution

THUMB_TIP, INDEX_TIP = 4, 8
"""OpenPose indices of the pinching fingertips."""


@dataclass(frozen=True)
class GripperConfig:
    """Pinch -> gripper mapping.

    Attributes:
        joint_names: the gripper's joint names, as its JointState expects them.
        closed_m: opening when pinched (the lower limit, metres).
        open_m: opening when released (the upper limit, metres).
        pinch_closed_m: thumb-index distance at or below which the gripper is closed (m).
        pinch_open_m: thumb-index distance at or above which it is fully open (m).
        joint_scale: each joint's position per metre of opening.
        low_pass_alpha: low-pass factor in (0, 1] (1: off).
    """

    joint_names: tuple[str, ...] = ("gripper",)
    closed_m: float = 0.0
    open_m: float = 0.08
    pinch_closed_m: float = 0.015
    pinch_open_m: float = 0.09
    joint_scale: float = 1.0
    low_pass_alpha: float = 1.0

    def __post_init__(self) -> None:
        if not self.joint_names or len(set(self.joint_names)) != len(self.joint_names):
            raise ValueError(f"joint_names must be distinct and non-empty: {self.joint_names}")
        if not 0 <= self.closed_m < self.open_m:
            raise ValueError(f"need 0 <= closed_m < open_m, got {self.closed_m}, {self.open_m}")
        if not 0 <= self.pinch_closed_m < self.pinch_open_m:
            raise ValueError(
                f"need 0 <= pinch_closed_m < pinch_open_m, got {self.pinch_closed_m}, "
                f"{self.pinch_open_m}"
            )
        if not self.joint_scale > 0:
            raise ValueError(f"joint_scale must be > 0, got {self.joint_scale}")
        if not 0 < self.low_pass_alpha <= 1:
            raise ValueError(f"low_pass_alpha must be in (0, 1], got {self.low_pass_alpha}")


def pinch_distance(joints: FloatArray) -> float:
    """Thumb tip to index tip distance (m) of [21, 3] OpenPose joints."""
    points = np.asarray(joints, dtype=np.float64)
    if points.shape != (21, 3) or not np.all(np.isfinite(points)):
        raise ValueError(f"joints must be a finite [21, 3] array, got shape {points.shape}")
    return float(np.linalg.norm(points[THUMB_TIP] - points[INDEX_TIP]))


def gripper_opening(distance_m: float, config: GripperConfig) -> float:
    """The opening (m) for a pinch distance, within [closed_m, open_m]."""
    fraction = (distance_m - config.pinch_closed_m) / (config.pinch_open_m - config.pinch_closed_m)
    opening = config.closed_m + fraction * (config.open_m - config.closed_m)
    return float(np.clip(opening, config.closed_m, config.open_m))


class GripperRetargeter:
    """The gripper's joint targets from a hand, with the interface of ``DexRetargeter``.

    Args:
        config: the mapping.
    """

    def __init__(self, config: GripperConfig) -> None:
        self.config = config
        self.joint_names: tuple[str, ...] = config.joint_names
        """The gripper's joints."""
        count = len(config.joint_names)
        self.joint_limits: FloatArray = np.tile(
            [config.closed_m * config.joint_scale, config.open_m * config.joint_scale], (count, 1)
        )
        """[J, 2] lower and upper joint limits."""
        self.open_pose: FloatArray = self.joint_limits[:, 1].copy()
        """[J] the released gripper."""
        self._filter = LowPassFilter(config.low_pass_alpha)

    def __call__(self, joints: FloatArray) -> RetargetSolution:
        """Targets for [21, 3] OpenPose joints (m); the residual is the clipped part (m)."""
        start = time.perf_counter()
        config = self.config
        distance = pinch_distance(joints)
        opening = gripper_opening(distance, config)
        span = (config.open_m - config.closed_m) / (config.pinch_open_m - config.pinch_closed_m)
        unclipped = config.closed_m + (distance - config.pinch_closed_m) * span
        positions = np.full(len(self.joint_names), opening * config.joint_scale)
        return RetargetSolution(
            positions=self._filter(positions),
            solve_time_s=time.perf_counter() - start,
            residual_m=abs(unclipped - opening),
        )

    def reset(self) -> None:
        """Forget the filter's past."""
        self._filter.reset()
