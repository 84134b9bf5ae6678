# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Temporal smoothing of hand results for teleoperation: the One-Euro filter.

The One-Euro filter (Casiez, Roussel and Vogel, CHI 2012) is a first-order low-pass filter
whose cutoff rises with the signal's speed: ``cutoff = min_cutoff + beta * |dx/dt|``, the
speed itself being low-passed at ``d_cutoff``. Slow motion is smoothed hard (little jitter),
fast motion follows with little lag. Each step uses the real time between samples, so
irregular frame rates are handled: the smoothing factor is
``alpha = 1 / (1 + 1 / (2 pi cutoff dt))``.

Applied element-wise to arrays of any shape (every coordinate has its own speed and cutoff,
as in the paper's per-axis use).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from hggt_core.geometry.projection import project_points
from hggt_core.geometry.rotations import (
    axis_angle_to_quaternion,
    matrix_to_quaternion,
    quaternion_to_axis_angle,
    quaternion_to_matrix,
)
from hggt_core.pipeline.types import NS_PER_S, FloatArray, HandResult, HandSide


@dataclass(frozen=True)
class OneEuroParams:
    """Parameters of one One-Euro filter."""

    min_cutoff_hz: float = 1.0
    """Cutoff at rest (Hz): lower removes more jitter from a still signal, adds lag."""
    beta: float = 0.0
    """Cutoff increase per unit of speed (Hz per signal unit per second): higher, less lag."""
    d_cutoff_hz: float = 1.0
    """Cutoff of the speed estimate (Hz)."""

    def __post_init__(self) -> None:
        if self.min_cutoff_hz <= 0 or self.d_cutoff_hz <= 0 or self.beta < 0:
            raise ValueError(f"cutoffs must be > 0 and beta >= 0, got {self}")


def _alpha(cutoff_hz: npt.NDArray[np.float64] | float, dt_s: float) -> Any:
    """Smoothing factor of an exponential filter with this cutoff, for a step of ``dt_s``."""
    return 1.0 / (1.0 + 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz) * dt_s))


class OneEuroFilter:
    """One-Euro filter of an array signal of fixed shape.

    Time rules: the first sample, a sample whose shape differs from the previous one, and a
    sample stamped *before* the previous one (a clock jump back, e.g. a looping bag) restart
    the filter, which then returns that sample unchanged. A sample with the *same* stamp as the
    previous one (a duplicate) is ignored: the previous estimate is returned and the state is
    not touched, because a zero time step carries no speed information.

    Args:
        params: the filter's parameters (defaults: :class:`OneEuroParams`).
    """

    def __init__(self, params: OneEuroParams | None = None) -> None:
        self.params = params or OneEuroParams()
        self._value: FloatArray | None = None
        self._speed: FloatArray | None = None
        self._stamp_ns = 0

    @property
    def value(self) -> FloatArray | None:
        """The current estimate (a copy), or None before the first sample or after a reset."""
        return None if self._value is None else self._value.copy()

    def reset(self) -> None:
        """Forget the history; the next sample is returned unchanged."""
        self._value = None
        self._speed = None

    def __call__(self, sample: npt.ArrayLike, stamp_ns: int) -> FloatArray:
        """Filter one sample.

        Args:
            sample: the new measurement, any shape (float64 internally).
            stamp_ns: its time in integer nanoseconds; time steps are taken between these
                integers, then converted to seconds (exact at epoch stamps).

        Returns:
            The filtered value, float64, the sample's shape.
        """
        x = np.asarray(sample, dtype=np.float64)
        previous = self._value
        dt_s = (stamp_ns - self._stamp_ns) / NS_PER_S
        if previous is None or self._speed is None or previous.shape != x.shape or dt_s < 0:
            self._value = x.copy()
            self._speed = np.zeros_like(x)
            self._stamp_ns = stamp_ns
            return x.copy()
        if dt_s == 0:
            return previous.copy()
        p = self.params
        raw_speed = (x - previous) / dt_s
        self._speed = self._speed + _alpha(p.d_cutoff_hz, dt_s) * (raw_speed - self._speed)
        cutoff = p.min_cutoff_hz + p.beta * np.abs(self._speed)
        self._value = previous + _alpha(cutoff, dt_s) * (x - previous)
        self._stamp_ns = stamp_ns
        return self._value.copy()


class QuaternionFilter:
    """One-Euro filtering of rotations through sign-consistent unit quaternions.

    q and -q are the same rotation, so each new quaternion is first flipped onto the hemisphere
    of the current estimate; the four components are then filtered like any signal and the
    result is renormalised. Near-identical rotations thus stay close in the filtered space,
    with no wrap-around at angle pi as axis-angle vectors would have.

    Args:
        params: the One-Euro parameters (speeds in quaternion units per second; one rad/s of
            rotation moves the quaternion by about 0.5 per second).
    """

    def __init__(self, params: OneEuroParams | None = None) -> None:
        self._filter = OneEuroFilter(params)

    def reset(self) -> None:
        """Forget the history."""
        self._filter.reset()

    def __call__(self, quat_xyzw: FloatArray, stamp_ns: int) -> FloatArray:
        """Filter [..., 4] unit quaternions (XYZW); returns [..., 4] unit quaternions."""
        current = self._filter.value
        if current is not None and current.shape == quat_xyzw.shape:
            same_side = np.sum(quat_xyzw * current, axis=-1, keepdims=True) >= 0
            quat_xyzw = np.where(same_side, quat_xyzw, -quat_xyzw)
        filtered = self._filter(quat_xyzw, stamp_ns)
        unit: FloatArray = filtered / np.linalg.norm(filtered, axis=-1, keepdims=True)
        return unit


def _default_position() -> OneEuroParams:
    return OneEuroParams(min_cutoff_hz=1.0, beta=20.0, d_cutoff_hz=1.0)


def _default_rotation() -> OneEuroParams:
    return OneEuroParams(min_cutoff_hz=1.0, beta=5.0, d_cutoff_hz=1.0)


def _default_shape() -> OneEuroParams:
    return OneEuroParams(min_cutoff_hz=0.5, beta=0.0, d_cutoff_hz=1.0)


@dataclass(frozen=True)
class FilterConfig:
    """Temporal smoothing of hand results (off unless a predictor is given one)."""

    position: OneEuroParams = field(default_factory=_default_position)
    """Joints, vertices and translation (metres): at 0.5 m/s the cutoff rises to 11 Hz."""
    rotation: OneEuroParams = field(default_factory=_default_rotation)
    """MANO pose and joint rotations, filtered as quaternions."""
    shape: OneEuroParams = field(default_factory=_default_shape)
    """MANO betas (a person's shape barely changes: smoothed hard)."""
    lost_timeout_s: float = 0.5
    """A hand unseen for longer than this restarts its filters (no smoothing across a gap)."""


class _HandState:
    """The filters of one hand."""

    def __init__(self, config: FilterConfig, stamp_ns: int, reference: str) -> None:
        self.joints = OneEuroFilter(config.position)
        self.vertices = OneEuroFilter(config.position)
        self.transl = OneEuroFilter(config.position)
        self.betas = OneEuroFilter(config.shape)
        self.hand_pose = QuaternionFilter(config.rotation)
        self.joint_rotations = QuaternionFilter(config.rotation)
        self.last_stamp_ns = stamp_ns
        self.reference = reference


def _to_numpy(tensor: torch.Tensor) -> FloatArray:
    return np.asarray(tensor.numpy(), dtype=np.float64)


def _to_torch(array: FloatArray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float64))


class HandFilter:
    """Smooths a stream of :class:`HandResult`, each side separately.

    Filtered: joints, vertices, transl, betas, hand_pose (as quaternions per joint) and
    joint_rotations (as quaternions). The 2-D joints are re-projected from the filtered joints
    with each view's (unfiltered) camera. The filtered vertices and joints are smoothed on
    their own, so they match MANO posed with the filtered parameters only approximately; the
    filtered hand_pose comes back with rotation angles in [0, pi] (the same rotations).

    A side's filters restart when it was unseen for longer than ``lost_timeout_s`` and when its
    reference view (``views_used[0]``) changes, since the results then live in another frame.

    Args:
        config: filter settings (defaults: :class:`FilterConfig`).
    """

    def __init__(self, config: FilterConfig | None = None) -> None:
        self.config = config or FilterConfig()
        self._states: dict[HandSide, _HandState] = {}

    def reset(self, side: HandSide | None = None) -> None:
        """Forget one side's history, or both sides' when ``side`` is None."""
        if side is None:
            self._states.clear()
        else:
            self._states.pop(side, None)

    def __call__(self, result: HandResult) -> HandResult:
        """Filter one hand's result (at ``result.stamp_ns``); returns a new result."""
        t = result.stamp_ns
        reference = result.views_used[0] if result.views_used else ""
        state = self._states.get(result.side)
        if (
            state is None
            or (t - state.last_stamp_ns) / NS_PER_S > self.config.lost_timeout_s
            or state.reference != reference
        ):
            state = self._states[result.side] = _HandState(self.config, t, reference)
        state.last_stamp_ns = t

        pose_quat = axis_angle_to_quaternion(_to_torch(result.hand_pose.reshape(-1, 3)))
        hand_pose = quaternion_to_axis_angle(
            _to_torch(state.hand_pose(_to_numpy(pose_quat), t))
        ).reshape(-1)
        rot_quat = matrix_to_quaternion(_to_torch(result.joint_rotations))
        joint_rotations = quaternion_to_matrix(
            _to_torch(state.joint_rotations(_to_numpy(rot_quat), t))
        )
        joints = state.joints(result.joints, t)
        cameras = tuple(
            dataclasses.replace(
                camera, joints_2d=_project(joints, camera.cam_from_ref, camera.intrinsics)
            )
            for camera in result.cameras
        )
        return dataclasses.replace(
            result,
            hand_pose=_to_numpy(hand_pose),
            betas=state.betas(result.betas, t),
            transl=state.transl(result.transl, t),
            vertices=state.vertices(result.vertices, t),
            joints=joints,
            joint_rotations=_to_numpy(joint_rotations),
            cameras=cameras,
        )


def _project(points: FloatArray, cam_from_ref: FloatArray, intrinsics: FloatArray) -> FloatArray:
    """[N, 2] pixels of [N, 3] reference-frame points in one camera."""
    uv, _ = project_points(_to_torch(points), _to_torch(cam_from_ref), _to_torch(intrinsics))
    return _to_numpy(uv)
