# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests for hggt_core.geometry.rotations: known answers, round trips, edge angles."""

from __future__ import annotations

import math

import pytest
import torch

from hggt_core.geometry.rotations import (
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    geodesic_angle,
    matrix_to_axis_angle,
    matrix_to_quaternion,
    matrix_to_rotation_6d,
    quaternion_to_axis_angle,
    quaternion_to_matrix,
    rotation_6d_to_matrix,
    standardize_quaternion,
)

F64 = torch.float64
ROT_Z_90 = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=F64)


def _random_quaternions(n: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    quat = torch.randn(n, 4, generator=gen, dtype=F64)
    return quat / quat.norm(dim=-1, keepdim=True)


def _random_axis_angles(n: int, max_angle: float, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    axis = torch.randn(n, 3, generator=gen, dtype=F64)
    axis = axis / axis.norm(dim=-1, keepdim=True)
    angle = torch.rand(n, 1, generator=gen, dtype=F64) * max_angle
    return axis * angle


def _exact_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rotation matrix without the eps bias of axis_angle_to_matrix."""
    return quaternion_to_matrix(axis_angle_to_quaternion(axis_angle))


def test_axis_angle_to_matrix_known_answer() -> None:
    rot = axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.pi / 2], dtype=F64))
    torch.testing.assert_close(rot, ROT_Z_90, atol=1e-7, rtol=0)


def test_matrix_to_quaternion_known_answers() -> None:
    half = math.sqrt(0.5)
    torch.testing.assert_close(
        matrix_to_quaternion(ROT_Z_90), torch.tensor([0.0, 0.0, half, half], dtype=F64)
    )
    torch.testing.assert_close(
        matrix_to_quaternion(torch.eye(3, dtype=F64)),
        torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=F64),
    )
    rot_x_180 = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=F64))
    torch.testing.assert_close(
        matrix_to_quaternion(rot_x_180), torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=F64)
    )


def test_quaternion_to_matrix_known_answer_and_unnormalised_input() -> None:
    half = math.sqrt(0.5)
    quat = torch.tensor([0.0, 0.0, half, half], dtype=F64)
    torch.testing.assert_close(quaternion_to_matrix(quat), ROT_Z_90)
    torch.testing.assert_close(quaternion_to_matrix(3.0 * quat), ROT_Z_90)


def test_quaternion_matrix_round_trip_is_canonical() -> None:
    quat = _random_quaternions(1000)
    back = matrix_to_quaternion(quaternion_to_matrix(quat))
    assert bool((back[..., 3] >= 0).all())
    torch.testing.assert_close(back, standardize_quaternion(quat), atol=1e-12, rtol=0)
    # q and -q are the same rotation and give the same canonical quaternion.
    torch.testing.assert_close(matrix_to_quaternion(quaternion_to_matrix(-quat)), back)


def test_quaternion_round_trip_float32() -> None:
    quat = _random_quaternions(1000).float()
    back = matrix_to_quaternion(quaternion_to_matrix(quat))
    assert back.dtype == torch.float32
    torch.testing.assert_close(back, standardize_quaternion(quat), atol=1e-5, rtol=0)


def test_standardize_quaternion_flips_negative_real_part_only() -> None:
    quat = torch.tensor([[0.1, 0.2, 0.3, -0.5], [0.1, 0.2, 0.3, 0.5]])
    expected = torch.tensor([[-0.1, -0.2, -0.3, 0.5], [0.1, 0.2, 0.3, 0.5]])
    torch.testing.assert_close(standardize_quaternion(quat), expected)


def test_axis_angle_matrix_round_trip_random() -> None:
    axis_angle = _random_axis_angles(1000, max_angle=math.pi - 1e-3)
    back = matrix_to_axis_angle(axis_angle_to_matrix(axis_angle))
    # axis_angle_to_matrix adds 1e-8 to the vector (smplx parity), so expect ~1e-8 errors.
    torch.testing.assert_close(back, axis_angle, atol=1e-7, rtol=0)


@pytest.mark.parametrize("angle", [0.0, 1e-12, 1e-8, 1e-5, 1e-3, 1e-2])
def test_axis_angle_round_trips_near_zero(angle: float) -> None:
    axis = torch.tensor([0.48, -0.6, 0.64], dtype=F64)
    axis_angle = axis * angle
    torch.testing.assert_close(
        matrix_to_axis_angle(_exact_matrix(axis_angle)), axis_angle, atol=1e-15, rtol=1e-9
    )
    torch.testing.assert_close(
        quaternion_to_axis_angle(axis_angle_to_quaternion(axis_angle)),
        axis_angle,
        atol=1e-15,
        rtol=1e-12,
    )


@pytest.mark.parametrize("gap", [0.0, 1e-9, 1e-6, 1e-3])
def test_matrix_to_axis_angle_near_pi(gap: float) -> None:
    axis = torch.tensor([0.48, -0.6, 0.64], dtype=F64)
    axis_angle = axis * (math.pi - gap)
    rot = _exact_matrix(axis_angle)
    back = matrix_to_axis_angle(rot)
    assert abs(float(back.norm()) - (math.pi - gap)) < 1e-12
    torch.testing.assert_close(_exact_matrix(back), rot, atol=1e-12, rtol=0)
    if gap > 0:
        # Below pi the axis sign is determined.
        torch.testing.assert_close(back, axis_angle, atol=1e-12, rtol=0)


def test_axis_angle_above_pi_maps_to_equivalent_short_rotation() -> None:
    axis_angle = torch.tensor([0.0, 0.0, 1.5 * math.pi], dtype=F64)
    back = matrix_to_axis_angle(axis_angle_to_matrix(axis_angle))
    torch.testing.assert_close(back, torch.tensor([0.0, 0.0, -0.5 * math.pi], dtype=F64))
    assert float(axis_angle_to_quaternion(axis_angle)[3]) >= 0


def test_conversions_are_batched_over_leading_axes() -> None:
    axis_angle = _random_axis_angles(24, max_angle=3.0).reshape(2, 3, 4, 3)
    rot = axis_angle_to_matrix(axis_angle)
    assert rot.shape == (2, 3, 4, 3, 3)
    assert matrix_to_quaternion(rot).shape == (2, 3, 4, 4)
    assert matrix_to_axis_angle(rot).shape == (2, 3, 4, 3)
    assert matrix_to_rotation_6d(rot).shape == (2, 3, 4, 6)
    assert geodesic_angle(rot, rot).shape == (2, 3, 4)


def test_gradients_are_finite_at_identity_and_half_turn() -> None:
    for rot in (torch.eye(3, dtype=F64), torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=F64))):
        rot = rot.clone().requires_grad_(True)
        matrix_to_axis_angle(rot).sum().backward()
        assert rot.grad is not None
        assert bool(torch.isfinite(rot.grad).all())
    zero = torch.zeros(3, dtype=F64, requires_grad=True)
    axis_angle_to_quaternion(zero).sum().backward()
    assert zero.grad is not None
    torch.testing.assert_close(zero.grad, torch.full((3,), 0.5, dtype=F64))


def test_rotation_6d_uses_first_two_rows_and_round_trips() -> None:
    rot = _exact_matrix(_random_axis_angles(100, max_angle=math.pi))
    rot_6d = matrix_to_rotation_6d(rot)
    torch.testing.assert_close(rot_6d[..., :3], rot[..., 0, :])
    torch.testing.assert_close(rot_6d[..., 3:], rot[..., 1, :])
    torch.testing.assert_close(rotation_6d_to_matrix(rot_6d), rot, atol=1e-12, rtol=0)


def test_rotation_6d_to_matrix_orthonormalises_arbitrary_input() -> None:
    gen = torch.Generator().manual_seed(1)
    rot = rotation_6d_to_matrix(torch.randn(100, 6, generator=gen, dtype=F64))
    eye = torch.eye(3, dtype=F64).expand(100, 3, 3)
    torch.testing.assert_close(rot @ rot.transpose(-1, -2), eye, atol=1e-12, rtol=0)
    torch.testing.assert_close(torch.linalg.det(rot), torch.ones(100, dtype=F64))
    # Gram-Schmidt keeps the direction of the first row.
    first = torch.tensor([[2.0, 0.0, 0.0, 1.0, 1.0, 0.0]], dtype=F64)
    torch.testing.assert_close(rotation_6d_to_matrix(first)[0], torch.eye(3, dtype=F64))


def test_geodesic_angle_known_answers() -> None:
    rot_a = axis_angle_to_matrix(torch.tensor([0.0, 0.0, 0.3], dtype=F64))
    rot_b = axis_angle_to_matrix(torch.tensor([0.0, 0.0, 1.0], dtype=F64))
    assert abs(float(geodesic_angle(rot_a, rot_b)) - 0.7) < 1e-7
    half_turn = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=F64))
    eye = torch.eye(3, dtype=F64)
    assert float(geodesic_angle(eye, half_turn, eps=0.0)) == pytest.approx(math.pi, abs=1e-12)
    # The default clamp keeps acos away from +-1.
    assert float(geodesic_angle(eye, half_turn)) == pytest.approx(math.pi, abs=1e-3)


def test_geodesic_angle_gradient_is_finite_at_zero() -> None:
    rot = torch.eye(3, requires_grad=True)
    geodesic_angle(rot, torch.eye(3)).backward()
    assert rot.grad is not None
    assert bool(torch.isfinite(rot.grad).all())


def test_matrix_to_quaternion_rejects_wrong_shape() -> None:
    with pytest.raises(ValueError, match="3, 3"):
        matrix_to_quaternion(torch.zeros(2, 3, 4))


def test_matrix_to_quaternion_exports_without_graph_breaks() -> None:
    class ToQuat(torch.nn.Module):
        def forward(self, rot: torch.Tensor) -> torch.Tensor:
            return matrix_to_quaternion(rot)

    rot = _exact_matrix(_random_axis_angles(5, max_angle=3.0)).float()
    exported = torch.export.export(ToQuat(), (rot,))
    torch.testing.assert_close(exported.module()(rot), matrix_to_quaternion(rot))
