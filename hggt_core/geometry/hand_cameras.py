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
3. Refinement (:mod:`hggt_core.geometry.hand_bundle`; the loops of steps 3 and 4 are in
   :mod:`hggt_core.geometry.hand_solve`): cameras 1..S-1 and joints together by
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

Known cameras (a calibrated rig: ``known_cam_from_ref``, poses relative to view 0). With at least
one known view besides view 0, the known cameras are the gauge instead of view 0 alone:

* joints: DLT with the known cameras only (metric: the scale is the known baseline's), the
  world landmarks' shape filling in joints that do not triangulate;
* unknown cameras: PnP of those joints (rotations started from the world landmarks');
* refinement: the known cameras stay fixed; the size prior is dropped and the bone and shape
  priors are scaled to the triangulated hand, since the landmarker's idea of the hand's size
  must not pull against a measured baseline (they then shape the hand, they do not size it);
* rejection as above (known views are not prescreened: their fit to a rigid hand says less
  than their fit after the solve), but a rejected known view loses only its landmarks: its
  camera stays the known one. Should fewer than two known views keep their landmarks, the
  remaining views are solved as without known cameras (scale from the hand), the known poses
  still reported.

The previous result's cameras do not start this path (the known cameras and PnP start it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hggt_core.geometry.hand_init import HandViews, stack_views
from hggt_core.geometry.hand_solve import (
    Solution,
    badness,
    cameras_by_pnp,
    initial_solve,
    placed_by_pnp,
    solve_known,
    solve_with_rejection,
    view_errors,
)
from hggt_core.geometry.pnp import quantile_error_px

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
    """[S, 4, 4] rigid transforms, reference -> camera s (identity for s = 0; known as given)."""
    inliers: tuple[bool, ...]
    """[S] views whose landmarks were used for the joints (the reference is always kept)."""
    reprojection_px: FloatArray
    """[S] median reprojection error of ``joints_m`` in each view, pixels."""
    iterations: int
    """Refinement iterations summed over the solves (PnP iterations for a single view)."""


def _stack(observations: Sequence[ViewObservation]) -> HandViews:
    return stack_views(
        [obs.uv for obs in observations],
        [obs.world_m for obs in observations],
        [obs.intrinsics for obs in observations],
        [obs.weights for obs in observations],
    )


def _single_view(views: HandViews, cfg: FusionConfig) -> FusedHand:
    joints, pnp = placed_by_pnp(views, cfg)
    return FusedHand(joints, np.eye(4)[None], (True,), pnp.reprojection_px, pnp.iterations)


def _with_rejected_cameras(views: HandViews, solution: Solution, cfg: FusionConfig) -> FloatArray:
    """The solution's cameras, each rejected view's replaced by the PnP of the fused joints."""
    rejected = [view for view in range(len(views.uv)) if view not in solution.kept]
    cameras = solution.cam_from_ref.copy()
    if rejected:
        rotations = cameras[rejected, :3, :3]
        cameras[rejected] = cameras_by_pnp(views, rejected, solution.joints_m, rotations, cfg)
    return cameras


def _checked_known(
    known_cam_from_ref: Mapping[int, FloatArray] | None, count: int
) -> dict[int, FloatArray]:
    """The known cameras as float64 [4, 4], view 0's identity included; ValueError if bad."""
    known = {0: np.eye(4)}
    for view, transform in (known_cam_from_ref or {}).items():
        pose = np.asarray(transform, dtype=np.float64)
        if not 0 <= view < count:
            raise ValueError(f"known_cam_from_ref: view {view} is not one of 0..{count - 1}")
        if pose.shape != (4, 4):
            pose = np.full((4, 4), np.nan)
        rotation = pose[:3, :3]
        rigid = np.isfinite(pose).all() and np.allclose(pose[3], (0.0, 0.0, 0.0, 1.0))
        rigid = rigid and np.allclose(rotation.T @ rotation, np.eye(3), atol=1e-6)
        if not rigid or np.linalg.det(rotation) <= 0:
            raise ValueError(f"known_cam_from_ref: view {view} is not a rigid [4, 4] transform")
        if view == 0 and not np.allclose(pose, np.eye(4), atol=1e-6):
            raise ValueError("known_cam_from_ref: view 0 is the reference, its pose is identity")
        if view != 0:  # the reference's stays the exact identity
            known[view] = pose
    return known


def fuse_views(
    observations: Sequence[ViewObservation],
    config: FusionConfig | None = None,
    previous: FusedHand | None = None,
    known_cam_from_ref: Mapping[int, FloatArray] | None = None,
) -> FusedHand:
    """Estimate the cameras from the hand and fuse the views' landmarks into 3-D joints.

    Args:
        observations: S >= 1 views of the same hand; observation 0 is the reference camera.
        config: thresholds, loss scales, iteration budgets; defaults to :class:`FusionConfig`'s.
        previous: the last result for the same cameras; with the same S, its cameras start
            the first refinement for the views it kept (unless a view is prescreened out).
            Not used with known cameras.
        known_cam_from_ref: view index -> [4, 4] known rigid transform, reference (view 0) ->
            that view's camera, metres (e.g. ``cam_from_world[i] @ inv(cam_from_world[0])``
            of a calibrated rig); view 0's, if given, must be the identity. With a known view
            besides view 0 they are used as the module docstring says, and returned exactly.

    Returns:
        Joints in the reference camera's frame, every camera, the views kept and their errors.

    Raises:
        ValueError: naming the view and the problem, for wrong shapes, NaN or infinite values,
            weights outside [0, 1] or fewer than 4 positive ones, invalid intrinsics,
            collinear landmarks, or a known pose that is not rigid or names no view.
    """
    cfg = config if config is not None else FusionConfig()
    views = _stack(observations)
    count = len(views.uv)
    known = _checked_known(known_cam_from_ref, count)
    if count == 1:
        return _single_view(views, cfg)
    initial = initial_solve(views, cfg)
    expected = initial.world_cam_from_ref
    start = initial.cam_from_ref.copy()
    if previous is not None and len(previous.cam_from_ref) == count and len(known) < 2:
        warm = np.array(previous.inliers)
        start[warm] = previous.cam_from_ref[warm]
    fit = quantile_error_px(initial.residual_px, views.weights, cfg.reject_quantile)
    prescreen = badness(views, fit, initial.cam_from_ref[:, :3, :3], expected, cfg)
    prescreen[list(known)] = 0.0  # a known view's landmarks are judged after the solve
    kept = [0, *(view for view in range(1, count) if prescreen[view] <= cfg.prescreen_factor)]
    if len(kept) < count:
        initial = initial_solve(views.select(kept), cfg)
        start[kept] = initial.cam_from_ref
    if len(known) < 2:
        solution = solve_with_rejection(
            views, kept, start, expected.copy(), initial.placed_joints, cfg
        )
    else:
        solution = solve_known(views, kept, known, expected.copy(), initial.placed_joints, cfg)
    cameras = _with_rejected_cameras(views, solution, cfg)
    for view, pose in known.items():
        cameras[view] = pose
    inliers = tuple(view in solution.kept for view in range(count))
    errors = view_errors(views, cameras, solution.joints_m, 0.5)
    if not (np.isfinite(solution.joints_m).all() and np.isfinite(cameras).all()):
        raise ValueError("the views' landmarks are too degenerate to fuse (non-finite result)")
    return FusedHand(solution.joints_m, cameras, inliers, errors, solution.iterations)
