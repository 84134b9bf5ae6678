# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's camera frames without ROS: steady /tf, one whole /tf_static list, anchor, reset."""

from __future__ import annotations

import math

import numpy as np

from hggt_core.io.ros_schema import TransformSpec
from hggt_core.pipeline.camera_average import AverageConfig
from hggt_core.pipeline.steady_cameras import SteadyCamerasConfig
from hggt_ros.camera_frames import CameraFrames
from hggt_ros.robot_params import Anchor

PERIOD_NS = 100_000_000
ANCHOR = Anchor("wrist_link", (0.0, 0.05, 0.1), (0.0, 0.0, 0.0, 1.0))
FREEZE = SteadyCamerasConfig(average=AverageConfig(window=3), freeze=True, move_framesets=2)


def _camera(x_m: float, parent: str = "cam0_optical", child: str = "hggt/cam1") -> TransformSpec:
    quaternion = np.array([0.0, 0.0, math.sin(0.05), math.cos(0.05)])
    return TransformSpec(parent, child, 0, np.array([x_m, 0.0, 0.0]), quaternion)


class _Published:
    """Records every /tf_static list (as (parent, child) pairs)."""

    def __init__(self) -> None:
        self.lists: list[list[tuple[str, str]]] = []

    def __call__(self, specs: list[TransformSpec]) -> None:
        self.lists.append([(spec.parent, spec.child) for spec in specs])


def test_the_anchor_goes_on_tf_static_once_the_reference_frame_is_known() -> None:
    published = _Published()
    frames = CameraFrames(None, True, ANCHOR, published)
    frames.set_reference("cam0_optical", 5)
    frames.set_reference("cam0_optical", 6)  # unchanged: not published again
    assert published.lists == [[("wrist_link", "cam0_optical")]]
    (anchor,) = frames.static
    assert anchor.stamp_ns == 5
    np.testing.assert_allclose(anchor.translation, [0.0, 0.05, 0.1])
    frames.set_reference("cam0_other", 7)
    assert published.lists[-1] == [("wrist_link", "cam0_other")]
    loose = _Published()  # an anchor without a pose: the user's TF connects the frames
    CameraFrames(None, True, Anchor("wrist_link", None, None), loose).set_reference("c", 1)
    assert loose.lists == []


def test_fixed_cameras_freeze_and_every_static_list_carries_the_anchor() -> None:
    published = _Published()
    frames = CameraFrames(FREEZE, True, ANCHOR, published)
    frames.set_reference("cam0_optical", 0)
    for step, x_m in enumerate((0.500, 0.504)):
        update = frames.update([_camera(x_m)], "cam0_optical", step * PERIOD_NS)
        assert [spec.child for spec in update.dynamic] == ["hggt/cam1"]  # filtered, on /tf
    update = frames.update([_camera(0.502)], "cam0_optical", 2 * PERIOD_NS)
    assert update.converged == ("hggt/cam1",) and update.dynamic == []
    assert published.lists[-1] == [("wrist_link", "cam0_optical"), ("cam0_optical", "hggt/cam1")]
    np.testing.assert_allclose(frames.static[1].translation, [0.502, 0.0, 0.0], atol=1e-9)
    assert update.log_lines("cam0_optical") == [
        "fixed cameras converged, on /tf_static: ['hggt/cam1']"
    ]
    # Frozen: no /tf estimate, also not a raw one relative to another camera's frame.
    other = _camera(0.9, parent="cam2_optical")
    assert frames.update([_camera(0.502), other], "cam0_optical", 3 * PERIOD_NS).dynamic == []
    # Moved for move_framesets (2) framesets: unfrozen, re-estimated on /tf.
    assert frames.update([_camera(0.7)], "cam0_optical", 4 * PERIOD_NS).moved == ()
    moved = frames.update([_camera(0.7)], "cam0_optical", 5 * PERIOD_NS)
    assert moved.moved == ("hggt/cam1",) and len(moved.dynamic) == 1
    assert published.lists[-1] == [("wrist_link", "cam0_optical")]


def test_reset_republishes_the_list_without_frozen_cameras() -> None:
    published = _Published()
    frames = CameraFrames(FREEZE, True, ANCHOR, published)
    frames.set_reference("cam0_optical", 0)
    for step in range(3):
        frames.update([_camera(0.5)], "cam0_optical", step * PERIOD_NS)
    assert len(frames.static) == 2
    assert frames.reset() == 1
    assert published.lists[-1] == [("wrist_link", "cam0_optical")]
    assert frames.reset() == 0
    for step in range(3, 6):  # re-estimated, then frozen again
        update = frames.update([_camera(0.6)], "cam0_optical", step * PERIOD_NS)
    assert update.converged == ("hggt/cam1",)
    assert published.lists[-1] == [("wrist_link", "cam0_optical"), ("cam0_optical", "hggt/cam1")]


def test_raw_or_filtered_estimates_and_a_new_home_frame() -> None:
    raw = CameraFrames(SteadyCamerasConfig(), False, None, _Published())
    first = _camera(0.5)
    assert raw.update([first], "cam0_optical", 0).dynamic == [first]
    jump = _camera(0.9)
    assert raw.update([jump], "cam0_optical", PERIOD_NS).dynamic == [jump]  # unfiltered
    smooth = CameraFrames(SteadyCamerasConfig(), True, None, _Published())
    smooth.update([first], "cam0_optical", 0)
    (filtered,) = smooth.update([jump], "cam0_optical", PERIOD_NS).dynamic
    assert 0.5 < filtered.translation[0] < 0.9 and filtered.parent == "cam0_optical"
    # Once the world is reached the cameras hang from it: the steady frames restart.
    in_world = _camera(0.2, parent="world")
    update = smooth.update([in_world], "world", 2 * PERIOD_NS)
    assert update.restarted and update.dynamic[0].parent == "world"
    np.testing.assert_allclose(update.dynamic[0].translation, [0.2, 0.0, 0.0])
    assert update.log_lines("world")[0].startswith("estimated cameras now hang from world")
    passthrough = CameraFrames(None, True, None, _Published())
    assert passthrough.update([first, jump], "cam0_optical", 0).dynamic == [first, jump]
