# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""ManoLayer behaviour on the synthetic model, and the joint conventions it uses."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from hggt_core.base.hand_skeleton import (
    OPENPOSE_BONES,
    OPENPOSE_FROM_MANO,
    OPENPOSE_JOINT_NAMES,
    FingertipConvention,
    fingertip_vertex_ids,
)
from hggt_core.geometry.rotations import axis_angle_to_matrix
from hggt_core.mano.io import ManoFileError, ManoModelData
from hggt_core.mano.layer import ManoLayer, mano_layers_from_dir
from hggt_core.mano.synthetic import make_synthetic_mano, write_mano_pickle

B = 3


def _zeros(layer: ManoLayer, batch: int = B) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.zeros(batch, 3), torch.zeros(batch, layer.pose_dim), torch.zeros(batch, 10)


def test_flat_zero_pose_reproduces_the_template(right_model: ManoModelData) -> None:
    layer = ManoLayer(right_model, flat_hand_mean=True)
    out = layer(*_zeros(layer))
    template = torch.tensor(right_model.v_template, dtype=torch.float32)
    torch.testing.assert_close(out.vertices, template.expand(B, -1, -1), atol=1e-6, rtol=0)
    joints = torch.tensor(right_model.J_regressor @ right_model.v_template, dtype=torch.float32)
    torch.testing.assert_close(out.joints16, joints.expand(B, -1, -1), atol=1e-6, rtol=0)
    eye = torch.eye(3).expand(B, 16, 3, 3)
    torch.testing.assert_close(out.global_rotations, eye, atol=1e-6, rtol=0)


def test_zero_pose_with_hand_mean_equals_the_mean_pose(right_model: ManoModelData) -> None:
    relaxed = ManoLayer(right_model, flat_hand_mean=False)
    flat = ManoLayer(right_model, flat_hand_mean=True)
    go, pose, betas = _zeros(relaxed)
    mean = torch.tensor(right_model.hands_mean, dtype=torch.float32).expand(B, -1)
    torch.testing.assert_close(relaxed(go, pose, betas).vertices, flat(go, mean, betas).vertices)
    moved = (relaxed(go, pose, betas).vertices - flat(go, pose, betas).vertices).norm(dim=-1)
    assert moved.max() > 0.005  # the relaxed hand is visibly curled
    joints = right_model.J_regressor @ right_model.v_template
    gap = np.linalg.norm(right_model.v_template[:, None] - joints[None, 1:], axis=-1).min(axis=1)
    wrist_only = (right_model.weights[:, 0] == 1.0) & (gap > 0.03)
    assert wrist_only.sum() > 20
    assert moved[:, torch.from_numpy(wrist_only)].max() < 1e-6  # the wrist area stays put


def test_wrist_rotation_rotates_everything_about_the_wrist(right_model: ManoModelData) -> None:
    layer = ManoLayer(right_model)
    go, pose, betas = _zeros(layer)
    rest = layer(go, pose, betas)
    go[:, 1] = math.pi / 2
    turned = layer(go, pose, betas)
    rot = axis_angle_to_matrix(go[0])
    wrist = rest.joints16[:, :1]
    expected = (rest.vertices - wrist) @ rot.T + wrist
    torch.testing.assert_close(turned.vertices, expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(turned.global_rotations[:, 0], rot.expand(B, 3, 3))
    moved = (turned.vertices - rest.vertices).norm(dim=-1)
    far = (rest.vertices - wrist).norm(dim=-1) > 0.02
    assert bool(torch.all(moved[far] > 0.02))


def test_translation_shifts_vertices_and_joints(right_model: ManoModelData) -> None:
    layer = ManoLayer(right_model)
    go = torch.randn(B, 3) * 0.3
    pose = torch.randn(B, 45) * 0.3
    betas = torch.randn(B, 10)
    transl = torch.tensor([[0.1, -0.2, 0.5]]).expand(B, -1)
    base = layer(go, pose, betas)
    moved = layer(go, pose, betas, transl)
    torch.testing.assert_close(moved.vertices, base.vertices + transl[:, None])
    torch.testing.assert_close(moved.joints, base.joints + transl[:, None])
    torch.testing.assert_close(moved.joints16, base.joints16 + transl[:, None])
    torch.testing.assert_close(moved.global_rotations, base.global_rotations)


def test_global_rotations_compose_down_the_chain(right_model: ManoModelData) -> None:
    layer = ManoLayer(right_model, flat_hand_mean=True)
    go = torch.tensor([[0.2, -0.1, 0.3]])
    pose = torch.zeros(1, 45)
    pose[0, 0:3] = torch.tensor([0.0, 0.0, 0.5])  # index1
    pose[0, 3:6] = torch.tensor([0.1, 0.0, 0.4])  # index2
    out = layer(go, pose, torch.zeros(1, 10))
    r0, r1, r2 = (axis_angle_to_matrix(v) for v in (go[0], pose[0, 0:3], pose[0, 3:6]))
    torch.testing.assert_close(out.global_rotations[0, 3], r0 @ r1 @ r2, atol=1e-6, rtol=0)
    torch.testing.assert_close(out.global_rotations[0, 4], r0, atol=1e-6, rtol=0)
    # Bones keep their length under rotation.
    rest = layer(torch.zeros(1, 3), pose * 0, torch.zeros(1, 10)).joints16
    bone = out.joints16[0, 2] - out.joints16[0, 1]
    assert bone.norm().item() == pytest.approx((rest[0, 2] - rest[0, 1]).norm().item(), abs=1e-6)


def test_joints_are_openpose_ordered_with_selected_tips(right_model: ManoModelData) -> None:
    for convention in FingertipConvention:
        layer = ManoLayer(right_model, fingertips=convention)
        go, pose, betas = torch.randn(B, 3), torch.randn(B, 45) * 0.3, torch.randn(B, 10)
        out = layer(go, pose, betas)
        tips = out.vertices[:, list(fingertip_vertex_ids(convention))]
        full = torch.cat([out.joints16, tips], dim=1)
        torch.testing.assert_close(out.joints, full[:, list(OPENPOSE_FROM_MANO)])
    assert OPENPOSE_JOINT_NAMES[4] == "thumb_tip" and OPENPOSE_JOINT_NAMES[20] == "pinky_tip"
    assert len(OPENPOSE_BONES) == 20 and (8, 7) in OPENPOSE_BONES and (5, 0) in OPENPOSE_BONES


def test_fingertip_setting_accepts_strings_and_rejects_unknown(
    right_model: ManoModelData,
) -> None:
    assert ManoLayer(right_model, fingertips="manopth").fingertips is FingertipConvention.MANOPTH
    assert ManoLayer(right_model).fingertips is FingertipConvention.FREIHAND
    with pytest.raises(ValueError, match="unknown fingertip convention"):
        ManoLayer(right_model, fingertips="openpose")


def test_pca_pose_maps_through_the_components(right_model: ManoModelData) -> None:
    pca = ManoLayer(right_model, use_pca=True, num_pca_comps=6)
    full = ManoLayer(right_model)
    coeffs = torch.randn(B, 6)
    go, betas = torch.randn(B, 3), torch.randn(B, 10)
    components = torch.tensor(right_model.hands_components[:6], dtype=torch.float32)
    expected = full(go, coeffs @ components, betas).vertices
    torch.testing.assert_close(pca(go, coeffs, betas).vertices, expected, atol=1e-6, rtol=0)
    assert pca.pose_dim == 6
    assert ManoLayer(right_model, use_pca=True, num_pca_comps=45).use_pca is False
    with pytest.raises(ValueError, match="num_pca_comps"):
        ManoLayer(right_model, use_pca=True, num_pca_comps=0)


def test_forward_theta_matches_forward(right_model: ManoModelData) -> None:
    layer = ManoLayer(right_model)
    theta, betas, transl = torch.randn(B, 48) * 0.3, torch.randn(B, 10), torch.randn(B, 3)
    a = layer.forward_theta(theta, betas, transl)
    b = layer(theta[:, :3], theta[:, 3:], betas, transl)
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y)


def test_left_hand_is_the_mirror_of_the_right(
    right_model: ManoModelData, left_model: ManoModelData
) -> None:
    right, left = ManoLayer(right_model), ManoLayer(left_model)
    go, pose = torch.randn(B, 3) * 0.5, torch.randn(B, 45) * 0.5
    betas, transl = torch.randn(B, 10), torch.randn(B, 3) * 0.1
    axis_flip = torch.tensor([1.0, -1.0, -1.0])
    point_flip = torch.tensor([-1.0, 1.0, 1.0])
    r = right(go, pose, betas, transl)
    left_pose = (pose.reshape(B, 15, 3) * axis_flip).reshape(B, 45)
    lo = left(go * axis_flip, left_pose, betas, transl * point_flip)
    torch.testing.assert_close(lo.vertices, r.vertices * point_flip, atol=1e-6, rtol=0)
    torch.testing.assert_close(lo.joints, r.joints * point_flip, atol=1e-6, rtol=0)


def test_gradients_flow_to_all_inputs(right_model: ManoModelData) -> None:
    layer = ManoLayer(right_model)
    inputs = [torch.randn(2, n, requires_grad=True) for n in (3, 45, 10, 3)]
    out = layer(*inputs)
    (out.vertices.square().sum() + out.joints.sum()).backward()
    for tensor in inputs:
        assert tensor.grad is not None
        assert bool(torch.isfinite(tensor.grad).all()) and tensor.grad.abs().sum() > 0


def test_zero_pose_gradient_is_finite(right_model: ManoModelData) -> None:
    layer = ManoLayer(right_model, flat_hand_mean=True)
    pose = torch.zeros(1, 45, requires_grad=True)
    layer(torch.zeros(1, 3), pose, torch.zeros(1, 10)).vertices.sum().backward()
    assert pose.grad is not None and bool(torch.isfinite(pose.grad).all())


def test_buffers_are_float32_and_move_with_the_module(right_model: ManoModelData) -> None:
    layer = ManoLayer(right_model)
    float_buffers = [b for b in layer.buffers() if b.is_floating_point()]
    assert float_buffers and all(b.dtype == torch.float32 for b in float_buffers)
    double = layer.double()
    out = double(*(torch.zeros(1, n, dtype=torch.float64) for n in (3, 45, 10)))
    assert out.vertices.dtype == torch.float64
    assert np.isfinite(out.vertices.numpy()).all()


def test_mano_layers_from_dir(tmp_path: Path) -> None:
    write_mano_pickle(make_synthetic_mano("right"), tmp_path / "MANO_RIGHT.pkl")
    with pytest.raises(ManoFileError, match="both MANO hand models"):
        mano_layers_from_dir(tmp_path)
    write_mano_pickle(make_synthetic_mano("left"), tmp_path / "MANO_LEFT.pkl")
    right, left = mano_layers_from_dir(tmp_path, fingertips="manopth")
    assert (right.side, left.side) == ("right", "left")
    assert right.fingertips == left.fingertips == "manopth"
    assert not (right.use_pca or right.flat_hand_mean)
    with pytest.raises(ManoFileError, match="directory"):
        mano_layers_from_dir(tmp_path / "MANO_RIGHT.pkl")
