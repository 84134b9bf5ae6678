# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Robot hand joint targets from 21 hand joints, with dex-retargeting (MIT).

:class:`DexRetargeter` wraps dex-retargeting's ``RetargetingConfig`` / ``SeqRetargeting``:

1. the joints go into the robot's wrist frame (:mod:`hggt_core.retarget.hand_frame`), a hand
   of the other side mirrored;
2. the optimiser's reference follows its type: wrist- or finger-to-fingertip vectors
   (vector, DexPilot; dex-retargeting multiplies them by ``scaling_factor``), or link
   positions (position; scaled here, relative to the robot's wrist link);
3. SLSQP (nlopt) solves, starting from the previous solution (warm start) or, with
   ``warm_start`` off or after :meth:`DexRetargeter.reset`, from the open pose; vector and
   DexPilot objectives are evaluated by the numpy ports of :mod:`hggt_core.retarget.objective`
   (2.2 ms instead of 8.2 ms median per hand on a 2-core CPU, ``bench/retarget.py``);
4. our low-pass filter smooths the result (dex-retargeting's own filter is switched off so
   that the residual describes the solution and a reset clears the filter too).

dex-retargeting 0.5.0 imports torch and six without declaring them and needs pinocchio
(``pin``); all come with the ``retarget`` extra. It is imported when a retargeter is built.
"""

from __future__ import annotations

import importlib
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hggt_core.retarget import objective
from hggt_core.retarget.hand_frame import (
    FloatArray,
    HandSide,
    joints_in_robot_frame,
    robot_from_operator,
)
from hggt_core.retarget.robot_config import RetargetConfigError, load_retarget_file
from hggt_core.retarget.robot_model import kinematic_urdf, resolve_urdf
from hggt_core.retarget.smoothing import LowPassFilter
from hggt_core.retarget.types import RetargetSolution


@dataclass(frozen=True)
class DexRetargetConfig:
    """Settings of a :class:`DexRetargeter`.

    Attributes:
        config: retargeting config file (:mod:`hggt_core.retarget.robot_config`).
        urdf: the robot's URDF (path or ``pkg://``); None: the config's ``urdf_path``.
        hand_side: side of the human hand that drives the robot.
        scaling: robot size / human size; None: the config's ``scaling_factor``.
        low_pass_alpha: low-pass factor in (0, 1] (1: off); None: the config's
            ``low_pass_alpha`` (1 when it has none).
        warm_start: start each solve from the previous solution (else from the open pose).
        numpy_objective: evaluate vector and DexPilot objectives with the numpy ports of
            :mod:`hggt_core.retarget.objective` (same values, ~5x faster) instead of
            dex-retargeting's torch code.
    """

    config: Path
    urdf: str | None = None
    hand_side: HandSide = "right"
    scaling: float | None = None
    low_pass_alpha: float | None = None
    warm_start: bool = True
    numpy_objective: bool = True

    def __post_init__(self) -> None:
        if self.scaling is not None and not self.scaling > 0:
            raise ValueError(f"scaling must be > 0, got {self.scaling}")
        if self.low_pass_alpha is not None and not 0 < self.low_pass_alpha <= 1:
            raise ValueError(f"low_pass_alpha must be in (0, 1], got {self.low_pass_alpha}")


def _dex_module() -> Any:
    try:
        return importlib.import_module("dex_retargeting.retargeting_config")
    except ImportError as error:
        raise ImportError(
            f"dexterous retargeting needs dex-retargeting ({error}); install the retarget "
            "extra: pip install -e '.[retarget]'"
        ) from None


class DexRetargeter:
    """Joint targets of one robot hand from one human hand's 21 joints (module docstring).

    Args:
        config: settings.

    Raises:
        RetargetConfigError: an unusable config file.
        RobotModelError: the URDF is missing or lacks a link the config names.
        ImportError: dex-retargeting is not installed.
    """

    def __init__(self, config: DexRetargetConfig) -> None:
        file = load_retarget_file(config.config)
        self.config = config
        self.kind = file.kind
        urdf = resolve_urdf(config.urdf or file.urdf)
        section = dict(file.retargeting)
        self.scaling = float(config.scaling or section.get("scaling_factor", 1.0))
        alpha = config.low_pass_alpha or float(section.get("low_pass_alpha", 1.0))
        self._filter = LowPassFilter(alpha if 0 < alpha <= 1 else 1.0)
        section.update(scaling_factor=self.scaling, low_pass_alpha=-1.0)
        self._seq = _build(section, urdf, file.robot.extra_links, file.path)
        optimizer = self._seq.optimizer
        if config.numpy_objective:
            objective.install(optimizer, self.kind)
        self._robot = optimizer.robot
        self.joint_names: tuple[str, ...] = tuple(self._seq.joint_names)
        """Names of the joints in solution order (the URDF's movable joints)."""
        self.joint_limits: FloatArray = np.asarray(self._robot.joint_limits, dtype=np.float64)
        """[J, 2] lower and upper limits in ``joint_names`` order."""
        self.open_pose = _open_pose(self.joint_names, self.joint_limits, file.robot.open_pose)
        """[J] the open hand: the config's ``open_pose``, other joints 0 within limits."""
        self._robot_from_op = robot_from_operator(file.robot.palm_axes)
        self._mirror = config.hand_side != file.robot.robot_side
        self._human = np.asarray(optimizer.target_link_human_indices, dtype=np.int64)
        if self.kind == "position":
            self._task = self._link_ids(optimizer.body_names)
            self._origin: list[int] = []
            wrist = section.get("wrist_link_name") or self._robot.link_names[0]
            self._wrist_m = self.link_positions(self.open_pose, [str(wrist)])[0]
        else:
            self._task = self._link_ids(optimizer.task_link_names)
            self._origin = self._link_ids(optimizer.origin_link_names)
        self.reset()

    def _link_ids(self, names: Sequence[str]) -> list[int]:
        return [int(self._robot.get_link_index(name)) for name in names]

    def reference(self, joints: FloatArray) -> FloatArray:
        """The optimiser's reference for 21 OpenPose joints (any frame, metres).

        Returns:
            [N, 3] unscaled wrist-frame vectors (vector, DexPilot) or scaled link target
            positions in the robot's base frame (position).
        """
        side, mirror = self.config.hand_side, self._mirror
        points = joints_in_robot_frame(joints, side, self._robot_from_op, mirror)
        if self.kind == "position":
            return np.asarray(self.scaling * points[self._human] + self._wrist_m)
        return np.asarray(points[self._human[1]] - points[self._human[0]])

    def __call__(self, joints: FloatArray) -> RetargetSolution:
        """Solve for one hand.

        Args:
            joints: [21, 3] OpenPose joints (metres, any frame).

        Returns:
            The filtered targets, the solve time, and the residual: root mean square distance
            (m) between the robot's and the scaled human's reference vectors (vector,
            DexPilot) or link positions (position), at the unfiltered solution.
        """
        reference = self.reference(joints)
        if not self.config.warm_start:
            self._seq.set_qpos(self.open_pose)
        start = time.perf_counter()
        solution = np.asarray(self._seq.retarget(reference), dtype=np.float64)
        solve_time_s = time.perf_counter() - start
        return RetargetSolution(
            positions=self._filter(solution),
            solve_time_s=solve_time_s,
            residual_m=self._residual(solution, reference),
        )

    def _residual(self, positions: FloatArray, reference: FloatArray) -> float:
        self._robot.compute_forward_kinematics(positions)
        task = np.array([self._robot.get_link_pose(i)[:3, 3] for i in self._task])
        if self.kind == "position":
            error = task - reference
        else:
            origin = np.array([self._robot.get_link_pose(i)[:3, 3] for i in self._origin])
            error = task - origin - self.scaling * reference
        return float(np.sqrt(np.mean(np.sum(error * error, axis=1))))

    def link_positions(self, positions: FloatArray, links: Sequence[str]) -> FloatArray:
        """Forward kinematics: [L, 3] positions of ``links`` in the robot's base frame (m).

        Args:
            positions: [J] joint positions in ``joint_names`` order.
            links: link names of the solver's model (the URDF's plus the extra links).
        """
        self._robot.compute_forward_kinematics(np.asarray(positions, dtype=np.float64))
        ids = self._link_ids(links)
        return np.array([self._robot.get_link_pose(i)[:3, 3] for i in ids], dtype=np.float64)

    def reset(self) -> None:
        """Restart from the open pose: the next solve starts there and the filter forgets."""
        self._seq.set_qpos(self.open_pose)
        self._filter.reset()


def _build(section: dict[str, Any], urdf: Path, extra_links: Sequence[Any], config: Path) -> Any:
    """dex-retargeting's ``SeqRetargeting`` on a kinematic copy of the URDF."""
    module = _dex_module()
    with tempfile.TemporaryDirectory(prefix="hggt_retarget_") as folder:
        section["urdf_path"] = str(
            kinematic_urdf(urdf, tuple(extra_links), Path(folder) / urdf.name)
        )
        try:
            return module.RetargetingConfig.from_dict(section).build()
        except (ValueError, TypeError, KeyError) as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise RetargetConfigError(f"retargeting config {config}: {first_line}") from None


def _open_pose(
    names: tuple[str, ...], limits: FloatArray, given: Sequence[tuple[str, float]]
) -> FloatArray:
    unknown = sorted({name for name, _ in given} - set(names))
    if unknown:
        raise RetargetConfigError(f"hggt.open_pose names joints the robot lacks: {unknown}")
    pose = np.zeros(len(names))
    for name, value in given:
        pose[names.index(name)] = value
    return np.clip(pose, limits[:, 0], limits[:, 1])
