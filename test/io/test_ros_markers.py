# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the ROS-free RViz markers: mesh, skeleton and camera frusta."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hggt_core.base.hand_skeleton import OPENPOSE_BONES
from hggt_core.io.ros_markers import (
    MARKER_LINE_LIST,
    MARKER_SPHERE_LIST,
    MARKER_TRIANGLE_LIST,
    MarkerStyle,
    frustum_lines,
    hand_markers,
)
from hggt_core.mano.synthetic import make_synthetic_mano
from hggt_core.pipeline.types import HandResult

MakeHandResult = Callable[..., HandResult]


def test_markers_draw_mesh_skeleton_and_cameras(make_hand_result: MakeHandResult) -> None:
    result = make_hand_result("right")
    faces = make_synthetic_mano("right").faces
    markers = hand_markers(result, faces, "cam0_optical")
    by_ns = {(m.ns, m.id): m for m in markers}
    assert sorted(by_ns) == [
        ("right_bones", 0), ("right_cameras", 0), ("right_cameras", 1), ("right_cameras", 2),
        ("right_joints", 0), ("right_mesh", 0),
    ]  # fmt: skip
    assert {m.frame_id for m in markers} == {"cam0_optical"}
    assert {m.stamp_ns for m in markers} == {12_500_000_000}
    assert {m.lifetime_s for m in markers} == {MarkerStyle().lifetime_s}
    mesh = by_ns["right_mesh", 0]
    assert mesh.type == MARKER_TRIANGLE_LIST and mesh.points.shape == (1538 * 3, 3)
    np.testing.assert_array_equal(mesh.points[3:6], result.vertices[faces[1]])
    assert mesh.color == MarkerStyle().right_color
    joints = by_ns["right_joints", 0]
    assert joints.type == MARKER_SPHERE_LIST and joints.scale == (0.01, 0.01, 0.01)
    np.testing.assert_array_equal(joints.points, result.joints)
    assert joints.colors is not None and joints.colors.shape == (21, 4)
    bones = by_ns["right_bones", 0]
    assert bones.type == MARKER_LINE_LIST and bones.points.shape == (40, 3)
    child, parent = OPENPOSE_BONES[5]
    np.testing.assert_array_equal(bones.points[10:12], result.joints[[parent, child]])
    assert bones.colors is not None and bones.colors.shape == (40, 4)
    assert by_ns["right_cameras", 2].type == MARKER_LINE_LIST
    left = hand_markers(
        make_hand_result("left"), faces, "f", MarkerStyle(mesh=False, cameras=False)
    )
    assert [m.ns for m in left] == ["left_joints", "left_bones"]


def test_frustum_apex_is_the_camera_centre_and_corners_hit_the_image_corners(
    make_hand_result: MakeHandResult,
) -> None:
    camera = make_hand_result().cameras[2]  # principal point (320, 240): a 640 x 480 image
    k, cam_from_ref = camera.intrinsics, camera.cam_from_ref
    lines = frustum_lines(k, cam_from_ref, depth_m=0.3, image_size=(600, 500))
    assert lines.shape == (16, 3)
    centre = -cam_from_ref[:3, :3].T @ cam_from_ref[:3, 3]
    np.testing.assert_allclose(lines[0:8:2], np.tile(centre, (4, 1)), atol=1e-12)
    corners_cam = lines[1:8:2] @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
    np.testing.assert_allclose(corners_cam[:, 2], 0.3, atol=1e-12)
    pixels = corners_cam @ k.T
    expected = [[0, 0], [600, 0], [600, 500], [0, 500]]
    np.testing.assert_allclose(pixels[:, :2] / pixels[:, 2:], expected, atol=1e-9)
    np.testing.assert_allclose(lines[8:], lines[[1, 3, 3, 5, 5, 7, 7, 1]], atol=0)
    default = frustum_lines(k, cam_from_ref, depth_m=0.3)
    default_cam = default[5] @ cam_from_ref[:3, :3].T + cam_from_ref[:3, 3]
    np.testing.assert_allclose((default_cam @ k.T)[:2] / default_cam[2], [640, 480], atol=1e-9)
