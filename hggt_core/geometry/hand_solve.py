# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Solving one set of views of a hand, with view rejection: the loops of ``fuse_views``.

:func:`solve_with_rejection` estimates every camera but the reference (view 0, the gauge);
:func:`solve_known` keeps the known cameras of a calibrated rig fixed and triangulates with them.
Both refine (:mod:`hggt_core.geometry.hand_bundle`), measure how far each view is out of line
(:func:`badness`) and drop the worst view's landmarks until none is. The algorithm, thresholds
and their defaults are described in :mod:`hggt_core.geometry.hand_cameras`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hggt_core.geometry.hand_bundle import BundleConfig, HandPriors, refine_cameras_and_joints
from hggt_core.geometry.hand_init import (
    HandViews,
    InitialCameras,
    hand_priors,
    initial_cameras,
    initial_joints,
    known_camera_joints,
    shape_priors,
)
from hggt_core.geometry.pnp import (
    MIN_DEPTH_M,
    PnPConfig,
    PnPResult,
    project_pinhole,
    quantile_error_px,
    solve_pnp,
)

if TYPE_CHECKING:  # hand_cameras imports this module at run time
    from hggt_core.geometry.hand_cameras import FusionConfig

FloatArray = npt.NDArray[np.float64]

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Solution:
    """The outcome of solving one set of views."""

    kept: list[int]
    cam_from_ref: FloatArray  # [S, 4, 4]; rejected views' as they were last
    joints_m: FloatArray  # [N, 3]
    iterations: int


def placed_by_pnp(views: HandViews, cfg: FusionConfig) -> tuple[FloatArray, PnPResult]:
    """View 0's world landmarks placed by their PnP pose: joints [N, 3] (its frame) and PnP."""
    pnp = solve_pnp(
        views.world[:1],
        views.uv[:1],
        views.intrinsics[:1],
        views.weights[:1],
        config=PnPConfig(cfg.pnp_iterations, cfg.robust_scale_px),
    )
    pose = pnp.cam_from_model[0]
    return views.world[0] @ pose[:3, :3].T + pose[:3, 3], pnp


def cameras_by_pnp(
    views: HandViews,
    indices: Sequence[int],
    joints: FloatArray,
    rotations: FloatArray,
    cfg: FusionConfig,
) -> FloatArray:
    """[len(indices), 4, 4] ``cam_from_ref`` of those views, by PnP of fused joints.

    Args:
        views: the landmarks of all S views.
        indices: the views to place.
        joints: [N, 3] joints, reference frame, metres.
        rotations: [len(indices), 3, 3] rotations PnP starts from.
        cfg: the settings.
    """
    return solve_pnp(
        np.broadcast_to(joints, (len(indices), *joints.shape)),
        views.uv[indices],
        views.intrinsics[indices],
        views.weights[indices],
        rotations,
        PnPConfig(cfg.pnp_iterations, cfg.robust_scale_px),
    ).cam_from_model


def view_errors(
    views: HandViews, cam_from_ref: FloatArray, joints: FloatArray, quantile: float
) -> FloatArray:
    """[S] quantile of the reprojection errors of reference-frame joints in each view, px."""
    rotations, translations = cam_from_ref[:, :3, :3], cam_from_ref[:, None, :3, 3]
    points_cam = joints @ np.swapaxes(rotations, -1, -2) + translations
    points_cam[..., 2] = np.maximum(points_cam[..., 2], MIN_DEPTH_M)
    residual = project_pinhole(points_cam, views.intrinsics) - views.uv
    return quantile_error_px(residual, views.weights, quantile)


def badness(
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
    """[S] :func:`badness` of cameras [S, 4, 4] and joints [N, 3]."""
    errors = view_errors(views, cam_from_ref, joints, cfg.reject_quantile)
    return badness(views, errors, cam_from_ref[:, :3, :3], expected, cfg)


def initial_solve(views: HandViews, cfg: FusionConfig) -> InitialCameras:
    """:func:`~hggt_core.geometry.hand_init.initial_cameras` with ``cfg``'s settings."""
    return initial_cameras(views, cfg.procrustes_scale_m, cfg.procrustes_rounds)


def _refine(
    views: HandViews,
    start: FloatArray,
    joints: FloatArray,
    priors: HandPriors,
    cfg: FusionConfig,
    fixed: Sequence[int] = (0,),
) -> tuple[FloatArray, FloatArray, int]:
    """Refine one set of views from cameras [V, 4, 4] and joints [N, 3]; also iterations."""
    bundle = refine_cameras_and_joints(
        views.uv,
        views.intrinsics,
        views.weights,
        start,
        joints,
        priors,
        BundleConfig(
            iterations=cfg.bundle_iterations,
            robust_scale_px=cfg.robust_scale_px,
            bone_length_sigma_m=cfg.bone_length_sigma_m,
            hand_size_sigma_m=cfg.hand_size_sigma_m,
            shape_sigma_m=cfg.shape_sigma_m,
            shape_scale_m=cfg.shape_scale_m,
        ),
        fixed,
    )
    return bundle.cam_from_ref, bundle.joints_m, bundle.iterations


def _worst_out_of_line(
    views: HandViews,
    kept: list[int],
    cameras: FloatArray,
    joints: FloatArray,
    expected: FloatArray,
    cfg: FusionConfig,
) -> int | None:
    """The kept view (never view 0) most out of line, when it is out of line; else None."""
    out_of_line = _solution_badness(views, cameras, joints, expected, cfg)
    worst = kept[1 + int(np.argmax(out_of_line[kept[1:]]))]
    if out_of_line[worst] <= 1.0:
        return None
    _LOG.debug("view %d out of line (%.2f x its threshold)", worst, out_of_line[worst])
    return worst


def solve_with_rejection(
    views: HandViews,
    kept: list[int],
    start: FloatArray,
    expected: FloatArray,
    placed_joints: FloatArray,
    cfg: FusionConfig,
) -> Solution:
    """Solve ``kept``; while its worst view is out of line, drop that view and solve again.

    ``placed_joints`` [N, 3] stand in for joints that cannot be triangulated; ``expected``
    [S, 3, 3] holds the world-landmark rotations the cameras' are checked against.
    """
    cameras, iterations = start.copy(), 0
    while len(kept) > 1:
        chosen = views.select(kept)
        triangulated = initial_joints(
            chosen, cameras[kept], placed_joints, cfg.max_triangulation_offset_m
        )
        solved, joints, used = _refine(
            chosen, cameras[kept], triangulated, hand_priors(chosen), cfg
        )
        cameras[kept], iterations = solved, iterations + used
        worst = _worst_out_of_line(views, kept, cameras, joints, expected, cfg)
        if worst is None:
            return Solution(kept, cameras, joints, iterations)
        kept = [view for view in kept if view != worst]
        restart = initial_solve(views.select(kept), cfg)
        cameras[kept], expected[kept] = restart.cam_from_ref, restart.world_cam_from_ref
        placed_joints = restart.placed_joints
    return Solution(kept, cameras, placed_by_pnp(views, cfg)[0], iterations)


def _known_start(
    views: HandViews,
    kept: list[int],
    known: dict[int, FloatArray],
    cameras: FloatArray,
    placed_joints: FloatArray,
    cfg: FusionConfig,
) -> tuple[FloatArray, FloatArray, HandPriors] | None:
    """Cameras [S, 4, 4] (the kept unknown views' by PnP), joints [N, 3] and priors, or None.

    ``cameras`` holds the known poses and, for unknown views, rotations to start PnP from.
    None: fewer than two kept views are known, or their joints do not triangulate.
    """
    seen = [view for view in kept if view in known]
    if len(seen) < 2:
        return None
    start = known_camera_joints(
        views.select(seen), cameras[seen], placed_joints, cfg.max_triangulation_offset_m
    )
    if start is None:
        return None
    joints, scale = start
    cameras = cameras.copy()
    free = [view for view in kept if view not in known]
    if free:
        cameras[free] = cameras_by_pnp(views, free, joints, cameras[free, :3, :3], cfg)
    return cameras, joints, shape_priors(views.select(kept), scale)


def solve_known(
    views: HandViews,
    kept: list[int],
    known: dict[int, FloatArray],
    expected: FloatArray,
    placed_joints: FloatArray,
    cfg: FusionConfig,
) -> Solution:
    """Solve ``kept`` with the known cameras fixed, dropping out-of-line views' landmarks.

    While the worst view is out of line its landmarks are dropped and the rest solved again;
    with fewer than two known views left, the rest is solved by :func:`solve_with_rejection`.

    Args:
        views: the landmarks of all S views.
        kept: the views whose landmarks are used (view 0 first).
        known: view -> [4, 4] known ``cam_from_ref`` (view 0's identity included).
        expected: [S, 3, 3] the world-landmark rotations (also PnP's start); updated in place
            if the unknown path takes over.
        placed_joints: [N, 3] the world landmarks' shape placed in view 0, metres.
        cfg: the settings.
    """
    cameras = np.broadcast_to(np.eye(4), (len(views.uv), 4, 4)).copy()
    cameras[:, :3, :3] = expected
    for view, pose in known.items():
        cameras[view] = pose
    iterations = 0
    while (start := _known_start(views, kept, known, cameras, placed_joints, cfg)) is not None:
        chosen, priors = views.select(kept), start[2]
        fixed = [index for index, view in enumerate(kept) if view in known]
        solved, joints, used = _refine(chosen, start[0][kept], start[1], priors, cfg, fixed)
        cameras[kept], iterations = solved, iterations + used
        worst = _worst_out_of_line(views, kept, cameras, joints, expected, cfg)
        if worst is None:
            return Solution(kept, cameras, joints, iterations)
        kept = [view for view in kept if view != worst]
    restart = initial_solve(views.select(kept), cfg)
    cameras[kept], expected[kept] = restart.cam_from_ref, restart.world_cam_from_ref
    rest = solve_with_rejection(views, kept, cameras, expected, restart.placed_joints, cfg)
    return Solution(rest.kept, rest.cam_from_ref, rest.joints_m, iterations + rest.iterations)
