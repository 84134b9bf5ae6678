# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Write hand results to a rosbag2 with exactly the node's topics and types.

Topics (contents in :mod:`hggt_core.io.ros_schema` and :mod:`hggt_core.io.ros_markers`):

* ``/hand/mano`` ``sensor_msgs/msg/JointState``: one message per frameset, with no names
  when no hand was found (a heartbeat a planner can rely on);
* ``/hand/right/joints``, ``/hand/left/joints`` ``geometry_msgs/msg/PoseArray``: per hand;
* ``/hand/markers`` ``visualization_msgs/msg/MarkerArray``: per frameset with hands;
* ``/tf`` ``tf2_msgs/msg/TFMessage``: per frameset with hands, the estimated cameras of the
  best-scoring hand and optional hand frames.

With a calibration (``hggt bag --calibration``) the results arrive in its world frame and
every frame id above is the world frame, the cameras on ``/tf`` its children.

What each frameset produces (topics, hand order, frames, which cameras) is decided once, for
the node too, by :func:`hggt_core.io.output_plan.plan_outputs`; this sink only serialises
and writes it. Every header stamp is the frameset's reference stamp, exact to the nanosecond
(stamps travel as integer nanoseconds from the source), and the bag timestamp is that stamp,
so ``ros2 bag play`` replays the results at the pace of the input. Messages are
serialised with the rosbags ROS 2 Jazzy type store (type hashes and definitions in the bag),
the markers by :mod:`hggt_core.io.marker_cdr`; metadata version 8 by default, which Iron,
Jazzy and later read (9 optional).

The bag is written into a hidden temporary directory beside the output and renamed into
place by :meth:`RosbagSink.close`, so an interrupted run never leaves a half-written bag.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability
from rosbags.interfaces import QosTime as _QosTime
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.stores import ros2_jazzy as msgs

from hggt_core.base.closeable import AllOrNothing
from hggt_core.io import ros_schema
from hggt_core.io.marker_cdr import marker_array_cdr
from hggt_core.io.output_plan import (
    JointsContent,
    OutputConfig,
    OutputPlan,
    output_topics,
    plan_outputs,
)
from hggt_core.io.ros_schema import TransformSpec
from hggt_core.pipeline.types import NS_PER_S, FrameSet, HandResult

if TYPE_CHECKING:
    from rosbags.interfaces import Connection

_INFINITE = _QosTime(2147483647, 4294967295)  # how rosbag2 records rmw's infinite durations


class RosbagSinkError(ValueError):
    """The output bag cannot be written as asked (exists, bad storage, bad results)."""


def _qos(depth: int) -> Qos:
    """Reliable, volatile, keep-last ``depth``: what the node's publishers offer."""
    return Qos(
        QosHistory.KEEP_LAST, depth, QosReliability.RELIABLE, QosDurability.VOLATILE,
        _INFINITE, _INFINITE, QosLiveliness.AUTOMATIC, _INFINITE, False,
    )  # fmt: skip


@dataclass(frozen=True)
class RosbagSinkConfig:
    """Output bag settings.

    Attributes:
        storage: ``"sqlite3"`` (``.db3``, the rosbag2 default) or ``"mcap"``.
        version: rosbag2 metadata version, 8 (Iron and later) or 9 (Jazzy and later).
        overwrite: replace an existing bag at the output path (never anything else).
        output: what each frameset produces (the node's topics and switches).
    """

    storage: Literal["sqlite3", "mcap"] = "sqlite3"
    version: Literal[8, 9] = 8
    overwrite: bool = False
    output: OutputConfig = field(default_factory=OutputConfig)


def _time(stamp_ns: int) -> msgs.builtin_interfaces__msg__Time:
    sec, nanosec = divmod(stamp_ns, NS_PER_S)
    return msgs.builtin_interfaces__msg__Time(sec, nanosec)


def _header(stamp_ns: int, frame_id: str) -> msgs.std_msgs__msg__Header:
    return msgs.std_msgs__msg__Header(_time(stamp_ns), frame_id)


def _transform(spec: TransformSpec) -> msgs.geometry_msgs__msg__TransformStamped:
    return msgs.geometry_msgs__msg__TransformStamped(
        header=_header(spec.stamp_ns, spec.parent),
        child_frame_id=spec.child,
        transform=msgs.geometry_msgs__msg__Transform(
            msgs.geometry_msgs__msg__Vector3(*spec.translation.tolist()),
            msgs.geometry_msgs__msg__Quaternion(*spec.quaternion_xyzw.tolist()),
        ),
    )


def _pose_array(joints: JointsContent, stamp_ns: int) -> msgs.geometry_msgs__msg__PoseArray:
    return msgs.geometry_msgs__msg__PoseArray(
        header=_header(stamp_ns, joints.frame_id),
        poses=[
            msgs.geometry_msgs__msg__Pose(
                msgs.geometry_msgs__msg__Point(*row[:3]),
                msgs.geometry_msgs__msg__Quaternion(*row[3:]),
            )
            for row in joints.poses.tolist()
        ],
    )


class RosbagSink(AllOrNothing):
    """Writes one frameset's hand results at a time; use as a context manager.

    Example:
        >>> with RosbagSink("out_bag", faces, source.frame_ids) as sink:  # doctest: +SKIP
        ...     for frameset in source:
        ...         sink.write(frameset, predictor(frameset))
    """

    def __init__(
        self,
        path: str | Path,
        faces: npt.NDArray[np.integer],
        frame_ids: Mapping[str, str] | None = None,
        config: RosbagSinkConfig | None = None,
    ) -> None:
        """Check the output path and open the bag in a temporary directory beside it.

        Args:
            path: the output bag directory (created by :meth:`close`).
            faces: [1538, 3] MANO triangles for the mesh markers (both sides).
            frame_ids: view name -> its camera's optical frame id (e.g.
                ``RosbagSource.frame_ids``); views not given use their name without leading
                slashes.
            config: settings; the :class:`RosbagSinkConfig` defaults when None.

        Raises:
            RosbagSinkError: the output exists and ``overwrite`` is off, or it exists and is
                not a rosbag2 directory, or an unknown storage / version.
        """
        self._config = RosbagSinkConfig() if config is None else config
        self._path = Path(path)
        self._faces = {side: np.asarray(faces) for side in ros_schema.HAND_SIDES}
        self._frame_ids = {} if frame_ids is None else dict(frame_ids)
        storage = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}
        if self._config.storage not in storage or self._config.version not in (8, 9):
            raise RosbagSinkError(
                f"unsupported storage {self._config.storage!r} / version {self._config.version}"
                "; use sqlite3 or mcap, version 8 or 9"
            )
        self._check_destination()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._tmpdir = Path(tempfile.mkdtemp(prefix=f".{self._path.name}.", dir=self._path.parent))
        self._typestore = get_typestore(Stores.ROS2_JAZZY)
        self._writer = Writer(
            self._tmpdir / self._path.name,
            version=self._config.version,
            storage_plugin=storage[self._config.storage],
        )
        self._writer.open()
        self._closed = False
        self._connections: dict[str, Connection] = {}
        for spec in output_topics(self._config.output):
            self._connections[spec.topic] = self._writer.add_connection(
                spec.topic,
                spec.msgtype,
                typestore=self._typestore,
                offered_qos_profiles=[_qos(spec.depth)],
            )
        self.message_counts = dict.fromkeys(self._connections, 0)
        """Messages written so far per topic."""

    @property
    def path(self) -> Path:
        """The final output path."""
        return self._path

    def _check_destination(self) -> None:
        if not self._path.exists():
            return
        if not self._config.overwrite:
            raise RosbagSinkError(f"{self._path} exists; choose another output or overwrite it")
        is_bag = (self._path / "metadata.yaml").is_file()
        if not self._path.is_dir() or not (is_bag or not any(self._path.iterdir())):
            raise RosbagSinkError(f"{self._path} exists and is not a rosbag2; not replacing it")

    def write(
        self,
        frameset: FrameSet,
        results: Sequence[HandResult],
        world_frame: str | None = None,
    ) -> None:
        """Write the messages of one frameset (every header stamped with its stamp).

        Args:
            frameset: the input frameset (its stamp, reference view and image sizes).
            results: its hands, at most one per side, each stamped with ``frameset.stamp_ns``.
            world_frame: the calibration's world frame when ``results`` are in it
                (:func:`hggt_core.calibration.express_in_world`): every frame id is then the
                world frame and the estimated cameras hang from it; None: camera frames.

        Raises:
            RosbagSinkError: the sink is closed, a result's stamp differs from the
                frameset's, or two results have the same side.
        """
        if self._closed:
            raise RosbagSinkError(f"{self._path} is already closed")
        stamp_ns = frameset.stamp_ns
        if any(result.stamp_ns != stamp_ns for result in results):
            stamps = [result.stamp_ns for result in results]
            raise RosbagSinkError(
                f"result stamps {stamps} ns differ from the frameset's {stamp_ns} ns"
            )
        try:
            plan = plan_outputs(
                frameset, results, self._frame_ids, self._config.output, self._faces, world_frame
            )
        except ValueError as error:
            raise RosbagSinkError(str(error)) from None
        self._write_plan(plan)

    def _write_plan(self, plan: OutputPlan) -> None:
        stamp_ns = plan.stamp_ns
        if plan.mano is not None:
            mano = plan.mano
            joint_state = msgs.sensor_msgs__msg__JointState(
                _header(stamp_ns, mano.frame_id),
                mano.names,
                np.array(mano.positions, dtype=np.float64),
                np.zeros(0),
                np.zeros(0),
            )
            self._put(ros_schema.MANO_TOPIC, joint_state, stamp_ns)
        for side, joints in plan.joints.items():
            self._put(ros_schema.joints_topic(side), _pose_array(joints, stamp_ns), stamp_ns)
        if plan.markers:
            self._put(ros_schema.MARKERS_TOPIC, marker_array_cdr(plan.markers), stamp_ns)
        if plan.hand_count and self._config.output.tf:
            transforms = [_transform(spec) for spec in plan.cameras + plan.hand_frames]
            self._put(ros_schema.TF_TOPIC, msgs.tf2_msgs__msg__TFMessage(transforms), stamp_ns)

    def _put(self, topic: str, message: object, stamp_ns: int) -> None:
        """Write a message object, or a message already serialised (bytes), on ``topic``."""
        connection = self._connections[topic]
        data = (
            message
            if isinstance(message, bytes)
            else self._typestore.serialize_cdr(message, connection.msgtype)
        )
        self._writer.write(connection, stamp_ns, data)
        self.message_counts[topic] += 1

    def close(self) -> Path:
        """Finish the bag and move it to the output path (replacing an old one if allowed).

        Returns:
            The output path.
        """
        if self._closed:
            return self._path
        self._closed = True
        try:
            self._writer.close()
            if self._path.exists():
                self._check_destination()
                shutil.rmtree(self._path)
            (self._tmpdir / self._path.name).rename(self._path)
        finally:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        return self._path

    def abort(self) -> None:
        """Discard everything written; the output path is left untouched."""
        if self._closed:
            return
        self._closed = True
        self._writer.abort()
        shutil.rmtree(self._tmpdir, ignore_errors=True)
