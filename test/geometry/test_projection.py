# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests for hggt_core.geometry.projection: rigid transforms and pinhole projection."""

from __future__ import annotations

import pytest
import torch

from hggt_core.geometry.projection import (
    compose_rigid,
    invert_rigid,
    project_points,
    to_homogeneous_4x4,
    transform_points,
)
from hggt_core.geometry.rotations import axis_angle_to_quaternion, quaternion_to_matrix

F64 = torch.float64


def _rotation(axis_angle: torch.Tensor) -> torch.Tensor:
    # Exactly orthonormal (axis_angle_to_matrix carries smplx's 1e-8 bias).
    return quaternion_to_matrix(axis_angle_to_quaternion(axis_angle))


K = torch.tensor([[100.0, 0.0, 50.0], [0.0, 200.0, 60.0], [0.0, 0.0, 1.0]], dtype=F64)
IDENTITY = torch.cat([torch.eye(3, dtype=F64), torch.zeros(3, 1, dtype=F64)], dim=-1)


def _random_rigid(batch: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    rotation = _rotation(torch.randn(batch, 3, generator=gen, dtype=F64))
    translation = torch.randn(batch, 3, 1, generator=gen, dtype=F64)
    return torch.cat([rotation, translation], dim=-1)


def test_point_on_optical_axis_projects_to_principal_point() -> None:
    uv, depth = project_points(torch.tensor([[0.0, 0.0, 2.5]], dtype=F64), IDENTITY, K)
    torch.testing.assert_close(uv, torch.tensor([[50.0, 60.0]], dtype=F64))
    torch.testing.assert_close(depth, torch.tensor([2.5], dtype=F64))


def test_projection_known_answer_with_extrinsic() -> None:
    # Camera 1 m behind the world origin along world z, looking along +z.
    cam_from_world = IDENTITY.clone()
    cam_from_world[2, 3] = 1.0
    uv, depth = project_points(torch.tensor([[1.0, 1.0, 1.0]], dtype=F64), cam_from_world, K)
    torch.testing.assert_close(uv, torch.tensor([[100.0, 160.0]], dtype=F64))
    torch.testing.assert_close(depth, torch.tensor([2.0], dtype=F64))


def test_projection_is_batched_and_agrees_with_manual_formula() -> None:
    cams = _random_rigid(6).reshape(2, 3, 3, 4)
    points = torch.randn(2, 3, 7, 3, dtype=F64) + torch.tensor([0.0, 0.0, 5.0], dtype=F64)
    uv, depth = project_points(points, cams, K)
    assert uv.shape == (2, 3, 7, 2)
    assert depth.shape == (2, 3, 7)
    cam_points = torch.einsum("bsij,bsnj->bsni", cams[..., :3], points) + cams[..., None, :, 3]
    pixels = torch.einsum("ij,bsnj->bsni", K, cam_points)
    torch.testing.assert_close(uv, pixels[..., :2] / pixels[..., 2:], atol=1e-9, rtol=1e-9)
    torch.testing.assert_close(depth, cam_points[..., 2])


def test_projection_behind_and_on_camera_plane_is_finite() -> None:
    points = torch.tensor([[0.1, 0.0, -2.0], [0.1, 0.0, 0.0]], dtype=F64)
    uv, depth = project_points(points, IDENTITY, K)
    assert bool(torch.isfinite(uv).all())
    torch.testing.assert_close(depth, torch.tensor([-2.0, 0.0], dtype=F64))
    assert float(uv[0, 0]) == pytest.approx(50.0 - 100.0 * 0.05)


def test_invert_rigid_composes_to_identity() -> None:
    transforms = _random_rigid(10)
    inverse = invert_rigid(transforms)
    eye = IDENTITY.expand(10, 3, 4)
    torch.testing.assert_close(compose_rigid(transforms, inverse), eye, atol=1e-12, rtol=0)
    torch.testing.assert_close(compose_rigid(inverse, transforms), eye, atol=1e-12, rtol=0)


def test_invert_rigid_4x4_matches_matrix_inverse() -> None:
    homogeneous = to_homogeneous_4x4(_random_rigid(4))
    inverse = invert_rigid(homogeneous)
    assert inverse.shape == (4, 4, 4)
    torch.testing.assert_close(inverse, torch.linalg.inv(homogeneous), atol=1e-12, rtol=0)


def test_to_homogeneous_4x4_appends_bottom_row() -> None:
    transforms = _random_rigid(3).reshape(3, 1, 3, 4)
    homogeneous = to_homogeneous_4x4(transforms)
    assert homogeneous.shape == (3, 1, 4, 4)
    torch.testing.assert_close(homogeneous[..., :3, :], transforms)
    expected_row = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=F64).expand(3, 1, 4)
    torch.testing.assert_close(homogeneous[..., 3, :], expected_row)
    assert to_homogeneous_4x4(homogeneous) is homogeneous


def test_transform_points_accepts_3x4_and_4x4() -> None:
    transforms = _random_rigid(2)
    points = torch.randn(2, 5, 3, dtype=F64)
    expected = points @ transforms[:, :, :3].transpose(1, 2) + transforms[:, None, :, 3]
    torch.testing.assert_close(transform_points(transforms, points), expected)
    torch.testing.assert_close(transform_points(to_homogeneous_4x4(transforms), points), expected)


def test_compose_then_transform_equals_sequential_transforms() -> None:
    a_from_b, b_from_c = _random_rigid(2, seed=1), _random_rigid(2, seed=2)
    points = torch.randn(2, 4, 3, dtype=F64)
    sequential = transform_points(a_from_b, transform_points(b_from_c, points))
    composed = transform_points(compose_rigid(a_from_b, b_from_c), points)
    torch.testing.assert_close(composed, sequential)


def test_wrong_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="3, 4"):
        invert_rigid(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="3, 4"):
        transform_points(torch.zeros(2, 3), torch.zeros(5, 3))
