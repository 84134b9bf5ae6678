# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Cameras from the hand itself: fuse S uncalibrated views' hand landmarks into 3-D joints.

Each view brings MediaPipe-style landmarks of one hand: 21 image landmarks (pixels) and 21
world landmarks (metres, hand-centred, axes aligned with that camera's OpenCV optical frame).
The camera poses are unknown; the intrinsics are given (known, or from a field-of-view prior).
:func:`fuse_views` returns the joints in view 0's camera frame and every camera relative to it:

1. Cameras (:mod:`hggt_core.geometry.hand_init`): one hand shape H shared by all views (robust
   rotation-only Procrustes of the world landmarks, robust average); each camera's rotation
   relative to H from its Procrustes fit and its translation from its pixels (metric, as H).
   A view that this rigid H explains far worse than the thresholds below allow (by
   ``prescreen_factor``) is set aside before any refinement.
2. Joints: weighted DLT triangulation with those cameras.
3. Refinement (:mod:`hggt_core.geometry.hand_bundle`): cameras 1..S-1 and joints together by
   robust Levenberg-Marquardt on the reprojection errors, with priors from the world landmarks:
   each view's landmarks against the joints seen from that camera (shape and relative
   rotation), bone lengths and hand size (medians over the views; the metric scale). View 0 is
   fixed.
4. Rejection: a view is out of line when a quantile (default: the 75th percentile) of its
   reprojection errors exceeds both thresholds (pixels and a fraction of the hand's size in the
   image), or when its refined rotation and its world-landmark rotation disagree. While one is,
   the worst is dropped and the rest solved again from step 1. A rejected view's camera is then
   the PnP of the fused joints.

Two views are the weak case: with one bad view, the reprojection errors can be shared between
the two, and only the world landmarks tell which is wrong; the reference is trusted.

One view: the joints are its world landmarks placed by its PnP pose (depth from the pixels and
K, scale from the hand).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hggt_core.geometry.hand_bundle import BundleConfig, refine_cameras_and_joints
from hggt_core.geometry.hand_init import (
    HandViews,
    InitialCameras,
    hand_priors,
    initial_cameras,
    initial_joints,
    stack_views,
)
from hggt_core.geometry.pnp import (
    MIN_DEPTH_M,
    PnPConfig,
    project_pinhole,
    quantile_error_px,
    solve_pnp,
)

FloatArray = npt.NDArray[np.float64]

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class ViewObservation:
    """One view's landmarks of one hand (MediaPipe's hand landmarker output)."""

    uv: FloatArray
    """[21, 2] image landmarks, pixels (u right, v down, pixel centres at +0.5)."""
    world_m: FloatArray
    """[21, 3] world landmarks, metres, hand-centred, axes of this camera's optical frame."""
    intrinsics: FloatArray
    """[3, 3] K of this view, pixels (known, or from a field-of-view prior)."""
    weights: FloatArray | None = None
    """[21] per-landmark confidence in [0, 1]; None means all 1."""


@dataclass(frozen=True)
class FusionConfig:
    """Settings of :func:`fuse_views` (defaults measured with ``bench/landmark_fusion.py``)."""

    robust_scale_px: float = 8.0
    """Cauchy loss scale of the reprojection residuals (PnP and refinement), pixels."""
    procrustes_scale_m: float = 0.01
    """Cauchy loss scale of the world-landmark rotation fits, metres."""
    procrustes_rounds: int = 2
    """Weighted solves of each world-landmark rotation fit."""
    pnp_iterations: int = 8
    """Most Levenberg-Marquardt iterations of a PnP (one view, rejected views' cameras)."""
    prescreen_factor: float = 2.5
    """A view whose initial fit is this many times out of line is dropped before refining."""
    bundle_iterations: int = 4
    """Most Levenberg-Marquardt iterations of each refinement of cameras and joints."""
    bone_length_sigma_m: float = 0.01
    """Bone-length error costing as much as 1 px of reprojection error (per bone), metres."""
    hand_size_sigma_m: float = 0.002
    """Hand-size error (wrist-to-joint distances summed) costing as much as 1 px, metres."""
    shape_sigma_m: float = 0.005
    """Disagreement with a view's world landmarks costing as much as 1 px (per landmark), m."""
    shape_scale_m: float = 0.04
    """Cauchy loss scale of those disagreements, metres."""
    reject_quantile: float = 0.75
    """Quantile of a view's reprojection errors compared with the thresholds below."""
    reject_px: float = 15.0
    """A view is out of line when that quantile exceeds this many pixels ..."""
    reject_fraction: float = 0.1
    """... and this fraction of the longer side of its landmarks' bounding box."""
    max_rotation_disagreement_deg: float = 30.0
    """A view is out of line when its refined and world-landmark rotations differ more, deg."""
    max_triangulation_offset_m: float = 0.1
    """A triangulated joint farther than this from the initial shape is not used, metres."""


@dataclass(frozen=True)
class FusedHand:
    """The fused hand and the cameras (all in the reference camera's frame, metres)."""

    joints_m: FloatArray
    """[21, 3] joints in the reference (observation 0's camera) frame, metres."""
    cam_from_ref: FloatArray
    """[S, 4, 4] rigid transforms, reference -> camera s (identity for s = 0)."""
    inliers: tuple[bool, ...]
    """[S] views used for the joints (the reference is always kept)."""
    reprojection_px: FloatArray
    """[S] median reprojection error of ``joints_m`` in each view, pixels."""
    iterations: int
    """Refinement iterations summed over the solves (PnP iterations for a single view)."""


@dataclass(frozen=True)
class _Solution:
    """The outcome of solving one set of views."""

    kept: list[int]
    cam_from_ref: FloatArray  # [S, 4, 4]; rejected views' as they were last
    joints_m: FloatArray  # [N, 3]
    iterations: int


def _stack(observations: Sequence[ViewObservation]) -> HandViews:
    return stack_views(
        [obs.uv for obs in observations],
        [obs.world_m for obs in observations],
        [obs.intrinsics for obs in observations],
        [obs.weights for obs in observations],
    )


def _view_errors(
    views: HandViews, cam_from_ref: FloatArray, joints: FloatArray, quantile: float
) -> FloatArray:
    """[S] quantile of the reprojection errors of reference-frame joints in each view, px."""
    rotations, translations = cam_from_ref[:, :3, :3], cam_from_ref[:, None, :3, 3]
    points_cam = joints @ np.swapaxes(rotations, -1, -2) + translations
    points_cam[..., 2] = np.maximum(points_cam[..., 2], MIN_DEPTH_M)
    residual = project_pinhole(points_cam, views.intrinsics) - views.uv
    return quantile_error_px(residual, views.weights, quantile)


def _badness(
    views: HandViews,
    errors_px: FloatArray,
    rotations: FloatArray,
    expected: FloatArray,
    cfg: FusionConfig,
) -> FloatArray:
    """[S] how far each view is out of line (> 1: beyond a threshold).

    Args:
        views: the landmarks.
        errors_px: [S] the reprojection error quantile of each view.
        rotations: [S, 3, 3] estimated rotations of ``cam_from_ref``.
        expected: [S, 3, 3] the rotations the world landmarks give.
        cfg: the thresholds.
    """
    seen = views.weights[..., None] > 0
    extent = np.where(seen, views.uv, -np.inf).max(1) - np.where(seen, views.uv, np.inf).min(1)
    thresholds = np.maximum(cfg.reject_px, cfg.reject_fraction * extent.max(-1))
    cos = (np.einsum("vij,vij->v", rotations, expected) - 1.0) / 2.0
    angles = np.rad2deg(np.arccos(np.clip(cos, -1.0, 1.0)))
    return np.asarray(
        np.maximum(errors_px / thresholds, angles / cfg.max_rotation_disagreement_deg)
    )


def _solution_badness(
    views: HandViews,
    cam_from_ref: FloatArray,
    joints: FloatArray,
    expected: FloatArray,
    cfg: FusionConfig,
) -> FloatArray:
    """[S] :func:`_badness` of cameras [S, 4, 4] and joints [N, 3]."""
    errors = _view_errors(views, cam_from_ref, joints, cfg.reject_quantile)
    return _badness(views, errors, cam_from_ref[:, :3, :3], expected, cfg)


def _initial(views: HandViews, cfg: FusionConfig) -> InitialCameras:
    return initial_cameras(views, cfg.procrustes_scale_m, cfg.procrustes_rounds)


def _single_view(views: HandViews, cfg: FusionConfig) -> FusedHand:
    pnp = solve_pnp(
        views.world[:1],
        views.uv[:1],
        views.intrinsics[:1],
        views.weights[:1],
        config=PnPConfig(cfg.pnp_iterations, cfg.robust_scale_px),
    )
    pose = pnp.cam_from_model[0]
    joints = views.world[0] @ pose[:3, :3].T + pose[:3, 3]
    return FusedHand(joints, np.eye(4)[None], (True,), pnp.reprojection_px, pnp.iterations)


def _refine(
    views: HandViews, start: FloatArray, placed: FloatArray, cfg: FusionConfig
) -> tuple[FloatArray, FloatArray, int]:
    """Triangulate and refine one set of views: cameras [V, 4, 4], joints [N, 3], iterations."""
    bundle = refine_cameras_and_joints(
        views.uv,
        views.intrinsics,
        views.weights,
        start,
        initial_joints(views, start, placed, cfg.max_triangulation_offset_m),
        hand_priors(views),
        BundleConfig(
            iterations=cfg.bundle_iterations,
            robust_scale_px=cfg.robust_scale_px,
            bone_length_sigma_m=cfg.bone_length_sigma_m,
            hand_size_sigma_m=cfg.hand_size_sigma_m,
            shape_sigma_m=cfg.shape_sigma_m,
            shape_scale_m=cfg.shape_scale_m,
        ),
    )
    return bundle.cam_from_ref, bundle.joints_m, bundle.iterations


def _solve_with_rejection(
    views: HandViews,
    kept: list[int],
    start: FloatArray,
    expected: FloatArray,
    placed_joints: FloatArray,
    cfg: FusionConfig,
) -> _Solution:
    """Solve ``kept``; while its worst view is out of line, drop that view and solve again.

    ``placed_joints`` [N, 3] stand in for joints that cannot be triangulated; ``expected``
    [S, 3, 3] holds the world-landmark rotations the cameras' are checked against.
    """
    cameras, iterations = start.copy(), 0
    while len(kept) > 1:
        solved, joints, used = _refine(views.select(kept), cameras[kept], placed_joints, cfg)
        cameras[kept], iterations = solved, iterations + used
        badness = _solution_badness(views, cameras, joints, expected, cfg)
        worst = kept[1 + int(np.argmax(badness[kept[1:]]))]
        if badness[worst] <= 1.0:
            return _Solution(kept, cameras, joints, iterations)
        _LOG.debug("view %d out of line (%.2f x its threshold)", worst, badness[worst])
        kept = [view for view in kept if view != worst]
        restart = _initial(views.select(kept), cfg)
        cameras[kept], expected[kept] = restart.cam_from_ref, restart.world_cam_from_ref
        placed_joints = restart.placed_joints
    return _Solution(kept, cameras, _single_view(views, cfg).joints_m, iterations)


def _with_rejected_cameras(views: HandViews, solution: _Solution, cfg: FusionConfig) -> FloatArray:
    """The solution's cameras, each rejected view's replaced by the PnP of the fused joints."""
    rejected = [view for view in range(len(views.uv)) if view not in solution.kept]
    cameras = solution.cam_from_ref.copy()
    if rejected:
        joints = solution.joints_m
        cameras[rejected] = solve_pnp(
            np.broadcast_to(joints, (len(rejected), *joints.shape)),
            views.uv[rejected],
            views.intrinsics[rejected],
            views.weights[rejected],
            cameras[rejected, :3, :3],
            PnPConfig(cfg.pnp_iterations, cfg.robust_scale_px),
        ).cam_from_model
    return cameras


def fuse_views(
    observations: Sequence[ViewObservation],
    config: FusionConfig | None = None,
    previous: FusedHand | None = None,
) -> FusedHand:
    """Estimate the cameras from the hand and fuse the views' landmarks into 3-D joints.

    Args:
        observations: S >= 1 views of the same hand; observation 0 is the reference camera.
        config: thresholds, loss scales, iteration budgets; defaults to :class:`FusionConfig`'s.
        previous: the last result for the same cameras; with the same S, its cameras start
            the first refinement for the views it kept (unless a view is prescreened out).

    Returns:
        Joints in the reference camera's frame, every camera, the views kept and their errors.

    Raises:
        ValueError: naming the view and the problem, for wrong shapes, NaN or infinite values,
            weights outside [0, 1] or fewer than 4 positive ones, invalid intrinsics, or
            collinear landmarks.
    """
    cfg = config if config is not None else FusionConfig()
    views = _stack(observations)
    count = len(views.uv)
    if count == 1:
        return _single_view(views, cfg)
    initial = _initial(views, cfg)
    expected = initial.world_cam_from_ref
    start = initial.cam_from_ref.copy()
    if previous is not None and len(previous.cam_from_ref) == count:
        warm = np.array(previous.inliers)
        start[warm] = previous.cam_from_ref[warm]
    fit = quantile_error_px(initial.residual_px, views.weights, cfg.reject_quantile)
    prescreen = _badness(views, fit, initial.cam_from_ref[:, :3, :3], expected, cfg)
    kept = [0, *(view for view in range(1, count) if prescreen[view] <= cfg.prescreen_factor)]
    if len(kept) < count:
        initial = _initial(views.select(kept), cfg)
        start[kept] = initial.cam_from_ref
    solution = _solve_with_rejection(
        views, kept, start, expected.copy(), initial.placed_joints, cfg
    )
    cameras = _with_rejected_cameras(views, solution, cfg)
    inliers = tuple(view in solution.kept for view in range(count))
    errors = _view_errors(views, cameras, solution.joints_m, 0.5)
    if not (np.isfinite(solution.joints_m).all() and np.isfinite(cameras).all()):
        raise ValueError("the views' landmarks are too degenerate to fuse (non-finite result)")
    return FusedHand(solution.joints_m, cameras, inliers, errors, solution.iterations)
