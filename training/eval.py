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

The metrics, their grouping and the release's intrinsic correction (the headline hand errors
are those of the hand reprojected to the true intrinsics; the uncorrected ones are reported
beside them) are in :mod:`training.eval_report`.
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
from hggt_core.model.checkpoint import build_hggt_from_checkpoint
from hggt_core.model.hggt import HGGT
from hggt_core.pipeline.camera_average import mean_quaternion
from training.config import DatasetConfig, load_config
from training.data.sample import HandBatch, HandSample, collate
from training.eval_report import (
    ALL_VIEWS,
    CameraErrorSummary,
    GroupReport,
    MetricAccumulator,
    Predictions,
    corrected_prediction,
    format_table,
)
from training.sampler import BudgetBucketer, ViewRequest, build_dataset, right_hand_mano

__all__ = [
    "ALL_VIEWS",
    "CameraErrorSummary",
    "GroupReport",
    "MeanHand",
    "MetricAccumulator",
    "Predictions",
    "Predictor",
    "corrected_prediction",
    "eval_batches",
    "evaluate",
    "format_table",
    "mean_hand",
    "mean_hand_predictor",
    "model_predictor",
    "predict",
    "run",
    "training_samples",
]

Predictor = Callable[[HandBatch], Predictions]
"""What is evaluated: a function from a batch to its predictions."""


def predict(model: HGGT, batch: HandBatch, mano: ManoLayer) -> Predictions:
    """Run the model on a batch (no gradient) and decode its prediction."""
    with torch.no_grad():
        output = model(batch.images)
        hand = mano.forward_theta(output.hand_pose, output.betas, output.transl)
        size = (int(batch.images.shape[-2]), int(batch.images.shape[-1]))
        cam_from_ref, intrinsics = pose_encoding_to_extrinsics_intrinsics(output.pose_enc, size)
    return Predictions(hand.joints, hand.vertices, cam_from_ref, intrinsics)


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
