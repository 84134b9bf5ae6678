# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Mirroring right-hand predictions into left hands: known answers and a posed MANO check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hggt_core.engine.base import RawPrediction
from hggt_core.geometry.pose_encoding import (
    extrinsics_intrinsics_to_pose_encoding,
    pose_encoding_to_extrinsics_intrinsics,
)
from hggt_core.geometry.rotations import axis_angle_to_matrix
from hggt_core.mano.layer import ManoLayer, ManoOutput
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.mirror import (
    MIRROR_X,
    mirror_axis_angle,
    mirror_cam_from_ref,
    mirror_points,
    mirror_pose_encoding,
    mirror_raw_prediction,
    mirror_rotations,
)


def _random_rigid(rng: np.random.Generator) -> np.ndarray:
    rotation = axis_angle_to_matrix(torch.from_numpy(rng.normal(size=3))).numpy()
    return np.concatenate([rotation, rng.normal(size=(3, 1))], axis=1)


def test_known_answers() -> None:
    pose = np.array([1.0, 2.0, 3.0, -4.0, 5.0, -6.0])
    np.testing.assert_array_equal(mirror_axis_angle(pose), [1.0, -2.0, -3.0, -4.0, -5.0, 6.0])
    np.testing.assert_array_equal(mirror_points(np.array([0.1, -0.2, 0.5])), [-0.1, -0.2, 0.5])
    enc = np.arange(1.0, 10.0)
    np.testing.assert_array_equal(mirror_pose_encoding(enc), [-1, 2, 3, 4, -5, -6, 7, 8, 9])
    transform = np.arange(12.0).reshape(3, 4)
    expected = np.array([[0.0, -1, -2, -3], [-4, 5, 6, 7], [-8, 9, 10, 11]])
    np.testing.assert_array_equal(mirror_cam_from_ref(transform), expected)


def test_mirrors_are_involutions_and_keep_dtype() -> None:
    rng = np.random.default_rng(0)
    pose = rng.normal(size=(5, 48)).astype(np.float32)
    assert mirror_axis_angle(pose).dtype == np.float32
    np.testing.assert_array_equal(mirror_axis_angle(mirror_axis_angle(pose)), pose)
    transform = np.eye(4)
    transform[:3] = _random_rigid(rng)
    twice = mirror_cam_from_ref(mirror_cam_from_ref(transform))
    np.testing.assert_array_equal(twice, transform)
    np.testing.assert_array_equal(mirror_cam_from_ref(transform)[3], [0, 0, 0, 1])


def test_axis_angle_mirror_is_conjugation_by_the_reflection() -> None:
    rng = np.random.default_rng(1)
    axis_angle = rng.normal(size=(20, 3))
    rotations = axis_angle_to_matrix(torch.from_numpy(axis_angle)).numpy()
    mirrored = axis_angle_to_matrix(torch.from_numpy(mirror_axis_angle(axis_angle))).numpy()
    # Up to axis_angle_to_matrix's 1e-8 offset inside the norm (smplx's), which is not
    # reflection-symmetric.
    np.testing.assert_allclose(mirrored, MIRROR_X @ rotations @ MIRROR_X, atol=1e-7)
    np.testing.assert_allclose(mirror_rotations(rotations), MIRROR_X @ rotations @ MIRROR_X)
    np.testing.assert_allclose(np.linalg.det(mirrored), 1.0, atol=1e-12)


def test_transform_mirror_maps_mirrored_points_consistently() -> None:
    rng = np.random.default_rng(2)
    cam_from_ref = _random_rigid(rng)
    points = rng.normal(size=(10, 3))
    in_camera = points @ cam_from_ref[:, :3].T + cam_from_ref[:, 3]
    mirrored = mirror_cam_from_ref(cam_from_ref)
    mirrored_in_camera = mirror_points(points) @ mirrored[:, :3].T + mirrored[:, 3]
    np.testing.assert_allclose(mirrored_in_camera, mirror_points(in_camera), atol=1e-12)


def test_pose_encoding_mirror_matches_the_decoded_cameras() -> None:
    rng = np.random.default_rng(3)
    cam_from_ref = torch.from_numpy(np.stack([_random_rigid(rng) for _ in range(4)]))
    intrinsics = torch.tensor([[500.0, 0, 259], [0, 520.0, 259], [0, 0, 1]], dtype=torch.float64)
    enc = extrinsics_intrinsics_to_pose_encoding(
        cam_from_ref, intrinsics.expand(4, 3, 3), (518, 518)
    )
    decoded, k_mirrored = pose_encoding_to_extrinsics_intrinsics(
        torch.from_numpy(mirror_pose_encoding(enc.numpy())), (518, 518)
    )
    np.testing.assert_allclose(
        decoded.numpy(), mirror_cam_from_ref(cam_from_ref.numpy()), atol=1e-12
    )
    np.testing.assert_allclose(k_mirrored.numpy(), intrinsics.expand(4, 3, 3).numpy(), atol=1e-9)


def test_raw_prediction_mirror() -> None:
    raw = RawPrediction(
        hand_pose=np.arange(48, dtype=np.float32),
        betas=np.arange(10, dtype=np.float32),
        transl=np.array([0.1, 0.2, 0.3], dtype=np.float32),
        pose_enc=np.ones((2, 9), dtype=np.float32),
    )
    mirrored = mirror_raw_prediction(raw)
    assert mirrored.hand_pose.dtype == np.float32 and mirrored.pose_enc.dtype == np.float32
    np.testing.assert_array_equal(mirrored.hand_pose[:6], [0, -1, -2, 3, -4, -5])
    np.testing.assert_array_equal(mirrored.betas, raw.betas)
    np.testing.assert_array_equal(mirrored.transl, np.array([-0.1, 0.2, 0.3], np.float32))
    np.testing.assert_array_equal(mirrored.pose_enc[1], [-1, 1, 1, 1, -1, -1, 1, 1, 1])
    back = mirror_raw_prediction(mirrored)
    for name in ("hand_pose", "betas", "transl", "pose_enc"):
        np.testing.assert_array_equal(getattr(back, name), getattr(raw, name))


def _posed(
    layer: ManoLayer, theta: np.ndarray, betas: np.ndarray, transl: np.ndarray
) -> ManoOutput:
    return layer.forward_theta(
        torch.from_numpy(theta[None]),
        torch.from_numpy(betas[None]),
        torch.from_numpy(transl[None]),
    )


@pytest.fixture(scope="module")
def layers() -> tuple[ManoLayer, ManoLayer]:
    return (
        ManoLayer(make_synthetic_mano("right")).double(),
        ManoLayer(make_synthetic_mano("left")).double(),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mirrored_right_hand_is_the_left_hand_with_mirrored_parameters(
    layers: tuple[ManoLayer, ManoLayer], seed: int
) -> None:
    """The synthetic left hand is the exact mirror of the right one, so this holds to ~1e-8.

    The only asymmetry is numerical: Rodrigues' formula takes the angle as |w + 1e-8| (as
    smplx does), so R(x, -y, -z) differs from M R(x, y, z) M by ~1e-8.

    No joint needs special care: both models share J_regressor and the left template is the
    mirrored right one, so the left rest joints are the mirrored right ones; rotating about a
    mirrored pivot with M R M is the mirror of rotating about the pivot with R, and transl is
    added after posing. The fingertips use the same vertex ids on both sides.
    """
    right, left = layers
    rng = np.random.default_rng(seed)
    theta = rng.normal(scale=0.5, size=48)
    betas = rng.normal(size=10)
    transl = rng.normal(scale=0.2, size=3)
    out_right = _posed(right, theta, betas, transl)
    out_left = _posed(left, mirror_axis_angle(theta), betas, mirror_points(transl))
    for field in ("vertices", "joints", "joints16"):
        np.testing.assert_allclose(
            getattr(out_left, field).numpy()[0],
            mirror_points(getattr(out_right, field).numpy()[0]),
            rtol=0,
            atol=1e-8,
        )
    np.testing.assert_allclose(
        out_left.global_rotations.numpy()[0],
        mirror_rotations(out_right.global_rotations.numpy()[0]),
        rtol=0,
        atol=1e-7,
    )


def test_official_left_shapedirs_bug_breaks_the_mirror_only_through_betas() -> None:
    right = ManoLayer(make_synthetic_mano("right")).double()
    buggy_left = ManoLayer(make_synthetic_mano("left", left_shapedirs_bug=True)).double()
    rng = np.random.default_rng(4)
    theta, transl = rng.normal(scale=0.5, size=48), rng.normal(scale=0.2, size=3)
    for betas, broken in ((np.zeros(10), False), (rng.normal(size=10), True)):
        expected = mirror_points(_posed(right, theta, betas, transl).vertices.numpy()[0])
        got = _posed(buggy_left, mirror_axis_angle(theta), betas, mirror_points(transl))
        error = np.abs(got.vertices.numpy()[0] - expected).max()
        assert (error > 1e-4) if broken else (error < 1e-8)
