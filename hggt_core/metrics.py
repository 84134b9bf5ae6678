# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Evaluation metrics: POEM-style 3-D hand errors and VGGT-style camera pose accuracy.

Hand metrics follow the released HGGT evaluation (POEM's ``pa_eval.py`` and ``pck.py``):

- Inputs are in metres; functions and fields ending in ``_mm`` report millimetres.
- MPJPE / MPVPE: per-sample mean L2 distance over the 21 joints / 778 vertices.
- Root-relative (RR): each set minus its own wrist joint (joint 0). Vertices are made
  relative to the wrist *joint* of the same hand, not to a vertex.
- Procrustes (PA): per sample, the similarity transform (scale, rotation, translation)
  that best maps the prediction onto the ground truth; joints and vertices are aligned
  separately.
- PCK counts errors <= threshold; AUC integrates the PCK curve over
  linspace(0, T, n) with the trapezoid rule and divides by T. The HGGT evaluation uses
  n = 100 steps for both T = 20 mm and T = 50 mm, which is this module's default.

Camera metrics follow VGGT's relative-pose evaluation: rotation and translation-direction
angles for every ordered pair of views (i < j), and AUC@T over integer-degree thresholds of
the larger of the two errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from hggt_core.geometry.procrustes import similarity_procrustes
from hggt_core.geometry.projection import compose_rigid, invert_rigid
from hggt_core.geometry.rotations import geodesic_angle

_M_TO_MM = 1000.0
DEFAULT_AUC_STEPS = 100


def point_errors_mm(pred: Tensor, gt: Tensor) -> Tensor:
    """Per-point Euclidean distances in millimetres.

    Args:
        pred: [..., N, 3] predicted points, metres.
        gt: [..., N, 3] ground-truth points, metres.

    Returns:
        [..., N] distances, millimetres.
    """
    distances: Tensor = torch.linalg.vector_norm(pred - gt, dim=-1)
    return distances * _M_TO_MM


def mpjpe_mm(pred: Tensor, gt: Tensor) -> Tensor:
    """Mean per-point position error (MPJPE for joints, MPVPE for vertices), per sample.

    Args:
        pred: [B, N, 3] (any leading axes) predicted points, metres.
        gt: [B, N, 3] ground-truth points, metres.

    Returns:
        [B] mean L2 distance over the N points, millimetres.
    """
    return point_errors_mm(pred, gt).mean(dim=-1)


def root_relative(points: Tensor, root_index: int = 0, reference: Tensor | None = None) -> Tensor:
    """Subtract a root point (the wrist by default) from a point set.

    Args:
        points: [..., N, 3] points.
        root_index: index of the root in ``reference``.
        reference: [..., M, 3] set the root is taken from, e.g. the joints when ``points``
            are the vertices of the same hand; defaults to ``points`` itself.

    Returns:
        [..., N, 3] points minus reference[..., root_index, :].
    """
    source = points if reference is None else reference
    return points - source[..., root_index : root_index + 1, :]


def procrustes_aligned(pred: Tensor, gt: Tensor, allow_reflection: bool = False) -> Tensor:
    """Align each predicted set to its ground truth with a similarity transform.

    Args:
        pred: [B, N, 3] predicted points.
        gt: [B, N, 3] ground-truth points.
        allow_reflection: see ``similarity_procrustes``; False keeps det(R) = +1. POEM's
            scipy alignment allows reflections, which only matters for degenerate predictions.

    Returns:
        [B, N, 3] aligned predictions, same unit and dtype as ``pred``.
    """
    aligned, _, _, _ = similarity_procrustes(pred, gt, allow_reflection=allow_reflection)
    return aligned


def pck_curve(errors_mm: Tensor, thresholds_mm: Tensor | Sequence[float]) -> Tensor:
    """Percentage of correct keypoints (as a fraction) at each threshold.

    Args:
        errors_mm: [B, N] or any shape of per-point errors, millimetres; all are pooled.
        thresholds_mm: [T] thresholds, millimetres.

    Returns:
        [T] float64 fraction of errors <= each threshold (POEM counts equality as correct).
    """
    errors = errors_mm.detach().reshape(-1).to(torch.float64)
    thresholds = torch.as_tensor(thresholds_mm, dtype=torch.float64, device=errors.device)
    return (errors[None, :] <= thresholds[:, None]).to(torch.float64).mean(dim=-1)


def auc(
    errors_mm: Tensor,
    max_threshold_mm: float = 20.0,
    num_thresholds: int = DEFAULT_AUC_STEPS,
) -> float:
    """Area under the PCK curve on linspace(0, T, n), trapezoid rule, divided by T.

    POEM averages per-keypoint AUCs; with every point present in every sample that equals
    the AUC of the pooled errors computed here.

    Args:
        errors_mm: [B, N] or any shape of per-point errors, millimetres.
        max_threshold_mm: T, millimetres.
        num_thresholds: n, the number of thresholds including 0 and T.

    Returns:
        AUC in [0, 1].
    """
    thresholds = torch.linspace(0.0, max_threshold_mm, num_thresholds, dtype=torch.float64)
    curve = pck_curve(errors_mm, thresholds.to(errors_mm.device)).cpu()
    return float(torch.trapezoid(curve, thresholds) / max_threshold_mm)


@dataclass(frozen=True)
class HandErrorSummary:
    """Dataset-level hand errors, averaged over samples; vertex fields are None without meshes.

    AUCs are fractions in [0, 1] (the HGGT scripts print them as percentages).
    """

    num_samples: int
    """Number of samples evaluated."""
    mpjpe_mm: float
    """Absolute (camera-0 frame) mean per-joint error, mm."""
    rr_mpjpe_mm: float
    """Root-relative mean per-joint error, mm."""
    pa_mpjpe_mm: float
    """Procrustes-aligned mean per-joint error, mm."""
    pa_auc_j20: float
    """AUC of the PA joint PCK up to 20 mm."""
    pa_auc_j50: float
    """AUC of the PA joint PCK up to 50 mm."""
    mpvpe_mm: float | None = None
    """Absolute mean per-vertex error, mm."""
    rr_mpvpe_mm: float | None = None
    """Root-relative (wrist joint) mean per-vertex error, mm."""
    pa_mpvpe_mm: float | None = None
    """Procrustes-aligned mean per-vertex error, mm."""
    pa_auc_v20: float | None = None
    """AUC of the PA vertex PCK up to 20 mm."""
    pa_auc_v50: float | None = None
    """AUC of the PA vertex PCK up to 50 mm."""


def _point_set_errors(
    pred: Tensor,
    gt: Tensor,
    pred_root: Tensor,
    gt_root: Tensor,
    num_thresholds: int,
    allow_reflection: bool,
) -> tuple[float, float, float, float, float]:
    """(abs, RR, PA) mean errors in mm and PA AUC at 20 and 50 mm for one kind of point."""
    absolute = mpjpe_mm(pred, gt).mean()
    relative = mpjpe_mm(pred - pred_root, gt - gt_root).mean()
    aligned = procrustes_aligned(pred, gt, allow_reflection=allow_reflection)
    pa_errors = point_errors_mm(aligned, gt)
    return (
        float(absolute),
        float(relative),
        float(pa_errors.mean()),
        auc(pa_errors, 20.0, num_thresholds),
        auc(pa_errors, 50.0, num_thresholds),
    )


def evaluate_hand(
    pred_joints: Tensor,
    gt_joints: Tensor,
    pred_verts: Tensor | None = None,
    gt_verts: Tensor | None = None,
    root_index: int = 0,
    num_thresholds: int = DEFAULT_AUC_STEPS,
    allow_reflection: bool = False,
) -> HandErrorSummary:
    """Compute the HGGT paper's Table 1 hand metrics over a set of samples.

    Args:
        pred_joints: [B, 21, 3] predicted joints, metres (any joint count works).
        gt_joints: [B, 21, 3] ground-truth joints, metres, same frame as the prediction.
        pred_verts: optional [B, 778, 3] predicted vertices, metres.
        gt_verts: optional [B, 778, 3] ground-truth vertices, metres.
        root_index: joint used as the root for RR errors (0 = wrist in OpenPose order).
        num_thresholds: steps of the PCK curves behind the AUCs.
        allow_reflection: let the PA alignment reflect (POEM's scipy behaviour); see
            ``similarity_procrustes``.

    Returns:
        The summary; vertex fields are None when no vertices are given.

    Raises:
        ValueError: if only one of ``pred_verts`` and ``gt_verts`` is given.
    """
    if (pred_verts is None) != (gt_verts is None):
        raise ValueError("pass both pred_verts and gt_verts, or neither")
    pred_root = pred_joints[..., root_index : root_index + 1, :].detach()
    gt_root = gt_joints[..., root_index : root_index + 1, :].detach()
    settings = (num_thresholds, allow_reflection)
    joints = _point_set_errors(
        pred_joints.detach(), gt_joints.detach(), pred_root, gt_root, *settings
    )
    verts: tuple[float | None, ...] = (None,) * 5
    if pred_verts is not None and gt_verts is not None:
        verts = _point_set_errors(
            pred_verts.detach(), gt_verts.detach(), pred_root, gt_root, *settings
        )
    return HandErrorSummary(
        num_samples=int(pred_joints.shape[0]),
        mpjpe_mm=joints[0],
        rr_mpjpe_mm=joints[1],
        pa_mpjpe_mm=joints[2],
        pa_auc_j20=joints[3],
        pa_auc_j50=joints[4],
        mpvpe_mm=verts[0],
        rr_mpvpe_mm=verts[1],
        pa_mpvpe_mm=verts[2],
        pa_auc_v20=verts[3],
        pa_auc_v50=verts[4],
    )


def reproject_to_intrinsics(
    points_cam: Tensor, intrinsics_from: Tensor, intrinsics_to: Tensor
) -> Tensor:
    """Move camera-frame points so they project identically under other intrinsics.

    This is the HGGT evaluation's "intrinsic correction": each point keeps its pixel under
    ``intrinsics_from`` and gets depth z * f_x(to) / f_x(from), then is back-projected with
    ``intrinsics_to``. It makes predictions made with predicted intrinsics comparable to
    ground truth expressed with the true ones.

    Args:
        points_cam: [..., N, 3] points in the camera frame, metres, z > 0.
        intrinsics_from: [..., 3, 3] intrinsics the points were predicted with, pixels.
        intrinsics_to: [..., 3, 3] target intrinsics, pixels.

    Returns:
        [..., N, 3] corrected camera-frame points.
    """
    fx_from, fy_from = intrinsics_from[..., None, 0, 0], intrinsics_from[..., None, 1, 1]
    cx_from, cy_from = intrinsics_from[..., None, 0, 2], intrinsics_from[..., None, 1, 2]
    fx_to, fy_to = intrinsics_to[..., None, 0, 0], intrinsics_to[..., None, 1, 1]
    cx_to, cy_to = intrinsics_to[..., None, 0, 2], intrinsics_to[..., None, 1, 2]
    x, y, z = points_cam.unbind(-1)
    u = fx_from * x / z + cx_from
    v = fy_from * y / z + cy_from
    z_new = z * fx_to / fx_from
    return torch.stack([(u - cx_to) * z_new / fx_to, (v - cy_to) * z_new / fy_to, z_new], dim=-1)


def rotation_error_deg(rot_pred: Tensor, rot_gt: Tensor) -> Tensor:
    """Angle of the rotation between predicted and true rotations, degrees (float64).

    Args:
        rot_pred: [..., 3, 3] rotation matrices.
        rot_gt: [..., 3, 3] rotation matrices.

    Returns:
        [...] angles in degrees, in [0, 180].
    """
    angle = geodesic_angle(rot_pred.to(torch.float64), rot_gt.to(torch.float64), eps=0.0)
    return torch.rad2deg(angle)


def translation_angle_error_deg(
    t_pred: Tensor, t_gt: Tensor, sign_ambiguous: bool = True, eps: float = 1e-15
) -> Tensor:
    """Angle between translation directions, degrees (scale-free; float64).

    Args:
        t_pred: [..., 3] translations.
        t_gt: [..., 3] translations.
        sign_ambiguous: as VGGT, treat t and -t as the same direction, so the error lies in
            [0, 90]; False gives the full angle in [0, 180].
        eps: floor on the norms; a zero vector then has a 90-degree error, as in VGGT.

    Returns:
        [...] angles in degrees.
    """
    pred = t_pred.to(torch.float64)
    gt = t_gt.to(torch.float64)
    pred = pred / torch.linalg.vector_norm(pred, dim=-1, keepdim=True).clamp_min(eps)
    gt = gt / torch.linalg.vector_norm(gt, dim=-1, keepdim=True).clamp_min(eps)
    cos = (pred * gt).sum(dim=-1).clamp(-1.0, 1.0)
    if sign_ambiguous:
        cos = cos.abs()
    return torch.rad2deg(torch.acos(cos))


def relative_pose_errors_deg(
    cam_from_world_pred: Tensor, cam_from_world_gt: Tensor
) -> tuple[Tensor, Tensor]:
    """Rotation and translation-direction errors of every pair of views (VGGT protocol).

    For views i < j, compares cam_i_from_cam_j = cam_i_from_world @ world_from_cam_j of the
    prediction and the ground truth. The result is invariant to the choice of world frame and,
    for translations, to the global scale.

    Args:
        cam_from_world_pred: [..., S, 3, 4] or [..., S, 4, 4] predicted extrinsics.
        cam_from_world_gt: [..., S, 3, 4] or [..., S, 4, 4] true extrinsics.

    Returns:
        rotation_deg: [..., S (S - 1) / 2] rotation errors, degrees.
        translation_deg: [..., S (S - 1) / 2] sign-ambiguous translation angles, degrees.
    """
    num_views = cam_from_world_pred.shape[-3]
    pairs = torch.combinations(torch.arange(num_views, device=cam_from_world_pred.device), 2)
    first, second = pairs[:, 0], pairs[:, 1]

    def relative(cam_from_world: Tensor) -> Tensor:
        poses = cam_from_world.to(torch.float64)
        return compose_rigid(poses[..., first, :, :], invert_rigid(poses[..., second, :, :]))

    rel_pred = relative(cam_from_world_pred)
    rel_gt = relative(cam_from_world_gt)
    rotation_deg = rotation_error_deg(rel_pred[..., :3], rel_gt[..., :3])
    translation_deg = translation_angle_error_deg(rel_pred[..., 3], rel_gt[..., 3])
    return rotation_deg, translation_deg


def camera_auc(r_err_deg: Tensor, t_err_deg: Tensor, max_threshold_deg: int = 30) -> float:
    """VGGT's AUC@T of relative camera poses.

    The error of a pair is max(rotation error, translation error). For each integer threshold
    k = 1..T the accuracy is the fraction of pairs with error < k (<= T for k = T, matching
    numpy's closed last histogram bin); the AUC is the mean of these T accuracies.

    Args:
        r_err_deg: [P] (any shape) rotation errors, degrees.
        t_err_deg: [P] (same shape) translation errors, degrees.
        max_threshold_deg: T, degrees.

    Returns:
        AUC in [0, 1]. NaN errors count as failures.
    """
    errors = torch.maximum(r_err_deg, t_err_deg).detach().reshape(-1).to(torch.float64)
    thresholds = torch.arange(1, max_threshold_deg + 1, dtype=torch.float64).to(errors.device)
    below = errors[None, :] < thresholds[:, None]
    below[-1] = errors <= max_threshold_deg
    return float(below.to(torch.float64).mean(dim=-1).mean())
