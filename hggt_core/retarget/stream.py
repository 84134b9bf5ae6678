# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""A stream of hands in, joint targets out: what the node and ``hggt retarget`` share.

* :class:`ManoJoints` turns ``/hand/mano`` parameters (:class:`~hggt_core.io.ros_schema.
  ManoParameters`) into the 21 OpenPose joints, with the same MANO model as the estimator.
* :class:`RetargetStream` follows one hand side through a sequence of framesets: each
  frameset gives joint targets stamped with the frameset's stamp. When the hand is missing
  (or below ``min_score``), the ``lost_policy`` decides: ``"hold"`` repeats the last targets
  (the open pose before any), ``"open"`` sends the open pose and restarts the warm start and
  filter, so the next sighting is solved from scratch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from hggt_core.io.ros_schema import ManoParameters
from hggt_core.mano.fit_kinematics import ManoJointModel
from hggt_core.mano.layer import ManoLayer
from hggt_core.retarget.hand_frame import FloatArray, HandSide
from hggt_core.retarget.types import Retargeter

LostPolicy = Literal["hold", "open"]
LOST_POLICIES: tuple[LostPolicy, ...] = ("hold", "open")
"""What a missing hand gives: the last targets again, or the open pose."""
TargetState = Literal["tracking", "held", "open"]


class ManoJoints:
    """``/hand/mano`` parameters -> [21, 3] OpenPose joints (the estimator's frame, metres).

    Args:
        layers: the MANO layer of each side (``use_pca=False``), as the estimator used them.
    """

    def __init__(self, layers: Mapping[HandSide, ManoLayer]) -> None:
        self._models = {side: ManoJointModel(layer) for side, layer in layers.items()}

    def __call__(self, side: HandSide, hand: ManoParameters) -> FloatArray:
        """The posed joints of one hand.

        Raises:
            ValueError: no layer for ``side``.
        """
        model = self._models.get(side)
        if model is None:
            raise ValueError(f"no MANO layer for the {side} hand")
        params = np.concatenate([hand.hand_pose, hand.betas, hand.transl]).astype(np.float64)
        return model.pose(params).points


@dataclass(frozen=True)
class JointTargets:
    """The targets of one frameset.

    Attributes:
        stamp_ns: the frameset's stamp (ns), which the output carries.
        positions: [J] joint targets in the retargeter's ``joint_names`` order.
        state: ``tracking`` (solved from the hand), ``held`` (hand lost, last targets kept)
            or ``open`` (hand lost, open pose).
        solve_time_s: the solve's wall time (s); None when nothing was solved.
        residual_m: the solve's residual (m); None when nothing was solved.
    """

    stamp_ns: int
    positions: FloatArray
    state: TargetState
    solve_time_s: float | None = None
    residual_m: float | None = None


@dataclass(frozen=True)
class StreamStats:
    """Counters of a :class:`RetargetStream`.

    Attributes:
        solved: framesets solved from a hand.
        lost: framesets without the hand (or below ``min_score``).
        median_solve_time_s: median over the last ``history`` solves (0 before any).
        max_solve_time_s: longest of the last ``history`` solves (0 before any).
        last_residual_m: residual of the last solve (nan before any).
        state: the last targets' state (``open`` before any).
    """

    solved: int
    lost: int
    median_solve_time_s: float
    max_solve_time_s: float
    last_residual_m: float
    state: TargetState


class RetargetStream:
    """One hand side's joint targets over time (see the module docstring).

    Args:
        retargeter: a :class:`~hggt_core.retarget.dexterous.DexRetargeter` or
            :class:`~hggt_core.retarget.gripper.GripperRetargeter`.
        lost_policy: ``"hold"`` or ``"open"``.
        history: solves kept for the statistics.

    Raises:
        ValueError: an unknown policy.
    """

    def __init__(
        self, retargeter: Retargeter, lost_policy: LostPolicy, history: int = 100
    ) -> None:
        if lost_policy not in LOST_POLICIES:
            raise ValueError(f"lost_policy must be one of {list(LOST_POLICIES)}: {lost_policy!r}")
        self.retargeter = retargeter
        self.lost_policy: LostPolicy = lost_policy
        self._last: FloatArray | None = None
        self._state: TargetState = "open"
        self._times: deque[float] = deque(maxlen=history)
        self._residual = float("nan")
        self._solved = 0
        self._lost = 0

    @property
    def joint_names(self) -> tuple[str, ...]:
        """The robot's joint names."""
        return self.retargeter.joint_names

    def update(self, stamp_ns: int, joints: FloatArray | None) -> JointTargets:
        """The targets of one frameset.

        Args:
            stamp_ns: the frameset's stamp (ns).
            joints: [21, 3] the hand's OpenPose joints (metres), or None when it is missing.
        """
        if joints is None:
            return self.lose(stamp_ns)
        solution = self.retargeter(joints)
        self._times.append(solution.solve_time_s)
        self._residual = solution.residual_m
        self._solved += 1
        self._last, self._state = solution.positions, "tracking"
        return JointTargets(
            stamp_ns, solution.positions, "tracking", solution.solve_time_s, solution.residual_m
        )

    def lose(self, stamp_ns: int) -> JointTargets:
        """The targets for a frameset without the hand (the lost policy)."""
        self._lost += 1
        if self.lost_policy == "hold" and self._last is not None:
            self._state = "held"
            return JointTargets(stamp_ns, self._last.copy(), "held")
        if self._state != "open":
            self.retargeter.reset()
        self._last, self._state = None, "open"
        return JointTargets(stamp_ns, self.retargeter.open_pose.copy(), "open")

    def stats(self) -> StreamStats:
        """The counters now."""
        times = np.array(self._times)
        return StreamStats(
            solved=self._solved,
            lost=self._lost,
            median_solve_time_s=float(np.median(times)) if times.size else 0.0,
            max_solve_time_s=float(times.max()) if times.size else 0.0,
            last_residual_m=self._residual,
            state=self._state,
        )
