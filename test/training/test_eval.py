# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Evaluation: exact predictions score perfectly, known offsets give known errors, grouping."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, replace

import pytest
import torch

from hggt_core.geometry.rotations import axis_angle_to_matrix
from hggt_core.mano.layer import ManoLayer
from hggt_core.metrics import evaluate_hand, reproject_to_intrinsics
from hggt_core.model.hggt import HGGT, HGGTConfig
from training.data.sample import HandBatch
from training.eval import (
    ALL_VIEWS,
    MetricAccumulator,
    Predictions,
    format_table,
    model_predictor,
)
from training.sampler import right_hand_mano


@pytest.fixture(scope="module")
def mano() -> ManoLayer:
    return right_hand_mano(None)


def _batch(mano: ManoLayer, num_views: int, count: int = 3, name: str = "set") -> HandBatch:
    generator = torch.Generator().manual_seed(num_views)
    hand_pose = 0.2 * torch.randn(count, 48, generator=generator)
    betas = 0.3 * torch.randn(count, 10, generator=generator)
    transl = torch.tensor([0.0, 0.0, 0.5]).expand(count, 3)
    with torch.no_grad():
        joints = mano.forward_theta(hand_pose, betas, transl).joints
    cam_from_ref = torch.eye(4).repeat(count, num_views, 1, 1)
    for view in range(1, num_views):
        angle = torch.tensor([0.0, 0.3 * view, 0.0])
        cam_from_ref[:, view, :3, :3] = axis_angle_to_matrix(angle)
        cam_from_ref[:, view, :3, 3] = torch.tensor([-0.1 * view, 0.0, 0.02])
    return HandBatch(
        images=torch.zeros(count, num_views, 3, 14, 14),
        intrinsics=torch.eye(3).expand(count, num_views, 3, 3),
        cam_from_ref=cam_from_ref,
        hand_pose=hand_pose,
        betas=betas,
        transl=transl,
        joints_3d=joints,
        joints_2d=torch.zeros(count, num_views, 21, 2),
        has_mano=torch.ones(count, dtype=torch.bool),
        has_joints_3d=torch.ones(count, dtype=torch.bool),
        has_joints_2d=torch.ones(count, num_views, dtype=torch.bool),
        has_cameras=torch.ones(count, dtype=torch.bool),
        datasets=(name,) * count,
    )


def _exact(batch: HandBatch, mano: ManoLayer, shift_m: float = 0.0) -> Predictions:
    with torch.no_grad():
        hand = mano.forward_theta(batch.hand_pose, batch.betas, batch.transl)
    offset = torch.tensor([shift_m, 0.0, 0.0])
    return Predictions(
        hand.joints + offset, hand.vertices + offset, batch.cam_from_ref[..., :3, :]
    )


def test_exact_predictions_score_perfectly(mano: ManoLayer) -> None:
    accumulator = MetricAccumulator(mano)
    batch = _batch(mano, 3)
    accumulator.add(batch, _exact(batch, mano))
    (report,) = accumulator.report()
    assert report.num_views == 3 and report.hand.num_samples == 3
    assert report.hand.rr_mpjpe_mm == pytest.approx(0.0, abs=1e-3)
    assert report.hand.pa_mpvpe_mm == pytest.approx(0.0, abs=1e-3)
    assert report.hand.pa_auc_j20 == pytest.approx(1.0)
    assert report.camera is not None and report.camera.num_pairs == 3 * 3
    assert report.camera.rotation_deg == pytest.approx(0.0, abs=1e-3)
    assert report.camera.auc_30 == pytest.approx(1.0)


def test_translation_offset_only_affects_absolute_error(mano: ManoLayer) -> None:
    accumulator = MetricAccumulator(mano)
    batch = _batch(mano, 2)
    accumulator.add(batch, _exact(batch, mano, shift_m=0.01))
    (report,) = accumulator.report()
    assert report.hand.mpjpe_mm == pytest.approx(10.0, rel=1e-4)
    assert report.hand.mpvpe_mm == pytest.approx(10.0, rel=1e-4)
    assert report.hand.rr_mpjpe_mm == pytest.approx(0.0, abs=1e-3)


def test_camera_rotation_error_is_reported_in_degrees(mano: ManoLayer) -> None:
    accumulator = MetricAccumulator(mano)
    batch = _batch(mano, 2)
    exact = _exact(batch, mano)
    turned = exact.cam_from_ref.clone()
    turned[:, 1, :3, :3] = (
        axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.pi / 18])) @ (turned[:, 1, :3, :3])
    )
    accumulator.add(batch, replace(exact, cam_from_ref=turned))
    (report,) = accumulator.report()
    assert report.camera is not None
    assert report.camera.rotation_deg == pytest.approx(10.0, rel=1e-4)


def test_groups_by_dataset_and_view_count_with_a_pooled_row(mano: ManoLayer) -> None:
    accumulator = MetricAccumulator(mano)
    for num_views, shift in ((1, 0.0), (4, 0.02)):
        batch = _batch(mano, num_views, count=2, name="synthetic")
        accumulator.add(batch, _exact(batch, mano, shift))
    single = _batch(mano, 2, count=1, name="ho3d")
    accumulator.add(single, _exact(single, mano))
    reports = accumulator.report()
    keys = [(item.dataset, item.num_views) for item in reports]
    assert keys == [("ho3d", 2), ("synthetic", 1), ("synthetic", 4), ("synthetic", ALL_VIEWS)]
    assert reports[1].camera is None  # a single view has no relative pose
    assert reports[3].hand.num_samples == 4
    assert reports[3].hand.mpjpe_mm == pytest.approx(10.0, rel=1e-4)  # (0 + 20 mm) / 2
    table = format_table(reports)
    assert "synthetic" in table and "all" in table and len(table.splitlines()) == 7
    assert "RR-J(o)" in table.splitlines()[0] and "*_orig" in table.splitlines()[-1]
    assert json.loads(json.dumps([asdict(item) for item in reports]))[0]["dataset"] == "ho3d"


def test_vertices_are_skipped_without_mano_labels(mano: ManoLayer) -> None:
    accumulator = MetricAccumulator(mano)
    batch = _batch(mano, 2)
    batch = replace(batch, has_mano=torch.zeros(3, dtype=torch.bool))
    accumulator.add(batch, _exact(batch, mano))
    (report,) = accumulator.report()
    assert report.hand.rr_mpvpe_mm is None
    assert report.hand.rr_mpjpe_mm == pytest.approx(0.0, abs=1e-3)


K_TRUE = torch.tensor([[120.0, 0.0, 7.0], [0.0, 120.0, 7.0], [0.0, 0.0, 1.0]])
K_PREDICTED = torch.tensor([[200.0, 0.0, 7.5], [0.0, 190.0, 6.0], [0.0, 0.0, 1.0]])


def _with_predicted_intrinsics(batch: HandBatch, mano: ManoLayer) -> Predictions:
    """A prediction that is exact once reprojected from K_PREDICTED to the true K."""
    exact = _exact(batch, mano)
    count, num_views = batch.images.shape[:2]
    k_predicted = K_PREDICTED.expand(count, num_views, 3, 3)

    def seen_with_predicted_k(points: torch.Tensor) -> torch.Tensor:
        return reproject_to_intrinsics(points, batch.intrinsics[:, 0], k_predicted[:, 0])

    return replace(
        exact,
        joints=seen_with_predicted_k(exact.joints),
        vertices=seen_with_predicted_k(exact.vertices),
        intrinsics=k_predicted,
    )


def test_headline_errors_are_those_of_the_hand_reprojected_to_the_true_intrinsics(
    mano: ManoLayer,
) -> None:
    batch = replace(_batch(mano, 2), intrinsics=K_TRUE.expand(3, 2, 3, 3))
    predicted = _with_predicted_intrinsics(batch, mano)
    accumulator = MetricAccumulator(mano)
    accumulator.add(batch, predicted)
    (report,) = accumulator.report()
    assert report.num_corrected == 3
    assert report.hand.mpjpe_mm == pytest.approx(0.0, abs=1e-3)
    assert report.hand.rr_mpjpe_mm == pytest.approx(0.0, abs=1e-3)
    assert report.hand.pa_mpvpe_mm == pytest.approx(0.0, abs=1e-3)
    with torch.no_grad():
        truth = mano.forward_theta(batch.hand_pose, batch.betas, batch.transl)
    as_predicted = evaluate_hand(
        predicted.joints, truth.joints, predicted.vertices, truth.vertices
    )
    assert report.hand_orig == as_predicted
    # The predicted focal length is 1.6x / 1.58x the true one: the hand is that much deeper.
    assert as_predicted.mpjpe_mm > 250.0 and as_predicted.rr_mpjpe_mm > 5.0
    assert json.loads(json.dumps(asdict(report)))["hand_orig"]["rr_mpjpe_mm"] > 5.0


def test_samples_without_calibrated_cameras_are_not_corrected(mano: ManoLayer) -> None:
    batch = replace(
        _batch(mano, 1),
        intrinsics=K_TRUE.expand(3, 1, 3, 3),
        has_cameras=torch.tensor([True, False, False]),
    )
    predicted = _with_predicted_intrinsics(batch, mano)
    accumulator = MetricAccumulator(mano)
    accumulator.add(batch, predicted)
    (report,) = accumulator.report()
    assert report.num_corrected == 1
    assert 0.0 < report.hand.rr_mpjpe_mm < report.hand_orig.rr_mpjpe_mm


def test_predictions_without_a_pixel_to_keep_are_not_corrected(mano: ManoLayer) -> None:
    batch = replace(_batch(mano, 2), intrinsics=K_TRUE.expand(3, 2, 3, 3))
    predicted = _with_predicted_intrinsics(batch, mano)
    behind = predicted.joints.clone()
    behind[0, :, 2] *= -1.0  # sample 0: the hand behind camera 0
    k_predicted = predicted.intrinsics.clone()  # type: ignore[union-attr]
    k_predicted[1, :, 0, 0] = math.inf  # sample 1: an untrained network's zero field of view
    accumulator = MetricAccumulator(mano)
    accumulator.add(batch, replace(predicted, joints=behind, intrinsics=k_predicted))
    (report,) = accumulator.report()
    assert report.num_corrected == 1
    assert math.isfinite(report.hand.rr_mpjpe_mm) and math.isfinite(report.hand.pa_mpvpe_mm)
    assert report.hand.rr_mpjpe_mm < report.hand_orig.rr_mpjpe_mm


def test_model_predictions_carry_the_intrinsics_the_correction_needs(
    mano: ManoLayer, tiny_config: HGGTConfig
) -> None:
    torch.manual_seed(0)
    config = replace(tiny_config, head_num_heads=2, num_iterations=1)
    batch = replace(_batch(mano, 2, count=2), images=torch.rand(2, 2, 3, 28, 42))
    predicted = model_predictor(HGGT(config), mano)(batch)
    assert predicted.intrinsics is not None and predicted.intrinsics.shape == (2, 2, 3, 3)
    # VGGT's decoding puts the principal point at the centre of the input image.
    torch.testing.assert_close(
        predicted.intrinsics[..., :2, 2], torch.tensor([21.0, 14.0]).expand(2, 2, 2)
    )
