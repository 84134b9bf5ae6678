# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Two-layer GELU MLP used by every transformer block and by the prediction heads."""

from __future__ import annotations

from torch import Tensor, nn


class Mlp(nn.Module):
    """``fc2(GELU(fc1(x)))`` with exact (erf) GELU and no dropout.

    State-dict keys ``fc1.*`` and ``fc2.*`` match VGGT and DINOv2.

    Args:
        in_features: width of the input (last axis).
        hidden_features: width of the hidden layer; defaults to ``in_features``.
        out_features: width of the output; defaults to ``in_features``.
        bias: whether both linear layers carry a bias.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int | None = None,
        out_features: int | None = None,
        bias: bool = True,
    ) -> None:
        super().__init__()
        hidden = hidden_features or in_features
        out = out_features or in_features
        self.fc1 = nn.Linear(in_features, hidden, bias=bias)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, out, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the MLP to [..., in_features] and return [..., out_features]."""
        out: Tensor = self.fc2(self.act(self.fc1(x)))
        return out
