# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Weighted linear (DLT) triangulation of points seen by S calibrated views (numpy, float64).

Each view s with K_s and ``cam_from_ref`` [R_s | t_s] gives two linear equations per point in
the reference frame's homogeneous coordinates X:

    (m_x P_s[2] - P_s[0]) X = 0,   (m_y P_s[2] - P_s[1]) X = 0,

with P_s = [R_s | t_s] and m = K_s^-1 (u, v, 1) the normalised image coordinates. Each pair is
scaled by sqrt(w) f_s / z_s (f_s the focal length, z_s the point's depth in view s, taken from a
first solve), which turns the algebraic error into an approximate pixel error, so views with
longer focal lengths or closer cameras count as they do in reprojection. The least-squares
solution is the eigenvector of the smallest eigenvalue of A^T A, for all points at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_INFINITY_TOLERANCE = 1e-9
"""Smallest |X_w| / |X| of a homogeneous solution still taken as a finite point."""


def _check_inputs(
    uv: FloatArray, intrinsics: FloatArray, cam_from_ref: FloatArray, weights: FloatArray
) -> None:
    """Raise ValueError for mismatched shapes, non-finite values or negative weights."""
    if uv.ndim != 3 or uv.shape[-1] != 2:
        raise ValueError(f"uv must be [S, N, 2] pixels, got {uv.shape}")
    views = uv.shape[0]
    if intrinsics.shape != (views, 3, 3):
        raise ValueError(f"intrinsics must be [S, 3, 3] with S = {views}, got {intrinsics.shape}")
    if cam_from_ref.shape not in ((views, 3, 4), (views, 4, 4)):
        raise ValueError(
            f"cam_from_ref must be [S, 4, 4] with S = {views}, got {cam_from_ref.shape}"
        )
    if weights.shape != uv.shape[:2]:
        raise ValueError(f"weights must be [S, N] = {uv.shape[:2]}, got {weights.shape}")
    for name, array in (("uv", uv), ("intrinsics", intrinsics), ("cam_from_ref", cam_from_ref)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} holds NaN or infinite values")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("weights must be finite and non-negative")


def triangulate_homogeneous(
    uv: FloatArray,
    intrinsics: FloatArray,
    cam_from_ref: FloatArray,
    weights: FloatArray | None = None,
    depth_reweighting: int = 1,
) -> FloatArray:
    """Weighted DLT solutions as unit homogeneous vectors (no checks on the geometry).

    Args:
        uv: [S, N, 2] pixels of N points in S views.
        intrinsics: [S, 3, 3] K of each view.
        cam_from_ref: [S, 4, 4] (or [S, 3, 4]) rigid transforms, reference -> view s, metres.
        weights: [S, N] non-negative confidences (default: ones); 0 drops an observation.
        depth_reweighting: solves after the first that rescale each view's equations by its
            estimated depth (0 keeps the plain focal-length-scaled DLT).

    Returns:
        [N, 4] unit vectors (X, Y, Z, W) with W >= 0; the point is (X, Y, Z) / W when W > 0.
        Points with fewer than two weighted views get an arbitrary vector.
    """
    uv = np.asarray(uv, dtype=np.float64)
    w = np.ones(uv.shape[:2]) if weights is None else np.asarray(weights, dtype=np.float64)
    inverse = np.linalg.inv(intrinsics[:, :2, :2])
    normalised = (uv - intrinsics[:, None, :2, 2]) @ np.swapaxes(inverse, -1, -2)
    projection = cam_from_ref[:, :3, :4]
    # [S, N, 2, 4]: m_x P[2] - P[0] and m_y P[2] - P[1].
    rows = normalised[..., None] * projection[:, None, 2:3, :] - projection[:, None, :2, :]
    focal = np.sqrt(np.abs(np.linalg.det(intrinsics[:, :2, :2])))
    base = np.sqrt(w) * focal[:, None]
    scale = base
    solution = np.zeros((uv.shape[1], 4))
    for _ in range(1 + max(depth_reweighting, 0)):
        system = np.moveaxis(rows * scale[..., None, None], 1, 0).reshape(uv.shape[1], -1, 4)
        # The right singular vector of the smallest singular value, from the 4 x 4 normal matrix
        # (about twice as fast as the SVD; the rows are scaled to pixels, so it is well posed).
        solution = np.linalg.eigh(np.swapaxes(system, -1, -2) @ system)[1][..., 0]
        solution *= np.where(solution[:, 3:] < 0, -1.0, 1.0)
        depth = np.abs(np.einsum("sk,nk->sn", projection[:, 2], solution))
        # A point at infinity or on a camera plane keeps the previous scaling.
        usable = depth > _INFINITY_TOLERANCE * np.abs(solution[:, 3])[None]
        inverse_depth = solution[:, 3][None] / np.maximum(depth, 1e-300)
        scale = np.where(usable, base * inverse_depth, scale)
    return np.asarray(solution)


def triangulate_points(
    uv: FloatArray,
    intrinsics: FloatArray,
    cam_from_ref: FloatArray,
    weights: FloatArray | None = None,
    depth_reweighting: int = 1,
) -> FloatArray:
    """Triangulate N points from S >= 2 views (weighted DLT, batched over points).

    Args:
        uv: [S, N, 2] pixels (u right, v down, pixel centres at +0.5).
        intrinsics: [S, 3, 3] K of each view.
        cam_from_ref: [S, 4, 4] (or [S, 3, 4]) rigid transforms, reference -> view s, metres.
        weights: [S, N] non-negative confidences (default: ones); 0 drops an observation.
        depth_reweighting: see :func:`triangulate_homogeneous`.

    Returns:
        [N, 3] points in the reference frame, metres.

    Raises:
        ValueError: for bad shapes or values, a point seen by fewer than two views with positive
            weight, or a point at infinity (parallel rays).
    """
    uv = np.asarray(uv, dtype=np.float64)
    intrinsics = np.asarray(intrinsics, dtype=np.float64)
    cam_from_ref = np.asarray(cam_from_ref, dtype=np.float64)
    w = np.ones(uv.shape[:2]) if weights is None else np.asarray(weights, dtype=np.float64)
    _check_inputs(uv, intrinsics, cam_from_ref, w)
    seen = (w > 0).sum(axis=0)
    if np.any(seen < 2):
        raise ValueError(
            f"points {np.flatnonzero(seen < 2).tolist()} are seen by fewer than 2 views "
            "with positive weight"
        )
    homogeneous = triangulate_homogeneous(uv, intrinsics, cam_from_ref, w, depth_reweighting)
    at_infinity = homogeneous[:, 3] < _INFINITY_TOLERANCE
    if np.any(at_infinity):
        raise ValueError(
            f"points {np.flatnonzero(at_infinity).tolist()} are at infinity (parallel rays)"
        )
    return np.asarray(homogeneous[:, :3] / homogeneous[:, 3:])
