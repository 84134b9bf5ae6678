# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests for hggt_core.metrics: known answers for hand and camera metrics."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from hggt_core.geometry.projection import project_points
from hggt_core.geometry.rotations import axis_angle_to_quaternion, quaternion_to_matrix
from hggt_core.metrics import (
    HandErrorSummary,
    auc,
    camera_auc,
    evaluate_hand,
    mpjpe_mm,
    pck_curve,
    point_errors_mm,
    procrustes_aligned,
    relative_pose_errors_deg,
    reproject_to_intrinsics,
    root_relative,
    rotation_error_deg,
    translation_angle_error_deg,
)

F64 = torch.float64


def _rotation(axis_angle: torch.Tensor) -> torch.Tensor:
    return quaternion_to_matrix(axis_angle_to_quaternion(axis_angle))


def _hand(batch: int, points: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return 0.05 * torch.randn(batch, points, 3, generator=gen, dtype=F64) + torch.tensor(
        [0.0, 0.0, 0.5], dtype=F64
    )


def test_constant_offset_gives_mpjpe_and_zero_root_relative_error() -> None:
    gt = _hand(3, 21)
    pred = gt + torch.tensor([0.0, 0.002, 0.0], dtype=F64)
    torch.testing.assert_close(mpjpe_mm(pred, gt), torch.full((3,), 2.0, dtype=F64))
    torch.testing.assert_close(point_errors_mm(pred, gt), torch.full((3, 21), 2.0, dtype=F64))
    rr = mpjpe_mm(root_relative(pred), root_relative(gt))
    torch.testing.assert_close(rr, torch.zeros(3, dtype=F64))


def test_root_relative_with_reference_set() -> None:
    joints = _hand(2, 21)
    verts = _hand(2, 778, seed=1)
    relative = root_relative(verts, root_index=0, reference=joints)
    torch.testing.assert_close(relative, verts - joints[:, :1])
    torch.testing.assert_close(
        root_relative(joints, root_index=3)[:, 3], torch.zeros(2, 3, dtype=F64)
    )


def test_procrustes_aligned_removes_similarity() -> None:
    gt = _hand(4, 21)
    rotation = _rotation(torch.tensor([[0.3, -1.2, 2.0]], dtype=F64))
    pred = 1.3 * gt @ rotation.transpose(1, 2) + torch.tensor([0.1, -0.4, 0.2], dtype=F64)
    assert float(mpjpe_mm(pred, gt).min()) > 10.0
    aligned = procrustes_aligned(pred, gt)
    assert float(mpjpe_mm(aligned, gt).max()) < 1e-9


def test_pck_curve_counts_errors_at_the_threshold() -> None:
    errors = torch.tensor([[1.0, 2.0, 3.0]])
    torch.testing.assert_close(
        pck_curve(errors, [0.0, 2.0, 3.0, 10.0]), torch.tensor([0.0, 2 / 3, 1.0, 1.0], dtype=F64)
    )


@pytest.mark.parametrize("steps", [20, 100])
def test_auc_known_values(steps: int) -> None:
    assert auc(torch.zeros(5, 21), 20.0, steps) == pytest.approx(1.0, abs=1e-12)
    assert auc(torch.full((5, 21), 20.5), 20.0, steps) == 0.0
    # All errors at T/2 with an even n: the step falls midway between two grid points.
    assert auc(torch.full((5, 21), 10.0), 20.0, steps) == pytest.approx(0.5, abs=1e-12)
    assert auc(torch.full((5, 21), 25.0), 50.0, steps) == pytest.approx(0.5, abs=1e-12)


def test_auc_known_value_on_grid_point() -> None:
    # n = 21: T/2 is grid point 10, counted as correct; area = 10.5 steps of 1 mm out of 20.
    assert auc(torch.full((7,), 10.0), 20.0, 21) == pytest.approx(0.525, abs=1e-12)


def test_auc_matches_per_keypoint_poem_average() -> None:
    gen = torch.Generator().manual_seed(0)
    errors = 15.0 * torch.rand(50, 21, generator=gen, dtype=F64)
    thresholds = np.linspace(0.0, 20.0, 100)
    per_keypoint = []
    for kp in range(21):
        data = errors[:, kp].numpy()
        curve = np.array([np.mean(data <= t) for t in thresholds])
        per_keypoint.append(
            np.trapezoid(curve, thresholds) / np.trapezoid(np.ones(100), thresholds)
        )
    assert auc(errors, 20.0, 100) == pytest.approx(float(np.mean(per_keypoint)), abs=1e-12)


def test_evaluate_hand_known_answers() -> None:
    gt_joints, gt_verts = _hand(4, 21), _hand(4, 778, seed=1)
    rotation = _rotation(torch.tensor([[0.0, 0.0, 0.5]], dtype=F64))
    # A similarity copy: zero PA error; the absolute error is large.
    pred_joints = 0.9 * gt_joints @ rotation.transpose(1, 2) + 0.01
    # A translated copy: zero RR error (vertices relative to the joint wrist).
    pred_verts = gt_verts + (pred_joints[:, :1] - gt_joints[:, :1])
    summary = evaluate_hand(pred_joints, gt_joints, pred_verts, gt_verts)
    assert summary.num_samples == 4
    assert summary.pa_mpjpe_mm == pytest.approx(0.0, abs=1e-9)
    # PA errors are ~1e-13, not 0, so the PCK at threshold 0 is 0 (as in POEM): the first of
    # the 99 trapezoids counts half.
    assert summary.pa_auc_j20 == pytest.approx(1.0 - 0.5 / 99, abs=1e-12)
    assert summary.pa_auc_j50 == pytest.approx(1.0 - 0.5 / 99, abs=1e-12)
    assert summary.mpjpe_mm > 10.0
    assert summary.rr_mpvpe_mm == pytest.approx(0.0, abs=1e-9)
    assert summary.pa_mpvpe_mm == pytest.approx(0.0, abs=1e-9)
    assert summary.mpvpe_mm == pytest.approx(float(mpjpe_mm(pred_verts, gt_verts).mean()))
    expected_rr = mpjpe_mm(root_relative(pred_joints), root_relative(gt_joints)).mean()
    assert summary.rr_mpjpe_mm == pytest.approx(float(expected_rr))
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.mpjpe_mm = 0.0  # type: ignore[misc]


def test_evaluate_hand_offset_and_missing_vertices() -> None:
    gt = _hand(2, 21).float()
    pred = gt + torch.tensor([0.003, 0.0, -0.004])
    summary = evaluate_hand(pred, gt)
    assert isinstance(summary, HandErrorSummary)
    assert summary.mpjpe_mm == pytest.approx(5.0, abs=1e-3)
    assert summary.rr_mpjpe_mm == pytest.approx(0.0, abs=1e-3)
    assert summary.pa_mpjpe_mm == pytest.approx(0.0, abs=1e-3)
    assert summary.mpvpe_mm is None
    assert summary.pa_auc_v20 is None
    with pytest.raises(ValueError, match="both"):
        evaluate_hand(pred, gt, pred_verts=_hand(2, 778))


def test_reproject_to_intrinsics_keeps_pixels_and_scales_depth() -> None:
    k_pred = torch.tensor([[500.0, 0.0, 259.0], [0.0, 510.0, 259.0], [0.0, 0.0, 1.0]], dtype=F64)
    k_gt = torch.tensor([[600.0, 0.0, 250.0], [0.0, 612.0, 270.0], [0.0, 0.0, 1.0]], dtype=F64)
    points = _hand(1, 21)[0]
    corrected = reproject_to_intrinsics(points, k_pred, k_gt)
    identity = torch.cat([torch.eye(3, dtype=F64), torch.zeros(3, 1, dtype=F64)], dim=-1)
    uv_pred, _ = project_points(points, identity, k_pred)
    uv_corrected, _ = project_points(corrected, identity, k_gt)
    torch.testing.assert_close(uv_corrected, uv_pred)
    torch.testing.assert_close(corrected[:, 2], points[:, 2] * 1.2)
    torch.testing.assert_close(reproject_to_intrinsics(points, k_gt, k_gt), points)


def test_rotation_and_translation_errors_known_values() -> None:
    rot_a = _rotation(torch.tensor([0.0, 0.0, 0.0], dtype=F64))
    rot_b = _rotation(torch.tensor([0.0, math.pi / 2, 0.0], dtype=F64))
    assert float(rotation_error_deg(rot_a, rot_b)) == pytest.approx(90.0, abs=1e-9)
    assert float(rotation_error_deg(rot_b, rot_b)) == pytest.approx(0.0, abs=1e-6)
    x_axis = torch.tensor([2.0, 0.0, 0.0])
    assert float(translation_angle_error_deg(x_axis, torch.tensor([0.0, 3.0, 0.0]))) == 90.0
    assert float(translation_angle_error_deg(x_axis, torch.tensor([1.0, 1.0, 0.0]))) == (
        pytest.approx(45.0, abs=1e-9)
    )
    assert float(translation_angle_error_deg(x_axis, -x_axis)) == 0.0
    full = translation_angle_error_deg(x_axis, -x_axis, sign_ambiguous=False)
    assert float(full) == 180.0
    assert float(translation_angle_error_deg(x_axis, torch.zeros(3))) == 90.0


def test_relative_pose_errors_ignore_world_frame_and_scale() -> None:
    gen = torch.Generator().manual_seed(0)
    rotations = _rotation(0.5 * torch.randn(4, 3, generator=gen, dtype=F64))
    translations = torch.randn(4, 3, 1, generator=gen, dtype=F64)
    gt = torch.cat([rotations, translations], dim=-1)
    world_rotation = _rotation(torch.tensor([0.2, -0.3, 0.9], dtype=F64))
    # cam_from_world' = cam_from_world @ world_from_world', then a global scale of 2.
    pred = torch.cat([rotations @ world_rotation, 2.0 * translations], dim=-1)
    rot_err, trans_err = relative_pose_errors_deg(pred, gt)
    assert rot_err.shape == trans_err.shape == (6,)
    assert float(rot_err.max()) < 1e-5
    assert float(trans_err.max()) < 1e-5

    # Rotating view 3 by 10 degrees about its optical axis affects exactly its 3 pairs.
    spin = _rotation(torch.tensor([0.0, 0.0, math.radians(10.0)], dtype=F64))
    bad = gt.clone()
    bad[3, :, :3] = spin @ gt[3, :, :3]
    bad[3, :, 3] = (spin @ gt[3, :, 3:])[:, 0]
    rot_err, _ = relative_pose_errors_deg(bad, gt)
    expected = torch.tensor([0.0, 0.0, 10.0, 0.0, 10.0, 10.0], dtype=F64)
    torch.testing.assert_close(rot_err, expected, atol=1e-5, rtol=0)


def test_camera_auc_known_values() -> None:
    zeros = torch.zeros(2)
    assert camera_auc(torch.tensor([0.5, 10.5]), zeros) == pytest.approx(50 / 60)
    assert camera_auc(zeros, torch.tensor([0.5, 10.5])) == pytest.approx(50 / 60)
    assert camera_auc(torch.zeros(5), torch.zeros(5)) == 1.0
    assert camera_auc(torch.tensor([31.0]), torch.tensor([0.0])) == 0.0
    # Numpy's last histogram bin is closed: an error of exactly T counts at k = T.
    assert camera_auc(torch.tensor([30.0]), torch.tensor([0.0])) == pytest.approx(1 / 30)
    assert camera_auc(torch.tensor([2.0]), torch.tensor([0.0]), 5) == pytest.approx(3 / 5)


def test_camera_auc_matches_histogram_formulation() -> None:
    gen = torch.Generator().manual_seed(0)
    r_err = 40.0 * torch.rand(500, generator=gen, dtype=F64)
    t_err = 40.0 * torch.rand(500, generator=gen, dtype=F64)
    max_err = np.maximum(r_err.numpy(), t_err.numpy())
    for threshold in (3, 5, 15, 30):
        histogram, _ = np.histogram(max_err, bins=np.arange(threshold + 1))
        expected = np.mean(np.cumsum(histogram / len(max_err)))
        assert camera_auc(r_err, t_err, threshold) == pytest.approx(float(expected), abs=1e-12)
