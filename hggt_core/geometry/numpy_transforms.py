# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Numpy twins of a few torch geometry functions, for per-message code on the CPU.

Building one ROS message converts a handful of matrices; a torch call costs about 0.4 ms of
overhead there, more than the arithmetic. These functions follow the conventions of their
torch twins exactly and are tested against them (float64, 1e-12):

- :func:`matrix_to_quaternion` ~ :func:`hggt_core.geometry.rotations.matrix_to_quaternion`:
  quaternions scalar last (XYZW), unit length, w >= 0.
- :func:`invert_rigid` ~ :func:`hggt_core.geometry.projection.invert_rigid`: closed-form
  inverse of [R | t] transforms named by their frames (``cam_from_ref`` -> ``ref_from_cam``).

Everything is computed in float64 and batched over leading axes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def matrix_to_quaternion(matrix: npt.ArrayLike) -> FloatArray:
    """Convert rotation matrices to unit quaternions (x, y, z, w) with w >= 0.

    Same method as the torch twin (well conditioned everywhere, 180-degree rotations
    included): of the four candidates derived from 4 w^2, 4 x^2, 4 y^2, 4 z^2, the one with the
    largest of them is kept.

    Args:
        matrix: [..., 3, 3] rotation matrices.

    Returns:
        [..., 4] float64 quaternions (x, y, z, w), unit length, w >= 0.

    Raises:
        ValueError: if the last two axes are not 3 x 3.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape[-2:] != (3, 3):
        raise ValueError(f"expected [..., 3, 3] rotation matrices, got {m.shape}")
    batch = m.shape[:-2]
    m = m.reshape(-1, 3, 3)
    m00, m01, m02 = m[:, 0, 0], m[:, 0, 1], m[:, 0, 2]
    m10, m11, m12 = m[:, 1, 0], m[:, 1, 1], m[:, 1, 2]
    m20, m21, m22 = m[:, 2, 0], m[:, 2, 1], m[:, 2, 2]
    # 4 w^2, 4 x^2, 4 y^2, 4 z^2; row k of ``scaled`` is 4 q_k (w, x, y, z).
    squares = np.stack(
        [1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1
    )
    scaled = np.stack(
        [
            np.stack([squares[:, 0], m21 - m12, m02 - m20, m10 - m01], -1),
            np.stack([m21 - m12, squares[:, 1], m01 + m10, m02 + m20], -1),
            np.stack([m02 - m20, m01 + m10, squares[:, 2], m12 + m21], -1),
            np.stack([m10 - m01, m02 + m20, m12 + m21, squares[:, 3]], -1),
        ],
        axis=1,
    )
    wxyz = scaled[np.arange(m.shape[0]), np.argmax(squares, axis=-1)]
    wxyz /= np.linalg.norm(wxyz, axis=-1, keepdims=True)
    wxyz *= np.where(wxyz[:, :1] < 0, -1.0, 1.0)
    return np.concatenate([wxyz[:, 1:], wxyz[:, :1]], axis=-1).reshape(*batch, 4)


def invert_rigid(transform: npt.ArrayLike) -> FloatArray:
    """Invert rigid transforms in closed form: [R | t]^-1 = [R^T | -R^T t].

    Args:
        transform: [..., 3, 4] or [..., 4, 4] rigid transforms (R orthonormal), e.g.
            ``cam_from_ref``; the bottom row of a 4 x 4 input is not read.

    Returns:
        The float64 inverse (e.g. ``ref_from_cam``), same shape as the input; a 4 x 4 result
        has the bottom row [0, 0, 0, 1].

    Raises:
        ValueError: if the last two axes are neither 3 x 4 nor 4 x 4.
    """
    matrix = np.asarray(transform, dtype=np.float64)
    if matrix.shape[-2:] not in ((3, 4), (4, 4)):
        raise ValueError(f"expected [..., 3, 4] or [..., 4, 4], got {matrix.shape}")
    rotation_inv = np.swapaxes(matrix[..., :3, :3], -1, -2)
    inverse = np.zeros_like(matrix)
    inverse[..., :3, :3] = rotation_inv
    inverse[..., :3, 3:] = -(rotation_inv @ matrix[..., :3, 3:])
    if matrix.shape[-2] == 4:
        inverse[..., 3, 3] = 1.0
    return inverse
