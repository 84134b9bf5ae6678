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
``--baseline mean-hand`` evaluates, instead of a checkpoint, the mean hand of the training
sets (:func:`mean_hand`) with every camera at the reference: the score a network must beat
to show it reads its input. Output: a text table on the console and, with ``--output``, the
report as JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import IterableDataset

from hggt_core.geometry.pose_encoding import pose_encoding_to_extrinsics_intrinsics
from hggt_core.geometry.rotations import axis_angle_to_quaternion, quaternion_to_axis_angle
from hggt_core.mano.layer import ManoLayer
from hggt_core.metrics import HandErrorSummary, camera_auc, evaluate_hand, relative_pose_errors_deg
from hggt_core.model.checkpoint import build_hggt_from_checkpoint
from hggt_core.model.hggt import HGGT
from hggt_core.pipeline.camera_average import mean_quaternion
from training.config import DatasetConfig, load_config
from training.data.sample import HandBatch, HandSample, collate
from training.sampler import BudgetBucketer, ViewRequest, build_dataset, right_hand_mano

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


Predictor = Callable[[HandBatch], Predictions]
"""What is evaluated: a function from a batch to its predictions."""


def predict(model: HGGT, batch: HandBatch, mano: ManoLayer) -> Predictions:
    """Run the model on a batch (no gradient) and decode its prediction."""
    with torch.no_grad():
        output = model(batch.images)
        hand = mano.forward_theta(output.hand_pose, output.betas, output.transl)
        size = (int(batch.images.shape[-2]), int(batch.images.shape[-1]))
        cam_from_ref, _ = pose_encoding_to_extrinsics_intrinsics(output.pose_enc, size)
    return Predictions(hand.joints, hand.vertices, cam_from_ref)


def model_predictor(model: HGGT, mano: ManoLayer, device: torch.device | None = None) -> Predictor:
    """``model`` (put in eval mode) on ``device`` (default CPU) as a :data:`Predictor`."""
    device = device or torch.device("cpu")
    model.eval()
    mano_on_device = copy.deepcopy(mano).to(device)
    return lambda batch: predict(model, batch.to(device), mano_on_device)


@dataclass(frozen=True)
class MeanHand:
    """The average hand of a set of samples (MANO parameters in the reference frame)."""

    hand_pose: Tensor
    """[48]: the mean global orientation (quaternion average), then the mean finger pose."""
    betas: Tensor
    """[10] mean shape."""
    transl: Tensor
    """[3] mean translation, metres."""


def mean_hand(samples: Iterable[HandSample]) -> MeanHand:
    """The mean hand of the samples that carry MANO labels.

    Raises:
        ValueError: if none does.
    """
    labelled = [sample for sample in samples if sample.has_mano]
    if not labelled:
        raise ValueError("no sample has MANO labels to average")
    pose = torch.stack([sample.hand_pose for sample in labelled]).double()
    orientation = mean_quaternion(axis_angle_to_quaternion(pose[:, :3]).numpy())
    global_orient = quaternion_to_axis_angle(torch.from_numpy(orientation))
    return MeanHand(
        hand_pose=torch.cat([global_orient, pose[:, 3:].mean(dim=0)]).float(),
        betas=torch.stack([sample.betas for sample in labelled]).mean(dim=0),
        transl=torch.stack([sample.transl for sample in labelled]).mean(dim=0),
    )


def training_samples(datasets: Sequence[DatasetConfig], count: int) -> Iterable[HandSample]:
    """Up to ``count`` single-view samples of each dataset (its first ones, view 0 only)."""
    for config in datasets:
        dataset = build_dataset(config)
        if isinstance(dataset, IterableDataset):
            for index, sample in enumerate(dataset):
                if index == count:
                    break
                yield sample
            continue
        for index in range(min(count, len(dataset))):
            yield dataset[ViewRequest(index, 1, index)]


def mean_hand_predictor(hand: MeanHand, mano: ManoLayer) -> Predictor:
    """Predicts ``hand`` for every sample and every camera at the reference (identity)."""

    def predict_mean(batch: HandBatch) -> Predictions:
        count, num_views = batch.images.shape[:2]
        with torch.no_grad():
            output = mano.forward_theta(
                hand.hand_pose.expand(count, -1),
                hand.betas.expand(count, -1),
                hand.transl.expand(count, -1),
            )
        cameras = torch.eye(4)[:3].expand(count, num_views, 3, 4)
        return Predictions(output.joints, output.vertices, cameras)

    return predict_mean


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
    predictor: Predictor, batches: Iterable[HandBatch], mano: ManoLayer
) -> tuple[GroupReport, ...]:
    """Evaluate a predictor on batches; see :class:`MetricAccumulator`."""
    accumulator = MetricAccumulator(mano)
    for batch in batches:
        accumulator.add(batch, predictor(batch))
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line options of ``python -m training.eval`` (and ``hggt eval``)."""
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--checkpoint", help="weights (.safetensors, .pt) to evaluate")
    what.add_argument(
        "--baseline", choices=("mean-hand",), help="evaluate the training sets' mean hand"
    )
    parser.add_argument("--config", required=True, help="configuration naming data.eval sets")
    parser.add_argument(
        "--baseline-samples",
        type=int,
        default=1000,
        help="training samples per dataset to average",
    )
    parser.add_argument("--output", type=Path, help="write the report as JSON to this file")


def run(args: argparse.Namespace) -> tuple[GroupReport, ...]:
    """Evaluate what the parsed options name, print the table, write the JSON if asked."""
    cfg = load_config(args.config)
    if not cfg.data.eval:
        raise ValueError(f"{args.config} names no data.eval datasets")
    mano = right_hand_mano(cfg.mano_path)
    if args.checkpoint is not None:
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = build_hggt_from_checkpoint(args.checkpoint).to(device)
        predictor = model_predictor(model, mano, device)
    else:
        streams = (*cfg.data.multi_view, *cfg.data.single_view)
        hand = mean_hand(training_samples(streams, args.baseline_samples))
        predictor = mean_hand_predictor(hand, mano)
    reports = evaluate(predictor, eval_batches(cfg.data.eval, cfg.data.image_budget), mano)
    print(format_table(reports))
    if args.output is not None:
        args.output.write_text(
            json.dumps([asdict(item) for item in reports], indent=2), encoding="utf-8"
        )
    return reports


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    run(args)


if __name__ == "__main__":
    main()
