# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Overlays land where the camera projects the mesh; mosaics have the documented size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from hggt_core.geometry.distortion import LensDistortion, distort_pixels
from hggt_core.mano.layer import ManoLayer
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import CropTransform, FrameSet, HandResult, View, ViewCamera
from hggt_core.render.overlay import draw_skeleton, mosaic, overlay_hand, overlay_results

HEIGHT, WIDTH = 240, 320


@pytest.fixture(scope="module")
def hand() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices [778, 3], joints [21, 3] (reference frame) and faces of a posed hand."""
    layer = ManoLayer(make_synthetic_mano())
    with torch.no_grad():
        out = layer(torch.tensor([[1.2, 0.3, -0.4]]), torch.zeros(1, 45), torch.zeros(1, 10))
    return out.vertices[0].double().numpy(), out.joints[0].double().numpy(), layer.faces.numpy()


def _camera(vertices: np.ndarray, joints: np.ndarray) -> ViewCamera:
    """A camera 0.5 m from the hand, looking at it, with its projected joints."""
    cam_from_ref = np.eye(4)
    cam_from_ref[:3, :3] = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    cam_from_ref[:3, 3] = -cam_from_ref[:3, :3] @ vertices.mean(axis=0) + [0.01, 0.0, 0.45]
    k = np.array([[500.0, 0.0, 150.0], [0.0, 500.0, 125.0], [0.0, 0.0, 1.0]])
    points = joints @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
    joints_2d = (points[:, :2] / points[:, 2:]) @ k[:2, :2].T + k[:2, 2]
    return ViewCamera("cam", k, cam_from_ref, joints_2d, CropTransform(0.0, 0.0, 1.0, 518))


def _projected_pixels(vertices: np.ndarray, camera: ViewCamera) -> np.ndarray:
    points = vertices @ camera.cam_from_ref[:3, :3].T + camera.cam_from_ref[:3, 3]
    uv = (points / points[:, 2:]) @ camera.intrinsics.T
    return np.floor(uv[:, :2]).astype(int)


def test_overlay_mask_lies_on_the_projected_vertices(hand: tuple[np.ndarray, ...]) -> None:
    vertices, joints, faces = hand
    camera = _camera(vertices, joints)
    image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    drawn = overlay_hand(image, camera, vertices, faces, alpha=1.0, draw_joints=False)
    assert not image.any()  # the input is left alone
    changed = drawn.max(axis=2) > 0
    pixels = _projected_pixels(vertices, camera)
    # Every vertex is on the surface, so its pixel is painted (or, on the silhouette, a
    # neighbour is)...
    assert changed[pixels[:, 1], pixels[:, 0]].mean() > 0.9
    near_changed = cv2.dilate(changed.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert near_changed[pixels[:, 1], pixels[:, 0]].all()
    # ...and nothing is painted outside the vertices' bounding box.
    rows, cols = np.nonzero(changed)
    assert cols.min() >= pixels[:, 0].min() and cols.max() <= pixels[:, 0].max()
    assert rows.min() >= pixels[:, 1].min() and rows.max() <= pixels[:, 1].max()
    assert changed.sum() > 5000


def test_alpha_and_joints(hand: tuple[np.ndarray, ...]) -> None:
    vertices, joints, faces = hand
    camera = _camera(vertices, joints)
    image = np.full((HEIGHT, WIDTH, 3), 100, dtype=np.uint8)
    invisible = overlay_hand(image, camera, vertices, faces, alpha=0.0, draw_joints=False)
    np.testing.assert_array_equal(invisible, image)
    skeleton = overlay_hand(image, camera, vertices, faces, alpha=0.0, draw_joints=True)
    cols, rows = np.floor(camera.joints_2d).astype(int).T
    assert np.all(np.any(skeleton[rows, cols] != 100, axis=1))
    np.testing.assert_array_equal(skeleton, draw_skeleton(image, camera.joints_2d))
    half = overlay_hand(image, camera, vertices, faces, alpha=0.5, draw_joints=False)
    full = overlay_hand(image, camera, vertices, faces, alpha=1.0, draw_joints=False)
    mask = full.max(axis=2) != 100
    expected = np.round(0.5 * 100 + 0.5 * full[mask].astype(float))
    np.testing.assert_allclose(half[mask], expected, atol=1)


def test_overlay_results_draws_each_hand_on_its_views(hand: tuple[np.ndarray, ...]) -> None:
    vertices, joints, faces = hand
    camera = _camera(vertices, joints)
    image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    frameset = FrameSet(0, (View("cam", 0, image), View("other", 0, image)))
    result = HandResult(
        stamp_ns=0,
        side="left",
        score=1.0,
        hand_pose=np.zeros(48),
        betas=np.zeros(10),
        transl=np.zeros(3),
        vertices=vertices,
        joints=joints,
        joint_rotations=np.tile(np.eye(3), (21, 1, 1)),
        cameras=(camera,),
        views_used=("cam",),
    )
    drawn = overlay_results(frameset, [result], faces)
    assert len(drawn) == 2
    assert drawn[0].any()
    assert not drawn[1].any()
    # The left hand's colour is blue-ish.
    painted = drawn[0][drawn[0].max(axis=2) > 0]
    assert np.median(painted[:, 2]) > np.median(painted[:, 0])


def test_hands_over_a_distorted_view_land_where_the_raw_image_shows_them(
    hand: tuple[np.ndarray, ...],
) -> None:
    vertices, joints, faces = hand
    camera = _camera(vertices, joints)  # its pixels are the ideal (pinhole) ones
    # The lens's axis is near the top-left corner, so the hand is 40 degrees off axis and
    # the barrel distortion pulls it in by tens of pixels.
    lens_k = np.array([[200.0, 0.0, 20.0], [0.0, 200.0, 20.0], [0.0, 0.0, 1.0]])
    lens = LensDistortion("plumb_bob", (-0.3, 0.0, 0.0, 0.0, 0.0))
    image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    frameset = FrameSet(0, (View("cam", 0, image, lens_k, lens),))
    result = HandResult(
        stamp_ns=0, side="right", score=1.0, hand_pose=np.zeros(48), betas=np.zeros(10),
        transl=np.zeros(3), vertices=vertices, joints=joints,
        joint_rotations=np.tile(np.eye(3), (21, 1, 1)), cameras=(camera,), views_used=("cam",),
    )  # fmt: skip
    [mesh] = overlay_results(frameset, [result], faces, alpha=1.0, draw_joints=False)
    changed = mesh.max(axis=2) > 0
    points = vertices @ camera.cam_from_ref[:3, :3].T + camera.cam_from_ref[:3, 3]
    ideal = (points / points[:, 2:]) @ camera.intrinsics.T
    raw = np.floor(distort_pixels(ideal[:, :2], lens_k, lens)).astype(int)
    pinhole = np.floor(ideal[:, :2]).astype(int)
    assert np.abs(raw - pinhole).max() > 20
    # Every vertex is on the surface: its raw pixel is painted, or on the silhouette (the
    # shrunk hand has many vertices there) a neighbour is.
    near_changed = cv2.dilate(changed.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert changed[raw[:, 1], raw[:, 0]].mean() > 0.8
    assert near_changed[raw[:, 1], raw[:, 0]].all()
    assert near_changed[pinhole[:, 1], pinhole[:, 0]].mean() < 0.5
    [skeleton] = overlay_results(frameset, [result], faces, alpha=0.0, draw_joints=True)
    expected = draw_skeleton(image, distort_pixels(camera.joints_2d, lens_k, lens))
    np.testing.assert_array_equal(skeleton, expected)


def test_mosaic_size_and_labels() -> None:
    images = [np.full((h, w, 3), 200, dtype=np.uint8) for h, w in [(100, 100), (50, 200)] * 3]
    tiled = mosaic(images[:5], labels=[f"view_{i}" for i in range(5)], columns=3, tile_height=80)
    # Widest resized tile: 200 x 50 -> 320 x 80.
    assert tiled.shape == (2 * 80 + 4, 3 * 320 + 2 * 4, 3)
    assert tiled.dtype == np.uint8
    # The first tile (80 x 80) is centred in its 320-wide slot and carries a black label band.
    assert np.all(tiled[40, 120:200] == 200)
    assert (tiled[:20, 120:200] == 0).any()
    assert np.all(tiled[:80, 118] == 32)
    square = mosaic(images[:4], tile_height=60)
    assert square.shape == (2 * 60 + 4, 2 * 240 + 4, 3)
    with pytest.raises(ValueError, match="labels"):
        mosaic(images[:2], labels=["one"])
    with pytest.raises(ValueError, match="at least one"):
        mosaic([])


def test_skeleton_skips_joints_projected_far_away() -> None:
    image = np.zeros((120, 120, 3), dtype=np.uint8)
    fingers = np.linspace(-40.0, 40.0, 5)
    joints = np.array(
        [[60.0, 110.0]] + [[60.0 + x, 90.0 - 15.0 * k] for x in fingers for k in range(1, 5)]
    )
    far = joints.copy()
    far[8] = [3.0e12, -5.0e11]  # the index tip, near the camera's plane: out of any range
    drawn, kept = draw_skeleton(image, far), draw_skeleton(image, joints)
    # Only the tip's dot and the bone 7-8 are missing.
    x0, y0 = joints[[7, 8]].min(axis=0).astype(int) - 6
    x1, y1 = joints[[7, 8]].max(axis=0).astype(int) + 6
    outside = np.ones(image.shape[:2], dtype=bool)
    outside[y0 : y1 + 1, x0 : x1 + 1] = False
    np.testing.assert_array_equal(drawn[outside], kept[outside])
    assert np.count_nonzero(drawn[~outside]) < np.count_nonzero(kept[~outside])
