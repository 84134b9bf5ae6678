# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""The metrics of :mod:`training.eval`: grouping, the intrinsic correction, the table.

Predictions and labels are collected per (dataset, view count) and scored with
:mod:`hggt_core.metrics`; see :mod:`training.eval` for the metrics reported.

Intrinsic correction, as the released evaluation does it (its ``eval_mv_image.py``): the
network predicts the hand in camera 0's frame *with its own predicted intrinsics*; before the
hand metrics, every predicted joint and vertex is reprojected to the ground-truth intrinsics
of view 0 (same pixel, depth scaled by f_true / f_pred:
:func:`hggt_core.metrics.reproject_to_intrinsics`). The corrected errors are the headline
(:attr:`GroupReport.hand`, the release's ``mpjpe``, ``rr_*``, ``pa_*`` keys); the errors of
the prediction as it is are reported beside them (:attr:`GroupReport.hand_orig`, the
release's ``orig_mpjpe``, ``rr_orig_*``, ``pa_orig_*``). Samples without calibrated cameras
(``has_cameras`` False: single-view data with a nominal K), predictors without intrinsics
(the mean-hand baseline) and predictions with no pixel to keep (a hand not wholly in front of
camera 0, a focal length that is not finite and positive) are not corrected, so both
summaries count them alike; :attr:`GroupReport.num_corrected` says how many were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from hggt_core.mano.layer import ManoLayer
from hggt_core.metrics import (
    HandErrorSummary,
    camera_auc,
    evaluate_hand,
    relative_pose_errors_deg,
    reproject_to_intrinsics,
)
from training.data.sample import HandBatch

ALL_VIEWS = 0
"""``num_views`` of the group that pools every view count of a dataset."""


@dataclass(frozen=True)
class CameraErrorSummary:
    """Relative camera pose errors of a group (all ordered view pairs i < j pooled)."""

    num_pairs: int
    """View pairs evaluated."""
    rotation_deg: float
    """Mean relative rotation error, degrees."""
    translation_deg: float
    """Mean relative translation-direction error (sign-ambiguous), degrees."""
    auc_30: float
    """VGGT's AUC@30 of max(rotation, translation) errors."""


@dataclass(frozen=True)
class GroupReport:
    """Metrics of one dataset at one view count (``num_views == ALL_VIEWS``: pooled)."""

    dataset: str
    """Dataset name."""
    num_views: int
    """Views per sample; ALL_VIEWS for the pooled row."""
    hand: HandErrorSummary
    """Hand errors after the intrinsic correction (the headline; module docstring)."""
    camera: CameraErrorSummary | None
    """Relative camera errors, None without multi-view camera labels."""
    hand_orig: HandErrorSummary
    """Hand errors of the uncorrected prediction (the release's ``*_orig``)."""
    num_corrected: int
    """Samples whose prediction was reprojected to the true intrinsics."""


@dataclass(frozen=True)
class Predictions:
    """What is evaluated for B samples: MANO outputs and cameras.

    Attributes:
        joints: [B, 21, 3] predicted joints, metres, camera-0 frame.
        vertices: [B, 778, 3] predicted vertices.
        cam_from_ref: [B, S, 3, 4] predicted extrinsics (view 0 -> each view).
        intrinsics: [B, S, 3, 3] predicted K of each input image, pixels; None when the
            predictor has none (then no intrinsic correction).
    """

    joints: Tensor
    vertices: Tensor
    cam_from_ref: Tensor
    intrinsics: Tensor | None = None


class MetricAccumulator:
    """Collects predictions and labels batch by batch; :meth:`report` computes the metrics."""

    def __init__(self, mano: ManoLayer) -> None:
        self.mano = mano
        self._groups: dict[tuple[str, int], list[tuple[HandBatch, Predictions]]] = {}

    def add(self, batch: HandBatch, predictions: Predictions) -> None:
        """Add one batch (samples of one dataset and one view count are grouped)."""
        for index, name in enumerate(batch.datasets):
            key = (name, int(batch.images.shape[1]))
            one = slice(index, index + 1)
            intrinsics = predictions.intrinsics
            self._groups.setdefault(key, []).append(
                (
                    _slice_batch(batch, one),
                    Predictions(
                        predictions.joints[one].cpu(),
                        predictions.vertices[one].cpu(),
                        predictions.cam_from_ref[one].cpu(),
                        None if intrinsics is None else intrinsics[one].cpu(),
                    ),
                )
            )

    def report(self) -> tuple[GroupReport, ...]:
        """Metrics of every (dataset, view count), then each dataset pooled over view counts."""
        reports = []
        for name in sorted({name for name, _ in self._groups}):
            keys = sorted(key for key in self._groups if key[0] == name)
            for key in keys:
                reports.append(self._summarise(name, key[1], self._groups[key]))
            if len(keys) > 1:
                pooled = [item for key in keys for item in self._groups[key]]
                reports.append(self._summarise(name, ALL_VIEWS, pooled))
        return tuple(reports)

    def _summarise(
        self, name: str, num_views: int, items: Sequence[tuple[HandBatch, Predictions]]
    ) -> GroupReport:
        labelled = [(b, p) for b, p in items if bool(b.has_joints_3d.all())]
        if not labelled:
            raise ValueError(f"{name}: no sample has 3-D joint labels to evaluate")
        gt_joints = torch.cat([b.joints_3d for b, _ in labelled])
        gt_verts = None
        if all(bool(b.has_mano.all()) for b, _ in labelled):
            with torch.no_grad():
                gt_verts = torch.cat(
                    [
                        self.mano.forward_theta(b.hand_pose, b.betas, b.transl).vertices
                        for b, _ in labelled
                    ]
                )
        corrected = [(b, corrected_prediction(b, p)) for b, p in labelled]

        def hand_errors(pairs: Sequence[tuple[HandBatch, Predictions]]) -> HandErrorSummary:
            pred_joints = torch.cat([p.joints for _, p in pairs])
            pred_verts = None if gt_verts is None else torch.cat([p.vertices for _, p in pairs])
            return evaluate_hand(pred_joints, gt_joints, pred_verts, gt_verts)

        return GroupReport(
            dataset=name,
            num_views=num_views,
            hand=hand_errors(corrected),
            camera=_camera_summary(items),
            hand_orig=hand_errors(labelled),
            num_corrected=sum(int(correctable(b, p).sum()) for b, p in labelled),
        )


def correctable(batch: HandBatch, predictions: Predictions) -> Tensor:
    """[B] bool: which samples get the intrinsic correction.

    Those with calibrated cameras whose prediction has finite, positive focal lengths in
    view 0 and lies wholly in front of camera 0 (z > 0): only there does a point have a
    pixel to keep. An untrained network, for one, predicts neither.
    """
    if predictions.intrinsics is None:
        return torch.zeros(len(predictions.joints), dtype=torch.bool)
    focal = predictions.intrinsics[:, 0, [0, 1], [0, 1]]
    points = torch.cat([predictions.joints, predictions.vertices], dim=1)
    valid_focal = (torch.isfinite(focal) & (focal > 0)).all(dim=1)
    in_front = (torch.isfinite(points).all(dim=2) & (points[..., 2] > 0)).all(dim=1)
    return batch.has_cameras.to(focal.device) & valid_focal & in_front


def corrected_prediction(batch: HandBatch, predictions: Predictions) -> Predictions:
    """The release's intrinsic correction (module docstring) of a batch's predictions.

    Joints and vertices of the :func:`correctable` samples are reprojected from the predicted
    intrinsics of view 0 to the true ones (same pixels, depth times f_true / f_pred); the
    other samples, and predictions without intrinsics, are unchanged.

    Returns:
        The predictions with corrected ``joints`` [B, 21, 3] and ``vertices`` [B, 778, 3].
    """
    if predictions.intrinsics is None:
        return predictions
    k_pred = predictions.intrinsics[:, 0].to(predictions.joints.dtype)
    k_true = batch.intrinsics[:, 0].to(k_pred)
    chosen = correctable(batch, predictions)[:, None, None]

    def correct(points: Tensor) -> Tensor:
        return torch.where(chosen, reproject_to_intrinsics(points, k_pred, k_true), points)

    return replace(
        predictions, joints=correct(predictions.joints), vertices=correct(predictions.vertices)
    )


def _camera_summary(items: Sequence[tuple[HandBatch, Predictions]]) -> CameraErrorSummary | None:
    rotations, translations = [], []
    for batch, pred in items:
        if batch.images.shape[1] < 2 or not bool(batch.has_cameras.all()):
            continue
        rotation, translation = relative_pose_errors_deg(pred.cam_from_ref, batch.cam_from_ref)
        rotations.append(rotation.reshape(-1))
        translations.append(translation.reshape(-1))
    if not rotations:
        return None
    rotation_deg, translation_deg = torch.cat(rotations), torch.cat(translations)
    return CameraErrorSummary(
        num_pairs=int(rotation_deg.numel()),
        rotation_deg=float(rotation_deg.mean()),
        translation_deg=float(translation_deg.mean()),
        auc_30=camera_auc(rotation_deg, translation_deg, 30),
    )


def _slice_batch(batch: HandBatch, part: slice) -> HandBatch:
    # Tensors and the tuple of dataset names slice alike.
    return HandBatch(**{name: value[part] for name, value in vars(batch).items()})


def format_table(reports: Sequence[GroupReport]) -> str:
    """The reports as a fixed-width text table (errors in mm and degrees), with its legend."""
    header = (
        f"{'dataset':<16}{'views':>6}{'n':>6}{'RR-J':>8}{'PA-J':>8}{'RR-V':>8}{'PA-V':>8}"
        f"{'AUC-J20':>9}{'AUC-J50':>9}{'RR-J(o)':>9}{'PA-J(o)':>9}"
        f"{'rot':>8}{'trans':>8}{'AUC@30':>8}"
    )
    lines = [header, "-" * len(header)]

    def number(value: float | None, width: int, digits: int = 2) -> str:
        return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"

    for item in reports:
        hand, cam = item.hand, item.camera
        views = "all" if item.num_views == ALL_VIEWS else str(item.num_views)
        lines.append(
            f"{item.dataset:<16}{views:>6}{hand.num_samples:>6}"
            + number(hand.rr_mpjpe_mm, 8)
            + number(hand.pa_mpjpe_mm, 8)
            + number(hand.rr_mpvpe_mm, 8)
            + number(hand.pa_mpvpe_mm, 8)
            + number(hand.pa_auc_j20, 9, 3)
            + number(hand.pa_auc_j50, 9, 3)
            + number(item.hand_orig.rr_mpjpe_mm, 9)
            + number(item.hand_orig.pa_mpjpe_mm, 9)
            + number(None if cam is None else cam.rotation_deg, 8)
            + number(None if cam is None else cam.translation_deg, 8)
            + number(None if cam is None else cam.auc_30, 8, 3)
        )
    lines.append(
        "RR/PA: the hand reprojected to the true intrinsics first (the release's headline); "
        "(o): as predicted (its *_orig)"
    )
    return "\n".join(lines)
