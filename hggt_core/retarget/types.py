# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""What every retargeter returns and offers: dexterous hands and grippers alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hggt_core.retarget.hand_frame import FloatArray


@dataclass(frozen=True)
class RetargetSolution:
    """One solve.

    Attributes:
        positions: [J] filtered joint targets in the retargeter's ``joint_names`` order
            (radians for revolute joints, metres for prismatic ones).
        solve_time_s: wall time of the solve (s).
        residual_m: how far the unfiltered solution misses its target (metres; see the
            retargeter).
    """

    positions: FloatArray
    solve_time_s: float
    residual_m: float


class Retargeter(Protocol):
    """Joint targets of one robot hand or gripper from one human hand."""

    @property
    def joint_names(self) -> tuple[str, ...]:
        """The robot's joint names, in the order of ``positions``."""
        ...

    @property
    def open_pose(self) -> FloatArray:
        """[J] the open hand (released gripper)."""
        ...

    def __call__(self, joints: FloatArray) -> RetargetSolution:
        """Solve for [21, 3] OpenPose joints (metres, any frame)."""
        ...

    def reset(self) -> None:
        """Restart: forget warm start and filter state."""
        ...
