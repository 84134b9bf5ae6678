# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests for hggt_core.geometry.pose_encoding (VGGT absT_quaR_FoV) and crop intrinsics."""

from __future__ import annotations

import math

import torch

from hggt_core.geometry.pose_encoding import (
    POSE_ENCODING_DIM,
    extrinsics_intrinsics_to_pose_encoding,
    intrinsics_crop_to_image,
    pose_encoding_to_extrinsics_intrinsics,
)
from hggt_core.geometry.projection import project_points
from hggt_core.geometry.rotations import axis_angle_to_quaternion, quaternion_to_matrix

F64 = torch.float64


def _intrinsics(fx: float, fy: float, cx: float, cy: float) -> torch.Tensor:
    return torch.tensor([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]], dtype=F64)


def _random_cameras(batch: int, views: int, size_hw: tuple[int, int], seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    axis_angle = torch.randn(batch, views, 3, generator=gen, dtype=F64)
    rotation = quaternion_to_matrix(axis_angle_to_quaternion(axis_angle))
    translation = torch.randn(batch, views, 3, 1, generator=gen, dtype=F64)
    cam_from_world = torch.cat([rotation, translation], dim=-1)
    focal = 200.0 + 800.0 * torch.rand(batch, views, 2, generator=gen, dtype=F64)
    height, width = size_hw
    intrinsics = torch.zeros(batch, views, 3, 3, dtype=F64)
    intrinsics[..., 0, 0] = focal[..., 0]
    intrinsics[..., 1, 1] = focal[..., 1]
    intrinsics[..., 0, 2] = width / 2
    intrinsics[..., 1, 2] = height / 2
    intrinsics[..., 2, 2] = 1.0
    return cam_from_world, intrinsics


def test_encoding_known_answer_square_image() -> None:
    cam_from_world = torch.cat(
        [torch.eye(3, dtype=F64), torch.tensor([[0.1], [-0.2], [0.3]], dtype=F64)], dim=-1
    )
    intrinsics = _intrinsics(500.0, 500.0, 259.0, 259.0)
    enc = extrinsics_intrinsics_to_pose_encoding(
        cam_from_world[None, None], intrinsics[None, None], (518, 518)
    )
    fov = 2 * math.atan(259 / 500)
    expected = torch.tensor([0.1, -0.2, 0.3, 0.0, 0.0, 0.0, 1.0, fov, fov], dtype=F64)
    assert enc.shape == (1, 1, POSE_ENCODING_DIM)
    torch.testing.assert_close(enc[0, 0], expected)


def test_encoding_uses_height_with_fy_and_width_with_fx() -> None:
    cam_from_world = torch.cat([torch.eye(3, dtype=F64), torch.zeros(3, 1, dtype=F64)], dim=-1)
    intrinsics = _intrinsics(400.0, 450.0, 259.0, 189.0)
    enc = extrinsics_intrinsics_to_pose_encoding(
        cam_from_world[None], intrinsics[None], (378, 518)
    )
    assert enc.shape == (1, 9)
    assert float(enc[0, 7]) == 2 * math.atan(189 / 450)
    assert float(enc[0, 8]) == 2 * math.atan(259 / 400)


def test_decoding_known_answer() -> None:
    half = math.sqrt(0.5)
    fov_h, fov_w = 2 * math.atan(189 / 450), 2 * math.atan(259 / 400)
    enc = torch.tensor([[1.0, 2.0, 3.0, 0.0, 0.0, half, half, fov_h, fov_w]], dtype=F64)
    cam_from_world, intrinsics = pose_encoding_to_extrinsics_intrinsics(enc, (378, 518))
    expected_rotation = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    torch.testing.assert_close(cam_from_world[0, :, :3], expected_rotation.to(F64))
    torch.testing.assert_close(cam_from_world[0, :, 3], torch.tensor([1.0, 2.0, 3.0], dtype=F64))
    torch.testing.assert_close(intrinsics[0], _intrinsics(400.0, 450.0, 259.0, 189.0))


def test_cameras_round_trip_through_encoding() -> None:
    size_hw = (280, 518)
    cam_from_world, intrinsics = _random_cameras(3, 5, size_hw)
    enc = extrinsics_intrinsics_to_pose_encoding(cam_from_world, intrinsics, size_hw)
    assert enc.shape == (3, 5, 9)
    assert bool((enc[..., 6] >= 0).all())
    cam_back, intrinsics_back = pose_encoding_to_extrinsics_intrinsics(enc, size_hw)
    torch.testing.assert_close(cam_back, cam_from_world, atol=1e-12, rtol=0)
    torch.testing.assert_close(intrinsics_back, intrinsics, atol=1e-9, rtol=0)


def test_encoding_round_trip_and_unnormalised_quaternion() -> None:
    size_hw = (518, 392)
    cam_from_world, intrinsics = _random_cameras(2, 4, size_hw, seed=3)
    enc = extrinsics_intrinsics_to_pose_encoding(cam_from_world, intrinsics, size_hw)
    scaled = enc.clone()
    scaled[..., 3:7] *= 2.5
    cam_back, intrinsics_back = pose_encoding_to_extrinsics_intrinsics(scaled, size_hw)
    enc_back = extrinsics_intrinsics_to_pose_encoding(cam_back, intrinsics_back, size_hw)
    torch.testing.assert_close(enc_back, enc, atol=1e-12, rtol=0)


def test_unbatched_input_and_dtype_are_preserved() -> None:
    enc = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.2]] * 3)
    cam_from_world, intrinsics = pose_encoding_to_extrinsics_intrinsics(enc, (224, 336))
    assert cam_from_world.shape == (3, 3, 4)
    assert intrinsics.shape == (3, 3, 3)
    assert cam_from_world.dtype == intrinsics.dtype == torch.float32
    back = extrinsics_intrinsics_to_pose_encoding(cam_from_world, intrinsics, (224, 336))
    assert back.dtype == torch.float32
    torch.testing.assert_close(back, enc)


def test_intrinsics_crop_to_image_known_answer() -> None:
    crop = _intrinsics(500.0, 520.0, 259.0, 250.0)
    image = intrinsics_crop_to_image(crop, 2.0, (100.0, 50.0))
    torch.testing.assert_close(image, _intrinsics(1000.0, 1040.0, 618.0, 550.0))


def test_intrinsics_crop_to_image_matches_pixel_affine_batched() -> None:
    crops = torch.stack(
        [_intrinsics(500.0, 500.0, 259.0, 259.0), _intrinsics(300.0, 310.0, 90.0, 80.0)]
    )
    scale = torch.tensor([1.5, 0.25], dtype=F64)
    offset = torch.tensor([[10.0, 20.0], [-5.0, 300.0]], dtype=F64)
    images = intrinsics_crop_to_image(crops, scale, offset)
    points = torch.tensor([[[0.1, -0.05, 0.6], [0.0, 0.02, 0.4]]], dtype=F64).expand(2, 2, 3)
    identity = torch.cat([torch.eye(3, dtype=F64), torch.zeros(3, 1, dtype=F64)], dim=-1)
    uv_crop, _ = project_points(points, identity, crops)
    uv_image, _ = project_points(points, identity, images)
    expected = uv_crop * scale[:, None, None] + offset[:, None, :]
    torch.testing.assert_close(uv_image, expected)
