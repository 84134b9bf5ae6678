# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Pre-norm transformer block shared by DINOv2, VGGT's aggregator and its camera head."""

from __future__ import annotations

from torch import Tensor, nn

from hggt_core.model.layers.attention import Attention
from hggt_core.model.layers.layer_scale import LayerScale
from hggt_core.model.layers.mlp import Mlp
from hggt_core.model.layers.rope import RopeTables


class Block(nn.Module):
    """``x + ls1(attn(norm1(x)))`` then ``x + ls2(mlp(norm2(x)))``.

    State-dict keys: ``norm1``, ``attn.{qkv,q_norm,k_norm,proj}``, ``ls1.gamma``, ``norm2``,
    ``mlp.{fc1,fc2}``, ``ls2.gamma`` (VGGT / DINOv2 naming).

    Args:
        dim: token width C.
        num_heads: attention heads (head width C / num_heads).
        mlp_ratio: MLP hidden width = ``int(C * mlp_ratio)``.
        qkv_bias: bias on the qkv projection.
        proj_bias: bias on the attention output projection.
        ffn_bias: biases in the MLP.
        init_values: LayerScale initial value; ``None`` (or 0) disables LayerScale.
        qk_norm: per-head LayerNorm of queries and keys.
        rope: whether :meth:`forward` receives RoPE tables.
        norm_eps: epsilon of ``norm1`` / ``norm2`` (DINOv2: 1e-6, VGGT: 1e-5).
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        proj_bias: bool = True,
        ffn_bias: bool = True,
        init_values: float | None = None,
        qk_norm: bool = False,
        rope: bool = False,
        norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias, proj_bias, qk_norm, rope)
        self.ls1: nn.Module = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), bias=ffn_bias)
        self.ls2: nn.Module = LayerScale(dim, init_values) if init_values else nn.Identity()

    def forward(self, x: Tensor, rope: RopeTables | None = None) -> Tensor:
        """Apply the block to x [B, N, C]; ``rope`` = (cos, sin) [N, head_dim] or None."""
        attn_out: Tensor = self.ls1(self.attn(self.norm1(x), rope))
        x = x + attn_out
        mlp_out: Tensor = self.ls2(self.mlp(self.norm2(x)))
        return x + mlp_out
