# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Messages <-> arrays: the only place where the node touches message fields.

* Images: ``sensor_msgs/Image`` and ``CompressedImage`` -> [H, W, 3] uint8 RGB through
  :mod:`hggt_core.io.image_encoding` (no cv_bridge; docs/DESIGN.md, decision 4).
* ``sensor_msgs/CameraInfo`` -> K [3, 3] in this project's pixel convention: the centre of the
  top-left pixel is at (0.5, 0.5) (README), whereas ROS and OpenCV put it at (0, 0), so the
  principal point moves by +0.5 pixel; binning and the region of interest are applied, so K
  describes the image actually published; with the lens distortion (``distortion_model``,
  ``d``) of :mod:`hggt_core.io.camera_info`.
* Stamps: ``builtin_interfaces/Time`` <-> integer nanoseconds exactly. Float seconds cannot
  hold every nanosecond of an epoch stamp (float64 resolves about 0.24 us at 1.7e9 s), so
  stamps travel as integer nanoseconds from the image header through the synchroniser,
  ``FrameSet``, ``HandResult`` and the specs, and outputs are stamped from those, never from a
  float and never from ``now()``.
* The core's ROS-free specs (:mod:`hggt_core.io.ros_schema`, :mod:`hggt_core.io.ros_markers`)
  -> ``JointState``, ``PoseArray``, ``TransformStamped``, and ``MarkerArray`` as serialised
  bytes (:mod:`hggt_core.io.marker_cdr`: the 4.6k-point mesh costs ~8 ms as message objects,
  0.1 ms as bytes); :func:`frameset_messages` serialises one frameset's output plan
  (:mod:`hggt_core.io.output_plan`, shared with the bag sink).
* The node's status -> ``diagnostic_msgs/DiagnosticStatus``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, Pose, PoseArray, Quaternion, TransformStamped, Vector3
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, JointState
from std_msgs.msg import Header

from hggt_core.io.camera_info import PublishedCalibration, published_calibration
from hggt_core.io.image_encoding import decode_compressed, decode_image
from hggt_core.io.marker_cdr import marker_array_cdr
from hggt_core.io.output_plan import OutputPlan
from hggt_core.io.ros_schema import TransformSpec
from hggt_core.pipeline.types import NS_PER_S, HandSide

DIAGNOSTIC_LEVELS: dict[str, bytes] = {
    "ok": DiagnosticStatus.OK,
    "warn": DiagnosticStatus.WARN,
    "error": DiagnosticStatus.ERROR,
    "stale": DiagnosticStatus.STALE,
}
"""Diagnostic level names -> ``DiagnosticStatus.level`` bytes."""


def time_to_ns(stamp: Time) -> int:
    """``builtin_interfaces/Time`` -> integer nanoseconds (exact)."""
    return int(stamp.sec) * NS_PER_S + int(stamp.nanosec)


def ns_to_time(stamp_ns: int) -> Time:
    """Integer nanoseconds (>= 0) -> ``builtin_interfaces/Time`` (exact).

    Raises:
        ValueError: a negative stamp or one beyond ``Time.sec``'s int32 range.
    """
    sec, nanosec = divmod(int(stamp_ns), NS_PER_S)
    if not 0 <= sec < 2**31:
        raise ValueError(f"stamp {stamp_ns} ns is outside builtin_interfaces/Time's range")
    return Time(sec=sec, nanosec=nanosec)


def ns_to_seconds(stamp_ns: int) -> float:
    """Integer nanoseconds -> the nearest float seconds (correctly rounded)."""
    return int(stamp_ns) / NS_PER_S  # int / int is correctly rounded in Python


def image_to_rgb(message: Image) -> npt.NDArray[np.uint8]:
    """A ``sensor_msgs/Image`` as a new [H, W, 3] uint8 RGB array.

    Raises:
        ImageEncodingError: unsupported encoding or sizes that disagree with the data.
    """
    return decode_image(
        message.encoding,
        message.height,
        message.width,
        message.step,
        message.data,
        bool(message.is_bigendian),
    )


def compressed_to_rgb(message: CompressedImage) -> npt.NDArray[np.uint8]:
    """A ``sensor_msgs/CompressedImage`` as a new [H, W, 3] uint8 RGB array.

    Raises:
        ImageEncodingError: compressed depth, empty or undecodable data.
    """
    return decode_compressed(message.format, message.data)


def camera_info_calibration(message: CameraInfo) -> PublishedCalibration | None:
    """K, size and lens distortion of the published image, from a ``sensor_msgs/CameraInfo``.

    :func:`hggt_core.io.camera_info.published_calibration`, shared with ``hggt bag``: +0.5 px
    principal point, region of interest and binning applied.

    Returns:
        The calibration, or None for an uncalibrated camera (non-positive focal lengths, e.g.
        an all-zero K).

    Raises:
        CameraInfoError: an unknown distortion model or a D of the wrong length.
    """
    return published_calibration(message)


def header(stamp: Time, frame_id: str) -> Header:
    """A ``std_msgs/Header``."""
    return Header(stamp=stamp, frame_id=frame_id)


def joint_state(names: Sequence[str], positions: Sequence[float], head: Header) -> JointState:
    """A ``/hand/mano`` ``sensor_msgs/JointState`` (velocity and effort stay empty)."""
    return JointState(header=head, name=list(names), position=[float(p) for p in positions])


def pose_array(poses: npt.NDArray[np.float64], head: Header) -> PoseArray:
    """A ``geometry_msgs/PoseArray`` from [N, 7] rows (x, y, z, qx, qy, qz, qw)."""
    return PoseArray(
        header=head,
        poses=[
            Pose(
                position=Point(x=x, y=y, z=z),
                orientation=Quaternion(x=qx, y=qy, z=qz, w=qw),
            )
            for x, y, z, qx, qy, qz, qw in np.asarray(poses, dtype=np.float64).tolist()
        ],
    )


def transform_stamped(spec: TransformSpec, stamp: Time) -> TransformStamped:
    """A ``geometry_msgs/TransformStamped`` (pose of ``spec.child`` in ``spec.parent``)."""
    x, y, z = np.asarray(spec.translation, dtype=np.float64).tolist()
    qx, qy, qz, qw = np.asarray(spec.quaternion_xyzw, dtype=np.float64).tolist()
    message = TransformStamped(header=header(stamp, spec.parent), child_frame_id=spec.child)
    message.transform.translation = Vector3(x=x, y=y, z=z)
    message.transform.rotation = Quaternion(x=qx, y=qy, z=qz, w=qw)
    return message


def diagnostic_status(
    name: str, level: str, message: str, hardware_id: str, values: Mapping[str, object]
) -> DiagnosticStatus:
    """A ``diagnostic_msgs/DiagnosticStatus``.

    Args:
        name: status name, e.g. ``"hggt_node: camera cam1"``.
        level: one of :data:`DIAGNOSTIC_LEVELS` (``ok``, ``warn``, ``error``, ``stale``).
        message: one-line summary.
        hardware_id: the device or camera concerned.
        values: key -> value, written with ``str`` (floats with 4 significant digits).
    """
    return DiagnosticStatus(
        level=DIAGNOSTIC_LEVELS[level],
        name=name,
        message=message,
        hardware_id=hardware_id,
        values=[KeyValue(key=key, value=_text(value)) for key, value in values.items()],
    )


def _text(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class FramesetMessages:
    """Everything published for one frameset; disabled or empty outputs are None / empty.

    Attributes:
        mano: ``/hand/mano``, also without hands (empty names: a heartbeat for planners).
        joints: side -> ``/hand/<side>/joints`` for the hands found.
        markers: ``/hand/markers`` when there are hands, serialised
            (:func:`~hggt_core.io.marker_cdr.marker_array_cdr`; publishers take the bytes).
        cameras: the estimated cameras of the best-scoring hand, for ``/tf`` or ``/tf_static``.
        hand_frames: hand frames for ``/tf``.
    """

    mano: JointState | None
    joints: dict[HandSide, PoseArray]
    markers: bytes | None
    cameras: list[TransformSpec]
    hand_frames: list[TransformStamped]


def frameset_messages(plan: OutputPlan) -> FramesetMessages:
    """Serialise one frameset's output plan (:func:`~hggt_core.io.output_plan.plan_outputs`).

    Only message building happens here: which topics, frames and cameras is the plan's.
    """
    stamp = ns_to_time(plan.stamp_ns)  # the reference image's stamp, exactly
    mano = None
    if plan.mano is not None:
        mano = joint_state(plan.mano.names, plan.mano.positions, header(stamp, plan.mano.frame_id))
    joints = {
        side: pose_array(content.poses, header(stamp, content.frame_id))
        for side, content in plan.joints.items()
    }
    markers = marker_array_cdr(plan.markers) if plan.markers else None  # specs carry the stamp
    hand_frames = [transform_stamped(spec, stamp) for spec in plan.hand_frames]
    return FramesetMessages(mano, joints, markers, list(plan.cameras), hand_frames)
