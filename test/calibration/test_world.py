# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""One frameset's hands in the world frame; calibrations from a TF tree and by frame id."""

import logging

import numpy as np
import pytest
import torch

from hggt_core.calibration import (
    Calibration,
    KnownCamera,
    TransformTree,
    calibration_for_views,
    calibration_from_tree,
    express_in_world,
)
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.geometry.rotations import axis_angle_to_matrix
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import CropTransform, HandResult, HandSide, ViewCamera

NAMES = ("cam0", "cam1", "cam2", "cam3")
K = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])
CROP = CropTransform(0.0, 0.0, 1.0, 224)


def _rigid(axis_angle: list[float], shift: list[float]) -> np.ndarray:
    transform = np.eye(4)
    transform[:3, :3] = axis_angle_to_matrix(torch.tensor(axis_angle, dtype=torch.float64))
    transform[:3, 3] = shift
    return transform


# Four cameras around a workspace near (0.5, 0, 0.3) of a robot's base_link.
WORLD_FROM_CAM = np.stack(
    [
        _rigid([1.9, 0.0, 0.0], [0.5, -0.5, 0.4]),
        _rigid([1.5, 0.9, 0.3], [0.1, -0.2, 0.5]),
        _rigid([-1.8, 0.2, -0.4], [0.6, 0.6, 0.6]),
        _rigid([0.0, 2.6, 0.0], [0.5, 0.1, 0.9]),
    ]
)
SCALE = 0.8
"""The engine's scale error: its reference frame is 0.8 times the world's."""


def _hand(side: HandSide, transl: list[float], score: float) -> tuple[np.ndarray, np.ndarray]:
    """True joints [21, 3] and vertices [778, 3] in camera 0's frame (metres)."""
    layer = ManoLayer(make_synthetic_mano(side)).double()
    with torch.no_grad():
        out = layer.forward_theta(
            torch.from_numpy(np.linspace(-0.3, 0.4, 48)[None] * score),
            torch.zeros(1, 10, dtype=torch.float64),
            torch.tensor([transl], dtype=torch.float64),
        )
    return out.joints[0].numpy(), out.vertices[0].numpy()


def _estimate(
    side: HandSide, transl: list[float], score: float, noise_m: float, seed: int = 0
) -> tuple[HandResult, np.ndarray]:
    """A hand as an engine reports it, and its true joints [21, 3] in the world frame.

    The estimate is ``SCALE`` times the truth, its cameras' centres with ``noise_m`` noise.
    """
    rng = np.random.default_rng(seed)
    joints, vertices = _hand(side, transl, score)
    cam0_from_world = invert_rigid(WORLD_FROM_CAM[0])
    cameras = []
    for name, world_from_cam in zip(NAMES, WORLD_FROM_CAM, strict=True):
        cam_from_ref = invert_rigid(cam0_from_world @ world_from_cam)
        cam_from_ref[:3, 3] = SCALE * cam_from_ref[:3, 3] + rng.normal(scale=noise_m, size=3)
        cameras.append(ViewCamera(name, K, cam_from_ref, np.zeros((21, 2)), CROP))
    estimate = HandResult(
        stamp_ns=5,
        side=side,
        score=score,
        hand_pose=np.zeros(48),
        betas=np.zeros(10),
        transl=SCALE * np.asarray(transl),
        vertices=SCALE * vertices,
        joints=SCALE * joints,
        joint_rotations=np.tile(np.eye(3), (21, 1, 1)),
        cameras=tuple(cameras),
        views_used=NAMES,
    )
    world = joints @ WORLD_FROM_CAM[0][:3, :3].T + WORLD_FROM_CAM[0][:3, 3]
    return estimate, world


def _calibration(names: tuple[str, ...]) -> Calibration:
    cameras = {name: KnownCamera(name, WORLD_FROM_CAM[NAMES.index(name)]) for name in names}
    return Calibration("base_link", cameras)


def _error_mm(result: HandResult, truth: np.ndarray) -> float:
    return 1e3 * float(np.linalg.norm(result.joints - truth, axis=-1).mean())


def test_two_known_cameras_put_the_hand_in_the_world_within_millimetres() -> None:
    estimate, truth = _estimate("right", [0.02, -0.01, 0.45], 0.9, noise_m=0.001)
    placed = express_in_world([estimate], _calibration(("cam1", "cam3")))
    assert placed.world_frame == "base_link" and placed.alignment is not None
    assert placed.alignment.cameras_used == ("cam1", "cam3")
    assert placed.alignment.scale == pytest.approx(1 / SCALE, rel=0.01)
    # 1 mm camera-centre noise per axis: 3.0 mm mean joint error (0.6-4.2 over seeds 0-4).
    assert _error_mm(placed.results[0], truth) < 5.0
    # The cameras on /tf are then the world's: cam_from_world, centres within mm too.
    centres = invert_rigid(np.stack([c.cam_from_ref for c in placed.results[0].cameras]))
    assert np.abs(centres[:, :3, 3] - WORLD_FROM_CAM[:, :3, 3]).max() < 0.01
    exact, truth = _estimate("right", [0.02, -0.01, 0.45], 0.9, noise_m=0.0)
    assert _error_mm(express_in_world([exact], _calibration(NAMES)).results[0], truth) < 1e-3


def test_two_hands_share_one_alignment() -> None:
    right, right_truth = _estimate("right", [0.02, -0.01, 0.45], 0.6, noise_m=0.001)
    left, left_truth = _estimate("left", [-0.1, 0.02, 0.5], 0.9, noise_m=0.001)
    # Shared cameras (as pipeline.shared_cameras leaves them): the left hand takes the right's.
    left = HandResult(**{**left.__dict__, "cameras": right.cameras})
    placed = express_in_world([right, left], _calibration(("cam0", "cam2")))
    assert [hand.side for hand in placed.results] == ["right", "left"]
    assert placed.hand_alignments == (placed.alignment, placed.alignment)
    assert _error_mm(placed.results[0], right_truth) < 3.0
    assert _error_mm(placed.results[1], left_truth) < 3.0


def test_without_a_known_camera_the_results_stay_as_they_were() -> None:
    estimate, _ = _estimate("right", [0.02, -0.01, 0.45], 0.9, noise_m=0.0)
    placed = express_in_world([estimate], Calibration("base_link", {}))
    assert (placed.alignment, placed.world_frame, placed.hand_alignments) == (None, None, ())
    assert placed.results == [estimate] and placed.results[0] is estimate
    assert express_in_world([], _calibration(NAMES)).results == []


def test_a_hand_in_another_frame_is_aligned_on_its_own_or_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    right, _ = _estimate("right", [0.02, -0.01, 0.45], 0.9, noise_m=0.0)
    left, _ = _estimate("left", [-0.1, 0.02, 0.5], 0.5, noise_m=0.0)
    # The left hand was not moved into the right's cameras: only cam3, its reference.
    alone = HandResult(**{**left.__dict__, "cameras": left.cameras[3:], "views_used": ("cam3",)})
    placed = express_in_world([right, alone], _calibration(("cam0", "cam3")))
    assert placed.alignment is not None and len(placed.results) == 2
    assert placed.hand_alignments[1].cameras_used == ("cam3",)
    with caplog.at_level(logging.WARNING):
        placed = express_in_world([right, alone], _calibration(("cam0", "cam1")))
    assert [hand.side for hand in placed.results] == ["right"]
    assert "left hand left out: it is in camera cam3's frame" in caplog.text


def test_calibration_from_a_tf_tree_takes_the_connected_cameras() -> None:
    tree = TransformTree()
    base_from_mount = _rigid([0.0, 0.0, 0.4], [0.2, 0.0, 0.3])
    tree.set_transform("base_link", "mount", base_from_mount, static=True)
    tree.set_transform("mount", "cam0_optical", invert_rigid(base_from_mount) @ WORLD_FROM_CAM[0],
                       static=True)  # fmt: skip
    tree.set_transform("base_link", "cam1_optical", WORLD_FROM_CAM[1], static=False)
    tree.set_transform("odom", "cam2_optical", WORLD_FROM_CAM[2], static=False)
    frames = {"cam0": "cam0_optical", "cam1": "/cam1_optical", "cam2": "cam2_optical"}
    frames["cam3"] = "cam3_optical"
    calibration = calibration_from_tree(tree, "/base_link", frames)
    assert calibration.world_frame == "base_link" and list(calibration.cameras) == ["cam0", "cam1"]
    for index, name in enumerate(("cam0", "cam1")):
        known = calibration.cameras[name]
        np.testing.assert_allclose(known.world_from_cam, WORLD_FROM_CAM[index], atol=1e-12)
        assert known.name == name and known.intrinsics is None
    assert calibration_from_tree(tree, "map", frames).cameras == {}


def test_calibration_cameras_match_views_by_name_or_frame_id() -> None:
    calibration = Calibration(
        "base_link",
        {
            "cam0_optical": KnownCamera("cam0_optical", WORLD_FROM_CAM[0], K),
            "/cam1/image_raw": KnownCamera("/cam1/image_raw", WORLD_FROM_CAM[1]),
            "cam9": KnownCamera("cam9", WORLD_FROM_CAM[2]),
        },
    )
    frame_ids = {"/cam0/image_raw": "/cam0_optical", "/cam1/image_raw": "cam1_optical"}
    views, unmatched = calibration_for_views(calibration, frame_ids)
    assert list(views.cameras) == ["/cam0/image_raw", "/cam1/image_raw"]
    assert views.cameras["/cam0/image_raw"].name == "/cam0/image_raw"
    np.testing.assert_array_equal(views.cameras["/cam0/image_raw"].intrinsics, K)
    assert unmatched == ["cam9"] and views.world_frame == "base_link"
