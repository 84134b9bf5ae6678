# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Known cameras in the fusion (hggt_core.geometry.hand_solve.solve_known via fuse_views).

Scenes as in test_hand_cameras.py: synthetic MANO hands seen by cameras 0.3-0.8 m away
(640 x 480, 50-70 degree field of view), MediaPipe-like noisy landmarks. The comparison is the
path without known cameras: every camera estimated, then the similarity that maps the estimated
known cameras onto the true ones (:func:`hggt_core.calibration.align_to_world`).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
import torch

from hggt_core.calibration import Calibration, KnownCamera, align_to_world, to_world
from hggt_core.geometry.hand_bundle import HandPriors, refine_cameras_and_joints
from hggt_core.geometry.hand_cameras import FusedHand, ViewObservation, fuse_views
from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.mano import ManoLayer, make_synthetic_mano
from hggt_core.pipeline.types import CropTransform, HandResult, ViewCamera
from hggt_core.render.landmark_views import LandmarkScene, landmark_scene, simulated_landmarks
from hggt_core.render.scene import random_hand_parameters
from hggt_core.render.scene_config import SceneConfig

RIG = SceneConfig(distance_range_m=(0.3, 0.8), fov_range_deg=(50.0, 70.0))
NOISE = {"low": (2.0, 0.005, 1.0), "high": (5.0, 0.015, 0.8)}
"""Pixel noise px, world-landmark noise m, depth squash (bench/landmark_fusion.py's levels)."""
SCENES = 12


@functools.lru_cache(maxsize=1)
def _layer() -> ManoLayer:
    return ManoLayer(make_synthetic_mano())


@functools.lru_cache(maxsize=SCENES)
def make_scene(seed: int) -> LandmarkScene:
    """A random hand seen by four cameras."""
    rng = np.random.default_rng(seed)
    params = random_hand_parameters(rng, RIG)
    with torch.no_grad():
        output = _layer().forward_theta(
            torch.as_tensor(params.hand_pose, dtype=torch.float32)[None],
            torch.as_tensor(params.betas, dtype=torch.float32)[None],
        )
    return landmark_scene(output.joints[0].double().numpy(), 4, rng, RIG)


def observe(
    scene: LandmarkScene, seed: int, level: str, world_scale: float = 1.0
) -> list[ViewObservation]:
    """Noisy landmarks; ``world_scale`` scales the world landmarks (a wrongly sized hand)."""
    rng = np.random.default_rng(seed + 1000)
    return simulated_landmarks(scene, NOISE[level], rng, world_scale)


def known(scene: LandmarkScene, count: int) -> dict[int, np.ndarray]:
    return {view: scene.cam_from_ref[view] for view in range(count)}


def mpjpe_m(joints: np.ndarray, truth: np.ndarray) -> float:
    return float(np.linalg.norm(joints - truth, axis=-1).mean())


def aligned_after_m(scene: LandmarkScene, fused: FusedHand, count: int) -> float:
    """MPJPE of the estimate aligned to ``count`` true cameras (world = camera 0's frame)."""
    crop = CropTransform(0.0, 0.0, 1.0, 224)
    cameras = tuple(
        ViewCamera(f"c{view}", k, pose, np.zeros((21, 2)), crop)
        for view, (pose, k) in enumerate(zip(fused.cam_from_ref, scene.intrinsics, strict=True))
    )
    hand = HandResult(
        stamp_ns=0, side="right", score=1.0, hand_pose=np.zeros(48), betas=np.zeros(10),
        transl=np.zeros(3), vertices=np.zeros((778, 3)), joints=fused.joints_m,
        joint_rotations=np.tile(np.eye(3), (21, 1, 1)), cameras=cameras,
        views_used=tuple(camera.name for camera in cameras),
    )  # fmt: skip
    world_from_cam = invert_rigid(scene.cam_from_ref)
    calibration = Calibration(
        "ref", {f"c{v}": KnownCamera(f"c{v}", world_from_cam[v]) for v in range(count)}
    )
    alignment = align_to_world(hand, calibration)
    assert alignment is not None
    return mpjpe_m(to_world(hand, alignment).joints, scene.joints)


@pytest.mark.parametrize("level", ["low", "high"])
@pytest.mark.parametrize("count", [2, 4])
def test_known_cameras_beat_estimating_then_aligning(count: int, level: str) -> None:
    in_fusion, after = [], []
    for seed in range(SCENES):
        scene = make_scene(seed)
        observations = observe(scene, seed, level)
        fused = fuse_views(observations, known_cam_from_ref=known(scene, count))
        in_fusion.append(mpjpe_m(fused.joints_m, scene.joints))
        after.append(aligned_after_m(scene, fuse_views(observations), count))
    # Measured (mm, in fusion / aligned after): low 2.2 / 10.8 (2 known), 2.0 / 6.0 (4);
    # high 5.7 / 23.2, 5.1 / 16.6.
    assert np.mean(in_fusion) < 0.5 * np.mean(after)
    assert np.mean(in_fusion) < {"low": 0.003, "high": 0.007}[level]


def test_known_cameras_come_back_exactly_and_the_others_are_estimated() -> None:
    scene = make_scene(3)
    poses = known(scene, 2)
    fused = fuse_views(observe(scene, 3, "low"), known_cam_from_ref=poses)
    np.testing.assert_array_equal(fused.cam_from_ref[0], np.eye(4))
    np.testing.assert_array_equal(fused.cam_from_ref[1], poses[1])
    assert fused.inliers == (True,) * 4
    centres = invert_rigid(fused.cam_from_ref)[2:, :3, 3]
    true_centres = invert_rigid(scene.cam_from_ref)[2:, :3, 3]
    assert float(np.linalg.norm(centres - true_centres, axis=-1).max()) < 0.03
    relative = fused.cam_from_ref[2:, :3, :3] @ np.swapaxes(scene.cam_from_ref[2:, :3, :3], 1, 2)
    angles = np.rad2deg(np.arccos(np.clip((np.trace(relative, axis1=1, axis2=2) - 1) / 2, -1, 1)))
    assert float(angles.max()) < 3.0
    # Exact landmarks: exact joints and cameras.
    exact = fuse_views(_exact(scene), known_cam_from_ref=poses)
    assert mpjpe_m(exact.joints_m, scene.joints) < 1e-5
    np.testing.assert_allclose(exact.cam_from_ref, scene.cam_from_ref, atol=1e-5)


def _exact(scene: LandmarkScene) -> list[ViewObservation]:
    return simulated_landmarks(scene, (0.0, 0.0, 1.0), np.random.default_rng(0))


@pytest.mark.parametrize("world_scale", [0.75, 1.3])
def test_the_scale_comes_from_the_baseline_not_the_world_landmarks(world_scale: float) -> None:
    with_known, without = [], []
    for seed in range(6):
        scene = make_scene(seed)
        observations = observe(scene, seed, "low", world_scale)
        fused = fuse_views(observations, known_cam_from_ref=known(scene, 2))
        with_known.append(mpjpe_m(fused.joints_m, scene.joints))
        without.append(mpjpe_m(fuse_views(observations).joints_m, scene.joints))
    # Measured (mm): 1.9 whatever the world landmarks' scale; without known cameras the hand
    # (and its depth) takes their scale: 122 (x 0.75) and 147 (x 1.3).
    assert np.mean(with_known) < 0.003
    assert np.mean(without) > 5 * np.mean(with_known)


def test_a_known_views_corrupted_landmarks_are_dropped_its_camera_kept() -> None:
    for seed in range(4):
        scene = make_scene(seed)
        observations = observe(scene, seed, "low")
        bad = observations[2]
        rng = np.random.default_rng(seed)
        uv = rng.uniform(bad.uv.min(0), bad.uv.max(0), size=(21, 2))
        observations[2] = dataclasses.replace(bad, uv=uv)
        poses = known(scene, 4)
        fused = fuse_views(observations, known_cam_from_ref=poses)
        assert fused.inliers == (True, True, False, True)
        np.testing.assert_array_equal(fused.cam_from_ref[2], poses[2])
        assert mpjpe_m(fused.joints_m, scene.joints) < 0.004


def test_two_known_cameras_one_corrupted_fall_back_to_the_hands_scale() -> None:
    scene = make_scene(5)
    observations = observe(scene, 5, "low")
    bad = observations[1]
    uv = np.random.default_rng(0).uniform(bad.uv.min(0), bad.uv.max(0), size=(21, 2))
    observations[1] = dataclasses.replace(bad, uv=uv)
    poses = known(scene, 2)
    fused = fuse_views(observations, known_cam_from_ref=poses)
    assert fused.inliers == (True, False, True, True)
    np.testing.assert_array_equal(fused.cam_from_ref[1], poses[1])
    # As without known cameras on the three good views (scale from the hand).
    good = fuse_views([observations[view] for view in (0, 2, 3)])
    np.testing.assert_allclose(fused.joints_m, good.joints_m, atol=1e-9)


def test_only_the_reference_known_changes_nothing() -> None:
    scene = make_scene(7)
    observations = observe(scene, 7, "high")
    plain = fuse_views(observations)
    for poses in (None, {}, {0: np.eye(4)}):
        same = fuse_views(observations, known_cam_from_ref=poses)
        np.testing.assert_array_equal(same.joints_m, plain.joints_m)
        np.testing.assert_array_equal(same.cam_from_ref, plain.cam_from_ref)


@pytest.mark.parametrize(
    ("poses", "message"),
    [
        ({4: np.eye(4)}, r"view 4 is not one of 0\.\.3"),
        ({1: np.diag([2.0, 1.0, 1.0, 1.0])}, "view 1 is not a rigid"),
        ({1: np.eye(3)}, "view 1 is not a rigid"),
        ({2: np.full((4, 4), np.nan)}, "view 2 is not a rigid"),
        ({0: np.diag([1.0, -1.0, -1.0, 1.0])}, "view 0 is the reference"),
    ],
)
def test_bad_known_poses_are_clear_errors(poses: dict[int, np.ndarray], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fuse_views(observe(make_scene(0), 0, "low"), known_cam_from_ref=poses)


def test_the_bundle_keeps_every_fixed_camera() -> None:
    scene = make_scene(2)
    uv = np.stack([o.uv for o in _exact(scene)])
    start = scene.cam_from_ref.copy()
    start[3, :3, 3] += 0.02
    bone = float(np.linalg.norm(scene.joints[1] - scene.joints[0]))
    priors = HandPriors(((1, 0),), np.array([bone]), (), 0.0)
    args = (uv, scene.intrinsics, np.ones((4, 21)), start, scene.joints + 0.003, priors)
    result = refine_cameras_and_joints(*args, fixed_views=(0, 1, 2))
    np.testing.assert_array_equal(result.cam_from_ref[:3], start[:3])
    np.testing.assert_allclose(result.cam_from_ref[3], scene.cam_from_ref[3], atol=1e-6)
    assert mpjpe_m(result.joints_m, scene.joints) < 1e-6
    every = refine_cameras_and_joints(*args, fixed_views=range(4))
    np.testing.assert_array_equal(every.cam_from_ref, start)
    assert mpjpe_m(every.joints_m, scene.joints) < 0.002
    with pytest.raises(ValueError, match="fixed_views must name"):
        refine_cameras_and_joints(*args, fixed_views=())
