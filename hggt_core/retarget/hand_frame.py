# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""21 OpenPose joints -> the wrist frame dex-retargeting works in -> the robot's palm frame.

Four frames, all centred on the wrist (joint 0):

* **MANO frame** ``mano``: the MANO model's axes at zero global orientation (the official
  model and :func:`hggt_core.mano.synthetic.make_synthetic_mano` share them). Right hand:
  fingers along -x, palm facing -y, thumb towards +z; the left model is its mirror in x.
* **Palm frame** ``palm`` (dex-retargeting's "MANO convention", :func:`palm_frame`),
  estimated from the joints, so it holds whatever the hand's orientation, camera or source:
  x from the middle knuckle to the wrist, y normal to the palm, z towards the index side.
* **Operator frame** ``op`` (dex-retargeting's): x out of the palm, y towards the thumb
  (right hand; towards the little finger for a left hand), z from the wrist towards the
  middle knuckle. ``palm_from_op`` is :data:`PALM_FROM_OPERATOR` (dex-retargeting's
  ``OPERATOR2MANO``); at rest ``mano_from_op`` is :data:`MANO_FROM_OPERATOR`.
* **Robot palm frame** ``robot``: the frame of the robot's wrist link, whose axes differ per
  robot; :func:`robot_from_operator` builds the rotation from the robot-frame directions of
  the operator's three axes (e.g. ``("-z", "+y", "+x")`` for the LEAP V1 KAIZEN hand of
  ``ghand``: palm facing -z, thumb towards +y, fingers along +x). So a MANO hand at rest
  reaches the robot by ``robot_from_mano = robot_from_op @ MANO_FROM_OPERATOR[side].T``.

Mirroring: a left hand drives a right robot hand (or the reverse) by reflecting its joints
across the palm's lateral axis, so that its thumb lies where a right hand's would
(:func:`joints_in_robot_frame` with ``mirror=True``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

HandSide = Literal["right", "left"]
FloatArray = npt.NDArray[np.float64]

WRIST, INDEX_MCP, MIDDLE_MCP = 0, 5, 9
"""OpenPose indices of the joints that span the palm plane."""
PALM_FROM_OPERATOR: dict[HandSide, FloatArray] = {
    "right": np.array([[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
    "left": np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]),
}
"""``palm_from_op`` per side ([3, 3]): dex-retargeting's ``OPERATOR2MANO`` matrices."""
MANO_FROM_OPERATOR: dict[HandSide, FloatArray] = {
    "right": np.array([[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
    "left": np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]),
}
"""``mano_from_op`` of a MANO hand at rest ([3, 3]; the palm frame is the model frame for the
right hand and ``diag(-1, -1, 1)`` of it for the mirrored left one)."""
IDENTITY_AXES = ("+x", "+y", "+z")
"""Palm axes of a robot whose wrist frame is the operator frame (dex-retargeting's robots)."""
_AXIS = {"x": 0, "y": 1, "z": 2}
_MIRROR_Y = np.diag([1.0, -1.0, 1.0])


def palm_frame(joints: FloatArray) -> FloatArray:
    """The hand's wrist frame in the joints' frame, dex-retargeting's estimate.

    Args:
        joints: [21, 3] OpenPose-order joints (any frame, e.g. the reference camera's).

    Returns:
        [3, 3] ``src_from_palm``; its columns are, in the joints' frame: x from the middle
        knuckle towards the wrist, y the normal of the plane through the wrist and the
        index and middle knuckles, z = x cross y, which points from the middle towards the
        index knuckle (for both sides).

    Raises:
        ValueError: joints of another shape, non-finite, or a degenerate palm.
    """
    points = np.asarray(joints, dtype=np.float64)
    if points.shape != (21, 3) or not np.all(np.isfinite(points)):
        raise ValueError(f"joints must be a finite [21, 3] array, got shape {points.shape}")
    palm = points[[WRIST, INDEX_MCP, MIDDLE_MCP]]
    x_axis = palm[0] - palm[2]
    centred = palm - palm.mean(axis=0)
    normal = np.linalg.svd(centred)[2][2]
    x_axis = x_axis - (x_axis @ normal) * normal
    length = float(np.linalg.norm(x_axis))
    if length < 1e-6:
        raise ValueError("degenerate palm: wrist and middle knuckle coincide")
    x_axis /= length
    z_axis = np.cross(x_axis, normal)
    if z_axis @ (palm[1] - palm[2]) < 0:
        normal, z_axis = -normal, -z_axis
    return np.stack([x_axis, normal, z_axis], axis=1)


def joints_in_operator_frame(joints: FloatArray, side: HandSide) -> FloatArray:
    """The joints relative to the wrist, in the operator frame of their side.

    Args:
        joints: [21, 3] OpenPose-order joints (metres, any frame).
        side: the hand's side.

    Returns:
        [21, 3] ``p_op`` (metres); joint 0 is the origin.
    """
    points = np.asarray(joints, dtype=np.float64)
    relative = points - points[WRIST]
    return np.asarray(relative @ palm_frame(points) @ PALM_FROM_OPERATOR[side])


def robot_from_operator(palm_axes: Sequence[str]) -> FloatArray:
    """The rotation ``robot_from_op`` from the robot-frame directions of the operator axes.

    Args:
        palm_axes: three signed axis names (``"+x"``, ``"-z"``, ...): where the operator's x
            (out of the palm), y (towards the thumb of a right hand) and z (towards the
            fingers) point in the robot's wrist frame.

    Returns:
        [3, 3] proper rotation matrix.

    Raises:
        ValueError: names other than [+-]x/y/z, a repeated axis, or a mirror (det -1).
    """
    if len(palm_axes) != 3:
        raise ValueError(f"palm_axes needs 3 entries, got {list(palm_axes)}")
    matrix = np.zeros((3, 3))
    for column, name in enumerate(palm_axes):
        text = name.strip().lower()
        sign, letter = (text[0], text[1:]) if text[:1] in "+-" else ("+", text)
        if letter not in _AXIS:
            raise ValueError(f"palm_axes entries are +x, -x, +y, ... ; got {name!r}")
        matrix[_AXIS[letter], column] = 1.0 if sign == "+" else -1.0
    if abs(np.linalg.det(matrix) - 1.0) > 1e-9:
        raise ValueError(
            f"palm_axes {list(palm_axes)} is not a rotation (repeated axis or mirrored frame)"
        )
    return matrix


def joints_in_robot_frame(
    joints: FloatArray, side: HandSide, robot_from_op: FloatArray, mirror: bool = False
) -> FloatArray:
    """The joints relative to the wrist, in the robot's wrist frame (not scaled).

    Args:
        joints: [21, 3] OpenPose-order joints (metres, any frame).
        side: the hand's side.
        robot_from_op: [3, 3] from :func:`robot_from_operator`.
        mirror: reflect the hand across its palm's lateral axis, for a robot hand of the
            other side (a left hand then moves a right robot hand as its mirror image).

    Returns:
        [21, 3] ``p_robot`` (metres); joint 0 is the origin.
    """
    operator = joints_in_operator_frame(joints, side)
    if mirror:
        operator = operator @ _MIRROR_Y
    return np.asarray(operator @ robot_from_op.T)
