# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Rotation representations and conversions between them (torch, batched over leading axes)."""

from __future__ import annotations

import torch
from torch import Tensor

_ANGLE_EPS = 1e-8


def axis_angle_to_matrix(axis_angle: Tensor) -> Tensor:
    """Rodrigues' formula, export-friendly (no data-dependent branches).

    Args:
        axis_angle: [..., 3] rotation vectors (axis * angle, radians).

    Returns:
        [..., 3, 3] rotation matrices. The angle is computed as |axis_angle + eps| as in
        smplx's ``batch_rodrigues`` so a zero vector maps to the identity with finite gradients.
    """
    angle = torch.linalg.vector_norm(axis_angle + _ANGLE_EPS, dim=-1, keepdim=True)
    axis = axis_angle / angle
    cos = torch.cos(angle).unsqueeze(-1)
    sin = torch.sin(angle).unsqueeze(-1)
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1)
    skew = skew.reshape(*axis.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device)
    return eye + sin * skew + (1.0 - cos) * (skew @ skew)


def _safe_sqrt_positive(x: Tensor) -> Tensor:
    """sqrt(max(x, 0)) whose gradient is zero (not NaN or inf) where x <= 0."""
    positive = x > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, x, torch.ones_like(x))), 0.0)


def standardize_quaternion(quat_xyzw: Tensor) -> Tensor:
    """Flip the sign of quaternions whose real part is negative.

    Args:
        quat_xyzw: [..., 4] quaternions, scalar last (x, y, z, w).

    Returns:
        [..., 4] the same rotations with w >= 0 (q and -q are the same rotation).
    """
    return torch.where(quat_xyzw[..., 3:4] < 0, -quat_xyzw, quat_xyzw)


def quaternion_to_matrix(quat_xyzw: Tensor) -> Tensor:
    """Convert quaternions (scalar last, VGGT's XYZW order) to rotation matrices.

    The quaternion need not be unit length: the 2 / |q|^2 factor normalises it, as in VGGT's
    ``quat_to_mat``.

    Args:
        quat_xyzw: [..., 4] quaternions (x, y, z, w); must be non-zero.

    Returns:
        [..., 3, 3] rotation matrices.
    """
    x, y, z, w = quat_xyzw.unbind(-1)
    two_s = 2.0 / (quat_xyzw * quat_xyzw).sum(-1)
    entries = (
        1 - two_s * (y * y + z * z),
        two_s * (x * y - z * w),
        two_s * (x * z + y * w),
        two_s * (x * y + z * w),
        1 - two_s * (x * x + z * z),
        two_s * (y * z - x * w),
        two_s * (x * z - y * w),
        two_s * (y * z + x * w),
        1 - two_s * (x * x + y * y),
    )
    return torch.stack(entries, dim=-1).reshape(*quat_xyzw.shape[:-1], 3, 3)


def matrix_to_quaternion(matrix: Tensor) -> Tensor:
    """Convert rotation matrices to unit quaternions, scalar last (XYZW), with w >= 0.

    Branch-free and well conditioned everywhere (including 180-degree rotations): four
    candidate quaternions are formed, each divided by one of 4|w|, 4|x|, 4|y|, 4|z|, and the one
    with the largest divisor is kept. Same numerics as VGGT's ``mat_to_quat`` (from pytorch3d),
    but the selection is a one-hot weighted sum instead of boolean indexing so that it exports.

    Args:
        matrix: [..., 3, 3] rotation matrices.

    Returns:
        [..., 4] quaternions (x, y, z, w) with w >= 0.

    Raises:
        ValueError: if the last two axes are not 3 x 3.
    """
    if matrix.shape[-2:] != (3, 3):
        raise ValueError(f"expected [..., 3, 3] rotation matrices, got {tuple(matrix.shape)}")
    m00, m01, m02, m10, m11, m12, m20, m21, m22 = matrix.reshape(*matrix.shape[:-2], 9).unbind(-1)
    # |w|, |x|, |y|, |z| each scaled by 2, from the diagonal.
    q_abs = _safe_sqrt_positive(
        torch.stack(
            [
                1.0 + m00 + m11 + m22,
                1.0 + m00 - m11 - m22,
                1.0 - m00 + m11 - m22,
                1.0 - m00 - m11 + m22,
            ],
            dim=-1,
        )
    )
    # Row k equals (w, x, y, z) * 2 * q_abs[k], up to sign.
    scaled_wxyz = torch.stack(
        [
            torch.stack([q_abs[..., 0] ** 2, m21 - m12, m02 - m20, m10 - m01], dim=-1),
            torch.stack([m21 - m12, q_abs[..., 1] ** 2, m10 + m01, m02 + m20], dim=-1),
            torch.stack([m02 - m20, m10 + m01, q_abs[..., 2] ** 2, m12 + m21], dim=-1),
            torch.stack([m10 - m01, m20 + m02, m21 + m12, q_abs[..., 3] ** 2], dim=-1),
        ],
        dim=-2,
    )
    # The floor only guards the division; a candidate with a small divisor is never selected.
    candidates = scaled_wxyz / (2.0 * q_abs[..., None].clamp_min(0.1))
    best = torch.nn.functional.one_hot(q_abs.argmax(dim=-1), num_classes=4).to(matrix.dtype)
    wxyz = (candidates * best[..., None]).sum(dim=-2)
    return standardize_quaternion(torch.cat([wxyz[..., 1:], wxyz[..., :1]], dim=-1))


def quaternion_to_axis_angle(quat_xyzw: Tensor) -> Tensor:
    """Convert unit quaternions (XYZW) to rotation vectors.

    Uses angle = 2 atan2(|xyz|, w) after standardising to w >= 0, so the angle lies in [0, pi]
    and is accurate near both 0 and pi; a Taylor expansion replaces angle / sin(angle / 2) for
    tiny angles.

    Args:
        quat_xyzw: [..., 4] unit quaternions (x, y, z, w).

    Returns:
        [..., 3] rotation vectors (axis * angle, radians), angle in [0, pi].
    """
    quat = standardize_quaternion(quat_xyzw)
    xyz, w = quat[..., :3], quat[..., 3:]
    sin_half = torch.linalg.vector_norm(xyz, dim=-1, keepdim=True)
    half = torch.atan2(sin_half, w)
    small = half.abs() < 1e-3
    safe_sin_half = torch.where(small, torch.ones_like(sin_half), sin_half)
    # 2 * half / sin(half) = 2 + half^2 / 3 + O(half^4).
    factor = torch.where(small, 2.0 + half * half / 3.0, 2.0 * half / safe_sin_half)
    return xyz * factor


def axis_angle_to_quaternion(axis_angle: Tensor) -> Tensor:
    """Convert rotation vectors to unit quaternions (XYZW) with w >= 0.

    Args:
        axis_angle: [..., 3] rotation vectors (axis * angle, radians).

    Returns:
        [..., 4] quaternions (x, y, z, w), standardised to w >= 0.
    """
    angle = torch.linalg.vector_norm(axis_angle, dim=-1, keepdim=True)
    half = 0.5 * angle
    small = angle < 1e-3
    safe_angle = torch.where(small, torch.ones_like(angle), angle)
    # sin(angle / 2) / angle = 1/2 - angle^2 / 48 + O(angle^4).
    factor = torch.where(small, 0.5 - angle * angle / 48.0, torch.sin(half) / safe_angle)
    quat = torch.cat([axis_angle * factor, torch.cos(half)], dim=-1)
    return standardize_quaternion(quat)


def matrix_to_axis_angle(matrix: Tensor) -> Tensor:
    """Convert rotation matrices to rotation vectors (via the quaternion; robust near 0 and pi).

    Args:
        matrix: [..., 3, 3] rotation matrices.

    Returns:
        [..., 3] rotation vectors (axis * angle, radians), angle in [0, pi]. At exactly pi the
        sign of the axis is arbitrary (both signs describe the same rotation).
    """
    return quaternion_to_axis_angle(matrix_to_quaternion(matrix))


def rotation_6d_to_matrix(rot_6d: Tensor) -> Tensor:
    """Convert the continuous 6-D representation (Zhou et al., CVPR 2019) to rotation matrices.

    Convention (pytorch3d's): the 6 numbers are the first two ROWS of the matrix, (r0, r1);
    Gram-Schmidt orthonormalises them and the third row is r0 x r1. HaMeR uses the first two
    COLUMNS instead; its 6-D vectors equal ours of the transposed matrix.

    Args:
        rot_6d: [..., 6] unnormalised first two rows.

    Returns:
        [..., 3, 3] rotation matrices.
    """
    a0, a1 = rot_6d[..., :3], rot_6d[..., 3:]
    b0 = torch.nn.functional.normalize(a0, dim=-1)
    b1 = torch.nn.functional.normalize(a1 - (b0 * a1).sum(-1, keepdim=True) * b0, dim=-1)
    b2 = torch.linalg.cross(b0, b1, dim=-1)
    return torch.stack([b0, b1, b2], dim=-2)


def matrix_to_rotation_6d(matrix: Tensor) -> Tensor:
    """Convert rotation matrices to the 6-D representation (first two rows, pytorch3d order).

    Args:
        matrix: [..., 3, 3] rotation matrices.

    Returns:
        [..., 6] the first two rows, concatenated.
    """
    return matrix[..., :2, :].reshape(*matrix.shape[:-2], 6)


def geodesic_angle(rot_a: Tensor, rot_b: Tensor, eps: float = 1e-7) -> Tensor:
    """Angle of the relative rotation rot_a^T rot_b (geodesic distance on SO(3)).

    Computed as acos((trace(rot_a^T rot_b) - 1) / 2) with the cosine clamped to
    [-1 + eps, 1 - eps], which keeps the gradient finite (zero once clamped) for use in losses.
    The clamp floors the angle at about sqrt(2 eps) (4.5e-4 rad for the default); pass
    ``eps=0.0`` in float64 for accurate small-angle metrics.

    Args:
        rot_a: [..., 3, 3] rotation matrices.
        rot_b: [..., 3, 3] rotation matrices (broadcastable with rot_a).
        eps: clamp margin on the cosine.

    Returns:
        [...] angles in radians, in [0, pi].
    """
    # trace(A^T B) is the elementwise product summed; no matmul needed.
    trace = (rot_a * rot_b).sum(dim=(-2, -1))
    cos = ((trace - 1.0) * 0.5).clamp(-1.0 + eps, 1.0 - eps)
    return torch.acos(cos)
