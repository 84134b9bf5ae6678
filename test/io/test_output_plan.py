# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The output plan: topics, hand order, frames and the cameras for /tf, decided once."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hggt_core.calibration import Calibration, KnownCamera, express_in_world
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.io.output_plan import OutputConfig, frame_of, output_topics, plan_outputs
from hggt_core.io.ros_markers import MarkerStyle
from hggt_core.io.ros_schema import mano_joint_names
from hggt_core.pipeline.types import FrameSet, HandResult, View

MakeHandResult = Callable[..., HandResult]
STAMP_NS = 12_500_000_000
FRAME_IDS = {"cam0": "cam0_optical", "cam1": "cam1_optical"}
FACES = {"right": np.zeros((4, 3), np.int64), "left": np.ones((4, 3), np.int64)}


def _frameset() -> FrameSet:
    image = np.zeros((120, 160, 3), np.uint8)
    return FrameSet(STAMP_NS, tuple(View(n, STAMP_NS, image) for n in ("cam0", "cam1", "/cam2")))


def test_plan_sorts_hands_frames_them_by_reference_view_and_takes_the_best_cameras(
    make_hand_result: MakeHandResult,
) -> None:
    left = make_hand_result("left", views=("cam1", "/cam2"), score=0.9)
    right = make_hand_result("right", seed=1, views=("cam0", "cam1", "/cam2"), score=0.5)
    config = OutputConfig(hand_frame_prefix="h/", all_hand_joints=True)
    plan = plan_outputs(_frameset(), [left, right], FRAME_IDS, config, FACES)
    assert (plan.stamp_ns, plan.hand_count) == (STAMP_NS, 2)
    assert plan.mano is not None and plan.mano.frame_id == "cam0_optical"  # right hand first
    assert plan.mano.names == mano_joint_names("right") + mano_joint_names("left")
    assert list(plan.joints) == ["right", "left"]
    assert plan.joints["left"].frame_id == "cam1_optical"
    assert plan.joints["right"].poses.shape == (21, 7)
    # Markers: 3 per hand + one frustum per camera; each in its hand's frame.
    assert len(plan.markers) == (3 + 3) + (3 + 2)
    assert {(m.frame_id, m.ns) for m in plan.markers if m.ns.endswith("mesh")} == {
        ("cam0_optical", "right_mesh"), ("cam1_optical", "left_mesh")
    }  # fmt: skip
    # /tf: the left hand scores best, so its cameras, relative to its reference view (cam1);
    # /cam2 has no frame id and uses its name without the leading slash.
    assert plan.cameras_view == "cam1"
    assert [(c.parent, c.child) for c in plan.cameras] == [
        ("cam1_optical", "hggt/cam1_optical"), ("cam1_optical", "hggt/cam2")
    ]  # fmt: skip
    assert len(plan.hand_frames) == 2 * 21
    assert {t.parent for t in plan.hand_frames} == {"cam0_optical", "cam1_optical"}
    assert all(t.stamp_ns == STAMP_NS for t in plan.cameras + plan.hand_frames)


def test_switches_and_the_hand_less_heartbeat(make_hand_result: MakeHandResult) -> None:
    empty = plan_outputs(_frameset(), [], FRAME_IDS, OutputConfig(), FACES)
    assert empty.mano is not None and (empty.mano.frame_id, empty.mano.names) == (
        "cam0_optical",
        [],
    )
    assert (empty.joints, empty.markers, empty.cameras, empty.hand_frames) == ({}, [], [], [])
    assert empty.cameras_view is None and empty.hand_count == 0
    off = OutputConfig(mano=False, joints=False, markers=None, tf=False, hand_frame_prefix="h/")
    hand = make_hand_result("right", views=("cam0",))
    plan = plan_outputs(_frameset(), [hand], FRAME_IDS, off, FACES)
    assert (plan.mano, plan.joints, plan.markers, plan.cameras, plan.hand_frames) == (
        None, {}, [], [], []
    )  # fmt: skip
    assert plan.hand_count == 1


def test_two_hands_of_one_side_are_refused(make_hand_result: MakeHandResult) -> None:
    hands = [make_hand_result("right"), make_hand_result("right", seed=1)]
    with pytest.raises(ValueError, match="at most one hand per side"):
        plan_outputs(_frameset(), hands, FRAME_IDS, OutputConfig(), FACES)


def test_output_topics_follow_the_switches() -> None:
    every = [(t.topic, t.msgtype, t.depth) for t in output_topics(OutputConfig())]
    assert every == [
        ("/hand/mano", "sensor_msgs/msg/JointState", 10),
        ("/hand/right/joints", "geometry_msgs/msg/PoseArray", 10),
        ("/hand/left/joints", "geometry_msgs/msg/PoseArray", 10),
        ("/hand/markers", "visualization_msgs/msg/MarkerArray", 10),
        ("/tf", "tf2_msgs/msg/TFMessage", 100),
    ]
    some = output_topics(OutputConfig(joints=False, markers=None, tf=False))
    assert [t.topic for t in some] == ["/hand/mano"]
    assert OutputConfig().markers == MarkerStyle()
    assert (frame_of("/rig/cam1", {}), frame_of("cam0", FRAME_IDS)) == ("rig/cam1", "cam0_optical")


def test_in_a_world_frame_every_frame_id_is_the_world_and_cameras_hang_from_it(
    make_hand_result: MakeHandResult,
) -> None:
    hand = make_hand_result("right", views=("cam0", "cam1", "/cam2"))
    world_from_ref = np.eye(4)
    world_from_ref[:3, :3] = [[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]
    world_from_ref[:3, 3] = [0.4, -0.1, 0.7]
    world_from_cam = {c.name: world_from_ref @ invert_rigid(c.cam_from_ref) for c in hand.cameras}
    calibration = Calibration(
        "base_link", {n: KnownCamera(n, world_from_cam[n]) for n in ("cam0", "cam1")}
    )
    placed = express_in_world([hand], calibration)
    config = OutputConfig(hand_frame_prefix="h/")
    plan = plan_outputs(_frameset(), placed.results, FRAME_IDS, config, FACES, "base_link")
    assert plan.world_frame == "base_link"
    assert plan.mano is not None and plan.mano.frame_id == "base_link"
    assert plan.joints["right"].frame_id == "base_link"
    assert (
        {m.frame_id for m in plan.markers} == {t.parent for t in plan.hand_frames} == {"base_link"}
    )
    world_joints = hand.joints @ world_from_ref[:3, :3].T + world_from_ref[:3, 3]
    np.testing.assert_allclose(plan.joints["right"].poses[:, :3], world_joints, atol=1e-9)
    # /tf: the estimated cameras (unknown /cam2 too) are children of the world frame, where
    # the calibration puts them.
    assert [(c.parent, c.child) for c in plan.cameras] == [
        ("base_link", "hggt/cam0_optical"), ("base_link", "hggt/cam1_optical"),
        ("base_link", "hggt/cam2"),
    ]  # fmt: skip
    for spec, name in zip(plan.cameras, ("cam0", "cam1", "/cam2"), strict=True):
        np.testing.assert_allclose(spec.translation, world_from_cam[name][:3, 3], atol=1e-9)
    # The frusta (drawn from cam_from_ref, now cam_from_world) start at the world centres.
    frusta = [m for m in plan.markers if m.ns == "right_cameras"]
    for marker, name in zip(frusta, ("cam0", "cam1", "/cam2"), strict=True):
        np.testing.assert_allclose(marker.points[0], world_from_cam[name][:3, 3], atol=1e-9)
        depth = (invert_rigid(world_from_cam[name]) @ np.append(marker.points[1], 1.0))[2]
        assert depth == pytest.approx(MarkerStyle().frustum_depth_m)
    heartbeat = plan_outputs(_frameset(), [], FRAME_IDS, config, FACES, "base_link")
    assert heartbeat.mano is not None and heartbeat.mano.frame_id == "base_link"
    assert plan_outputs(_frameset(), [hand], FRAME_IDS, config, FACES).world_frame is None
