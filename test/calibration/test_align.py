# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Aligning a hand's estimated cameras to known ones puts it in the world at metric scale."""

import dataclasses

import numpy as np
import pytest
import torch

from hggt_core.calibration import (
    Calibration,
    KnownCamera,
    WorldAlignment,
    align_to_world,
    to_world,
)
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import CropTransform, HandResult, ViewCamera

NAMES = ("cam0", "cam1", "cam2", "cam3")
K = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])


def _rigid(axis_angle: list[float], shift: list[float]) -> np.ndarray:
    vector = np.asarray(axis_angle, dtype=np.float64)
    angle = float(np.linalg.norm(vector))
    x, y, z = vector / angle if angle > 0 else vector
    skew = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    transform = np.eye(4)
    # Exact Rodrigues (the torch one adds an epsilon to the angle: orthonormal to ~1e-9 only).
    transform[:3, :3] = np.eye(3) + np.sin(angle) * skew + (1 - np.cos(angle)) * skew @ skew
    transform[:3, 3] = shift
    return transform


# The truth: cameras in the world around a hand near (0.5, 0, 0.3).
WORLD_FROM_CAM = [
    _rigid([1.9, 0.0, 0.0], [0.5, -0.5, 0.4]),
    _rigid([1.5, 0.9, 0.3], [0.1, -0.2, 0.5]),
    _rigid([-1.8, 0.2, -0.4], [0.6, 0.6, 0.6]),
    _rigid([0.0, 2.6, 0.0], [0.5, 0.1, 0.9]),
]
WORLD_FROM_TRUE_REF = WORLD_FROM_CAM[0]


@pytest.fixture(scope="module")
def truth() -> HandResult:
    """The true hand in camera 0's frame, with the true cameras."""
    layer = ManoLayer(make_synthetic_mano("right")).double()
    pose = np.linspace(-0.3, 0.4, 48)
    with torch.no_grad():
        out = layer.forward_theta(
            torch.from_numpy(pose[None]),
            torch.zeros(1, 10, dtype=torch.float64),
            torch.tensor([[0.02, -0.01, 0.45]], dtype=torch.float64),
        )
    ref_from_world = invert_rigid(WORLD_FROM_TRUE_REF)
    cameras = tuple(
        ViewCamera(
            name,
            K,
            invert_rigid(ref_from_world @ world_from_cam),
            np.zeros((21, 2)),
            CropTransform(0.0, 0.0, 1.0, 224),
        )
        for name, world_from_cam in zip(NAMES, WORLD_FROM_CAM, strict=True)
    )
    return HandResult(
        stamp_ns=1,
        side="right",
        score=1.0,
        hand_pose=pose,
        betas=np.zeros(10),
        transl=np.array([0.02, -0.01, 0.45]),
        vertices=out.vertices[0].numpy(),
        joints=out.joints[0].numpy(),
        joint_rotations=np.repeat(out.global_rotations[0].numpy(), [2] * 5 + [1] * 11, axis=0),
        cameras=cameras,
        views_used=NAMES,
    )


def _estimate(truth: HandResult, scale: float, est_from_true: np.ndarray) -> HandResult:
    """``truth`` as an engine would see it: a scaled copy in a rotated reference frame."""
    rotation, shift = est_from_true[:3, :3], est_from_true[:3, 3]
    cameras = []
    for camera in truth.cameras:
        cam_from_est = camera.cam_from_ref @ invert_rigid(est_from_true)
        cam_from_est[:3, 3] *= scale
        cameras.append(ViewCamera(camera.name, K, cam_from_est, camera.joints_2d, camera.crop))
    joints = scale * (truth.joints @ rotation.T + shift)
    hand_pose = truth.hand_pose.copy()
    orient = rotation @ axis_angle_to_matrix(torch.from_numpy(hand_pose[:3].copy())).numpy()
    hand_pose[:3] = matrix_to_axis_angle(torch.from_numpy(orient)).numpy()
    return HandResult(
        stamp_ns=1,
        side="right",
        score=1.0,
        hand_pose=hand_pose,
        betas=truth.betas,
        transl=joints[0] - (truth.joints[0] - truth.transl),
        vertices=scale * (truth.vertices @ rotation.T + shift),
        joints=joints,
        joint_rotations=rotation @ truth.joint_rotations,
        cameras=tuple(cameras),
        views_used=truth.views_used,
    )


def _calibration(names: tuple[str, ...]) -> Calibration:
    cameras = {n: KnownCamera(n, WORLD_FROM_CAM[NAMES.index(n)], K) for n in names}
    return Calibration("world", cameras)


def _world_truth(truth: HandResult) -> np.ndarray:
    return truth.joints @ WORLD_FROM_TRUE_REF[:3, :3].T + WORLD_FROM_TRUE_REF[:3, 3]


@pytest.mark.parametrize("known", [("cam1", "cam3"), NAMES])
def test_exact_recovery_of_a_scaled_rotated_copy(truth: HandResult, known) -> None:
    estimate = _estimate(truth, 1.3, _rigid([0.3, -0.2, 0.5], [0.1, 0.0, -0.05]))
    alignment = align_to_world(estimate, _calibration(known))
    assert isinstance(alignment, WorldAlignment)
    assert alignment.cameras_used == known
    assert alignment.scale == pytest.approx(1 / 1.3, rel=1e-9)
    assert alignment.residual_m < 1e-9 and alignment.residual_deg < 1e-5
    world = to_world(estimate, alignment)
    np.testing.assert_allclose(world.joints, _world_truth(truth), atol=1e-6)
    for camera, world_from_cam in zip(world.cameras, WORLD_FROM_CAM, strict=True):
        np.testing.assert_allclose(camera.cam_from_ref @ world_from_cam, np.eye(4), atol=1e-6)
    # The rotated MANO orientation and translation reproduce the world wrist and orientation.
    rest = truth.joints[0] - truth.transl
    np.testing.assert_allclose(world.transl + rest, world.joints[0], atol=1e-9)
    expected = (
        WORLD_FROM_TRUE_REF[:3, :3]
        @ axis_angle_to_matrix(torch.from_numpy(truth.hand_pose[:3])).numpy()
    )
    got = axis_angle_to_matrix(torch.from_numpy(world.hand_pose[:3])).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(
        world.joint_rotations, WORLD_FROM_TRUE_REF[:3, :3] @ truth.joint_rotations, atol=1e-6
    )


def test_one_known_camera_is_rigid_at_the_estimates_scale(truth: HandResult) -> None:
    estimate = _estimate(truth, 1.0, _rigid([0.0, 0.4, 0.0], [0.0, 0.05, 0.0]))
    alignment = align_to_world(estimate, _calibration(("cam2",)))
    assert alignment is not None and alignment.scale == 1.0
    assert alignment.cameras_used == ("cam2",)
    world = to_world(estimate, alignment)
    np.testing.assert_allclose(world.joints, _world_truth(truth), atol=1e-9)
    # A scale error of the estimate stays (nothing else can fix it): joints 10 % too big.
    too_big = _estimate(truth, 1.1, np.eye(4))
    through_cam0 = align_to_world(too_big, _calibration(("cam0",)))
    assert through_cam0 is not None
    scaled = to_world(too_big, through_cam0)
    span = np.linalg.norm(scaled.joints[12] - scaled.joints[0])
    true_span = np.linalg.norm(truth.joints[12] - truth.joints[0])
    assert span == pytest.approx(1.1 * true_span, rel=1e-9)


def test_no_known_camera_gives_none(truth: HandResult) -> None:
    assert align_to_world(truth, Calibration("world", {})) is None
    other = {"elsewhere": KnownCamera("elsewhere", np.eye(4))}
    assert align_to_world(truth, Calibration("world", other)) is None


def test_noisy_cameras_stay_within_bounds(truth: HandResult) -> None:
    """1 cm / 1 degree camera noise: scale within 3 %, joints within 2 cm, residuals seen."""
    rng = np.random.default_rng(0)
    estimate = _estimate(truth, 0.8, _rigid([0.2, 0.1, -0.3], [0.0, 0.1, 0.0]))
    noisy = [estimate.cameras[0]]
    for camera in estimate.cameras[1:]:
        jitter = _rigid(
            list(rng.normal(scale=np.radians(1.0), size=3)), list(rng.normal(scale=0.01, size=3))
        )
        noisy.append(dataclasses.replace(camera, cam_from_ref=jitter @ camera.cam_from_ref))
    estimate = dataclasses.replace(estimate, cameras=tuple(noisy))
    alignment = align_to_world(estimate, _calibration(NAMES))
    assert alignment is not None
    assert alignment.scale == pytest.approx(1 / 0.8, rel=0.03)
    assert 1e-4 < alignment.residual_m < 0.03
    assert 0.1 < alignment.residual_deg < 3.0
    error = np.linalg.norm(to_world(estimate, alignment).joints - _world_truth(truth), axis=-1)
    assert error.mean() < 0.02


def test_two_cameras_need_their_orientations_for_the_roll(truth: HandResult) -> None:
    """Two centres leave the roll about the baseline free: the orientations must fix it."""
    estimate = _estimate(truth, 1.0, _rigid([1.0, 0.0, 0.0], [0.0, 0.0, 0.0]))
    alignment = align_to_world(estimate, _calibration(("cam0", "cam1")))
    assert alignment is not None
    np.testing.assert_allclose(
        alignment.world_from_ref @ _rigid([1.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
        WORLD_FROM_TRUE_REF,
        atol=1e-6,
    )
