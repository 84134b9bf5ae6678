# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Rigid perspective-n-point pose of a few points (numpy, float64, batched over problems).

:func:`solve_pnp` finds ``cam_from_model`` = [R | t] such that the pinhole projection of
R x + t matches observed pixels, by Levenberg-Marquardt on (R, t) with rotation increments on
SO(3) (R <- exp(w) R) and a Cauchy robust loss (iteratively reweighted). It is a local solver:
it starts from a given rotation (e.g. the identity for MediaPipe's camera-aligned world
landmarks) and the translation that best explains the pixels under that rotation (a linear
least-squares problem). Problems of B views are solved together for speed.

Conventions: camera axes are OpenCV's (x right, y down, z forward), lengths in metres, pixels
with u right and v down (pixel centres at +0.5, so u = f_x x / z + c_x directly). The helpers
:func:`so3_exp`, :func:`skew`, :func:`project_pinhole` and :func:`projection_jacobian` are
shared with the multi-view refinement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MIN_DEPTH_M = 1e-3
"""Points closer to a camera's image plane than this make a pose invalid (metres)."""
_SMALL_ANGLE_RAD = 1e-8


@dataclass(frozen=True)
class PnPConfig:
    """Settings of :func:`solve_pnp`."""

    iterations: int = 10
    """Most Levenberg-Marquardt iterations."""
    robust_scale_px: float = 8.0
    """Cauchy loss scale c (pixels): a residual of c pixels weighs half as much as a small one."""
    step_tolerance: float = 1e-7
    """Stop when every problem's step (radians and metres together) is shorter than this."""


@dataclass(frozen=True)
class PnPResult:
    """Poses found by :func:`solve_pnp` (B problems)."""

    cam_from_model: FloatArray
    """[B, 4, 4] rigid transforms, model frame -> camera (metres)."""
    reprojection_px: FloatArray
    """[B] median reprojection error over the points with positive weight, pixels."""
    iterations: int
    """Iterations run (the same for the whole batch)."""


def skew(vectors: FloatArray) -> FloatArray:
    """Cross-product matrices [a]_x, which map b to the cross product a x b.

    Args:
        vectors: [..., 3].

    Returns:
        [..., 3, 3].
    """
    matrices = np.zeros((*vectors.shape[:-1], 3, 3))
    matrices[..., 0, 1] = -vectors[..., 2]
    matrices[..., 0, 2] = vectors[..., 1]
    matrices[..., 1, 0] = vectors[..., 2]
    matrices[..., 1, 2] = -vectors[..., 0]
    matrices[..., 2, 0] = -vectors[..., 1]
    matrices[..., 2, 1] = vectors[..., 0]
    return matrices


def so3_exp(rotation_vectors: FloatArray) -> FloatArray:
    """Rotation matrices of axis-angle vectors (Rodrigues; exact to first order near zero).

    Args:
        rotation_vectors: [..., 3] axis times angle, radians.

    Returns:
        [..., 3, 3] rotation matrices.
    """
    squared = (rotation_vectors**2).sum(axis=-1)[..., None, None]
    angle = np.sqrt(squared)
    small = angle < _SMALL_ANGLE_RAD
    safe = np.where(small, 1.0, angle)
    sin_term = np.where(small, 1.0, np.sin(safe) / safe)
    cos_term = np.where(small, 0.5, (1.0 - np.cos(safe)) / safe**2)
    # [a]_x^2 = a a^T - |a|^2 I.
    outer = rotation_vectors[..., :, None] * rotation_vectors[..., None, :]
    identity_part = (1.0 - cos_term * squared) * np.eye(3)
    return np.asarray(identity_part + sin_term * skew(rotation_vectors) + cos_term * outer)


def project_pinhole(points_cam: FloatArray, intrinsics: FloatArray) -> FloatArray:
    """Pixels of camera-frame points.

    Args:
        points_cam: [..., N, 3] points in the camera frame, metres, z > 0.
        intrinsics: [..., 3, 3] K (last row [0, 0, 1]).

    Returns:
        [..., N, 2] pixels (u, v).
    """
    normalised = points_cam[..., :2] / points_cam[..., 2:]
    return np.asarray(
        normalised @ np.swapaxes(intrinsics[..., :2, :2], -1, -2) + intrinsics[..., None, :2, 2]
    )


def projection_jacobian(points_cam: FloatArray, intrinsics: FloatArray) -> FloatArray:
    """Derivative of :func:`project_pinhole` with respect to the camera-frame point.

    Args:
        points_cam: [..., N, 3] points in the camera frame, metres, z > 0.
        intrinsics: [..., 3, 3] K.

    Returns:
        [..., N, 2, 3] d(u, v) / d(x, y, z), pixels per metre.
    """
    inv_z = 1.0 / points_cam[..., 2]
    normalised = np.zeros((*points_cam.shape[:-1], 2, 3))
    normalised[..., 0, 0] = normalised[..., 1, 1] = inv_z
    normalised[..., 0, 2] = -points_cam[..., 0] * inv_z**2
    normalised[..., 1, 2] = -points_cam[..., 1] * inv_z**2
    return np.asarray(intrinsics[..., None, :2, :2] @ normalised)


def cauchy_weights(residual_norm: FloatArray, scale: float) -> FloatArray:
    """IRLS weights psi(r) / r = 1 / (1 + (r / c)^2) of the Cauchy loss."""
    return np.asarray(1.0 / (1.0 + (residual_norm / scale) ** 2))


def cauchy_cost(residual_norm: FloatArray, weights: FloatArray, scale: float) -> FloatArray:
    """Sum over the last axis of w c^2 / 2 log(1 + (r / c)^2), the robust cost."""
    return np.asarray(
        0.5 * scale**2 * (weights * np.log1p((residual_norm / scale) ** 2)).sum(axis=-1)
    )


def initial_translation(
    model_points: FloatArray,
    uv: FloatArray,
    intrinsics: FloatArray,
    weights: FloatArray,
    rotation: FloatArray,
) -> FloatArray:
    """Translations that best explain the pixels given the rotations (linear least squares).

    With y = R x known, x_n / z_n = m_n (normalised image coordinates) is linear in t:
    t_x - m_x t_z = m_x y_z - y_x, and the same for y. Where that puts the points behind the
    camera (collinear rays, wrong rotation), the depth comes from the spreads instead:
    z = (3-D spread across the optical axis) / (spread of m), i.e. f * 3-D size / 2-D size.

    Args:
        model_points: [B, N, 3] points in the model frame, metres.
        uv: [B, N, 2] observed pixels.
        intrinsics: [B, 3, 3] K.
        weights: [B, N] non-negative weights.
        rotation: [B, 3, 3] model -> camera rotations.

    Returns:
        [B, 3] translations, metres, every point in front of its camera.
    """
    m = _normalised(uv, intrinsics)
    rotated = model_points @ np.swapaxes(rotation, -1, -2)
    rows = np.zeros((*m.shape[:-1], 2, 3))
    rows[..., 0, 0] = rows[..., 1, 1] = 1.0
    rows[..., :, 2] = -m
    rhs = m * rotated[..., 2:] - rotated[..., :2]
    weighted = np.swapaxes((rows * weights[..., None, None]).reshape(len(m), -1, 3), -1, -2)
    normal = weighted @ rows.reshape(len(m), -1, 3) + 1e-12 * np.eye(3)
    translation = np.linalg.solve(normal, weighted @ rhs.reshape(len(m), -1, 1))[..., 0]
    depth_ok = (rotated[..., 2] + translation[:, None, 2]).min(axis=-1) > MIN_DEPTH_M
    total = weights.sum(axis=-1)
    mean_m = (weights[..., None] * m).sum(axis=-2) / total[:, None]
    mean_y = (weights[..., None] * rotated).sum(axis=-2) / total[:, None]
    spread_m = np.sqrt((weights * ((m - mean_m[:, None]) ** 2).sum(-1)).sum(-1) / total)
    across = rotated[..., :2] - mean_y[:, None, :2]
    spread_y = np.sqrt((weights * (across**2).sum(-1)).sum(-1) / total)
    reach = (mean_y[:, None, 2] - rotated[..., 2]).max(axis=-1)  # deepest point before the mean
    depth = np.maximum(spread_y / np.maximum(spread_m, 1e-12), reach + 2 * MIN_DEPTH_M)
    fallback = depth[:, None] * np.concatenate([mean_m, np.ones_like(mean_m[:, :1])], -1)
    return np.where(depth_ok[:, None], translation, fallback - mean_y)


def _normalised(uv: FloatArray, intrinsics: FloatArray) -> FloatArray:
    """[..., N, 2] normalised image coordinates K^-1 (u, v, 1), first two."""
    inverse = np.linalg.inv(intrinsics[..., :2, :2])
    centred = uv - intrinsics[..., None, :2, 2]
    return np.asarray(centred @ np.swapaxes(inverse, -1, -2))


class _PoseState(NamedTuple):
    """Poses of a batch with what the next step needs."""

    rotation: FloatArray  # [B, 3, 3]
    translation: FloatArray  # [B, 3]
    points_cam: FloatArray  # [B, N, 3]
    residual: FloatArray  # [B, N, 2] projection - uv, pixels
    cost: FloatArray  # [B] robust cost; inf where a point is behind the camera


def _evaluate(
    model_points: FloatArray,
    uv: FloatArray,
    intrinsics: FloatArray,
    weights: FloatArray,
    pose: tuple[FloatArray, FloatArray],
    scale_px: float,
) -> _PoseState:
    rotation, translation = pose
    points_cam = model_points @ np.swapaxes(rotation, -1, -2) + translation[:, None]
    depth = points_cam[..., 2]
    valid = depth.min(axis=-1) > MIN_DEPTH_M
    safe = np.concatenate([points_cam[..., :2], np.maximum(depth, MIN_DEPTH_M)[..., None]], -1)
    residual = project_pinhole(safe, intrinsics) - uv
    cost = cauchy_cost(np.sqrt((residual**2).sum(-1)), weights, scale_px)
    return _PoseState(rotation, translation, points_cam, residual, np.where(valid, cost, np.inf))


def _pose_step(
    state: _PoseState,
    intrinsics: FloatArray,
    weights: FloatArray,
    damping: FloatArray,
    scale_px: float,
) -> FloatArray:
    """[B, 6] damped Gauss-Newton step (rotation vector, translation) of the IRLS problem."""
    irls = weights * cauchy_weights(np.sqrt((state.residual**2).sum(-1)), scale_px)
    d_point = projection_jacobian(state.points_cam, intrinsics)
    rotated = state.points_cam - state.translation[:, None]
    jacobian = np.concatenate([-d_point @ skew(rotated), d_point], axis=-1)
    batch = jacobian.shape[0]
    flat = jacobian.reshape(batch, -1, 6)
    weighted = (jacobian * irls[..., None, None]).reshape(batch, -1, 6)
    hessian = np.swapaxes(weighted, -1, -2) @ flat
    gradient = np.swapaxes(weighted, -1, -2) @ state.residual.reshape(batch, -1, 1)
    diagonal = np.arange(6)
    hessian[:, diagonal, diagonal] *= 1.0 + damping[:, None]
    hessian[:, diagonal, diagonal] += 1e-12
    return np.asarray(-np.linalg.solve(hessian, gradient)[..., 0])


def solve_pnp(
    model_points: FloatArray,
    uv: FloatArray,
    intrinsics: FloatArray,
    weights: FloatArray | None = None,
    rotation_init: FloatArray | None = None,
    config: PnPConfig | None = None,
) -> PnPResult:
    """Robust rigid pose of B point sets from their pixels (local Levenberg-Marquardt).

    Minimises sum_n w_n rho(|pi(K (R x_n + t)) - uv_n|) with the Cauchy loss rho of scale
    ``config.robust_scale_px``, starting from ``rotation_init`` and
    :func:`initial_translation`. A step is kept only if it lowers the cost and keeps every point
    in front of the camera, so the cost never increases and the result is always finite.

    Args:
        model_points: [B, N, 3] points in the model frame, metres (N >= 3, not collinear).
        uv: [B, N, 2] observed pixels.
        intrinsics: [B, 3, 3] K of each problem.
        weights: [B, N] non-negative confidences (default: ones).
        rotation_init: [B, 3, 3] model -> camera rotations to start from (default: identity).
        config: iterations and loss scale; defaults to :class:`PnPConfig`'s.

    Returns:
        The poses ``cam_from_model`` with their median reprojection errors.
    """
    cfg = config if config is not None else PnPConfig()
    batch = model_points.shape[0]
    w = np.ones(model_points.shape[:2]) if weights is None else np.asarray(weights, np.float64)
    rotation = np.broadcast_to(np.eye(3), (batch, 3, 3)).copy()
    if rotation_init is not None:
        rotation = np.asarray(rotation_init, dtype=np.float64).copy()
    translation = initial_translation(model_points, uv, intrinsics, w, rotation)
    problem = (model_points, uv, intrinsics, w)
    state = _evaluate(*problem, (rotation, translation), cfg.robust_scale_px)
    damping = np.full(batch, 1e-3)
    iterations = 0
    while iterations < cfg.iterations:
        iterations += 1
        step = _pose_step(state, intrinsics, w, damping, cfg.robust_scale_px)
        trial_pose = (so3_exp(step[:, :3]) @ state.rotation, state.translation + step[:, 3:])
        trial = _evaluate(*problem, trial_pose, cfg.robust_scale_px)
        better = trial.cost < state.cost
        kept = zip(trial, state, strict=True)
        state = _PoseState(*(np.where(_expand(better, new), new, old) for new, old in kept))
        damping = np.where(better, damping * 0.3, damping * 10.0)
        if np.all((step**2).sum(-1) < cfg.step_tolerance**2):
            break
    cam_from_model = np.broadcast_to(np.eye(4), (batch, 4, 4)).copy()
    cam_from_model[:, :3, :3] = state.rotation
    cam_from_model[:, :3, 3] = state.translation
    return PnPResult(cam_from_model, median_error_px(state.residual, w), iterations)


def _expand(mask: BoolArray, like: FloatArray) -> BoolArray:
    """``mask`` [B] with trailing axes of length 1 to broadcast against ``like`` [B, ...]."""
    return mask.reshape(mask.shape + (1,) * (like.ndim - 1))


def median_error_px(residual: FloatArray, weights: FloatArray) -> FloatArray:
    """[B] median of |residual| over the points with positive weight (0 where there are none).

    Args:
        residual: [B, N, 2] pixel residuals.
        weights: [B, N] non-negative weights.
    """
    return quantile_error_px(residual, weights, 0.5)


def quantile_error_px(residual: FloatArray, weights: FloatArray, quantile: float) -> FloatArray:
    """[B] quantile of |residual| over the points with positive weight (0 where there are none).

    Linear interpolation between order statistics (numpy's default method).

    Args:
        residual: [B, N, 2] pixel residuals.
        weights: [B, N] non-negative weights.
        quantile: in [0, 1]; 0.5 is the median.
    """
    seen = weights > 0
    ordered = np.sort(np.where(seen, np.sqrt((residual**2).sum(-1)), np.inf), axis=-1)
    count = seen.sum(-1)
    # Unseen points sort last; zero them so that a view without any gives 0, not inf * 0.
    ordered[np.isinf(ordered)] = 0.0
    position = quantile * np.maximum(count - 1, 0)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, np.maximum(count - 1, 0))
    rows = np.arange(len(count))
    fraction = position - low
    value = ordered[rows, low] * (1.0 - fraction) + ordered[rows, high] * fraction
    return np.asarray(value)
