# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""HGGT losses: zero at the labels, hand-computed values for known offsets, exact masking."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from hggt_core.geometry.pose_encoding import extrinsics_intrinsics_to_pose_encoding
from hggt_core.geometry.projection import project_points
from hggt_core.geometry.rotations import axis_angle_to_matrix
from hggt_core.mano.layer import ManoLayer
from hggt_core.model.hggt import HGGTOutput
from hggt_core.model.mano_head import HandParams
from training.data.sample import HandBatch
from training.losses import LossWeights, camera_targets, hggt_loss, stage_weights
from training.sampler import right_hand_mano

SIZE = 56
ITERATIONS = 3
STAGES = 1.0 + 0.6 + 0.36


@pytest.fixture(scope="module")
def mano() -> ManoLayer:
    return right_hand_mano(None)


def _batch(mano: ManoLayer, num_views: int = 2) -> HandBatch:
    """Two hands 0.4 m in front of camera 0; view 1 rotated 30 degrees about y."""
    generator = torch.Generator().manual_seed(0)
    batch_size = 2
    hand_pose = 0.2 * torch.randn(batch_size, 48, generator=generator)
    betas = 0.5 * torch.randn(batch_size, 10, generator=generator)
    transl = torch.tensor([[0.0, 0.0, 0.4], [0.02, -0.01, 0.45]])
    with torch.no_grad():
        joints = mano.forward_theta(hand_pose, betas, transl).joints
    cam_from_ref = torch.eye(4).repeat(batch_size, num_views, 1, 1)
    if num_views > 1:
        cam_from_ref[:, 1, :3, :3] = axis_angle_to_matrix(torch.tensor([0.0, math.pi / 6, 0.0]))
        cam_from_ref[:, 1, :3, 3] = torch.tensor([-0.2, 0.0, 0.05])
    intrinsics = torch.tensor([[60.0, 0, SIZE / 2], [0, 60.0, SIZE / 2], [0, 0, 1]])
    intrinsics = intrinsics.expand(batch_size, num_views, 3, 3).clone()
    joints_2d, _ = project_points(joints[:, None], cam_from_ref, intrinsics)
    flags = torch.ones(batch_size, dtype=torch.bool)
    return HandBatch(
        images=torch.zeros(batch_size, num_views, 3, SIZE, SIZE),
        intrinsics=intrinsics,
        cam_from_ref=cam_from_ref,
        hand_pose=hand_pose,
        betas=betas,
        transl=transl,
        joints_3d=joints,
        joints_2d=joints_2d,
        has_mano=flags,
        has_joints_3d=flags.clone(),
        has_joints_2d=torch.ones(batch_size, num_views, dtype=torch.bool),
        has_cameras=flags.clone(),
        datasets=("test",) * batch_size,
    )


def _output(params: HandParams, pose_enc: torch.Tensor) -> HGGTOutput:
    return HGGTOutput(
        hand_pose=params.hand_pose,
        betas=params.betas,
        transl=params.transl,
        pose_enc=pose_enc,
        hand_params_per_iteration=(params,) * ITERATIONS,
        pose_enc_per_iteration=(pose_enc,) * ITERATIONS,
    )


def _perfect(batch: HandBatch) -> tuple[HandParams, torch.Tensor]:
    params = HandParams(batch.hand_pose.clone(), batch.betas.clone(), batch.transl.clone())
    return params, camera_targets(batch)


def _only(batch: HandBatch, *kept: str) -> HandBatch:
    """The batch with every supervision flag not named in ``kept`` switched off."""
    names = ("has_mano", "has_joints_3d", "has_joints_2d", "has_cameras")
    return replace(
        batch,
        **{name: torch.zeros_like(getattr(batch, name)) for name in names if name not in kept},
    )


def test_stage_weights_decay_towards_earlier_iterations() -> None:
    assert stage_weights(4, 0.6) == pytest.approx([0.216, 0.36, 0.6, 1.0])
    assert sum(stage_weights(ITERATIONS, 0.6)) == pytest.approx(STAGES)


def test_loss_is_zero_at_the_labels(mano: ManoLayer) -> None:
    batch = _batch(mano)
    params, pose_enc = _perfect(batch)
    result = hggt_loss(_output(params, pose_enc), batch, mano)
    # The geodesic angle's clamp floors each rotation error at ~4.5e-4 rad.
    assert float(result.total) == pytest.approx(0.0, abs=1e-5)
    for name, value in result.terms.items():
        assert float(value) == pytest.approx(0.0, abs=1e-5), name


def test_pose_and_shape_offsets_give_the_hand_computed_value(mano: ManoLayer) -> None:
    batch = _only(_batch(mano), "has_mano")
    params, pose_enc = _perfect(batch)
    params = HandParams(params.hand_pose + 0.1, params.betas - 0.2, params.transl)
    result = hggt_loss(_output(params, pose_enc), batch, mano)
    assert float(result.terms["hand_pose"]) == pytest.approx(48 * 0.01, rel=1e-5)
    assert float(result.terms["hand_shape"]) == pytest.approx(10 * 0.04, rel=1e-5)
    expected = (0.1 * 0.48 + 0.05 * 0.4) * STAGES
    assert float(result.total) == pytest.approx(expected, rel=1e-5)


def test_joint_offsets_are_root_relative(mano: ManoLayer) -> None:
    batch = _only(_batch(mano), "has_joints_3d")
    offset = torch.tensor([0.003, -0.004, 0.012])  # |d| = 13 mm
    shifted = batch.joints_3d.clone()
    shifted[:, 1:] += offset
    shifted += torch.tensor([0.5, 0.5, 0.5])  # a global shift must not matter
    params, pose_enc = _perfect(batch)
    result = hggt_loss(_output(params, pose_enc), replace(batch, joints_3d=shifted), mano)
    per_joint = 20 / 21 * 0.013**2
    assert float(result.terms["hand_joints"]) == pytest.approx(per_joint, rel=1e-4)
    assert float(result.total) == pytest.approx(5.0 * per_joint * STAGES, rel=1e-4)


def test_camera_translation_and_fov_offsets(mano: ManoLayer) -> None:
    batch = _only(_batch(mano), "has_cameras")
    params, pose_enc = _perfect(batch)
    pose_enc = pose_enc + torch.tensor([0.1, 0, 0, 0, 0, 0, 0, 0.03, -0.04])
    result = hggt_loss(_output(params, pose_enc), batch, mano)
    assert float(result.terms["cam_translation"]) == pytest.approx(0.01, rel=1e-5)
    assert float(result.terms["cam_fov"]) == pytest.approx(0.0025, rel=1e-4)
    assert float(result.total) == pytest.approx(5.0 * 0.0125 * STAGES, rel=1e-3)


def test_geodesic_term_at_ninety_degrees(mano: ManoLayer) -> None:
    batch = _only(_batch(mano), "has_cameras")
    params, pose_enc = _perfect(batch)
    turn = axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.pi / 2]))
    rotated = extrinsics_intrinsics_to_pose_encoding(
        turn @ batch.cam_from_ref[:, :, :3, :], batch.intrinsics, (SIZE, SIZE)
    )
    pose_enc = torch.cat([pose_enc[:, :1], rotated[:, 1:]], dim=1)
    result = hggt_loss(_output(params, pose_enc), batch, mano)
    # Mean over the two views of (pi / 2)^2, one view exact.
    assert float(result.terms["cam_rotation"]) == pytest.approx((math.pi / 2) ** 2 / 2, rel=1e-4)
    assert float(result.terms["cam_translation"]) > 0  # [R|t] rotated: t changes too


def test_camera_term_needs_several_views(mano: ManoLayer) -> None:
    batch = _only(_batch(mano, num_views=1), "has_cameras")
    params, pose_enc = _perfect(batch)
    result = hggt_loss(_output(params, pose_enc + 0.3), batch, mano)
    assert float(result.terms["camera"]) == 0.0


@pytest.mark.parametrize(("num_views", "weight"), [(1, 1.0), (2, 10.0)])
def test_projection_offset_in_crop_units(mano: ManoLayer, num_views: int, weight: float) -> None:
    batch = _only(_batch(mano, num_views), "has_joints_2d")
    params, pose_enc = _perfect(batch)
    moved = replace(batch, joints_2d=batch.joints_2d + torch.tensor([3.0, 4.0]))
    result = hggt_loss(_output(params, pose_enc), moved, mano)
    assert float(result.terms["proj_2d"]) == pytest.approx(25 / SIZE**2, rel=1e-4)
    assert float(result.terms["projection"]) == pytest.approx(weight * 25 / SIZE**2, rel=1e-4)
    assert float(result.total) == pytest.approx(weight * 25 / SIZE**2, rel=1e-4)


def test_negative_depth_penalty(mano: ManoLayer) -> None:
    batch = _only(_batch(mano, num_views=1))
    params, pose_enc = _perfect(batch)
    behind = HandParams(params.hand_pose, params.betas, params.transl - torch.tensor([0, 0, 1.0]))
    result = hggt_loss(_output(behind, pose_enc), batch, mano)
    with torch.no_grad():
        depth = mano.forward_theta(behind.hand_pose, behind.betas, behind.transl).joints[..., 2]
    expected = torch.relu(-depth).square().mean()
    assert float(result.terms["proj_depth"]) == pytest.approx(float(expected), rel=1e-5)
    assert float(result.total) == pytest.approx(float(expected), rel=1e-5)


def test_unsupervised_samples_get_exactly_zero_gradient(mano: ManoLayer) -> None:
    batch = _batch(mano)
    flags = torch.tensor([False, True])
    batch = replace(
        batch,
        has_mano=flags,
        has_joints_3d=flags,
        has_cameras=flags,
        has_joints_2d=flags[:, None].expand(2, 2).clone(),
    )
    params, pose_enc = _perfect(batch)
    hand_pose = (params.hand_pose + 0.1).requires_grad_()
    pose_enc = (pose_enc + 0.05).requires_grad_()
    predicted = HandParams(hand_pose, params.betas, params.transl)
    weights = LossWeights(negative_depth=0.0)
    hggt_loss(_output(predicted, pose_enc), batch, mano, weights).total.backward()
    assert hand_pose.grad is not None and pose_enc.grad is not None
    assert torch.count_nonzero(hand_pose.grad[0]) == 0
    assert torch.count_nonzero(pose_enc.grad[0]) == 0
    assert torch.count_nonzero(hand_pose.grad[1]) > 0
    assert torch.count_nonzero(pose_enc.grad[1]) > 0


def test_no_supervision_at_all_is_zero_without_gradient(mano: ManoLayer) -> None:
    batch = _only(_batch(mano))
    params, pose_enc = _perfect(batch)
    hand_pose = (params.hand_pose + 0.3).requires_grad_()
    predicted = HandParams(hand_pose, params.betas, params.transl)
    result = hggt_loss(_output(predicted, pose_enc), batch, mano)
    assert float(result.total.detach()) == 0.0
    result.total.backward()
    assert hand_pose.grad is not None and torch.count_nonzero(hand_pose.grad) == 0
