# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Per-channel residual scaling (CaiT's LayerScale), as used by DINOv2 and VGGT."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class LayerScale(nn.Module):
    """Multiply the last axis by a learned vector ``gamma`` (state-dict key ``gamma``).

    Args:
        dim: channel count (size of the last axis).
        init_values: initial value of every entry of ``gamma``.
    """

    def __init__(self, dim: int, init_values: float) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), float(init_values)))

    def forward(self, x: Tensor) -> Tensor:
        """Return ``x * gamma`` for x of shape [..., dim] (not in place, autograd-safe)."""
        return x * self.gamma
