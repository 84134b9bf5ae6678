# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Two hands of one frameset end up in one set of cameras."""

import dataclasses

import numpy as np
import pytest
import torch

from hggt_core.geometry.numpy_transforms import invert_rigid
from hggt_core.geometry.rotations import axis_angle_to_matrix
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.shared_cameras import share_cameras
from hggt_core.pipeline.types import CropTransform, HandResult, ViewCamera
from hggt_core.render.overlay import overlay_results

NAMES = ("cam0", "cam1", "cam2")
K = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])
BETAS = np.linspace(-0.5, 0.5, 10)


def _rigid(axis_angle: list[float], shift: list[float]) -> np.ndarray:
    transform = np.eye(4)
    transform[:3, :3] = axis_angle_to_matrix(torch.tensor(axis_angle, dtype=torch.float64))
    transform[:3, 3] = shift
    return transform


CAM_FROM_REF = [
    np.eye(4),
    _rigid([0.0, 0.5, 0.0], [-0.2, 0.0, 0.05]),
    _rigid([0.3, -0.4, 0.0], [0.15, -0.1, 0.0]),
]


@pytest.fixture(scope="module")
def layer() -> ManoLayer:
    return ManoLayer(make_synthetic_mano("right")).double()


def _pose(layer: ManoLayer, pose: np.ndarray, transl: np.ndarray):
    with torch.no_grad():
        return layer.forward_theta(
            torch.from_numpy(pose[None]),
            torch.from_numpy(BETAS[None]),
            torch.from_numpy(transl[None]),
        )


def _result(
    layer: ManoLayer,
    pose: np.ndarray,
    transl: np.ndarray,
    score: float,
    views: tuple[str, ...],
    own_from_ref: np.ndarray,
    focal_scale: float = 1.0,
) -> HandResult:
    """A hand as an engine reports it: MANO in its own frame, cameras estimated from it."""
    out = _pose(layer, pose, transl)
    joints = out.joints[0].numpy()
    intrinsics = K * np.array([[focal_scale], [focal_scale], [1.0]])
    cameras = []
    for name in views:
        cam_from_own = CAM_FROM_REF[NAMES.index(name)] @ invert_rigid(own_from_ref)
        projected = (joints @ cam_from_own[:3, :3].T + cam_from_own[:3, 3]) @ intrinsics.T
        uv = projected[:, :2] / projected[:, 2:]
        crop = CropTransform(0.0, 0.0, 1.0, 224)
        cameras.append(ViewCamera(name, intrinsics, cam_from_own, uv, crop))
    return HandResult(
        stamp_ns=1_000_000_000,
        side="right" if score > 0.85 else "left",
        score=score,
        hand_pose=pose,
        betas=BETAS,
        transl=transl,
        vertices=out.vertices[0].numpy(),
        joints=joints,
        joint_rotations=out.global_rotations[0].numpy()[[0] * 21],
        cameras=tuple(cameras),
        views_used=views,
    )


def test_the_other_hand_moves_into_the_best_hands_cameras(layer: ManoLayer) -> None:
    pose = np.zeros(48)
    pose[:3] = [0.2, -0.3, 0.1]
    best = _result(layer, pose, np.array([0.0, 0.0, 0.5]), 0.9, NAMES, np.eye(4))
    own_from_ref = _rigid([0.05, -0.08, 0.03], [0.01, -0.02, 0.03])
    other_pose = np.zeros(48)
    other_pose[:3] = [-0.4, 0.2, 0.3]
    other_pose[3:] = 0.1
    other = _result(
        layer, other_pose, np.array([0.1, 0.05, 0.55]), 0.8, NAMES[:2], own_from_ref, 1.1
    )
    kept, moved = share_cameras([best, other])
    assert kept is best
    truth = other.joints @ invert_rigid(own_from_ref)[:3, :3].T + invert_rigid(own_from_ref)[:3, 3]
    np.testing.assert_allclose(moved.joints, truth, atol=1e-9)
    for camera in moved.cameras:
        [same] = [c for c in best.cameras if c.name == camera.name]
        np.testing.assert_allclose(camera.cam_from_ref, same.cam_from_ref)
        np.testing.assert_allclose(camera.intrinsics, same.intrinsics)
    # The moved MANO parameters reproduce the moved mesh.
    out = _pose(layer, moved.hand_pose, moved.transl)
    np.testing.assert_allclose(out.vertices[0].numpy(), moved.vertices, atol=1e-9)
    assert moved.views_used == ("cam0", "cam1")


def test_overlays_draw_both_hands_in_every_view(layer: ManoLayer) -> None:
    from hggt_core.pipeline.types import FrameSet, View

    image = np.zeros((480, 640, 3), np.uint8)
    frameset = FrameSet(10**9, tuple(View(name, 10**9, image) for name in NAMES))
    best = _result(layer, np.zeros(48), np.array([0.0, 0.0, 0.5]), 0.9, NAMES, np.eye(4))
    off = _rigid([0.0, 0.1, 0.0], [0.02, 0.0, 0.0])
    other = _result(layer, np.zeros(48), np.array([0.1, 0.0, 0.5]), 0.8, NAMES, off, 1.2)
    faces = layer.faces.numpy()
    # Separately estimated cameras no longer stop the overlays; shared ones draw both hands.
    assert len(overlay_results(frameset, [best, other], faces)) == 3
    drawn = overlay_results(frameset, share_cameras([best, other]), faces)
    assert all(view.any() for view in drawn)


def test_hands_that_share_no_view_or_the_reference_are_left_alone(layer: ManoLayer) -> None:
    best = _result(layer, np.zeros(48), np.array([0.0, 0.0, 0.5]), 0.9, NAMES, np.eye(4))
    apart = _result(
        layer, np.zeros(48), np.array([0.1, 0.0, 0.5]), 0.8, ("cam1", "cam2"), np.eye(4)
    )
    assert share_cameras([best, apart])[1] is apart
    assert share_cameras([best]) == [best]
    other = dataclasses.replace(best, score=0.5)
    assert share_cameras([other, best])[1] is best
