# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""CalibratedRun: known K for the views, hands in the world, the run's one-line summary."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from hggt_core.calibration import Calibration, KnownCamera
from hggt_core.cli.calibrated import CalibratedRun, per_result_alignments
from hggt_core.pipeline.types import CropTransform, FrameSet, HandResult, View, ViewCamera

K = np.array([[300.0, 0.0, 50.0], [0.0, 300.0, 40.0], [0.0, 0.0, 1.0]])
CAM1_FROM_REF = np.array(
    [[1.0, 0.0, 0.0, -0.2], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)


def _hand(views: tuple[str, ...]) -> HandResult:
    transforms = {"/a/image": np.eye(4), "/b/image": CAM1_FROM_REF}
    crop = CropTransform(0.0, 0.0, 1.0, 100)
    cameras = tuple(ViewCamera(v, K, transforms[v], np.zeros((21, 2)), crop) for v in views)
    return HandResult(
        stamp_ns=0, side="right", score=0.8, hand_pose=np.zeros(48), betas=np.zeros(10),
        transl=np.zeros(3), vertices=np.zeros((778, 3)), joints=np.full((21, 3), 0.5),
        joint_rotations=np.tile(np.eye(3), (21, 1, 1)), cameras=cameras, views_used=views,
    )  # fmt: skip


def _frameset(*names: str) -> FrameSet:
    image = np.zeros((80, 100, 3), np.uint8)
    return FrameSet(0, tuple(View(name, 0, image) for name in names))


def test_cameras_named_by_frame_id_fill_k_and_align_and_the_run_is_summed_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world_from_a = np.eye(4)
    world_from_a[:3, 3] = [1.0, 2.0, 3.0]
    calibration = Calibration(
        "base_link",
        {
            "a_optical": KnownCamera("a_optical", world_from_a, 2 * K),
            "gone": KnownCamera("gone", np.eye(4)),
        },
    )
    frame_ids = {"/a/image": "a_optical", "/b/image": "b_optical"}
    with caplog.at_level(logging.WARNING):
        run = CalibratedRun(calibration, frame_ids)
    assert "calibration cameras gone match no input view" in caplog.text  # at once
    [frameset] = run.framesets([_frameset("/a/image", "/b/image")])
    np.testing.assert_array_equal(frameset.views[0].intrinsics, 2 * K)
    assert frameset.views[1].intrinsics is None
    # The known extrinsics too (the landmark engine triangulates with them).
    np.testing.assert_allclose(frameset.views[0].cam_from_world @ world_from_a, np.eye(4))
    assert frameset.views[1].cam_from_world is None
    placed = run.express(frameset, [_hand(("/a/image", "/b/image"))])
    assert placed.world_frame == "base_link"
    np.testing.assert_allclose(placed.results[0].joints[0], [1.5, 2.5, 3.5])
    assert per_result_alignments(placed) == (placed.alignment,)
    unseen = run.express(_frameset("/b/image"), [_hand(("/b/image",))])
    assert per_result_alignments(unseen) == (None,) and unseen.world_frame is None
    assert run.summary() == (
        "  calibration: world frame 'base_link': 1 framesets aligned on cameras /a/image, "
        "scale 1.0000, residual 0.0 mm / 0.00 deg (medians); 1 framesets not aligned (no "
        "known camera seen): results stay in camera b_optical frame"
    )


def test_without_a_calibration_everything_passes_through() -> None:
    run = CalibratedRun(None)
    frameset = _frameset("a")
    assert list(run.framesets([frameset])) == [frameset] and run.world_frame is None
    hands = [_hand(("/a/image",))]
    placed = run.express(frameset, hands)
    assert placed.results == hands and placed.alignment is None and run.summary() is None
