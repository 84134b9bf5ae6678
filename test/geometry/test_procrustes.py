# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests for hggt_core.geometry.procrustes (similarity / Umeyama alignment)."""

from __future__ import annotations

import torch

from hggt_core.geometry.procrustes import similarity_procrustes
from hggt_core.geometry.rotations import axis_angle_to_quaternion, quaternion_to_matrix

F64 = torch.float64


def _rotation(axis_angle: torch.Tensor) -> torch.Tensor:
    # Exactly orthonormal (axis_angle_to_matrix carries smplx's 1e-8 bias).
    return quaternion_to_matrix(axis_angle_to_quaternion(axis_angle))


def _known_similarity(batch: int, points: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    source = torch.randn(batch, points, 3, generator=gen, dtype=F64) * 0.05
    rotation = _rotation(torch.randn(batch, 3, generator=gen, dtype=F64))
    scale = 0.5 + 1.5 * torch.rand(batch, generator=gen, dtype=F64)
    translation = torch.randn(batch, 3, generator=gen, dtype=F64)
    target = scale[:, None, None] * source @ rotation.transpose(1, 2) + translation[:, None]
    return source, target, scale, rotation, translation


def test_recovers_known_similarity_float32() -> None:
    source, target, scale, rotation, translation = _known_similarity(4, 21)
    aligned, scale_hat, rotation_hat, translation_hat = similarity_procrustes(
        source.float(), target.float()
    )
    assert aligned.dtype == scale_hat.dtype == rotation_hat.dtype == torch.float32
    assert aligned.shape == (4, 21, 3)
    assert scale_hat.shape == (4,)
    assert rotation_hat.shape == (4, 3, 3)
    assert translation_hat.shape == (4, 3)
    assert float((aligned.double() - target).abs().max()) < 1e-5
    torch.testing.assert_close(scale_hat.double(), scale, atol=1e-5, rtol=0)
    torch.testing.assert_close(rotation_hat.double(), rotation, atol=1e-5, rtol=0)
    torch.testing.assert_close(translation_hat.double(), translation, atol=1e-5, rtol=0)


def test_recovers_known_similarity_float64_exactly() -> None:
    source, target, scale, rotation, _ = _known_similarity(3, 778, seed=1)
    aligned, scale_hat, rotation_hat, _ = similarity_procrustes(source, target)
    torch.testing.assert_close(aligned, target, atol=1e-12, rtol=0)
    torch.testing.assert_close(scale_hat, scale, atol=1e-12, rtol=0)
    torch.testing.assert_close(rotation_hat, rotation, atol=1e-12, rtol=0)


def test_reflection_is_not_returned_by_default() -> None:
    source, _, _, _, _ = _known_similarity(5, 21, seed=2)
    mirrored = source * torch.tensor([-1.0, 1.0, 1.0], dtype=F64)
    aligned, scale, rotation, _ = similarity_procrustes(source, mirrored)
    torch.testing.assert_close(torch.linalg.det(rotation), torch.ones(5, dtype=F64))
    assert bool((scale > 0).all())
    # A proper rotation cannot reproduce a mirror image.
    assert float((aligned - mirrored).abs().max()) > 1e-3

    aligned_r, _, rotation_r, _ = similarity_procrustes(source, mirrored, allow_reflection=True)
    torch.testing.assert_close(torch.linalg.det(rotation_r), -torch.ones(5, dtype=F64))
    torch.testing.assert_close(aligned_r, mirrored, atol=1e-12, rtol=0)


def test_alignment_is_least_squares_optimal() -> None:
    gen = torch.Generator().manual_seed(3)
    source = torch.randn(2, 30, 3, generator=gen, dtype=F64)
    target = torch.randn(2, 30, 3, generator=gen, dtype=F64)
    aligned, scale, rotation, translation = similarity_procrustes(source, target)
    best = (aligned - target).square().sum()
    for step in range(20):
        delta = _rotation(1e-2 * torch.randn(2, 3, generator=gen, dtype=F64))
        factor = 1.0 + 1e-2 * (step % 3 - 1)
        shift = 1e-2 * torch.randn(2, 1, 3, generator=gen, dtype=F64)
        moved = (factor * scale)[:, None, None] * source @ (delta @ rotation).transpose(1, 2)
        moved = moved + translation[:, None] + shift
        assert float((moved - target).square().sum()) >= float(best)


def test_point_like_source_is_finite() -> None:
    source = torch.ones(1, 5, 3)
    target = torch.randn(1, 5, 3)
    aligned, scale, _, _ = similarity_procrustes(source, target)
    assert bool(torch.isfinite(aligned).all())
    assert float(scale) == 0.0
    torch.testing.assert_close(aligned, target.mean(dim=1, keepdim=True).expand(1, 5, 3))
