# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The output plan: what one frameset's hands produce on each topic, written once.

The node (``hggt_ros``) and the rosbag2 sink (:mod:`hggt_core.io.rosbag_sink`) both call
:func:`plan_outputs` and only serialise and send what it returns, so the two can never
disagree. The plan decides:

* which topics a frameset produces (:class:`OutputConfig` switches; ``/hand/mano`` goes out
  even without hands, a heartbeat for planners);
* the order of the hands: by side, right first (:data:`~hggt_core.io.ros_schema.HAND_SIDES`);
* the frame of each hand: the optical frame of its reference view
  (``HandResult.views_used[0]``), which is camera 0's unless camera 0 did not see it; a
  hand-less ``/hand/mano`` is in the frame of the frameset's first view;
* the estimated cameras for ``/tf``: those of the best-scoring hand only (two hands would give
  two estimates of the same frames), relative to that hand's reference view;
* with a world frame (``world_frame``: the results were expressed in a calibration's world by
  :func:`hggt_core.calibration.express_in_world`), every frame id above (``/hand/mano``, the
  joints, the markers, the hand frames) is the world frame and the estimated cameras on
  ``/tf`` are children of it (their ``cam_from_ref`` is then ``cam_from_world``).

Topic contents are :mod:`hggt_core.io.ros_schema` and :mod:`hggt_core.io.ros_markers`. To add
an output topic: a switch in :class:`OutputConfig`, an entry in :func:`output_topics`, a
field in :class:`OutputPlan` filled by :func:`plan_outputs`, the topic and its content in
``ros_schema``; the node's conversions and the bag sink serialise a message type they do not
know yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hggt_core.io import ros_markers, ros_schema
from hggt_core.io.ros_markers import MarkerSpec, MarkerStyle
from hggt_core.io.ros_schema import TransformSpec
from hggt_core.pipeline.types import FloatArray, FrameSet, HandResult, HandSide


@dataclass(frozen=True)
class OutputConfig:
    """What a frameset produces; shared by the node (from parameters) and the bag sink.

    Attributes:
        mano: ``/hand/mano`` (``sensor_msgs/JointState``).
        joints: ``/hand/<side>/joints`` (``geometry_msgs/PoseArray``).
        markers: ``/hand/markers`` drawn with this style; None: no markers.
        tf: the estimated cameras (and hand frames, see ``hand_frame_prefix``) on ``/tf``.
        camera_prefix: prepended to camera frame ids on ``/tf`` (``<prefix><frame_id>``), so
            estimates never fight a calibrated TF tree.
        hand_frame_prefix: with ``tf``, ``<prefix><side>_wrist`` on ``/tf``; None: no hand
            frames.
        all_hand_joints: with hand frames, all 21 joint frames instead of the wrist only.
    """

    mano: bool = True
    joints: bool = True
    markers: MarkerStyle | None = field(default_factory=MarkerStyle)
    tf: bool = True
    camera_prefix: str = "hggt/"
    hand_frame_prefix: str | None = None
    all_hand_joints: bool = False


@dataclass(frozen=True)
class TopicSpec:
    """One output topic as publishers and bags offer it (reliable, volatile, keep last).

    Attributes:
        topic: absolute name (the node publishes all but ``/tf`` relative to its namespace).
        msgtype: ROS 2 type name, e.g. ``"sensor_msgs/msg/JointState"``.
        depth: QoS history depth (tf2_ros uses 100 for ``/tf``).
    """

    topic: str
    msgtype: str
    depth: int


def output_topics(config: OutputConfig) -> list[TopicSpec]:
    """The topics a run with ``config`` can produce, in publication order."""
    topics = []
    if config.mano:
        topics.append(TopicSpec(ros_schema.MANO_TOPIC, "sensor_msgs/msg/JointState", 10))
    if config.joints:
        for side in ros_schema.HAND_SIDES:
            topics.append(
                TopicSpec(ros_schema.joints_topic(side), "geometry_msgs/msg/PoseArray", 10)
            )
    if config.markers is not None:
        marker_type = "visualization_msgs/msg/MarkerArray"
        topics.append(TopicSpec(ros_schema.MARKERS_TOPIC, marker_type, 10))
    if config.tf:
        topics.append(TopicSpec(ros_schema.TF_TOPIC, "tf2_msgs/msg/TFMessage", 100))
    return topics


@dataclass(frozen=True)
class ManoContent:
    """One ``/hand/mano`` JointState (:func:`~hggt_core.io.ros_schema.mano_joint_state`).

    Attributes:
        frame_id: header frame id.
        names: 62 names per hand, right first (empty without hands).
        positions: the values, same length as ``names``.
    """

    frame_id: str
    names: list[str]
    positions: list[float]


@dataclass(frozen=True)
class JointsContent:
    """One ``/hand/<side>/joints`` PoseArray.

    Attributes:
        frame_id: header frame id (the hand's reference camera frame).
        poses: [21, 7] OpenPose joints: position (x, y, z, metres) + quaternion (x, y, z, w).
    """

    frame_id: str
    poses: FloatArray


@dataclass(frozen=True)
class OutputPlan:
    """Everything one frameset produces; disabled or empty outputs are None / empty.

    Attributes:
        stamp_ns: every header's stamp: the frameset's reference stamp (integer ns).
        hand_count: hands in the frameset.
        mano: ``/hand/mano``, also without hands; None when switched off.
        joints: side -> ``/hand/<side>/joints``, right first, for the hands found.
        markers: ``/hand/markers`` specs of all hands (empty: nothing to publish).
        cameras: the best-scoring hand's estimated cameras for ``/tf`` (or ``/tf_static``).
        cameras_view: the best hand's reference view, which ``cameras`` are relative to
            without a world frame (with one they hang from it), or None without cameras.
        hand_frames: hand frames for ``/tf``.
        world_frame: the calibration's world frame every frame id above is in, or None when
            the hands are in their reference cameras' frames.
    """

    stamp_ns: int
    hand_count: int
    mano: ManoContent | None
    joints: dict[HandSide, JointsContent]
    markers: list[MarkerSpec]
    cameras: list[TransformSpec]
    cameras_view: str | None
    hand_frames: list[TransformSpec]
    world_frame: str | None = None


def frame_of(view: str, frame_ids: Mapping[str, str]) -> str:
    """A view's optical frame id: ``frame_ids[view]``, else its name without leading slashes."""
    return frame_ids.get(view, view.lstrip("/"))


def plan_outputs(
    frameset: FrameSet,
    results: Sequence[HandResult],
    frame_ids: Mapping[str, str],
    config: OutputConfig,
    faces: Mapping[HandSide, npt.NDArray[np.integer]],
    world_frame: str | None = None,
) -> OutputPlan:
    """The per-topic content of one frameset's hands (at most one per side).

    Args:
        frameset: the input (its stamp, first view and image sizes for the frusta).
        results: its hands, each stamped with ``frameset.stamp_ns``.
        frame_ids: view name -> optical frame id (see :func:`frame_of`).
        config: what to produce.
        faces: side -> [F, 3] MANO triangles of that side's layer (for the mesh marker).
        world_frame: the frame the results are in when they were expressed in a calibrated
            world (:class:`~hggt_core.calibration.WorldResults`' ``world_frame``); None: each
            hand is in its reference view's optical frame.

    Raises:
        ValueError: two results of the same side.
    """
    sides = [result.side for result in results]
    if len(set(sides)) != len(sides):
        raise ValueError(f"at most one hand per side is published, got sides {sides}")
    hands = sorted(results, key=lambda result: ros_schema.HAND_SIDES.index(result.side))
    frames = {hand.side: world_frame or frame_of(hand.views_used[0], frame_ids) for hand in hands}
    mano = None
    if config.mano:
        first = world_frame or (
            frames[hands[0].side] if hands else frame_of(frameset.views[0].name, frame_ids)
        )
        mano = ManoContent(first, *ros_schema.mano_joint_state(hands))
    joints: dict[HandSide, JointsContent] = {}
    if config.joints:
        joints = {
            h.side: JointsContent(frames[h.side], ros_schema.hand_joint_poses(h)) for h in hands
        }
    markers: list[MarkerSpec] = []
    if config.markers is not None:
        sizes = {view.name: (view.image.shape[1], view.image.shape[0]) for view in frameset.views}
        for hand in hands:
            style = config.markers
            markers += ros_markers.hand_markers(
                hand, faces[hand.side], frames[hand.side], style, sizes
            )
    hand_frames: list[TransformSpec] = []
    if config.tf and config.hand_frame_prefix is not None:
        for hand in hands:
            prefix, every = config.hand_frame_prefix, config.all_hand_joints
            hand_frames += ros_schema.hand_transforms(hand, frames[hand.side], prefix, every)
    cameras: list[TransformSpec] = []
    cameras_view = None
    if config.tf and hands:
        best = max(hands, key=lambda hand: hand.score)
        cameras_view = best.views_used[0]
        prefix = config.camera_prefix
        cameras = ros_schema.camera_transforms(best, frames[best.side], prefix, frame_ids)
    return OutputPlan(
        frameset.stamp_ns,
        len(hands),
        mano,
        joints,
        markers,
        cameras,
        cameras_view,
        hand_frames,
        world_frame,
    )
