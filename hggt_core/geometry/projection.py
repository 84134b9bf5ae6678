# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Rigid transforms and pinhole projection (torch, batched over leading axes).

Rigid transforms are [..., 3, 4] matrices [R | t] (or [..., 4, 4] homogeneous ones) named by
their frames: ``cam_from_world`` maps world points into the camera frame, x_cam = R x + t.
Camera frames use OpenCV axes (x right, y down, z forward), so depth is the z coordinate.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _check_rigid_shape(transform: Tensor) -> None:
    if transform.shape[-2:] not in ((3, 4), (4, 4)):
        raise ValueError(f"expected [..., 3, 4] or [..., 4, 4], got {tuple(transform.shape)}")


def to_homogeneous_4x4(transform: Tensor) -> Tensor:
    """Append the row [0, 0, 0, 1] to [R | t] matrices.

    Args:
        transform: [..., 3, 4] rigid transforms (a [..., 4, 4] input is returned unchanged).

    Returns:
        [..., 4, 4] homogeneous transforms.

    Raises:
        ValueError: if the last two axes are neither 3 x 4 nor 4 x 4.
    """
    _check_rigid_shape(transform)
    if transform.shape[-2] == 4:
        return transform
    bottom = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=transform.dtype, device=transform.device)
    bottom = bottom.expand(*transform.shape[:-2], 1, 4)
    return torch.cat([transform, bottom], dim=-2)


def transform_points(transform: Tensor, points: Tensor) -> Tensor:
    """Apply rigid (or any affine) transforms to point sets: x' = R x + t.

    Args:
        transform: [..., 3, 4] or [..., 4, 4]; the frame names say what maps to what, e.g.
            ``cam_from_world`` maps world points to camera points. The last row of a 4 x 4
            input is ignored (no perspective division).
        points: [..., N, 3] points in the source frame; leading axes broadcast with
            ``transform``'s.

    Returns:
        [..., N, 3] points in the target frame.

    Raises:
        ValueError: if ``transform`` is neither 3 x 4 nor 4 x 4.
    """
    _check_rigid_shape(transform)
    rotation = transform[..., :3, :3]
    translation = transform[..., :3, 3]
    return points @ rotation.transpose(-1, -2) + translation[..., None, :]


def invert_rigid(transform: Tensor) -> Tensor:
    """Invert rigid transforms in closed form: [R | t]^-1 = [R^T | -R^T t].

    Args:
        transform: [..., 3, 4] or [..., 4, 4] rigid transforms (R orthonormal), e.g.
            ``cam_from_world``.

    Returns:
        The inverse (e.g. ``world_from_cam``), with the same shape as the input.

    Raises:
        ValueError: if the last two axes are neither 3 x 4 nor 4 x 4.
    """
    _check_rigid_shape(transform)
    rotation_inv = transform[..., :3, :3].transpose(-1, -2)
    translation_inv = -(rotation_inv @ transform[..., :3, 3:4])
    inverse = torch.cat([rotation_inv, translation_inv], dim=-1)
    return to_homogeneous_4x4(inverse) if transform.shape[-2] == 4 else inverse


def compose_rigid(a_from_b: Tensor, b_from_c: Tensor) -> Tensor:
    """Compose rigid transforms: a_from_c = a_from_b @ b_from_c.

    Args:
        a_from_b: [..., 3, 4] or [..., 4, 4].
        b_from_c: [..., 3, 4] or [..., 4, 4] (leading axes broadcast).

    Returns:
        [..., 3, 4] transforms a_from_c.

    Raises:
        ValueError: if an input is neither 3 x 4 nor 4 x 4.
    """
    _check_rigid_shape(a_from_b)
    _check_rigid_shape(b_from_c)
    rotation = a_from_b[..., :3, :3] @ b_from_c[..., :3, :3]
    translation = a_from_b[..., :3, :3] @ b_from_c[..., :3, 3:4] + a_from_b[..., :3, 3:4]
    return torch.cat([rotation, translation], dim=-1)


def project_points(
    points_world: Tensor, cam_from_world: Tensor, intrinsics: Tensor, eps: float = 1e-8
) -> tuple[Tensor, Tensor]:
    """Project world points into pixels with a pinhole camera.

    Args:
        points_world: [..., N, 3] points in the world frame (metres in HGGT).
        cam_from_world: [..., 3, 4] or [..., 4, 4] extrinsics (OpenCV axes).
        intrinsics: [..., 3, 3] pinhole matrices in pixels.
        eps: the division uses a depth pushed away from zero to at least ``eps`` in magnitude
            (keeping its sign), so points on the camera plane give large, finite pixels. The
            returned depth is not altered.

    Returns:
        uv: [..., N, 2] pixel coordinates (u right, v down; the top-left pixel's centre at
            (0.5, 0.5), the convention of :mod:`hggt_core.pipeline.types`).
        depth: [..., N] z in the camera frame (negative behind the camera).
    """
    points_cam = transform_points(cam_from_world, points_world)
    depth = points_cam[..., 2]
    safe_depth = torch.where(depth >= 0, depth.clamp_min(eps), depth.clamp_max(-eps))
    normalized = points_cam[..., :2] / safe_depth[..., None]
    uv = normalized @ intrinsics[..., :2, :2].transpose(-1, -2) + intrinsics[..., None, :2, 2]
    return uv, depth
