# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Synthetic scenes: seeded, consistent ground truth, every camera sees the hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hggt_core.geometry.pose_encoding import intrinsics_crop_to_image
from hggt_core.geometry.projection import project_points
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.render.rig import cameras_looking_at, hand_axes
from hggt_core.render.scene import (
    SyntheticExample,
    hand_in_frame,
    random_hand_parameters,
    random_rotation,
    render_multiview_example,
)
from hggt_core.render.scene_config import SceneConfig

SMALL = SceneConfig(image_size_hw=(240, 320), crop_size=112, supersample=1)


@pytest.fixture(scope="module")
def layer() -> ManoLayer:
    return ManoLayer(make_synthetic_mano())


@pytest.fixture(scope="module")
def example(layer: ManoLayer) -> SyntheticExample:
    return render_multiview_example(layer, np.random.default_rng(3), 5, SMALL)


def _pose(layer: ManoLayer, pose: np.ndarray, betas: np.ndarray, transl: np.ndarray) -> tuple:
    with torch.no_grad():
        out = layer.forward_theta(
            torch.tensor(pose, dtype=torch.float32)[None],
            torch.tensor(betas, dtype=torch.float32)[None],
            torch.tensor(transl, dtype=torch.float32)[None],
        )
    return out.vertices[0].double().numpy(), out.joints[0].double().numpy(), out.joints16[0, 0]


def test_seeded_determinism(layer: ManoLayer, example: SyntheticExample) -> None:
    again = render_multiview_example(layer, np.random.default_rng(3), 5, SMALL)
    for first, second in zip(example.views, again.views, strict=True):
        np.testing.assert_array_equal(first.image, second.image)
        np.testing.assert_array_equal(first.intrinsics, second.intrinsics)
        np.testing.assert_array_equal(first.cam_from_ref, second.cam_from_ref)
    np.testing.assert_array_equal(example.hand_pose, again.hand_pose)
    other = render_multiview_example(layer, np.random.default_rng(4), 5, SMALL)
    assert not np.array_equal(other.views[0].image, example.views[0].image)


def test_reference_camera_and_rigid_extrinsics(example: SyntheticExample) -> None:
    assert [view.name for view in example.views] == [f"view_{i:02d}" for i in range(5)]
    np.testing.assert_array_equal(example.views[0].cam_from_ref, np.eye(4))
    for view in example.views:
        rotation = view.cam_from_ref[:3, :3]
        np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(rotation) == pytest.approx(1.0)
        np.testing.assert_array_equal(view.cam_from_ref[3], [0.0, 0.0, 0.0, 1.0])
        distance = np.linalg.norm(view.cam_from_ref[:3, 3] + rotation @ example.vertices.mean(0))
        assert 0.3 < distance < 0.65
        assert view.image.shape == (112, 112, 3) and view.image.dtype == np.uint8


def test_every_camera_sees_the_whole_hand(example: SyntheticExample) -> None:
    for view in example.views:
        assert np.all(view.joints_2d > 0.0) and np.all(view.joints_2d < 112.0)
        # In the full virtual image too.
        full = torch.from_numpy(view.image_intrinsics)
        uv, depth = project_points(
            torch.from_numpy(example.vertices), torch.from_numpy(view.cam_from_ref), full
        )
        assert torch.all(depth > 0.2)
        height, width = view.image_size_hw
        assert torch.all((uv >= 0) & (uv <= torch.tensor([width, height])))


def test_ground_truth_is_self_consistent(layer: ManoLayer, example: SyntheticExample) -> None:
    vertices, joints, _ = _pose(layer, example.hand_pose, example.betas, example.transl)
    np.testing.assert_allclose(vertices, example.vertices, atol=1e-6)
    np.testing.assert_allclose(joints, example.joints, atol=1e-6)
    for view in example.views:
        uv, _ = project_points(
            torch.from_numpy(example.joints),
            torch.from_numpy(view.cam_from_ref),
            torch.from_numpy(view.intrinsics),
        )
        np.testing.assert_allclose(uv.numpy(), view.joints_2d, atol=1e-9)
        crop = view.crop
        image_k = intrinsics_crop_to_image(
            torch.from_numpy(view.intrinsics), crop.scale, (crop.x0, crop.y0)
        )
        np.testing.assert_allclose(image_k.numpy(), view.image_intrinsics, atol=1e-9)
        assert crop.size == 112


def test_hand_is_drawn_where_the_ground_truth_projects(example: SyntheticExample) -> None:
    skin = np.asarray(example.skin_colour) * 255.0
    for view in example.views:
        # The pixel at the mean of the projected wrist and knuckles lies on the palm: a shade
        # of the skin colour (same channel ratios, any brightness).
        knuckles = view.joints_2d[[0, 5, 9, 13, 17]].mean(axis=0)
        pixel = view.image[int(knuckles[1]), int(knuckles[0])].astype(float)
        ratio = pixel / skin
        assert np.ptp(ratio) < 0.15, (view.name, pixel, skin)


def test_hand_in_frame_poses_the_same_hand(layer: ManoLayer) -> None:
    rng = np.random.default_rng(0)
    params = random_hand_parameters(rng)
    transl = np.array([0.05, -0.02, 0.3])
    vertices, _, posed_root = _pose(layer, params.hand_pose, params.betas, transl)
    root = posed_root.double().numpy() - transl  # the root joint does not move with the pose
    new_from_old = np.eye(4)
    new_from_old[:3, :3] = random_rotation(rng)
    new_from_old[:3, 3] = [0.1, 0.2, -0.3]
    pose, new_transl = hand_in_frame(params.hand_pose, transl, root, new_from_old)
    moved, _, _ = _pose(layer, pose, params.betas, new_transl)
    expected = vertices @ new_from_old[:3, :3].T + new_from_old[:3, 3]
    np.testing.assert_allclose(moved, expected, atol=2e-6)
    np.testing.assert_array_equal(pose[3:], params.hand_pose[3:])


def test_random_parameters_and_cameras() -> None:
    rng = np.random.default_rng(1)
    betas = np.stack([random_hand_parameters(rng).betas for _ in range(400)])
    assert betas.std() == pytest.approx(0.5, rel=0.1)
    rotation = random_rotation(rng)
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    target = np.array([0.1, 0.0, 0.2])
    for camera in cameras_looking_at(target, 6, rng, SMALL):
        point = camera.cam_from_world[:3, :3] @ target + camera.cam_from_world[:3, 3]
        assert 0.34 < np.linalg.norm(point) < 0.61
        assert np.linalg.norm(point[:2]) / point[2] < 0.15  # aimed at the target
        assert camera.intrinsics[0, 2] == 160.0 and camera.intrinsics[1, 2] == 120.0


def test_frameset(example: SyntheticExample) -> None:
    frameset = example.frameset(stamp_ns=2_500_000_001)
    assert frameset.stamp_ns == 2_500_000_001
    assert {view.stamp_ns for view in frameset.views} == {2_500_000_001}
    assert [view.name for view in frameset.views] == [view.name for view in example.views]
    assert all(view.intrinsics is None for view in frameset.views)
    calibrated = example.frameset(with_intrinsics=True)
    assert calibrated.views[1].intrinsics is example.views[1].intrinsics


PALM_SIDE = SceneConfig(
    image_size_hw=(240, 320), crop_size=112, supersample=1, view_cone_deg=40.0, roll_range_deg=20.0
)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(
        np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1)))
    )


def test_hand_axes_of_a_palm_facing_the_camera() -> None:
    # Right palm towards a camera (-z), fingers up (-y), thumb side on the image's right (+x).
    joints = np.zeros((21, 3))
    joints[9] = [0.0, -0.09, 0.0]
    joints[5] = [0.02, -0.085, 0.0]
    joints[17] = [-0.03, -0.08, 0.0]
    axes = hand_axes(joints)
    np.testing.assert_allclose(axes.palm_normal, [0.0, 0.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(axes.fingers, [0.0, -1.0, 0.0], atol=1e-12)


def test_palm_side_rig_sees_the_palm_with_the_fingers_up(layer: ManoLayer) -> None:
    rng = np.random.default_rng(5)
    for _ in range(6):
        example = render_multiview_example(layer, rng, 4, PALM_SIDE)
        for view in example.views:
            rotation = view.cam_from_ref[:3, :3]
            axes = hand_axes(example.joints @ rotation.T)
            # Rigid re-referencing turns the axes with the camera: the palm faces the camera
            # within the cone (plus the aim jitter and the finger-curl's effect on the axes).
            assert _angle_deg(axes.palm_normal, np.array([0.0, 0.0, -1.0])) < 40.0 + 15.0
            up = np.array([0.0, -1.0])
            # In the image the fingers point up within the roll (tilt adds a little).
            assert _angle_deg(axes.fingers[:2], up) < 20.0 + 10.0
            assert view.joints_2d[9, 1] < view.joints_2d[0, 1]


def test_palm_side_rig_spreads_the_cameras_and_needs_the_axes() -> None:
    rng = np.random.default_rng(6)
    axes = hand_axes(_pose_rest_joints())
    cameras = cameras_looking_at(np.zeros(3), 200, rng, PALM_SIDE, axes)
    centres = np.stack([-c.cam_from_world[:3, :3].T @ c.cam_from_world[:3, 3] for c in cameras])
    angles = [_angle_deg(centre, axes.palm_normal) for centre in centres]
    assert max(angles) < 40.0 + 3.0 and min(angles) < 10.0 and np.mean(angles) > 15.0
    with pytest.raises(ValueError, match="axes"):
        cameras_looking_at(np.zeros(3), 2, rng, PALM_SIDE)


def _pose_rest_joints() -> np.ndarray:
    layer = ManoLayer(make_synthetic_mano())
    return _pose(layer, np.zeros(48), np.zeros(10), np.zeros(3))[1]
