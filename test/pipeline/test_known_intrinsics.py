# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Correcting an HGGT estimate to known intrinsics: recovery, no-ops, MANO, shared cameras."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import numpy as np
import pytest
import torch

from hggt_core.engine.base import Float32Array, RawPrediction
from hggt_core.geometry.pose_encoding import extrinsics_intrinsics_to_pose_encoding
from hggt_core.geometry.rotations import axis_angle_to_matrix
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.metrics import reproject_to_intrinsics
from hggt_core.pipeline.known_intrinsics import correct_to_known_intrinsics
from hggt_core.pipeline.predictor import Predictor, PredictorConfig
from hggt_core.pipeline.shared_cameras import share_cameras
from hggt_core.pipeline.types import (
    Box,
    CropTransform,
    FrameSet,
    HandBoxes,
    HandResult,
    HandSide,
    View,
    ViewCamera,
)

NAMES = ("cam0", "cam1", "cam2")
K_TRUE = np.array(
    [
        [[600.0, 0.0, 320.0], [0.0, 600.0, 240.0], [0.0, 0.0, 1.0]],
        [[900.0, 0.0, 640.0], [0.0, 905.0, 360.0], [0.0, 0.0, 1.0]],
        [[450.0, 0.0, 300.0], [0.0, 450.0, 200.0], [0.0, 0.0, 1.0]],
    ]
)
# The network's typical error: focal lengths 25 % long, 20 % short, 15 % long, and principal
# points a few pixels off.
FOCAL_RATIO = np.array([1.25, 0.8, 1.15])
PRINCIPAL_SHIFT_PX = np.array([[6.0, -4.0], [-10.0, 5.0], [3.0, 3.0]])
K_PRED = K_TRUE.copy()
K_PRED[:, :2, :2] *= FOCAL_RATIO[:, None, None]
K_PRED[:, :2, 2] += PRINCIPAL_SHIFT_PX
CROP = CropTransform(0.0, 0.0, 1.0, 28)


@pytest.fixture(scope="module")
def layer() -> ManoLayer:
    return ManoLayer(make_synthetic_mano("right")).double()


def _rigid(axis_angle: Sequence[float], translation: Sequence[float]) -> np.ndarray:
    transform = np.eye(4)
    transform[:3, :3] = axis_angle_to_matrix(torch.tensor(axis_angle, dtype=torch.float64))
    transform[:3, 3] = translation
    return transform


CAM_FROM_REF = np.stack(
    [
        np.eye(4),
        _rigid((0.1, -0.5, 0.05), (0.25, 0.0, 0.1)),
        _rigid((-0.3, 0.3, 0.1), (-0.15, 0.05, 0.2)),
    ]
)


def _in_camera(cam_from_ref: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]


def _project(points: np.ndarray, cam_from_ref: np.ndarray, intrinsics: np.ndarray) -> np.ndarray:
    in_camera = _in_camera(cam_from_ref, points)
    return in_camera[:, :2] / in_camera[:, 2:] @ intrinsics[:2, :2].T + intrinsics[:2, 2]


def _reproject(points_cam: np.ndarray, k_from: np.ndarray, k_to: np.ndarray) -> np.ndarray:
    moved = reproject_to_intrinsics(
        torch.from_numpy(points_cam), torch.from_numpy(k_from), torch.from_numpy(k_to)
    )
    return moved.numpy()


def _hand(
    layer: ManoLayer,
    transl: Sequence[float],
    cam_from_ref: np.ndarray,
    intrinsics: np.ndarray,
    seed: int = 0,
    side: HandSide = "right",
) -> HandResult:
    rng = np.random.default_rng(seed)
    hand_pose, betas = rng.normal(scale=0.3, size=48), rng.normal(size=10)
    output = layer.forward_theta(
        torch.from_numpy(hand_pose[None]),
        torch.from_numpy(betas[None]),
        torch.tensor([transl], dtype=torch.float64),
    )
    joints = output.joints[0].numpy()
    cameras = tuple(
        ViewCamera(name, k, pose, _project(joints, pose, k), CROP)
        for name, k, pose in zip(NAMES, intrinsics, cam_from_ref, strict=True)
    )
    return HandResult(
        stamp_ns=0,
        side=side,
        score=0.9,
        hand_pose=hand_pose,
        betas=betas,
        transl=np.array(transl, dtype=np.float64),
        vertices=output.vertices[0].numpy(),
        joints=joints,
        joint_rotations=np.tile(np.eye(3), (21, 1, 1)),
        cameras=cameras,
        views_used=NAMES,
    )


def _predicted(truth: HandResult, k_pred: np.ndarray = K_PRED) -> HandResult:
    """What a network with focal length errors predicts: each camera, its centre's pixel.

    Every camera sees the hand's centre at its true pixel, under the predicted K, at depth
    z * f_pred / f_true (the network's typical error).
    """
    centre = truth.joints.mean(axis=0)
    centres = [
        _reproject(_in_camera(camera.cam_from_ref, centre[None]), camera.intrinsics, k)[0]
        for camera, k in zip(truth.cameras, k_pred, strict=True)
    ]
    shift = centres[0] - centre  # camera 0 is the reference, at the identity
    joints = truth.joints + shift
    cameras = []
    for camera, k, moved in zip(truth.cameras, k_pred, centres, strict=True):
        pose = camera.cam_from_ref.copy()
        pose[:3, 3] = moved - pose[:3, :3] @ (centre + shift)
        cameras.append(ViewCamera(camera.name, k, pose, _project(joints, pose, k), CROP))
    return dataclasses.replace(
        truth,
        transl=truth.transl + shift,
        vertices=truth.vertices + shift,
        joints=joints,
        cameras=tuple(cameras),
    )


def _known(*names: str) -> dict[str, np.ndarray]:
    return {name: K_TRUE[NAMES.index(name)] for name in names}


def test_recovers_the_true_hand_and_cameras(layer: ManoLayer) -> None:
    truth = _hand(layer, (0.02, -0.01, 0.5), CAM_FROM_REF, K_TRUE)
    predicted = _predicted(truth)
    assert np.linalg.norm(predicted.joints[0] - truth.joints[0]) > 0.1  # 12.5 cm too far

    corrected = correct_to_known_intrinsics(predicted, _known(*NAMES))

    assert np.linalg.norm(corrected.joints[0] - truth.joints[0]) < 1e-9  # the root
    np.testing.assert_allclose(corrected.vertices, truth.vertices, atol=1e-9)
    np.testing.assert_allclose(corrected.transl, truth.transl, atol=1e-9)
    np.testing.assert_array_equal(corrected.hand_pose, predicted.hand_pose)
    centre = predicted.joints.mean(axis=0, keepdims=True)
    new_centre = corrected.joints.mean(axis=0, keepdims=True)
    for before, after, true_camera in zip(
        predicted.cameras, corrected.cameras, truth.cameras, strict=True
    ):
        np.testing.assert_array_equal(after.intrinsics, true_camera.intrinsics)
        np.testing.assert_allclose(after.cam_from_ref, true_camera.cam_from_ref, atol=1e-9)
        np.testing.assert_array_equal(after.cam_from_ref[:3, :3], before.cam_from_ref[:3, :3])
        np.testing.assert_allclose(after.joints_2d, true_camera.joints_2d, atol=1e-6)
        # The centre keeps its pixel: under the predicted camera before, the known one after.
        np.testing.assert_allclose(
            _project(new_centre, after.cam_from_ref, after.intrinsics),
            _project(centre, before.cam_from_ref, before.intrinsics),
            atol=1e-8,
        )
    np.testing.assert_allclose(
        corrected.cameras[0].cam_from_ref, predicted.cameras[0].cam_from_ref, atol=1e-15
    )


def test_the_hand_moves_as_the_release_moves_its_centre(layer: ManoLayer) -> None:
    """Rigid correction = the release's per-point reprojection but its stretch.

    Same centroid, same root-relative shape, a few mm from the release's joints.
    """
    predicted = _hand(layer, (0.05, 0.02, 0.45), CAM_FROM_REF, K_PRED, seed=1)
    corrected = correct_to_known_intrinsics(predicted, _known("cam0"))
    release = _reproject(predicted.joints, K_PRED[0], K_TRUE[0])
    np.testing.assert_allclose(
        corrected.joints.mean(axis=0), release.mean(axis=0), rtol=0, atol=1e-12
    )
    # What rigidity drops: the release stretches the hand's depth by 0.8 about its centre.
    rigid_error_m = np.linalg.norm(corrected.joints - release, axis=1).mean()
    predicted_error_m = np.linalg.norm(predicted.joints - release, axis=1).mean()
    assert rigid_error_m < 0.01 and predicted_error_m > 0.08
    np.testing.assert_allclose(
        corrected.joints - corrected.joints[0], predicted.joints - predicted.joints[0], atol=1e-12
    )


def test_mano_parameters_reproduce_the_corrected_mesh(layer: ManoLayer) -> None:
    truth = _hand(layer, (0.0, 0.03, 0.6), CAM_FROM_REF, K_TRUE, seed=2)
    corrected = correct_to_known_intrinsics(_predicted(truth), _known(*NAMES))
    output = layer.forward_theta(
        torch.from_numpy(corrected.hand_pose[None]),
        torch.from_numpy(corrected.betas[None]),
        torch.from_numpy(corrected.transl[None]),
    )
    np.testing.assert_allclose(output.vertices[0].numpy(), corrected.vertices, atol=1e-12)
    np.testing.assert_allclose(output.joints[0].numpy(), corrected.joints, atol=1e-12)


def test_known_equal_to_predicted_or_absent_changes_nothing(layer: ManoLayer) -> None:
    predicted = _hand(layer, (0.02, -0.01, 0.5), CAM_FROM_REF, K_PRED)
    assert correct_to_known_intrinsics(predicted, {}) is predicted
    same = {name: K_PRED[index].copy() for index, name in enumerate(NAMES)}
    assert correct_to_known_intrinsics(predicted, same) is predicted
    assert correct_to_known_intrinsics(predicted, {"elsewhere": K_TRUE[0]}) is predicted


def test_views_without_a_known_k_are_untouched(layer: ManoLayer) -> None:
    predicted = _hand(layer, (0.02, -0.01, 0.5), CAM_FROM_REF, K_PRED)
    # Only a non-reference view is known: the hand stays, so do the other cameras, bitwise.
    only_cam1 = correct_to_known_intrinsics(predicted, _known("cam1"))
    for name in ("transl", "vertices", "joints"):
        np.testing.assert_array_equal(getattr(only_cam1, name), getattr(predicted, name))
    for index in (0, 2):
        for name in ("intrinsics", "cam_from_ref", "joints_2d"):
            after, before = only_cam1.cameras[index], predicted.cameras[index]
            np.testing.assert_array_equal(getattr(after, name), getattr(before, name))
    np.testing.assert_array_equal(only_cam1.cameras[1].intrinsics, K_TRUE[1])

    # Only the reference is known: the hand moves, yet cam1 and cam2 see it as before.
    only_cam0 = correct_to_known_intrinsics(predicted, _known("cam0"))
    assert np.linalg.norm(only_cam0.joints[0] - predicted.joints[0]) > 0.05
    for index in (1, 2):
        after, before = only_cam0.cameras[index], predicted.cameras[index]
        np.testing.assert_array_equal(after.intrinsics, before.intrinsics)
        np.testing.assert_allclose(
            _in_camera(after.cam_from_ref, only_cam0.vertices),
            _in_camera(before.cam_from_ref, predicted.vertices),
            atol=1e-12,
        )
        np.testing.assert_allclose(after.joints_2d, before.joints_2d, atol=1e-9)


def test_a_reference_camera_off_the_identity_keeps_its_pose(layer: ManoLayer) -> None:
    poses = CAM_FROM_REF.copy()
    poses[0] = _rigid((0.01, -0.02, 0.005), (0.003, -0.002, 0.001))  # prediction error
    predicted = _hand(layer, (0.02, -0.01, 0.5), poses, K_PRED)
    corrected = correct_to_known_intrinsics(predicted, _known(*NAMES))
    np.testing.assert_allclose(corrected.cameras[0].cam_from_ref, poses[0], atol=1e-15)
    centre = predicted.joints.mean(axis=0)
    for index, camera in enumerate(corrected.cameras):
        expected = _reproject(_in_camera(poses[index], centre[None]), K_PRED[index], K_TRUE[index])
        new_centre = corrected.joints.mean(axis=0)[None]
        np.testing.assert_allclose(
            _in_camera(camera.cam_from_ref, new_centre), expected, atol=1e-12
        )


def test_unusable_inputs(layer: ManoLayer, caplog: pytest.LogCaptureFixture) -> None:
    predicted = _hand(layer, (0.02, -0.01, 0.5), CAM_FROM_REF, K_PRED)
    bad = K_TRUE[1].copy()
    bad[0, 0] = 0.0
    with pytest.raises(ValueError, match="view 'cam1': known intrinsics must be"):
        correct_to_known_intrinsics(predicted, {"cam1": bad})
    with pytest.raises(ValueError, match=r"view 'cam2'.*\[3, 3\]"):
        correct_to_known_intrinsics(predicted, {"cam2": np.eye(4)})
    # A hand behind a camera (an untrained network) has no pixel to keep: left as predicted.
    behind = CAM_FROM_REF.copy()
    behind[2, :3, 3] = (0.0, 0.0, -2.0)
    flipped = _hand(layer, (0.02, -0.01, 0.5), behind, K_PRED)
    with caplog.at_level(logging.DEBUG, logger="hggt_core.pipeline.known_intrinsics"):
        assert correct_to_known_intrinsics(flipped, _known("cam2")) is flipped
    assert "'cam2': hand centre not in front of the camera" in caplog.text


def test_correcting_each_hand_before_sharing_keeps_both_hands_right(layer: ManoLayer) -> None:
    """Correct, then share: both hands right, in one set of true cameras.

    The other order would give the two hands different cameras again.
    """
    right = _hand(layer, (0.02, -0.01, 0.5), CAM_FROM_REF, K_TRUE, seed=3)
    left = _hand(layer, (-0.12, 0.02, 0.55), CAM_FROM_REF, K_TRUE, seed=4, side="left")
    left = dataclasses.replace(left, score=0.5)  # the right hand is the best: its cameras
    # Each hand's prediction errs about its own centre, so their cameras disagree.
    predicted = [_predicted(right), _predicted(left, K_PRED * [[[1.02], [1.0], [1.0]]])]
    known = _known(*NAMES)

    shared = share_cameras([correct_to_known_intrinsics(hand, known) for hand in predicted])

    for result, truth in zip(shared, (right, left), strict=True):
        np.testing.assert_allclose(result.joints, truth.joints, atol=1e-9)
        for camera, true_camera in zip(result.cameras, truth.cameras, strict=True):
            np.testing.assert_allclose(camera.cam_from_ref, true_camera.cam_from_ref, atol=1e-9)
            np.testing.assert_array_equal(camera.intrinsics, true_camera.intrinsics)
            np.testing.assert_allclose(camera.joints_2d, true_camera.joints_2d, atol=1e-6)
    after = [correct_to_known_intrinsics(hand, known) for hand in share_cameras(predicted)]
    assert not np.allclose(after[0].cameras[1].cam_from_ref, after[1].cameras[1].cam_from_ref)


class _FixedEngine:
    """Returns one fixed prediction for every hand."""

    name = "fixed"
    device = "cpu"
    crop_size = 28

    def __init__(self, raw: RawPrediction) -> None:
        self.raw = raw

    def run(self, crops: Float32Array) -> RawPrediction:
        return self.raw


class _FixedBoxes:
    def __init__(self, hands: Sequence[HandBoxes]) -> None:
        self.hands = list(hands)

    def locate(self, frameset: FrameSet, previous: Sequence[HandResult]) -> list[HandBoxes]:
        return list(self.hands)


def test_the_predictor_corrects_each_hand_before_sharing_cameras() -> None:
    k_crop = np.tile(np.array([[40.0, 0.0, 14.0], [0.0, 42.0, 14.0], [0.0, 0.0, 1.0]]), (2, 1, 1))
    encoding = extrinsics_intrinsics_to_pose_encoding(
        torch.from_numpy(CAM_FROM_REF[:2, :3]), torch.from_numpy(k_crop), (28, 28)
    )
    raw = RawPrediction(
        hand_pose=np.zeros(48, dtype=np.float32),
        betas=np.zeros(10, dtype=np.float32),
        transl=np.array([0.02, -0.01, 0.6], dtype=np.float32),
        pose_enc=encoding.numpy().astype(np.float32),
    )
    boxes = {"cam0": Box(100.0, 100.0, 180.0, 160.0), "cam1": Box(50.0, 60.0, 100.0, 110.0)}
    hands = [HandBoxes("right", boxes, 0.9), HandBoxes("left", boxes, 0.5)]
    image = np.zeros((240, 320, 3), dtype=np.uint8)
    frameset = FrameSet(0, tuple(View(name, 0, image, K_TRUE[0]) for name in ("cam0", "cam1")))
    layers = ManoLayer(make_synthetic_mano("right")), ManoLayer(make_synthetic_mano("left"))

    def run(use_known: bool) -> list[HandResult]:
        config = PredictorConfig(crop_size=28, use_known_intrinsics=use_known)
        return Predictor(_FixedEngine(raw), *layers, _FixedBoxes(hands), config)(frameset)

    estimated, corrected = run(False), run(True)
    expected = correct_to_known_intrinsics(estimated[0], {"cam0": K_TRUE[0], "cam1": K_TRUE[0]})
    np.testing.assert_allclose(corrected[0].joints, expected.joints, atol=1e-12)
    for right_camera, left_camera in zip(corrected[0].cameras, corrected[1].cameras, strict=True):
        np.testing.assert_array_equal(right_camera.intrinsics, K_TRUE[0])
        np.testing.assert_array_equal(left_camera.intrinsics, K_TRUE[0])
        np.testing.assert_array_equal(left_camera.cam_from_ref, right_camera.cam_from_ref)
