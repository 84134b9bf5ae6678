# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Synthetic landmark views: the scene in camera 0's frame and the simulated landmarks."""

from __future__ import annotations

import numpy as np

from hggt_core.geometry.pnp import project_pinhole
from hggt_core.render.landmark_views import landmark_scene, simulated_landmarks
from hggt_core.render.scene_config import SceneConfig

RIG = SceneConfig(distance_range_m=(0.3, 0.8), fov_range_deg=(50.0, 70.0))


def _hand(rng: np.random.Generator) -> np.ndarray:
    """[21, 3] points spread over a hand's size around (1, 2, 3) m."""
    return np.array([1.0, 2.0, 3.0]) + rng.normal(scale=0.04, size=(21, 3))


def test_scene_is_in_camera_zeros_frame() -> None:
    rng = np.random.default_rng(0)
    joints = _hand(rng)
    scene = landmark_scene(joints, 3, rng, RIG)
    np.testing.assert_allclose(scene.cam_from_ref[0], np.eye(4), atol=1e-12)
    back = scene.joints @ scene.ref_from_world[:3, :3] - (
        scene.ref_from_world[:3, :3].T @ scene.ref_from_world[:3, 3]
    )
    np.testing.assert_allclose(back, joints, atol=1e-12)
    assert scene.intrinsics.shape == (3, 3, 3) and np.all(scene.joints[:, 2] > 0.2)


def test_exact_landmarks_project_and_are_hand_centred_in_each_camera() -> None:
    rng = np.random.default_rng(1)
    scene = landmark_scene(_hand(rng), 4, rng, RIG)
    views = simulated_landmarks(scene, (0.0, 0.0, 1.0), rng, world_scale=2.0)
    for view, cam_from_ref, intrinsics in zip(
        views, scene.cam_from_ref, scene.intrinsics, strict=True
    ):
        points = scene.joints @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
        np.testing.assert_allclose(view.uv, project_pinhole(points, intrinsics), atol=1e-12)
        np.testing.assert_allclose(view.world_m, 2.0 * (points - points.mean(0)), atol=1e-12)


def test_noise_levels_and_depth_squash() -> None:
    rng = np.random.default_rng(2)
    scene = landmark_scene(_hand(rng), 2, rng, RIG)
    exact = simulated_landmarks(scene, (0.0, 0.0, 1.0), np.random.default_rng(3))
    noisy = simulated_landmarks(scene, (5.0, 0.0, 0.5), np.random.default_rng(3))
    for clean, view in zip(exact, noisy, strict=True):
        assert 3.0 < float(np.std(view.uv - clean.uv)) < 7.0  # 5 px noise
        np.testing.assert_allclose(view.world_m[:, 2], 0.5 * clean.world_m[:, 2], atol=1e-12)
