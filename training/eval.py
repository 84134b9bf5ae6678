# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Evaluate HGGT: ``python -m training.eval --checkpoint W.safetensors --config cfg.yaml``.

Metrics (:mod:`hggt_core.metrics`), per dataset and per view count, plus each dataset over all
its view counts:

- the HGGT paper's Table 1: root-relative (RR) and Procrustes (PA) MPJPE / MPVPE in mm, PA
  AUC_20 / AUC_50 of joints and vertices, and the absolute camera-0 MPJPE; vertices only when
  every sample of the group has MANO labels (ground-truth mesh = MANO of the labels);
- cameras (multi-view samples with camera labels): mean relative rotation and translation-
  direction errors over all view pairs (degrees, VGGT's protocol) and AUC@30.

The held-out sets are the configuration's ``data.eval`` datasets, evaluated at each of their
``eval_views`` counts (default: the range's maximum), sample ``i`` drawn with seed ``i``.
Output: a text table on the console and, with ``--output``, the report as JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import IterableDataset

from hggt_core.geometry.pose_encoding import pose_encoding_to_extrinsics_intrinsics
from hggt_core.mano.layer import ManoLayer
from hggt_core.metrics import HandErrorSummary, camera_auc, evaluate_hand, relative_pose_errors_deg
from hggt_core.model.checkpoint import build_hggt_from_checkpoint
from hggt_core.model.hggt import HGGT
from training.config import DatasetConfig, load_config
from training.data.sample import HandBatch, collate
from training.sampler import BudgetBucketer, ViewRequest, build_dataset, right_hand_mano

_LOG = logging.getLogger("training.eval")
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
    num_views: int
    hand: HandErrorSummary
    camera: CameraErrorSummary | None


@dataclass(frozen=True)
class Predictions:
    """What is evaluated for B samples: MANO outputs and cameras.

    Attributes:
        joints: [B, 21, 3] predicted joints, metres, camera-0 frame.
        vertices: [B, 778, 3] predicted vertices.
        cam_from_ref: [B, S, 3, 4] predicted extrinsics (view 0 -> each view).
    """

    joints: Tensor
    vertices: Tensor
    cam_from_ref: Tensor


def predict(model: HGGT, batch: HandBatch, mano: ManoLayer) -> Predictions:
    """Run the model on a batch (no gradient) and decode its prediction."""
    with torch.no_grad():
        output = model(batch.images)
        hand = mano.forward_theta(output.hand_pose, output.betas, output.transl)
        size = (int(batch.images.shape[-2]), int(batch.images.shape[-1]))
        cam_from_ref, _ = pose_encoding_to_extrinsics_intrinsics(output.pose_enc, size)
    return Predictions(hand.joints, hand.vertices, cam_from_ref)


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
            self._groups.setdefault(key, []).append(
                (
                    _slice_batch(batch, one),
                    Predictions(
                        predictions.joints[one].cpu(),
                        predictions.vertices[one].cpu(),
                        predictions.cam_from_ref[one].cpu(),
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
        pred_joints = torch.cat([p.joints for _, p in labelled])
        gt_joints = torch.cat([b.joints_3d for b, _ in labelled])
        pred_verts = gt_verts = None
        if all(bool(b.has_mano.all()) for b, _ in labelled):
            pred_verts = torch.cat([p.vertices for _, p in labelled])
            with torch.no_grad():
                gt_verts = torch.cat(
                    [
                        self.mano.forward_theta(b.hand_pose, b.betas, b.transl).vertices
                        for b, _ in labelled
                    ]
                )
        hand = evaluate_hand(pred_joints, gt_joints, pred_verts, gt_verts)
        return GroupReport(name, num_views, hand, _camera_summary(items))


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


def eval_batches(datasets: Sequence[DatasetConfig], image_budget: int) -> Iterable[HandBatch]:
    """Deterministic batches of the held-out sets: every sample at every ``eval_views`` count.

    Streaming readers are evaluated on their whole stream, with their own view counts.
    """
    for config in datasets:
        dataset = build_dataset(config)
        if isinstance(dataset, IterableDataset):
            yield from BudgetBucketer(dataset, image_budget, flush=True)
            continue
        views = config.eval_views or (dataset.view_range[1],)
        count = len(dataset) if config.length is None else min(config.length, len(dataset))
        for num_views in views:
            size = max(1, image_budget // num_views)
            for first in range(0, count, size):
                indices = range(first, min(first + size, count))
                yield collate([dataset[ViewRequest(i, num_views, i)] for i in indices])


def evaluate(
    model: HGGT, batches: Iterable[HandBatch], mano: ManoLayer, device: torch.device | None = None
) -> tuple[GroupReport, ...]:
    """Evaluate ``model`` (put in eval mode) on batches; see :class:`MetricAccumulator`."""
    device = device or torch.device("cpu")
    model.eval()
    accumulator = MetricAccumulator(mano)
    mano_on_device = copy.deepcopy(mano).to(device)
    for batch in batches:
        accumulator.add(batch, predict(model, batch.to(device), mano_on_device))
    return accumulator.report()


def format_table(reports: Sequence[GroupReport]) -> str:
    """The reports as a fixed-width text table (errors in mm and degrees)."""
    header = (
        f"{'dataset':<16}{'views':>6}{'n':>6}{'RR-J':>8}{'PA-J':>8}{'RR-V':>8}{'PA-V':>8}"
        f"{'AUC-J20':>9}{'AUC-J50':>9}{'rot':>8}{'trans':>8}{'AUC@30':>8}"
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
            + number(None if cam is None else cam.rotation_deg, 8)
            + number(None if cam is None else cam.translation_deg, 8)
            + number(None if cam is None else cam.auc_30, 8, 3)
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="weights (.safetensors) to evaluate")
    parser.add_argument("--config", required=True, help="configuration naming data.eval sets")
    parser.add_argument("--output", help="write the report as JSON to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = load_config(args.config)
    if not cfg.data.eval:
        parser.error(f"{args.config} names no data.eval datasets")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = build_hggt_from_checkpoint(args.checkpoint).to(device)
    mano = right_hand_mano(cfg.mano_path)
    reports = evaluate(model, eval_batches(cfg.data.eval, cfg.data.image_budget), mano, device)
    _LOG.info("%s", format_table(reports))
    if args.output is not None:
        Path(args.output).write_text(
            json.dumps([asdict(item) for item in reports], indent=2), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
