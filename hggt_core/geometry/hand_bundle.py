# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Joint refinement of cameras and hand joints (a small bundle adjustment, numpy float64).

Unknowns: the rigid ``cam_from_ref`` of the free views and the N joints in the reference
frame. The fixed views (by default view 0, the gauge; with a calibrated rig every camera whose
pose is known) keep their given poses exactly. Cost, minimised by Levenberg-Marquardt with
analytic Jacobians (rotation increments R <- exp(w) R) and a dense solve (S <= 8 gives < 120
unknowns):

    sum_{s,n} c_sn rho(|pi(K_s (R_s X_n + t_s)) - uv_sn|)
    + 1/2 sum_b ((|X_child(b) - X_parent(b)| - L_b) / sigma_bone)^2
    + 1/2 ((sum_(i,j) |X_i - X_j| - size) / sigma_size)^2

rho is the Cauchy loss (scale in pixels, handled by iteratively reweighted least squares) and
c_sn the landmark confidences. With one fixed view, reprojection alone fixes the hand only up
to scale, and the size term fixes the metric scale: a sum of long distances (e.g. wrist to
every other joint), which noisy 3-D landmarks measure with little bias, unlike short bones. The
bone terms are a weak shape prior. With two or more fixed views the known baseline fixes the
scale; the caller then leaves the size term out (no size pairs). The sigmas are the metric
errors that cost as much as one pixel of reprojection error at one landmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from hggt_core.geometry.pnp import (
    MIN_DEPTH_M,
    cauchy_weights,
    project_pinhole,
    projection_jacobian,
    skew,
    so3_exp,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class BundleConfig:
    """Settings of :func:`refine_cameras_and_joints`."""

    iterations: int = 10
    """Most Levenberg-Marquardt iterations."""
    robust_scale_px: float = 8.0
    """Cauchy loss scale c of the reprojection residuals, pixels."""
    bone_length_sigma_m: float = 0.01
    """Bone-length error (metres) that costs as much as 1 px of reprojection error (per bone)."""
    hand_size_sigma_m: float = 0.002
    """Error of the hand's size (metres) that costs as much as 1 px; fixes the metric scale."""
    shape_sigma_m: float = 0.005
    """World-landmark disagreement (metres) that costs as much as 1 px (per landmark)."""
    shape_scale_m: float = 0.04
    """Cauchy scale of the world-landmark disagreements, metres."""
    step_tolerance: float = 1e-7
    """Stop when the step (radians and metres together) is shorter than this."""


@dataclass(frozen=True)
class HandPriors:
    """Metric priors on the joints: bone lengths and the hand's size."""

    bones: tuple[tuple[int, int], ...]
    """(child, parent) joint pairs, e.g. ``OPENPOSE_BONES``."""
    bone_lengths_m: FloatArray
    """[B] target length of each bone, metres."""
    size_pairs: tuple[tuple[int, int], ...]
    """Joint pairs whose summed distances measure the hand's size (empty: no size term)."""
    size_m: float
    """Target of that sum, metres."""
    world_m: FloatArray | None = None
    """[S, N, 3] each view's world landmarks (camera-aligned axes), for the shape term."""


@dataclass(frozen=True)
class BundleResult:
    """Refined cameras and joints."""

    cam_from_ref: FloatArray
    """[S, 4, 4] rigid transforms, reference -> view s (the fixed views' as given)."""
    joints_m: FloatArray
    """[N, 3] joints in the reference frame, metres."""
    iterations: int
    """Levenberg-Marquardt iterations run."""


class _Problem(NamedTuple):
    """The fixed data of one refinement."""

    uv: FloatArray  # [S, N, 2]
    intrinsics: FloatArray  # [S, 3, 3]
    weights: FloatArray  # [S, N]
    first: IntArray  # [B + Q] first joint of each segment: B bones, then Q size pairs
    second: IntArray  # [B + Q]
    bone_lengths_m: FloatArray  # [B]
    size_m: float
    world: FloatArray | None  # [S, N, 3], each view centred on its mean
    free: IntArray  # [F] the views whose cameras are refined
    config: BundleConfig


class _State(NamedTuple):
    """Current unknowns with their residuals."""

    rotations: FloatArray  # [S, 3, 3]
    translations: FloatArray  # [S, 3]
    joints: FloatArray  # [N, 3]
    points_cam: FloatArray  # [S, N, 3]
    residual: FloatArray  # [S, N, 2] projection - uv
    segments: FloatArray  # [B + Q, 3] first - second
    centred: FloatArray  # [S, N, 3] R_s (X_n - mean X), or empty without a shape term
    shape_residual: FloatArray  # [S, N, 3] centred - world landmarks
    cost: float  # inf when a point is behind a camera


def _evaluate(
    problem: _Problem, rotations: FloatArray, translations: FloatArray, joints: FloatArray
) -> _State:
    cfg = problem.config
    points_cam = joints @ np.swapaxes(rotations, -1, -2) + translations[:, None]
    in_front = points_cam[..., 2].min() > MIN_DEPTH_M
    if not in_front:  # keep the residuals finite; the cost says the step is refused
        points_cam = points_cam.copy()
        points_cam[..., 2] = np.maximum(points_cam[..., 2], MIN_DEPTH_M)
    residual = project_pinhole(points_cam, problem.intrinsics) - problem.uv
    segments = joints[problem.first] - joints[problem.second]
    # Cauchy costs from squared norms: c^2 / 2 log(1 + r^2 / c^2).
    squared = (residual**2).sum(-1) / cfg.robust_scale_px**2
    cost = 0.5 * cfg.robust_scale_px**2 * float((problem.weights * np.log1p(squared)).sum())
    cost += 0.5 * float((_prior_residuals(problem, segments) ** 2).sum())
    centred = shape_residual = np.zeros((0, 0, 3))
    if problem.world is not None:
        centred = (joints - joints.mean(0)) @ np.swapaxes(rotations, -1, -2)
        shape_residual = centred - problem.world
        squared = (shape_residual**2).sum(-1) / cfg.shape_scale_m**2
        scale = cfg.shape_scale_m / cfg.shape_sigma_m
        cost += 0.5 * scale**2 * float(np.log1p(squared).sum())
    return _State(
        rotations,
        translations,
        joints,
        points_cam,
        residual,
        segments,
        centred,
        shape_residual,
        cost if in_front else np.inf,
    )


def _prior_residuals(problem: _Problem, segments: FloatArray) -> FloatArray:
    """[B + 1] bone-length residuals then the hand-size residual (sigma units)."""
    lengths = np.sqrt((segments**2).sum(-1))
    cfg = problem.config
    count = len(problem.bone_lengths_m)
    per_bone = (lengths[:count] - problem.bone_lengths_m) / cfg.bone_length_sigma_m
    size = (lengths[count:].sum() - problem.size_m) / cfg.hand_size_sigma_m
    return np.append(per_bone, size)


def _prior_jacobian(problem: _Problem, segments: FloatArray) -> FloatArray:
    """[B + 1, 3 N] derivative of :func:`_prior_residuals` with respect to the joints."""
    cfg = problem.config
    unit = segments / np.maximum(np.sqrt((segments**2).sum(-1)), 1e-12)[:, None]
    signed = np.zeros((len(segments), problem.uv.shape[1], 3))
    rows = np.arange(len(segments))
    signed[rows, problem.first] = unit
    signed[rows, problem.second] -= unit
    count = len(problem.bone_lengths_m)
    jacobian = np.concatenate(
        [
            signed[:count] / cfg.bone_length_sigma_m,
            signed[count:].sum(0, keepdims=True) / cfg.hand_size_sigma_m,
        ]
    )
    return jacobian.reshape(count + 1, -1)


class _Blocks(NamedTuple):
    """Gauss-Newton blocks: the F free cameras (rotation, translation), joints."""

    camera: FloatArray  # [F, 6, 6]
    mixed: FloatArray  # [F, N, 6, 3] camera f - joint n
    joint: FloatArray  # [N, 3, N, 3]
    camera_gradient: FloatArray  # [F, 6]
    joint_gradient: FloatArray  # [N, 3]


def _reprojection_blocks(problem: _Problem, state: _State) -> _Blocks:
    """Blocks of the IRLS-weighted reprojection term (joint blocks only on the diagonal)."""
    joints, free = problem.uv.shape[1], problem.free
    irls = problem.weights * cauchy_weights(
        np.sqrt((state.residual**2).sum(-1)), problem.config.robust_scale_px
    )
    d_point = projection_jacobian(state.points_cam, problem.intrinsics)  # [S, N, 2, 3]
    d_joint = d_point @ state.rotations[:, None]
    weighted_joint = np.swapaxes(d_joint * irls[..., None, None], -1, -2)  # [S, N, 3, 2]
    joint = np.zeros((joints, 3, joints, 3))
    indices = np.arange(joints)
    joint[indices, :, indices, :] = (weighted_joint @ d_joint).sum(0)
    joint_gradient = (weighted_joint @ state.residual[..., None]).sum(0)[..., 0]
    rotated = state.points_cam[free] - state.translations[free, None]
    d_camera = np.concatenate([-d_point[free] @ skew(rotated), d_point[free]], axis=-1)
    weighted_camera = np.swapaxes(d_camera * irls[free, :, None, None], -1, -2)  # [F, N, 6, 2]
    flat = weighted_camera.transpose(0, 2, 1, 3).reshape(len(free), 6, 2 * joints)
    camera = flat @ d_camera.reshape(len(free), 2 * joints, 6)
    camera_gradient = flat @ state.residual[free].reshape(len(free), 2 * joints, 1)
    mixed = weighted_camera @ d_joint[free]
    return _Blocks(camera, mixed, joint, camera_gradient[..., 0], joint_gradient)


def _add_shape_blocks(problem: _Problem, state: _State, blocks: _Blocks) -> None:
    """Add the IRLS-weighted world-landmark term to ``blocks`` in place.

    Residual e_sn = R_s (X_n - mean X) - w_sn = a_sn - w_sn: d e / d X_m = R_s (delta_nm - 1/N)
    and, for a free view s, d e / d rotation_s = -[a_sn]_x.
    """
    cfg = problem.config
    joints = problem.uv.shape[1]
    error, centred, rotations = state.shape_residual, state.centred, state.rotations
    u = cauchy_weights(np.sqrt((error**2).sum(-1)), cfg.shape_scale_m) / cfg.shape_sigma_m**2
    # sum_s sum_n u_sn (delta_nm - 1/N)(delta_nk - 1/N) I_3 for joints m, k.
    total = u.sum(0)
    mixing = np.diag(total) - (total[:, None] + total[None, :] - total.sum() / joints) / joints
    blocks.joint[...] += mixing[:, None, :, None] * np.eye(3)[None, :, None, :]
    weighted = u[..., None] * error
    pulled = weighted - weighted.sum(1, keepdims=True) / joints
    blocks.joint_gradient[...] += (pulled @ rotations).sum(0)
    free = problem.free
    if len(free) == 0:
        return
    a, u1 = centred[free], u[free, :, None]
    outer = np.swapaxes(a * u1, 1, 2) @ a  # sum_n u a a^T
    trace = np.trace(outer, axis1=1, axis2=2)[:, None, None]
    blocks.camera[:, :3, :3] += trace * np.eye(3) - outer
    cross = skew(a)  # [F, N, 3, 3]; -[a]_x^T = [a]_x
    blocks.camera_gradient[:, :3] += (cross @ weighted[free, ..., None]).sum(1)[..., 0]
    linked = (cross * u1[..., None]) @ rotations[free, None]  # [F, N, 3, 3]
    blocks.mixed[:, :, :3] += linked - linked.sum(1, keepdims=True) / joints


def _normal_equations(problem: _Problem, state: _State) -> _Blocks:
    """Gauss-Newton blocks of the IRLS-weighted cost at ``state``.

    Built from small products per view and joint: one dense J^T J (or any LAPACK call on a
    matrix of 100 x 100 or more) goes multi-threaded in OpenBLAS, which costs milliseconds on
    a busy machine.
    """
    blocks = _reprojection_blocks(problem, state)
    if problem.world is not None:
        _add_shape_blocks(problem, state, blocks)
    prior = _prior_jacobian(problem, state.segments)
    joints = problem.uv.shape[1]
    joint = blocks.joint.reshape(3 * joints, 3 * joints) + prior.T @ prior
    joint_gradient = blocks.joint_gradient.reshape(-1)
    joint_gradient = joint_gradient + prior.T @ _prior_residuals(problem, state.segments)
    return _Blocks(
        blocks.camera,
        blocks.mixed,
        joint.reshape(joints, 3, joints, 3),
        blocks.camera_gradient,
        joint_gradient.reshape(joints, 3),
    )


def _damped_step(blocks: _Blocks, damping: float) -> tuple[FloatArray, FloatArray]:
    """Levenberg-Marquardt step: free camera increments [F, 6] and joint increments [N, 3].

    The camera blocks do not couple different cameras, so the cameras are eliminated first
    (Schur complement) and only the 3 N x 3 N joint system is solved densely.
    """
    joints = blocks.joint.shape[0]
    floor = 1e-6
    camera = blocks.camera.copy()
    diagonal = np.arange(6)
    camera[:, diagonal, diagonal] = camera[:, diagonal, diagonal] * (1.0 + damping) + floor
    joint = blocks.joint.reshape(3 * joints, 3 * joints).copy()
    diagonal = np.arange(3 * joints)
    joint[diagonal, diagonal] = joint[diagonal, diagonal] * (1.0 + damping) + floor
    joint_gradient = blocks.joint_gradient.reshape(-1)
    if len(camera) == 0:
        return np.zeros((0, 6)), np.asarray(-np.linalg.solve(joint, joint_gradient)).reshape(-1, 3)
    coupling = np.swapaxes(blocks.mixed, 1, 2).reshape(len(camera), 6, 3 * joints)
    right = np.concatenate([coupling, blocks.camera_gradient[..., None]], axis=-1)
    solved = np.linalg.solve(camera, right)  # H_cc^-1 [H_cp | g_c], [F, 6, 3 N + 1]
    flat = coupling.reshape(-1, 3 * joints)
    reduced = joint - flat.T @ solved[..., :-1].reshape(-1, 3 * joints)
    reduced_gradient = joint_gradient - flat.T @ solved[..., -1].reshape(-1)
    joint_step = -np.linalg.solve(reduced, reduced_gradient)
    camera_step = -(solved[..., -1] + solved[..., :-1] @ joint_step)
    return np.asarray(camera_step), np.asarray(joint_step.reshape(joints, 3))


def _moved(
    state: _State, free: IntArray, cameras: FloatArray, joint_step: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Rotations, translations and joints after a step (fixed cameras unchanged)."""
    rotations = state.rotations.copy()
    rotations[free] = so3_exp(cameras[:, :3]) @ rotations[free]
    translations = state.translations.copy()
    translations[free] += cameras[:, 3:]
    return rotations, translations, state.joints + joint_step


def refine_cameras_and_joints(
    uv: FloatArray,
    intrinsics: FloatArray,
    weights: FloatArray,
    cam_from_ref: FloatArray,
    joints_m: FloatArray,
    priors: HandPriors,
    config: BundleConfig | None = None,
    fixed_views: Sequence[int] = (0,),
) -> BundleResult:
    """Refine the free cameras and the joints together (robust LM; ``fixed_views`` fixed).

    Args:
        uv: [S, N, 2] observed pixels.
        intrinsics: [S, 3, 3] K of each view.
        weights: [S, N] non-negative landmark confidences.
        cam_from_ref: [S, 4, 4] initial rigid transforms, reference -> view s (S >= 2); the
            fixed views' are kept exactly.
        joints_m: [N, 3] initial joints in the reference frame, metres, in front of every view.
        priors: target bone lengths and hand size.
        config: iterations, loss scale and prior strengths; defaults to :class:`BundleConfig`'s.
        fixed_views: indices of the views whose cameras stay as given (at least one: the
            gauge); default: view 0 only.

    Returns:
        The refined cameras and joints; the cost never increases, every value is finite.

    Raises:
        ValueError: for fewer than two views, cameras of the wrong shape, or no fixed view (or
            one out of range).
    """
    cfg = config if config is not None else BundleConfig()
    views = uv.shape[0]
    if views < 2 or cam_from_ref.shape != (views, 4, 4):
        raise ValueError(f"need S >= 2 views and cam_from_ref [S, 4, 4], got {cam_from_ref.shape}")
    fixed = sorted(set(int(view) for view in fixed_views))
    if not fixed or fixed[0] < 0 or fixed[-1] >= views:
        raise ValueError(f"fixed_views must name 1 to {views} of views 0..{views - 1}: {fixed}")
    pairs = (*priors.bones, *priors.size_pairs)
    world = None if priors.world_m is None else np.asarray(priors.world_m, dtype=np.float64)
    problem = _Problem(
        uv,
        intrinsics,
        weights,
        np.array([first for first, _ in pairs]),
        np.array([second for _, second in pairs]),
        np.asarray(priors.bone_lengths_m, dtype=np.float64),
        float(priors.size_m),
        None if world is None else world - world.mean(1, keepdims=True),
        np.array([view for view in range(views) if view not in fixed], dtype=np.int64),
        cfg,
    )
    state = _evaluate(problem, cam_from_ref[:, :3, :3], cam_from_ref[:, :3, 3], joints_m)
    damping = 1e-3
    iterations = 0
    while iterations < cfg.iterations:
        iterations += 1
        cameras, joint_step = _damped_step(_normal_equations(problem, state), damping)
        trial = _evaluate(problem, *_moved(state, problem.free, cameras, joint_step))
        if trial.cost < state.cost:
            state, damping = trial, damping * 0.3
        else:
            damping *= 10.0
        if float((cameras**2).sum() + (joint_step**2).sum()) < cfg.step_tolerance**2:
            break
    refined = np.broadcast_to(np.eye(4), (views, 4, 4)).copy()
    refined[:, :3, :3] = state.rotations
    refined[:, :3, 3] = state.translations
    refined[fixed] = cam_from_ref[fixed]
    return BundleResult(refined, state.joints, iterations)
