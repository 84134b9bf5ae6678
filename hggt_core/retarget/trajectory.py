# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Offline retargeting: hands from a results file or a bag in, a joint trajectory out.

Inputs (one frame per frameset, the hand of one side or None when it is missing):

* :func:`hands_from_npz`: an ``hggt infer`` results file (``results.npz``); its joints are
  used directly. Framesets in which no hand was found are not in such a file.
* :func:`hands_from_bag`: the ``/hand/mano`` topic of a rosbag2 (``hggt bag``'s output, or
  a recording of the node), decoded with :func:`~hggt_core.io.ros_schema.
  decode_mano_joint_state` and posed with the MANO model (:class:`~hggt_core.retarget.stream.
  ManoJoints`); empty messages are framesets without hands.

Outputs of a :class:`JointTrajectory`: ``.npz`` (:func:`save_npz`), ``.csv`` (:func:`save_csv`:
``stamp_ns, state, <joint names>, solve_time_s, residual_m``) or a rosbag2 holding the
``sensor_msgs/msg/JointState`` topic the node publishes (:func:`write_bag`; bag time = stamp).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rosbags.rosbag2 import Reader, Writer
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.stores import ros2_jazzy as msgs

from hggt_core.io.exports import load_npz
from hggt_core.io.ros_schema import MANO_TOPIC, decode_mano_joint_state
from hggt_core.retarget.hand_frame import FloatArray, HandSide
from hggt_core.retarget.stream import ManoJoints, RetargetStream

JOINT_STATE_TYPE = "sensor_msgs/msg/JointState"
NPZ_FORMAT = "hggt_ros.joint_trajectory/1"
HandFrame = tuple[int, FloatArray | None]
"""(stamp ns, [21, 3] joints or None) of one frameset."""


@dataclass(frozen=True)
class JointTrajectory:
    """Joint targets over time.

    Attributes:
        joint_names: the robot's joints, in column order.
        stamps_ns: [T] frameset stamps (int64 ns).
        positions: [T, J] joint targets (radians or metres).
        states: [T] ``tracking``, ``held`` or ``open`` (:class:`~hggt_core.retarget.stream.
            JointTargets`).
        solve_time_s: [T] solve wall times (s; nan where nothing was solved).
        residual_m: [T] solve residuals (m; nan where nothing was solved).
    """

    joint_names: tuple[str, ...]
    stamps_ns: npt.NDArray[np.int64]
    positions: FloatArray
    states: tuple[str, ...]
    solve_time_s: FloatArray
    residual_m: FloatArray


def retarget_frames(stream: RetargetStream, frames: Iterable[HandFrame]) -> JointTrajectory:
    """Run a stream over frames in order and collect its targets."""
    targets = [stream.update(stamp_ns, joints) for stamp_ns, joints in frames]
    count = len(stream.joint_names)
    nan = float("nan")
    return JointTrajectory(
        joint_names=stream.joint_names,
        stamps_ns=np.array([t.stamp_ns for t in targets], dtype=np.int64),
        positions=np.array([t.positions for t in targets], dtype=np.float64).reshape(-1, count),
        states=tuple(t.state for t in targets),
        solve_time_s=np.array(
            [nan if t.solve_time_s is None else t.solve_time_s for t in targets]
        ),
        residual_m=np.array([nan if t.residual_m is None else t.residual_m for t in targets]),
    )


def hands_from_npz(path: Path, side: HandSide) -> list[HandFrame]:
    """The ``side`` hand per frameset of an ``hggt infer`` results file, by stamp.

    Raises:
        ValueError: not a results file (from :func:`~hggt_core.io.exports.load_npz`).
    """
    results = load_npz(path)
    joints = {
        r.stamp_ns: np.asarray(r.joints, dtype=np.float64) for r in results if r.side == side
    }
    return [(stamp, joints.get(stamp)) for stamp in sorted({r.stamp_ns for r in results})]


def hands_from_bag(
    path: Path, side: HandSide, mano: ManoJoints, min_score: float = 0.0, topic: str = MANO_TOPIC
) -> Iterator[HandFrame]:
    """The ``side`` hand of every ``/hand/mano`` message of a rosbag2, in bag order.

    Args:
        path: rosbag2 directory or file.
        side: the hand to follow.
        mano: poses the decoded parameters.
        min_score: hands scored below this count as missing.
        topic: the JointState topic.

    Raises:
        ValueError: no such bag, or it lacks ``topic`` (the message lists its topics).
    """
    if not Path(path).exists():
        raise ValueError(f"no rosbag2 at {path}")
    typestore = get_typestore(Stores.ROS2_JAZZY)
    with Reader(path) as reader:
        connections = [c for c in reader.connections if c.topic == topic]
        if not connections:
            topics = sorted({c.topic for c in reader.connections})
            raise ValueError(f"{path} has no {topic} topic; it has {topics}")
        for connection, _, raw in reader.messages(connections=connections):
            message = typestore.deserialize_cdr(raw, connection.msgtype)
            if not isinstance(message, msgs.sensor_msgs__msg__JointState):
                raise ValueError(f"{topic} in {path} is {connection.msgtype}, not JointState")
            stamp_ns = message.header.stamp.sec * 1_000_000_000 + message.header.stamp.nanosec
            hand = decode_mano_joint_state(list(message.name), list(message.position)).get(side)
            present = hand is not None and hand.score >= min_score
            yield stamp_ns, mano(side, hand) if present and hand is not None else None


def save_npz(path: Path, trajectory: JointTrajectory) -> None:
    """Write the trajectory as an uncompressed ``.npz``.

    Keys: ``format``, ``joint_names`` [J], ``stamps_ns`` [T], ``positions`` [T, J],
    ``states`` [T], ``solve_time_s`` [T], ``residual_m`` [T].
    """
    with Path(path).open("wb") as stream:
        np.savez(
            stream,
            allow_pickle=False,
            format=np.array(NPZ_FORMAT),
            joint_names=np.array(trajectory.joint_names, dtype=str),
            stamps_ns=trajectory.stamps_ns,
            positions=trajectory.positions,
            states=np.array(trajectory.states, dtype="U8"),
            solve_time_s=trajectory.solve_time_s,
            residual_m=trajectory.residual_m,
        )


def save_csv(path: Path, trajectory: JointTrajectory) -> None:
    """Write one row per frameset: stamp_ns, state, the joints, solve_time_s, residual_m."""
    with Path(path).open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            ["stamp_ns", "state", *trajectory.joint_names, "solve_time_s", "residual_m"]
        )
        for row in range(len(trajectory.stamps_ns)):
            writer.writerow(
                [
                    int(trajectory.stamps_ns[row]),
                    trajectory.states[row],
                    *(f"{value:.9g}" for value in trajectory.positions[row]),
                    *(
                        _number(array[row])
                        for array in (trajectory.solve_time_s, trajectory.residual_m)
                    ),
                ]
            )


def _number(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6g}"


def write_bag(path: Path, trajectory: JointTrajectory, topic: str) -> None:
    """Write the trajectory as ``sensor_msgs/msg/JointState`` messages on ``topic``.

    Raises:
        ValueError: ``path`` exists.
    """
    if Path(path).exists():
        raise ValueError(f"{path} exists; choose another output bag")
    typestore = get_typestore(Stores.ROS2_JAZZY)
    with Writer(path, version=8) as writer:
        connection = writer.add_connection(topic, JOINT_STATE_TYPE, typestore=typestore)
        for row, stamp_ns in enumerate(trajectory.stamps_ns.tolist()):
            sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
            message = msgs.sensor_msgs__msg__JointState(
                header=msgs.std_msgs__msg__Header(
                    msgs.builtin_interfaces__msg__Time(sec, nanosec), ""
                ),
                name=list(trajectory.joint_names),
                position=trajectory.positions[row].astype(np.float64),
                velocity=np.zeros(0),
                effort=np.zeros(0),
            )
            writer.write(
                connection, int(stamp_ns), typestore.serialize_cdr(message, JOINT_STATE_TYPE)
            )
