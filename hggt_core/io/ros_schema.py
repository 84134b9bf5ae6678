# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Contents of the node's output topics, ROS-free: plain dataclasses and numpy.

:mod:`hggt_core.io.output_plan` decides which of these a frameset produces (for the node,
``hggt_ros``, and the rosbag2 sink alike), which then only turn them into messages; planners
use :func:`decode_mano_joint_state` to read ``/hand/mano`` back. Topics and types:

* ``/hand/mano`` ``sensor_msgs/JointState``: every hand's MANO parameters as named values
  (:func:`mano_joint_state`); velocity and effort stay empty.

  - ``<side>_<joint>_<axis>``: the 16 MANO joints in MANO order (:data:`MANO_JOINT_NAMES`:
    wrist, index1..3, middle1..3, pinky1..3, ring1..3, thumb1..3), axes ``rx, ry, rz`` of an
    axis-angle vector in radians. ``wrist`` is the global orientation of the hand in the
    header's frame (the reference camera's, or the calibration's world frame); the finger
    values are the raw MANO ``hand_pose``, i.e. offsets from MANO's mean pose (the
    ``flat_hand_mean=False`` convention of MANO, smplx and the HGGT release): all zeros
    is the relaxed mean hand, not a flat one.
  - ``<side>_beta_<k>``, k = 0..9: MANO shape coefficients.
  - ``<side>_transl_<x|y|z>``: MANO translation in metres, header frame. In a calibrated
    world with a scale correction the MANO parameters give the hand at its estimated size
    (``/hand/<side>/joints`` and the mesh are metric; see
    :func:`hggt_core.calibration.align.to_world`).
  - ``<side>_score``: confidence in [0, 1].

* ``/hand/<side>/joints`` ``geometry_msgs/PoseArray``: the 21 joints in OpenPose order
  (:func:`hand_joint_poses`), orientation = the joint's global rotation from MANO.
* ``/hand/markers`` ``visualization_msgs/MarkerArray``:
  :func:`hggt_core.io.ros_markers.hand_markers`.
* ``/tf`` ``tf2_msgs/TFMessage``: :func:`camera_transforms`, :func:`hand_transforms`.

Every spec carries the result's stamp; frame ids are given by the caller (docs/DESIGN.md,
decision 7). Quaternions are (x, y, z, w), unit length, w >= 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hggt_core.base.hand_skeleton import (
    MANO_JOINT_NAMES,
    NUM_BETAS,
    NUM_JOINTS,
    NUM_JOINTS_WITH_TIPS,
    OPENPOSE_JOINT_NAMES,
)
from hggt_core.geometry.numpy_transforms import invert_rigid, matrix_to_quaternion
from hggt_core.pipeline.types import FloatArray, HandResult, HandSide

MANO_TOPIC = "/hand/mano"
"""Topic of the MANO parameters (``sensor_msgs/msg/JointState``)."""
MARKERS_TOPIC = "/hand/markers"
"""Topic of the RViz markers (``visualization_msgs/msg/MarkerArray``)."""
TF_TOPIC = "/tf"
"""Topic of the estimated frames (``tf2_msgs/msg/TFMessage``)."""
HAND_SIDES: tuple[HandSide, ...] = ("right", "left")
"""Sides in the order they are published."""

_AXES = ("rx", "ry", "rz")
_POSE_SIZE = 3 * NUM_JOINTS


def joints_topic(side: HandSide) -> str:
    """Topic of one hand's joints (``geometry_msgs/msg/PoseArray``): ``/hand/<side>/joints``."""
    return f"/hand/{side}/joints"


def mano_joint_names(side: HandSide) -> list[str]:
    """The 62 JointState names of one hand, in publication order (see the module docstring)."""
    return [
        *(f"{side}_{joint}_{axis}" for joint in MANO_JOINT_NAMES for axis in _AXES),
        *(f"{side}_beta_{k}" for k in range(NUM_BETAS)),
        *(f"{side}_transl_{axis}" for axis in "xyz"),
        f"{side}_score",
    ]


@dataclass(frozen=True)
class ManoParameters:
    """One hand's MANO parameters as carried by ``/hand/mano``.

    Attributes:
        hand_pose: [48] axis-angle (radians): global orientation, then the 15 finger joints as
            offsets from MANO's mean pose (``flat_hand_mean=False``).
        betas: [10] shape coefficients.
        transl: [3] translation (metres, reference camera frame).
        score: confidence in [0, 1].
    """

    hand_pose: FloatArray
    betas: FloatArray
    transl: FloatArray
    score: float


def mano_joint_state(results: Sequence[HandResult]) -> tuple[list[str], list[float]]:
    """Names and positions of a ``/hand/mano`` JointState for the hands of one frameset.

    Args:
        results: at most one hand per side; hands are written right first, then left.

    Returns:
        ``(names, positions)``, 62 entries per hand (empty lists for no hands).

    Raises:
        ValueError: two results of the same side.
    """
    names: list[str] = []
    positions: list[float] = []
    for result in _by_side(results):
        values = np.concatenate(
            [
                np.asarray(result.hand_pose, dtype=np.float64).reshape(_POSE_SIZE),
                np.asarray(result.betas, dtype=np.float64).reshape(NUM_BETAS),
                np.asarray(result.transl, dtype=np.float64).reshape(3),
                [float(result.score)],
            ]
        )
        names.extend(mano_joint_names(result.side))
        positions.extend(values.tolist())
    return names, positions


def _by_side(results: Sequence[HandResult]) -> list[HandResult]:
    sides = [result.side for result in results]
    if len(set(sides)) != len(sides):
        raise ValueError(f"at most one hand per side is published, got sides {sides}")
    return sorted(results, key=lambda result: HAND_SIDES.index(result.side))


def decode_mano_joint_state(
    names: Sequence[str], positions: Sequence[float]
) -> dict[HandSide, ManoParameters]:
    """Read the hands back from a ``/hand/mano`` JointState's ``name`` and ``position``.

    Any order of names is accepted and names of neither side are ignored; a side is present
    when any of its names is, and then all 62 of its names are required.

    Args:
        names: JointState ``name``.
        positions: JointState ``position``, same length.

    Returns:
        side -> parameters, for the sides present (empty for no hands).

    Raises:
        ValueError: lengths differ, a name repeats, or a present side misses names.
    """
    if len(names) != len(positions):
        raise ValueError(f"{len(names)} names but {len(positions)} positions")
    value_of = dict(zip(names, positions, strict=True))
    if len(value_of) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"repeated JointState names: {repeated}")
    hands: dict[HandSide, ManoParameters] = {}
    for side in HAND_SIDES:
        expected = mano_joint_names(side)
        if not any(name.startswith(f"{side}_") for name in value_of):
            continue
        missing = [name for name in expected if name not in value_of]
        if missing:
            shown = ", ".join(missing[:6]) + (", ..." if len(missing) > 6 else "")
            raise ValueError(f"{side} hand is missing {len(missing)} of 62 names: {shown}")
        values = np.array([value_of[name] for name in expected], dtype=np.float64)
        hands[side] = ManoParameters(
            hand_pose=values[:_POSE_SIZE],
            betas=values[_POSE_SIZE : _POSE_SIZE + NUM_BETAS],
            transl=values[_POSE_SIZE + NUM_BETAS : _POSE_SIZE + NUM_BETAS + 3],
            score=float(values[-1]),
        )
    return hands


def hand_joint_poses(result: HandResult) -> FloatArray:
    """The ``/hand/<side>/joints`` poses: [21, 7] = position (x, y, z, metres) + quaternion.

    Rows are the joints in OpenPose order, in the reference camera frame; the quaternion
    (x, y, z, w) is the joint's global rotation (``HandResult.joint_rotations``).
    """
    positions = np.asarray(result.joints, dtype=np.float64).reshape(NUM_JOINTS_WITH_TIPS, 3)
    return np.concatenate([positions, matrix_to_quaternion(result.joint_rotations)], axis=1)


@dataclass(frozen=True)
class TransformSpec:
    """One ``geometry_msgs/TransformStamped``: the pose of ``child`` in ``parent``.

    ``p_parent = R(quaternion_xyzw) @ p_child + translation``.

    Attributes:
        parent: header frame id.
        child: child frame id.
        stamp_ns: header stamp (integer nanoseconds).
        translation: [3] metres.
        quaternion_xyzw: [4] unit quaternion, w >= 0.
    """

    parent: str
    child: str
    stamp_ns: int
    translation: FloatArray
    quaternion_xyzw: FloatArray


def camera_transforms(
    result: HandResult,
    reference_frame: str,
    camera_prefix: str,
    camera_frames: Mapping[str, str] | None = None,
) -> list[TransformSpec]:
    """The estimated cameras of one hand result as TF frames of the reference frame.

    Args:
        result: the hand whose camera estimate is published.
        reference_frame: parent frame id (the reference camera's optical frame).
        camera_prefix: prepended to each camera's frame, so that estimates never collide with
            a calibrated TF tree.
        camera_frames: view name -> camera frame id (e.g. the images' header frame_id); views
            not given use their name without leading slashes.

    Returns:
        One transform per camera, in ``result.cameras`` order: child
        ``<camera_prefix><frame>``, pose ``ref_from_cam = inverse(cam_from_ref)``.
    """
    frames = {} if camera_frames is None else camera_frames
    if not result.cameras:
        return []
    ref_from_cams = invert_rigid(np.stack([camera.cam_from_ref for camera in result.cameras]))
    quaternions = matrix_to_quaternion(ref_from_cams[:, :3, :3])
    return [
        TransformSpec(
            parent=reference_frame,
            child=f"{camera_prefix}{frames.get(camera.name, camera.name.lstrip('/'))}",
            stamp_ns=result.stamp_ns,
            translation=ref_from_cam[:3, 3],
            quaternion_xyzw=quaternion,
        )
        for camera, ref_from_cam, quaternion in zip(
            result.cameras, ref_from_cams, quaternions, strict=True
        )
    ]


def hand_transforms(
    result: HandResult, reference_frame: str, prefix: str, all_joints: bool = False
) -> list[TransformSpec]:
    """Frames of the hand: ``<prefix><side>_wrist`` and optionally every OpenPose joint.

    Args:
        result: the hand.
        reference_frame: parent frame id.
        prefix: prepended to the child frame ids.
        all_joints: also publish ``<prefix><side>_<joint>`` for the other 20 joints (OpenPose
            names such as ``index1`` or ``thumb_tip``).

    Returns:
        Transforms whose origin is the joint and whose axes are its global MANO rotation.
    """
    poses = hand_joint_poses(result)
    count = NUM_JOINTS_WITH_TIPS if all_joints else 1
    return [
        TransformSpec(
            parent=reference_frame,
            child=f"{prefix}{result.side}_{OPENPOSE_JOINT_NAMES[joint]}",
            stamp_ns=result.stamp_ns,
            translation=poses[joint, :3],
            quaternion_xyzw=poses[joint, 3:],
        )
        for joint in range(count)
    ]
