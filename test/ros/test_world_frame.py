# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's calibrated world without ROS: TF feed, known cameras, alignment, diagnostics."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from hggt_core.calibration.rig import Calibration, KnownCamera
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.pipeline.types import CropTransform, HandResult, ViewCamera
from hggt_ros.health import Health
from hggt_ros.robot_params import CalibrationSettings
from hggt_ros.world_frame import WorldFrame, WorldOutcome, world_health

FRAMES = {"cam0": "cam0_optical", "cam1": "cam1_optical"}
K = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])
SCALE = 0.8
"""The estimate's scale: 0.8 times the world's."""


def _yaw(angle_rad: float, shift: tuple[float, float, float]) -> np.ndarray:
    transform = np.eye(4)
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    transform[:3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
    transform[:3, 3] = shift
    return transform


WORLD_FROM_CAM = {"cam0": _yaw(0.3, (0.5, -0.4, 0.6)), "cam1": _yaw(-0.4, (0.1, 0.3, 0.7))}


def _hand() -> HandResult:
    """A right hand 0.4 m in front of camera 0, estimated at 0.8 times the true scale."""
    ref_from_world = invert_rigid(WORLD_FROM_CAM["cam0"])
    cameras = []
    for name, world_from_cam in WORLD_FROM_CAM.items():
        cam_from_ref = invert_rigid(ref_from_world @ world_from_cam)
        cam_from_ref[:3, 3] *= SCALE
        crop = CropTransform(0.0, 0.0, 1.0, 224)
        cameras.append(ViewCamera(name, K, cam_from_ref, np.zeros((21, 2)), crop))
    joints = np.tile([0.0, 0.0, 0.4 * SCALE], (21, 1))
    return HandResult(
        stamp_ns=7, side="right", score=0.9, hand_pose=np.zeros(48), betas=np.zeros(10),
        transl=np.zeros(3), vertices=np.tile(joints[0], (778, 1)), joints=joints,
        joint_rotations=np.tile(np.eye(3), (21, 1, 1)), cameras=tuple(cameras),
        views_used=("cam0", "cam1"),
    )  # fmt: skip


def _tf_message(*edges: tuple[str, str, np.ndarray]) -> Any:
    """A duck-typed tf2_msgs/TFMessage (what the node's callbacks receive)."""
    transforms = []
    for parent, child, parent_from_child in edges:
        x, y, z = parent_from_child[:3, 3]
        yaw = math.atan2(parent_from_child[1, 0], parent_from_child[0, 0])
        rotation = SimpleNamespace(x=0.0, y=0.0, z=math.sin(yaw / 2), w=math.cos(yaw / 2))
        transforms.append(
            SimpleNamespace(
                header=SimpleNamespace(frame_id=parent),
                child_frame_id=child,
                transform=SimpleNamespace(
                    translation=SimpleNamespace(x=x, y=y, z=z), rotation=rotation
                ),
            )
        )
    return SimpleNamespace(transforms=transforms)


def _tf_world(from_tf: bool = True, calibration: Calibration | None = None) -> WorldFrame:
    settings = CalibrationSettings("world", calibration, from_tf)
    return WorldFrame(settings, ("hggt/", "hands/"))


def _camera_edges() -> tuple[tuple[str, str, np.ndarray], ...]:
    return tuple(("world", FRAMES[name], pose) for name, pose in WORLD_FROM_CAM.items())


def _express(world: WorldFrame, results: list[Any]) -> WorldOutcome:
    return world.express(results, world.known_cameras(FRAMES))


def test_two_cameras_from_tf_put_the_hand_in_the_world_at_metric_scale() -> None:
    world = _tf_world()
    # The node's own frames (its prefixes) never feed back, whatever they claim.
    own = ("world", "hggt/cam1_optical", np.eye(4))
    assert world.add_message(_tf_message(*_camera_edges(), own), static=True) == []
    outcome = _express(world, [_hand()])
    assert outcome.world_frame == "world" and outcome.problem == ""
    assert outcome.known == ("cam0", "cam1")
    assert _express(world, []).world_frame == "world"  # the heartbeat is in the world
    assert outcome.alignment is not None
    assert outcome.alignment.scale == pytest.approx(1 / SCALE, rel=1e-6)
    assert outcome.alignment.residual_m == pytest.approx(0.0, abs=1e-9)
    # Joints 0.4 m in front of camera 0 (estimated 0.32 m) land 0.4 m in front of it.
    expected = WORLD_FROM_CAM["cam0"] @ [0.0, 0.0, 0.4, 1.0]
    np.testing.assert_allclose(outcome.results[0].joints[0], expected[:3], atol=1e-6)
    world_from_cam1 = invert_rigid(outcome.results[0].cameras[1].cam_from_ref)
    np.testing.assert_allclose(world_from_cam1, WORLD_FROM_CAM["cam1"], atol=1e-6)


def test_a_disconnected_tree_leaves_the_hands_in_the_camera_frame_saying_why() -> None:
    world = _tf_world()
    world.add_message(_tf_message(("map", "cam0_optical", np.eye(4))), static=False)
    hand = _hand()
    outcome = _express(world, [hand])
    assert outcome.world_frame is None and outcome.alignment is None
    assert outcome.results == [hand] and outcome.known == ()
    assert "no camera frame connects to 'world'" in outcome.problem
    assert "unknown frame 'world'" in outcome.problem and "\n" not in outcome.problem
    world.add_message(_tf_message(("robot", "world", np.eye(4))), static=True)
    outcome = _express(world, [hand])
    assert "'world' and 'cam0_optical' are not connected" in outcome.problem
    no_hand = _express(world, [])  # nothing to align, no warning
    assert no_hand.problem == "" and no_hand.world_frame is None


def test_refused_transforms_are_reported_one_line_each() -> None:
    world = _tf_world()
    message = _tf_message(("world", "cam0_optical", np.eye(4)))
    message.transforms[0].transform.rotation = SimpleNamespace(x=0.0, y=0.0, z=0.0, w=0.0)
    loop = _tf_message(("a", "b", np.eye(4)), ("b", "a", np.eye(4)))
    assert world.add_message(message, static=True) == [
        "transform 'world' -> 'cam0_optical' has no valid rotation"
    ]
    (refused,) = world.add_message(loop, static=False)
    assert "would close a loop" in refused


def test_file_cameras_by_frame_id_and_tf_cameras_are_merged() -> None:
    file = Calibration("world", {"cam1_optical": KnownCamera("c", WORLD_FROM_CAM["cam1"])})
    world = _tf_world(calibration=file)
    world.add_message(_tf_message(_camera_edges()[0]), static=True)
    outcome = _express(world, [_hand()])
    assert outcome.known == ("cam0", "cam1") and outcome.world_frame == "world"
    assert outcome.alignment is not None
    assert outcome.alignment.scale == pytest.approx(1 / SCALE, rel=1e-6)
    only_file = _tf_world(from_tf=False, calibration=file)
    assert not only_file.uses_tf and _express(only_file, [_hand()]).known == ("cam1",)
    stranger = Calibration("world", {"cam9": KnownCamera("cam9", np.eye(4))})
    problem = _express(_tf_world(from_tf=False, calibration=stranger), [_hand()]).problem
    assert problem == "calibration.file names no camera of this node: ['cam9']"


def test_world_health_reports_the_alignment_and_warns_while_not_in_the_world() -> None:
    ok = Health("ok", "3 framesets processed", {"engine": "torch"})
    world = _tf_world()
    world.add_message(_tf_message(*_camera_edges()), static=True)
    aligned = world_health(ok, _express(world, [_hand()]), "world")
    assert (aligned.level, aligned.message) == ("ok", "3 framesets processed")
    values = aligned.values
    assert values["engine"] == "torch" and values["world frame"] == "world"
    assert values["in world frame"] is True and values["cameras known"] == "cam0 cam1"
    assert values["alignment cameras"] == "cam0 cam1"
    assert values["alignment scale"] == pytest.approx(1 / SCALE)
    assert values["alignment residual (m)"] == pytest.approx(0.0, abs=1e-9)
    assert values["alignment residual (deg)"] == pytest.approx(0.0, abs=1e-4)
    lost = world_health(ok, _express(_tf_world(), [_hand()]), "world")
    assert lost.level == "warn" and lost.message.startswith("not in world: no camera frame")
    assert lost.values["alignment"] == "none" and lost.values["cameras known"] == "none"
    assert world_health(ok, None, "world").values["cameras known"] == "none yet"
    error = Health("error", "1 framesets failed", {})
    assert world_health(error, None, "world").level == "error"


def test_known_poses_are_the_cameras_express_aligns_to() -> None:
    file = Calibration("world", {"cam1_optical": KnownCamera("c", WORLD_FROM_CAM["cam1"])})
    world = _tf_world(calibration=file)
    world.add_message(_tf_message(_camera_edges()[0]), static=True)
    known = world.known_cameras(FRAMES)
    poses = known.poses()
    assert sorted(poses) == ["cam0", "cam1"] and known.views == ("cam0", "cam1")
    for name, cam_from_world in poses.items():
        np.testing.assert_allclose(cam_from_world @ WORLD_FROM_CAM[name], np.eye(4), atol=1e-9)
    # One lookup per frameset: TF moving camera 0 later does not change this frameset's.
    world.add_message(_tf_message(("world", "cam0_optical", np.eye(4))), static=True)
    outcome = world.express([_hand()], known)
    assert outcome.alignment is not None
    np.testing.assert_allclose(
        invert_rigid(outcome.results[0].cameras[0].cam_from_ref), WORLD_FROM_CAM["cam0"], atol=1e-6
    )
    assert _tf_world().known_cameras(FRAMES).poses() == {}  # an empty tree knows no camera
