# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The robot side's parameters: the calibrated world (``calibration.*``) and the anchor.

ROS-free, part of the one parameter mapping (:func:`hggt_ros.params.settings_from_parameters`
calls these with checked values); errors are
:class:`~hggt_ros.parameter_table.ParameterError` lines naming the parameter.

Decisions: with ``calibration.file`` the file's ``world_frame`` is the world, since its poses
are in that frame; ``calibration.world_frame`` may repeat it but not name another frame.
Without a file, ``calibration.world_frame`` needs ``calibration.from_tf`` (the known cameras
then all come from TF). Leading ``/`` are dropped from the world frame (tf2 ids have none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hggt_core.calibration.rig import (
    Calibration,
    CalibrationError,
    load_calibration,
    rigid_from_translation_quaternion,
)
from hggt_ros.parameter_table import ParameterError, require


@dataclass(frozen=True)
class Anchor:
    """The robot frame the reference camera hangs from (``frames.anchor_*``).

    Attributes:
        frame: the robot's frame id (RViz's fixed frame when there is no world frame).
        translation: [3] the reference camera's optical frame in ``frame`` (metres), with
            ``quaternion_xyzw``: the node publishes ``frame -> reference`` once on
            ``/tf_static``; None: the user's TF connects the two.
        quaternion_xyzw: [4] unit quaternion (x, y, z, w), or None with ``translation``.
    """

    frame: str
    translation: tuple[float, float, float] | None
    quaternion_xyzw: tuple[float, float, float, float] | None


@dataclass(frozen=True)
class CalibrationSettings:
    """Where the known cameras come from (``calibration.*``); the world the results go to.

    Attributes:
        world_frame: the frame hands and estimated cameras are expressed in once aligned.
        calibration: cameras known from ``calibration.file`` (keyed by view name or optical
            frame id), or None without a file.
        from_tf: cameras whose optical frame ``/tf_static`` + ``/tf`` connect to
            ``world_frame`` are known too (the file's entry wins for a camera in both).
    """

    world_frame: str
    calibration: Calibration | None
    from_tf: bool


def anchor_settings(frame: str, pose: tuple[float, ...]) -> Anchor | None:
    """``frames.anchor_frame`` and ``frames.anchor_pose`` ([] or 7 numbers) -> the anchor.

    Raises:
        ParameterError: a pose without a frame, not 7 numbers, or a non-unit quaternion.
    """
    if not pose:
        return Anchor(frame, None, None) if frame else None
    require(bool(frame), "frames.anchor_frame", "set when frames.anchor_pose is", frame)
    shape_ok = len(pose) == 7
    require(shape_ok, "frames.anchor_pose", "[] or [x, y, z, qx, qy, qz, qw]", list(pose))
    try:
        rigid_from_translation_quaternion(pose[:3], pose[3:])
    except CalibrationError as error:
        raise ParameterError(f"parameter 'frames.anchor_pose': {error}") from None
    x, y, z, qx, qy, qz, qw = pose
    norm = math.sqrt(qx * qx + qy * qy + qz * qz + qw * qw)
    return Anchor(frame, (x, y, z), (qx / norm, qy / norm, qz / norm, qw / norm))


def calibration_settings(file: str, world_frame: str, from_tf: bool) -> CalibrationSettings | None:
    """``calibration.*`` -> the world and its known cameras (the file is read here).

    Args:
        file: ``calibration.file`` ("" = none).
        world_frame: ``calibration.world_frame`` ("" = the file's, or none).
        from_tf: ``calibration.from_tf``.

    Returns:
        The settings, or None without a world frame (results stay in camera frames).

    Raises:
        ParameterError: an unreadable file, a world frame other than the file's, or a world
            frame with neither a file nor TF to know cameras from.
    """
    calibration = None
    if file:
        try:
            calibration = load_calibration(file)
        except CalibrationError as error:
            raise ParameterError(f"parameter 'calibration.file': {error}") from None
        file_world = calibration.world_frame
        requirement = f"empty or {file_world!r} (calibration.file's world_frame)"
        same = world_frame in ("", file_world)
        require(same, "calibration.world_frame", requirement, world_frame)
        world_frame = file_world
    world_frame = world_frame.lstrip("/")
    if not world_frame:
        return None
    require(
        calibration is not None or from_tf,
        "calibration.world_frame",
        "used with calibration.file or calibration.from_tf",
        world_frame,
    )
    return CalibrationSettings(world_frame, calibration, from_tf)
