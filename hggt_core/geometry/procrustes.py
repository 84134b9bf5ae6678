# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Similarity (Umeyama) Procrustes alignment of point sets, batched, torch only.

There is no numpy variant: callers holding arrays wrap them with ``torch.from_numpy``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def similarity_procrustes(
    source: Tensor, target: Tensor, allow_reflection: bool = False
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Find the similarity transform that best maps ``source`` onto ``target`` (least squares).

    Minimises sum_n ||s R x_n + t - y_n||^2 over scale s > 0, rotation R and translation t
    (Umeyama, 1991). Computed in float64 whatever the input dtype; results are cast back.

    Args:
        source: [..., N, 3] points to align (e.g. predicted joints), N >= 3 for a unique R.
        target: [..., N, 3] corresponding reference points (e.g. ground truth).
        allow_reflection: if False (default) R is a proper rotation (det +1), fixing the
            sign of the smallest singular direction when the best orthogonal fit would be a
            reflection. True gives the unconstrained orthogonal fit (det may be -1), which
            is what POEM's scipy-based ``align_w_scale`` computes.

    Returns:
        aligned: [..., N, 3] s R source + t.
        scale: [...] s.
        rotation: [..., 3, 3] R.
        translation: [..., 3] t.
    """
    source64 = source.to(torch.float64)
    target64 = target.to(torch.float64)
    source_mean = source64.mean(dim=-2, keepdim=True)
    target_mean = target64.mean(dim=-2, keepdim=True)
    source_c = source64 - source_mean
    target_c = target64 - target_mean
    num_points = source.shape[-2]
    cross_cov = target_c.transpose(-1, -2) @ source_c / num_points
    u, singular, vh = torch.linalg.svd(cross_cov)
    signs = torch.ones_like(singular)
    if not allow_reflection:
        det = torch.linalg.det(u) * torch.linalg.det(vh)
        last = torch.where(det < 0, -1.0, 1.0).to(torch.float64)
        signs = torch.cat([signs[..., :2], last[..., None]], dim=-1)
    rotation = (u * signs[..., None, :]) @ vh
    source_var = source_c.square().sum(dim=(-2, -1)) / num_points
    # A point-like source has no defined scale; the floor avoids 0/0 and yields s = 0.
    scale = (singular * signs).sum(dim=-1) / source_var.clamp_min(torch.finfo(torch.float64).tiny)
    translation = target_mean[..., 0, :] - scale[..., None] * (
        rotation @ source_mean[..., 0, :, None]
    ).squeeze(-1)
    aligned = scale[..., None, None] * source64 @ rotation.transpose(-1, -2)
    aligned = aligned + translation[..., None, :]
    dtype = source.dtype
    return aligned.to(dtype), scale.to(dtype), rotation.to(dtype), translation.to(dtype)
